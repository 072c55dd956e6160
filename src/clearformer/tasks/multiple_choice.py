"""Multiple choice (course chapter 4.4) on DREAM (English, 3 options) and C3 (Chinese, 2 to 4 options).

Each question becomes ``num_choices`` pairs (dialogue, question + option), tokenized flat and
regrouped, so a batch from ``DataCollatorForMultipleChoice`` is (batch, num_choices, seq) for
``AutoModelForMultipleChoice``. The dialogue is what gets truncated; question and option are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..data.collators import DataCollatorForMultipleChoice
from .spec import TaskDataError, TaskSpec, check_columns, register_task


def _options(choices, row: int, row_id, num_choices: int, pad_option: str | None) -> list[str]:
    choices = list(choices)
    for i, option in enumerate(choices):
        if option is None or not str(option).strip():
            raise TaskDataError(f"row {row} (id {row_id!r}): option {i} is missing or empty in {choices}")
    if len(choices) > num_choices:
        raise TaskDataError(f"row {row} (id {row_id!r}) has {len(choices)} options but num_choices={num_choices}")
    if len(choices) < num_choices:
        if pad_option is None:
            raise TaskDataError(
                f"row {row} (id {row_id!r}) has {len(choices)} options, {num_choices - len(choices)} missing "
                f"(num_choices={num_choices}); fix the row, or pass pad_option='...' to fill in a wrong option"
            )
        choices += [pad_option] * (num_choices - len(choices))
    return choices


def multiple_choice_preprocess(
    tokenizer,
    num_choices: int = 3,
    max_length: int | None = 256,
    pad_option: str | None = None,
    dialogue_separator: str = "\n",
) -> Callable[[dict], dict]:
    """Batched map function over rows {dialogue (turns), question, choices, label}: input_ids etc. become
    lists of ``num_choices`` encodings per row. Rows with fewer options raise unless ``pad_option``."""

    def preprocess(examples: dict) -> dict:
        check_columns(examples, ("dialogue", "question", "choices"), "multiple choice")
        firsts, seconds = [], []
        ids = examples.get("id", list(range(len(examples["question"]))))
        for row, (dialogue, question, choices) in enumerate(
            zip(examples["dialogue"], examples["question"], examples["choices"])
        ):
            context = dialogue if isinstance(dialogue, str) else dialogue_separator.join(dialogue)
            for option in _options(choices, row, ids[row], num_choices, pad_option):
                firsts.append(context)
                seconds.append(f"{question} {option}")
        flat = tokenizer(firsts, seconds, truncation="only_first" if max_length else False, max_length=max_length)
        encoded = {k: [v[i : i + num_choices] for i in range(0, len(v), num_choices)] for k, v in flat.items()}
        if "label" in examples:
            for row, label in enumerate(examples["label"]):
                if not 0 <= int(label) < num_choices:
                    raise TaskDataError(f"row {row}: label {label!r} is not an option index 0..{num_choices - 1}")
            encoded["label"] = [int(v) for v in examples["label"]]
        return encoded

    return preprocess


def multiple_choice_metrics() -> Callable:
    def compute_metrics(eval_pred) -> dict[str, float]:
        logits, labels = eval_pred
        return {"accuracy": float((np.argmax(logits, axis=1) == np.asarray(labels)).mean())}

    return compute_metrics


def load_dream(folder: str | Path):
    from ..data.loaders import load_multiple_choice

    folder = Path(folder)
    return load_multiple_choice({"train": folder / "train.json", "validation": folder / "dev.json"})


def load_c3(folder: str | Path):
    """C3's dialogue (c3-d) and mixed-genre (c3-m) files together."""
    import datasets

    from ..data.loaders import load_multiple_choice

    folder = Path(folder)
    parts = {
        split: [load_multiple_choice(folder / f"c3-{kind}-{file}.json")["train"] for kind in ("d", "m")]
        for split, file in (("train", "train"), ("validation", "dev"))
    }
    return datasets.DatasetDict({split: datasets.concatenate_datasets(p) for split, p in parts.items()})


MC_TRAINING = {
    "learning_rate": 5e-5,
    "per_device_train_batch_size": 16,
    "per_device_eval_batch_size": 16,
    "num_train_epochs": 3,
    "weight_decay": 0.01,
}

DREAM = register_task(
    TaskSpec(
        name="dream",
        family="multiple_choice",
        auto_model="AutoModelForMultipleChoice",
        load=load_dream,
        preprocess=multiple_choice_preprocess,
        collator=DataCollatorForMultipleChoice,
        compute_metrics=multiple_choice_metrics,
        metric="accuracy",
        preprocess_defaults={"num_choices": 3, "max_length": 256},
        training_defaults=dict(MC_TRAINING),
        description="DREAM dialogue multiple choice (3 options), accuracy",
    )
)

C3 = register_task(
    TaskSpec(
        name="c3",
        family="multiple_choice",
        auto_model="AutoModelForMultipleChoice",
        load=load_c3,
        preprocess=multiple_choice_preprocess,
        collator=DataCollatorForMultipleChoice,
        compute_metrics=multiple_choice_metrics,
        metric="accuracy",
        # C3 questions have 2 to 4 options; the missing ones are filled with a placeholder that is never right
        preprocess_defaults={"num_choices": 4, "max_length": 256, "pad_option": "无效答案"},
        training_defaults=dict(MC_TRAINING),
        description="C3 Chinese multiple choice (padded to 4 options), accuracy",
    )
)
