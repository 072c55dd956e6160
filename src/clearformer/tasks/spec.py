"""``TaskSpec``: everything one course task needs, in one record, and the table of known tasks.

A spec names the Auto class, how to read the local data folder, the preprocess function factory,
the collator, the ``compute_metrics`` factory and the course's training defaults. The task modules
fill the table on import; ``get_task`` imports them all, so ``get_task("conll2003")`` just works.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TASK_MODULES = (
    "text_classification",
    "token_classification",
    "question_answering",
    "multiple_choice",
    "language_modeling",
)


class TaskDataError(ValueError):
    """Data that a task cannot use as given; the message names the row, the value and the fix."""


@dataclass(frozen=True)
class TaskSpec:
    name: str
    family: str  # the module that defines it: "text_classification", "question_answering", ...
    auto_model: str  # name of the clearformer Auto class, e.g. "AutoModelForTokenClassification"
    load: Callable[[Path], Any]  # data folder -> datasets.DatasetDict
    preprocess: Callable[..., Callable[[dict], dict]]  # (tokenizer, **options) -> batched map function
    collator: Callable[[Any], Callable]  # tokenizer -> data collator
    compute_metrics: Callable[[], Callable] | None  # () -> compute_metrics(EvalPrediction); None: loss only
    metric: str  # the headline metric (metric_for_best_model without the "eval_" prefix)
    train_split: str = "train"
    eval_split: str = "validation"
    label_list: tuple[str, ...] | None = None
    num_labels: int | None = None
    preprocess_defaults: dict[str, Any] = field(default_factory=dict)  # e.g. max_length, stride
    training_defaults: dict[str, Any] = field(default_factory=dict)  # TrainingArguments fields (the course's)
    description: str = ""

    def model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``from_pretrained``: label count and names where the task has them."""
        if self.label_list:
            return {
                "num_labels": len(self.label_list),
                "id2label": dict(enumerate(self.label_list)),
                "label2id": {label: i for i, label in enumerate(self.label_list)},
            }
        return {"num_labels": self.num_labels} if self.num_labels else {}


TASKS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    TASKS[spec.name] = spec
    return spec


def get_task(name: str) -> TaskSpec:
    """The spec registered under ``name`` (case-insensitive; "-" and "_" are the same)."""
    for module in TASK_MODULES:
        importlib.import_module(f"clearformer.tasks.{module}")
    key = name.lower().replace("_", "-")
    for spec_name, spec in TASKS.items():
        if spec_name.replace("_", "-") == key:
            return spec
    raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}")


def list_tasks() -> list[str]:
    for module in TASK_MODULES:
        importlib.import_module(f"clearformer.tasks.{module}")
    return sorted(TASKS)


def check_columns(examples: dict, needed: tuple[str, ...], task: str) -> None:
    missing = [c for c in needed if c not in examples]
    if missing:
        raise TaskDataError(
            f"task {task!r} needs the columns {list(needed)} but the rows have {sorted(examples)}; "
            f"missing {missing} (load the data with the task's loader, or rename the columns)"
        )
