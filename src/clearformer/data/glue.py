"""The GLUE task registry: input columns, label count and names, metric and validation split per task.

One table instead of the course's scattered ``task_to_keys`` / ``num_labels`` / ``metric_name`` /
``validation_key`` variables (pain point 28: ``mnli-mm`` is a validation split, not a dataset).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GlueTask:
    name: str
    keys: tuple[str, str | None]  # text column(s) fed to the tokenizer
    num_labels: int  # 1: regression (STS-B)
    metric: str  # the best-model metric: metric_for_best_model
    metrics: tuple[str, ...]  # everything load_metric("glue", name) returns
    validation_split: str = "validation"
    label_names: tuple[str, ...] | None = None
    dataset: str | None = None  # the dataset this task reads when it differs (mnli-mm -> mnli)

    @property
    def is_regression(self) -> bool:
        return self.num_labels == 1

    @property
    def metric_config(self) -> str:
        return self.dataset or self.name


GLUE_TASKS: dict[str, GlueTask] = {
    t.name: t
    for t in (
        GlueTask(
            "cola",
            ("sentence", None),
            2,
            "matthews_correlation",
            ("matthews_correlation",),
            label_names=("unacceptable", "acceptable"),
        ),
        GlueTask("sst2", ("sentence", None), 2, "accuracy", ("accuracy",), label_names=("negative", "positive")),
        GlueTask(
            "mrpc",
            ("sentence1", "sentence2"),
            2,
            "accuracy",
            ("accuracy", "f1"),
            label_names=("not_equivalent", "equivalent"),
        ),
        GlueTask(
            "qqp",
            ("question1", "question2"),
            2,
            "accuracy",
            ("accuracy", "f1"),
            label_names=("not_duplicate", "duplicate"),
        ),
        GlueTask("stsb", ("sentence1", "sentence2"), 1, "pearson", ("pearson", "spearmanr")),
        GlueTask(
            "mnli",
            ("premise", "hypothesis"),
            3,
            "accuracy",
            ("accuracy",),
            "validation_matched",
            ("entailment", "neutral", "contradiction"),
        ),
        GlueTask(
            "mnli-mm",
            ("premise", "hypothesis"),
            3,
            "accuracy",
            ("accuracy",),
            "validation_mismatched",
            ("entailment", "neutral", "contradiction"),
            dataset="mnli",
        ),
        GlueTask(
            "qnli", ("question", "sentence"), 2, "accuracy", ("accuracy",), label_names=("entailment", "not_entailment")
        ),
        GlueTask(
            "rte",
            ("sentence1", "sentence2"),
            2,
            "accuracy",
            ("accuracy",),
            label_names=("entailment", "not_entailment"),
        ),
        GlueTask(
            "wnli",
            ("sentence1", "sentence2"),
            2,
            "accuracy",
            ("accuracy",),
            label_names=("not_entailment", "entailment"),
        ),
    )
}

# The course's own variable, for code written against it.
task_to_keys = {name: task.keys for name, task in GLUE_TASKS.items()}


def get_glue_task(name: str) -> GlueTask:
    key = name.lower().replace("_", "-") if name.lower().startswith("mnli") else name.lower().replace("-", "")
    if key not in GLUE_TASKS:
        raise KeyError(f"unknown GLUE task {name!r}; choose one of {sorted(GLUE_TASKS)}")
    return GLUE_TASKS[key]


def glue_preprocess_function(tokenizer, task: str, **tokenizer_kwargs):
    """``dataset.map(fn, batched=True)`` function tokenizing the task's one or two text columns."""
    first, second = get_glue_task(task).keys
    tokenizer_kwargs.setdefault("truncation", True)

    def preprocess(examples: dict) -> dict:
        for column in (first, second):
            if column is not None and column not in examples:
                raise KeyError(
                    f"GLUE task {task!r} reads the text column {column!r}, but the dataset has "
                    f"{sorted(examples)}; load it with clearformer.data.load_glue or rename the column"
                )
        if second is None:
            return tokenizer(examples[first], **tokenizer_kwargs)
        return tokenizer(examples[first], examples[second], **tokenizer_kwargs)

    return preprocess
