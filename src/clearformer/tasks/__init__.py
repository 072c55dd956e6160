"""The course's NLP tasks (chapter 4) as ready pieces: preprocess, collator, metric and defaults per task.

``get_task("conll2003")`` returns a ``TaskSpec``; ``run_task(TaskRun(...))`` fine-tunes and evaluates
one; the task families live in one module each (text/token classification, question answering,
multiple choice, language modelling).
"""

from .language_modeling import (
    evaluate_lm,
    group_texts,
    lm_preprocess,
    masked_lm_collator,
    perplexity,
    tokenize_lines,
)
from .multiple_choice import load_c3, load_dream, multiple_choice_metrics, multiple_choice_preprocess
from .question_answering import (
    AnswerRepairReport,
    answer_token_span,
    load_cmrc2018,
    load_squad_split,
    postprocess_qa_predictions,
    prepare_train_features,
    prepare_validation_features,
    qa_metrics,
    repair_answer_starts,
    split_by_article,
)
from .runner import TaskRun, run_task
from .spec import TASKS, TaskDataError, TaskSpec, get_task, list_tasks, register_task
from .text_classification import (
    classification_metrics,
    classification_preprocess,
    load_chnsenticorp,
    load_thucnews,
)
from .token_classification import (
    CONLL_LABELS,
    inside_label_ids,
    token_classification_metrics,
    tokenize_and_align_labels,
)

__all__ = [
    "CONLL_LABELS",
    "TASKS",
    "AnswerRepairReport",
    "TaskDataError",
    "TaskRun",
    "TaskSpec",
    "answer_token_span",
    "classification_metrics",
    "classification_preprocess",
    "get_task",
    "group_texts",
    "inside_label_ids",
    "list_tasks",
    "lm_preprocess",
    "load_c3",
    "load_chnsenticorp",
    "load_cmrc2018",
    "load_dream",
    "load_squad_split",
    "load_thucnews",
    "masked_lm_collator",
    "multiple_choice_metrics",
    "multiple_choice_preprocess",
    "perplexity",
    "evaluate_lm",
    "postprocess_qa_predictions",
    "prepare_train_features",
    "prepare_validation_features",
    "qa_metrics",
    "register_task",
    "repair_answer_starts",
    "run_task",
    "split_by_article",
    "token_classification_metrics",
    "tokenize_and_align_labels",
    "tokenize_lines",
]
