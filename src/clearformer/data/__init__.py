"""Data: loaders for the course's local formats, collators, and the GLUE task registry."""

from .collators import (
    IGNORE_INDEX,
    DataCollatorForLanguageModeling,
    DataCollatorForMultipleChoice,
    DataCollatorForSeq2Seq,
    DataCollatorForTokenClassification,
    DataCollatorWithPadding,
    default_data_collator,
)
from .glue import GLUE_TASKS, GlueTask, get_glue_task, glue_preprocess_function, task_to_keys
from .loaders import (
    DataFormatError,
    load_conll2003,
    load_dataset,
    load_glue,
    load_multiple_choice,
    load_parallel,
    load_parallel_tsv,
    load_squad,
    load_text,
)

__all__ = [
    "GLUE_TASKS",
    "IGNORE_INDEX",
    "DataCollatorForLanguageModeling",
    "DataCollatorForMultipleChoice",
    "DataCollatorForSeq2Seq",
    "DataCollatorForTokenClassification",
    "DataCollatorWithPadding",
    "DataFormatError",
    "GlueTask",
    "default_data_collator",
    "get_glue_task",
    "glue_preprocess_function",
    "load_conll2003",
    "load_dataset",
    "load_glue",
    "load_multiple_choice",
    "load_parallel",
    "load_parallel_tsv",
    "load_squad",
    "load_text",
    "task_to_keys",
]
