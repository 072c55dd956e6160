"""Sentence and sentence-pair classification: the GLUE tasks of course chapter 4.1 and two Chinese sets.

GLUE tasks come from ``clearformer.data.glue`` (columns, label count, metric); STS-B is regression
(``num_labels=1``, Pearson on ``predictions[:, 0]``). ChnSentiCorp (``label<TAB>text_a`` with a
header) and THUCNews (``text<TAB>label``, names in ``class.txt``) are read here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..data.collators import DataCollatorWithPadding
from ..data.glue import GLUE_TASKS, get_glue_task
from .spec import TaskDataError, TaskSpec, check_columns, register_task

GLUE_TRAINING = {
    "learning_rate": 2e-5,
    "per_device_train_batch_size": 16,
    "per_device_eval_batch_size": 16,
    "num_train_epochs": 5,
    "weight_decay": 0.01,
}


def classification_preprocess(
    tokenizer,
    text_keys: tuple[str, str | None],
    num_labels: int,
    label_list: Sequence[str] | None = None,
    max_length: int | None = None,
    task: str = "classification",
) -> Callable[[dict], dict]:
    """Batched map function: tokenize one or two text columns (truncated), check and keep labels.

    Labels may be class ids or the names in ``label_list``; anything else raises ``TaskDataError``.
    ``num_labels == 1`` keeps float labels (regression).
    """
    first, second = text_keys

    def preprocess(examples: dict) -> dict:
        check_columns(examples, tuple(k for k in (first, second) if k), task)
        texts = examples[first]
        pairs = examples[second] if second else None
        encoded = tokenizer(texts, pairs, truncation=True, max_length=max_length)
        if "label" in examples:
            encoded["label"] = [_label_id(v, i, num_labels, label_list, task) for i, v in enumerate(examples["label"])]
        return encoded

    return preprocess


def _label_id(value, row: int, num_labels: int, label_list: Sequence[str] | None, task: str):
    if num_labels == 1:
        return float(value)
    if isinstance(value, str) and label_list is not None and value in label_list:
        return list(label_list).index(value)
    if isinstance(value, int | np.integer) and 0 <= value < num_labels:
        return int(value)
    names = f" {list(label_list)}" if label_list else ""
    raise TaskDataError(
        f"task {task!r}: row {row} has label {value!r}, which is not in the label list{names} "
        f"(ids 0..{num_labels - 1}); fix the data or pass the full label_list"
    )


def classification_metrics(glue_task: str | None = None, regression: bool = False) -> Callable:
    """``compute_metrics`` as the course's: argmax over classes (STS-B: ``predictions[:, 0]``), then the
    GLUE metric of the task, or accuracy."""
    from .. import metrics

    metric = metrics.glue(glue_task) if glue_task else metrics.accuracy

    def compute_metrics(eval_pred) -> dict[str, float]:
        predictions, labels = eval_pred
        predictions = predictions[:, 0] if regression else np.argmax(predictions, axis=1)
        return metric(predictions=predictions.tolist(), references=np.asarray(labels).tolist())

    return compute_metrics


# --- data -------------------------------------------------------------------------------------------
def load_glue_folder(folder: Path, task: str):
    from ..data.loaders import load_dataset

    return (
        load_dataset(folder)
        if Path(folder).name in ("cola", "sst2")
        else load_dataset("glue", task, data_files=_glue_files(folder))
    )


def _glue_files(folder: Path) -> dict[str, Path]:
    folder = Path(folder)
    files = {s: folder / f for s, f in (("train", "train.tsv"), ("validation", "dev.tsv")) if (folder / f).is_file()}
    if not files:
        raise FileNotFoundError(f"{folder}: expected GLUE TSV files train.tsv and dev.tsv")
    return files


def load_chnsenticorp(folder: str | os.PathLike, encoding: str = "utf-8"):
    """``train.tsv`` / ``dev.tsv`` with header ``label<TAB>text_a`` -> columns label, text_a, idx."""
    from ..data.loaders import load_glue

    folder = Path(folder)
    files = {"train": folder / "train.tsv", "validation": folder / "dev.tsv"}
    return load_glue(None, files, header=True, encoding=encoding)


THUCNEWS_CLASSES = (
    "finance",
    "realty",
    "stocks",
    "education",
    "science",
    "society",
    "politics",
    "sports",
    "game",
    "entertainment",
)


def load_thucnews(folder: str | os.PathLike, encoding: str = "utf-8"):
    """``dev.txt`` / ``test.txt`` lines ``title<TAB>class id``. No train split ships here, so the task
    trains on dev.txt (split "train") and evaluates on test.txt (split "validation")."""
    import datasets

    from ..data.files import read_text

    folder = Path(folder)
    names = read_text(folder / "class.txt", encoding).split()
    if tuple(names) != THUCNEWS_CLASSES:
        raise TaskDataError(f"{folder / 'class.txt'} lists {names}, expected {list(THUCNEWS_CLASSES)}")
    splits = {}
    for split, file in (("train", "dev.txt"), ("validation", "test.txt")):
        rows = {"text": [], "label": []}
        for line_no, line in enumerate(read_text(folder / file, encoding).splitlines(), start=1):
            text, sep, label = line.rpartition("\t")
            if not sep or not label.isdigit():
                raise TaskDataError(f"{folder / file}, line {line_no}: {line!r}; expected 'title<TAB>class id'")
            rows["text"].append(text)
            rows["label"].append(int(label))
        if not rows["text"]:
            raise TaskDataError(
                f"{folder / file}: no data rows (the file is empty); expected 'title<TAB>class id' lines"
            )
        splits[split] = datasets.Dataset.from_dict(rows)
    return datasets.DatasetDict(splits)


# --- the table ---------------------------------------------------------------------------------------
def _glue_spec(name: str) -> TaskSpec:
    task = get_glue_task(name)
    regression = task.is_regression
    return TaskSpec(
        name=name,
        family="text_classification",
        auto_model="AutoModelForSequenceClassification",
        load=lambda folder, _n=name: load_glue_folder(folder, _n),
        preprocess=lambda tokenizer, _t=task, **kw: classification_preprocess(
            tokenizer, _t.keys, _t.num_labels, _t.label_names, task=_t.name, **kw
        ),
        collator=DataCollatorWithPadding,
        compute_metrics=lambda _t=task: classification_metrics(_t.metric_config, regression=_t.is_regression),
        metric=task.metric,
        eval_split=task.validation_split,
        label_list=task.label_names,
        num_labels=task.num_labels,
        training_defaults=dict(GLUE_TRAINING),
        description=f"GLUE {name}" + (" (regression)" if regression else ""),
    )


for _name in GLUE_TASKS:
    register_task(_glue_spec(_name))

CHNSENTICORP = register_task(
    TaskSpec(
        name="chnsenticorp",
        family="text_classification",
        auto_model="AutoModelForSequenceClassification",
        load=load_chnsenticorp,
        preprocess=lambda tokenizer, **kw: classification_preprocess(
            tokenizer, ("text_a", None), 2, ("negative", "positive"), task="chnsenticorp", **kw
        ),
        collator=DataCollatorWithPadding,
        compute_metrics=classification_metrics,
        metric="accuracy",
        label_list=("negative", "positive"),
        preprocess_defaults={"max_length": 256},
        training_defaults=dict(GLUE_TRAINING),
        description="ChnSentiCorp Chinese sentiment (2 classes)",
    )
)

THUCNEWS = register_task(
    TaskSpec(
        name="thucnews",
        family="text_classification",
        auto_model="AutoModelForSequenceClassification",
        load=load_thucnews,
        preprocess=lambda tokenizer, **kw: classification_preprocess(
            tokenizer, ("text", None), 10, THUCNEWS_CLASSES, task="thucnews", **kw
        ),
        collator=DataCollatorWithPadding,
        compute_metrics=classification_metrics,
        metric="accuracy",
        label_list=THUCNEWS_CLASSES,
        preprocess_defaults={"max_length": 64},
        training_defaults=dict(GLUE_TRAINING),
        description="THUCNews titles, 10 classes (trains on dev.txt)",
    )
)
