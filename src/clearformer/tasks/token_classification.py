"""Token classification (course chapter 4.2): CoNLL-2003 NER with word -> sub-token label alignment.

``tokenize_and_align_labels`` gives the word's label to its first sub-token and -100 (ignored by the
loss and the metric) to special tokens and later sub-tokens; with ``label_all_tokens`` later
sub-tokens get the label too, a B- label turned into its I- label so that seqeval does not count a
new entity per sub-token. Metric: entity-level precision/recall/F1 from seqeval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..data.collators import IGNORE_INDEX, DataCollatorForTokenClassification
from .spec import TaskDataError, TaskSpec, check_columns, register_task

# The course's label_list (the hub dataset's ner_tags names), in its order.
CONLL_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")


def inside_label_ids(label_list: Sequence[str]) -> list[int]:
    """For each label id the id to use on a word's later sub-tokens: B-X -> I-X, others unchanged."""
    index = {label: i for i, label in enumerate(label_list)}
    return [index.get("I-" + label[2:], i) if label.startswith("B-") else i for i, label in enumerate(label_list)]


def _word_label_ids(tags: Sequence, label_list: Sequence[str], row: int) -> list[int]:
    ids = []
    for position, tag in enumerate(tags):
        if isinstance(tag, str):
            if tag not in label_list:
                raise TaskDataError(
                    f"row {row}, word {position}: label {tag!r} is not in the label list {list(label_list)}; "
                    "pass a label_list that contains it (or fix the tag)"
                )
            ids.append(list(label_list).index(tag))
        elif isinstance(tag, int | np.integer) and 0 <= tag < len(label_list):
            ids.append(int(tag))
        else:
            raise TaskDataError(
                f"row {row}, word {position}: label id {tag!r} is not in the label list "
                f"(ids 0..{len(label_list) - 1} for {list(label_list)})"
            )
    return ids


def tokenize_and_align_labels(
    tokenizer,
    label_list: Sequence[str] = CONLL_LABELS,
    label_all_tokens: bool = False,
    max_length: int | None = None,
    tags_column: str = "ner_tags",
) -> Callable[[dict], dict]:
    """Batched map function over rows with ``tokens`` (words) and ``ner_tags`` (ids or label strings)."""
    inside = inside_label_ids(label_list)

    def preprocess(examples: dict) -> dict:
        check_columns(examples, ("tokens", tags_column), "token classification")
        encoded = tokenizer(examples["tokens"], truncation=True, max_length=max_length, is_split_into_words=True)
        all_labels = []
        for row, tags in enumerate(examples[tags_column]):
            word_labels = _word_label_ids(tags, label_list, row)
            labels, previous = [], None
            for word in encoded.word_ids(batch_index=row):
                if word is None:
                    labels.append(IGNORE_INDEX)
                elif word != previous:
                    labels.append(word_labels[word])
                else:
                    labels.append(inside[word_labels[word]] if label_all_tokens else IGNORE_INDEX)
                previous = word
            all_labels.append(labels)
        encoded["labels"] = all_labels
        return encoded

    return preprocess


def token_classification_metrics(label_list: Sequence[str] = CONLL_LABELS, per_entity: bool = False) -> Callable:
    """``compute_metrics``: argmax over labels, drop -100 positions, seqeval's overall P/R/F1/accuracy."""
    from .. import metrics

    def compute_metrics(eval_pred) -> dict[str, float]:
        logits, labels = eval_pred
        predictions = np.argmax(logits, axis=2)
        true_tags, predicted_tags = [], []
        for pred_row, label_row in zip(predictions, labels):
            keep = [(p, lab) for p, lab in zip(pred_row, label_row) if lab != IGNORE_INDEX]
            predicted_tags.append([label_list[p] for p, _ in keep])
            true_tags.append([label_list[lab] for _, lab in keep])
        scores = metrics.seqeval(predictions=predicted_tags, references=true_tags)
        out = {key: scores[f"overall_{key}"] for key in ("precision", "recall", "f1", "accuracy")}
        if per_entity:
            out.update({f"{name}_f1": s["f1"] for name, s in scores.items() if isinstance(s, dict)})
        return out

    return compute_metrics


def load_conll_folder(folder):
    from ..data.loaders import load_dataset

    return (
        load_dataset(folder)
        if str(folder).rstrip("/").endswith("conll2003")
        else load_dataset(
            "conll2003",
            data_files={
                s: f"{folder}/{f}" for s, f in (("train", "train.txt"), ("validation", "dev.txt"), ("test", "test.txt"))
            },
        )
    )


CONLL2003 = register_task(
    TaskSpec(
        name="conll2003",
        family="token_classification",
        auto_model="AutoModelForTokenClassification",
        load=load_conll_folder,
        preprocess=tokenize_and_align_labels,
        collator=DataCollatorForTokenClassification,
        compute_metrics=token_classification_metrics,
        metric="f1",
        label_list=CONLL_LABELS,
        preprocess_defaults={"label_all_tokens": True},
        training_defaults={
            "learning_rate": 2e-5,
            "per_device_train_batch_size": 16,
            "per_device_eval_batch_size": 16,
            "num_train_epochs": 3,
            "weight_decay": 0.01,
        },
        description="CoNLL-2003 English NER, entity-level F1 (seqeval)",
    )
)
