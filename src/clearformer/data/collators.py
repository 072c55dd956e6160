"""Data collators: lists of tokenized rows -> one padded batch of tensors, as transformers builds it.

Written against the tokenizer interface both clearformer's and transformers' tokenizers offer:
``tokenizer.pad(...)``, ``pad_token_id``, ``mask_token_id``, ``padding_side``, ``len(tokenizer)``,
``get_special_tokens_mask``. Labels are padded with -100, the index every loss ignores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

IGNORE_INDEX = -100


def _as_dict(feature: Any) -> dict[str, Any]:
    if isinstance(feature, Mapping):
        return dict(feature)
    if hasattr(feature, "__dict__"):
        return dict(vars(feature))
    raise TypeError(f"a collator needs rows that are dicts, got {type(feature).__name__}")


def _column_length(value: Any) -> int | None:
    if isinstance(value, str | bytes):
        return None
    try:
        return len(value)
    except TypeError:  # a scalar, or a 0-d tensor
        return None


def _as_rows(features: Any) -> list[dict[str, Any]]:
    """A batch as a list of row dicts, from a list of rows or a dict of columns.

    A dict of columns is what ``dataset.map(..., batched=True)`` hands over and what a tokenizer
    returns for a list of texts; transformers' padding collator takes it, so every collator here does.
    """
    if isinstance(features, Mapping):
        columns = {key: features[key] for key in features}
        lengths = {key: _column_length(value) for key, value in columns.items()}
        if None in lengths.values() or len(set(lengths.values())) > 1:
            shown = ", ".join(f"{k} {'not a list' if n is None else n}" for k, n in lengths.items())
            raise ValueError(
                f"a dict batch must map each column to one value per row, got columns of different lengths: "
                f"{shown}; pass a list of row dicts or equal-length columns"
            )
        rows = [{key: value[i] for key, value in columns.items()} for i in range(next(iter(lengths.values()), 0))]
    else:
        rows = [_as_dict(f) for f in features]
    if not rows:
        raise ValueError("a collator got an empty batch (no rows); check the sampler and the dataset length")
    return rows


def _tensor(values: list[Any]) -> torch.Tensor:
    first = values[0]
    if isinstance(first, torch.Tensor):
        return torch.stack(values)
    if isinstance(first, np.ndarray):
        return torch.from_numpy(np.stack(values))
    return torch.tensor(values)


def default_data_collator(features: list[Any], return_tensors: str = "pt") -> dict[str, torch.Tensor]:
    """Stack rows that are already the same length; ``label``/``label_ids`` become ``labels``."""
    rows = _as_rows(features)
    first = rows[0]
    batch: dict[str, torch.Tensor] = {}
    for key in ("label", "label_ids"):
        if key in first and first[key] is not None:
            labels = _tensor([r[key] for r in rows])
            batch["labels"] = labels if labels.is_floating_point() else labels.long()
            break
    for key, value in first.items():
        if key in ("label", "label_ids") or value is None or isinstance(value, str):
            continue
        batch[key] = _tensor([r[key] for r in rows])
    return batch


def _rename_labels(batch: dict[str, Any]) -> dict[str, Any]:
    for key in ("label", "label_ids"):
        if key in batch:
            batch["labels"] = batch.pop(key)
    return batch


@dataclass
class DataCollatorWithPadding:
    """Dynamic padding: each batch is padded to its own longest row (the Trainer's default)."""

    tokenizer: Any
    padding: bool | str = True
    max_length: int | None = None
    pad_to_multiple_of: int | None = None
    return_tensors: str = "pt"

    def __call__(self, features: list[Any]) -> dict[str, torch.Tensor]:
        batch = self.tokenizer.pad(
            _as_rows(features),
            padding=self.padding,
            max_length=self.max_length,
            pad_to_multiple_of=self.pad_to_multiple_of,
            return_tensors=self.return_tensors,
        )
        return _rename_labels(dict(batch))


def _pad_rows(rows: list[list[int]], length: int, value: int, side: str) -> torch.Tensor:
    out = torch.full((len(rows), length), value, dtype=torch.long)
    for i, row in enumerate(rows):
        row = list(row)[:length]
        if side == "right":
            out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        elif row:
            out[i, -len(row) :] = torch.tensor(row, dtype=torch.long)
    return out


@dataclass
class DataCollatorForTokenClassification:
    """Pads inputs with the tokenizer and the per-token labels with ``label_pad_token_id``."""

    tokenizer: Any
    padding: bool | str = True
    max_length: int | None = None
    pad_to_multiple_of: int | None = None
    label_pad_token_id: int = IGNORE_INDEX
    return_tensors: str = "pt"

    def __call__(self, features: list[Any]) -> dict[str, torch.Tensor]:
        rows = _as_rows(features)
        name = "label" if "label" in rows[0] else "labels"
        labels = [r.pop(name) for r in rows] if name in rows[0] else None
        batch = dict(
            self.tokenizer.pad(
                rows,
                padding=self.padding,
                max_length=self.max_length,
                pad_to_multiple_of=self.pad_to_multiple_of,
                return_tensors="pt",
            )
        )
        if labels is not None:
            labels = [lab.tolist() if hasattr(lab, "tolist") else lab for lab in labels]
            length = batch["input_ids"].shape[1]
            batch["labels"] = _pad_rows(labels, length, self.label_pad_token_id, self.tokenizer.padding_side)
        return batch


@dataclass
class DataCollatorForMultipleChoice:
    """Rows hold ``num_choices`` encodings each: flatten to (B*C) rows, pad, view as (B, C, L)."""

    tokenizer: Any
    padding: bool | str = True
    max_length: int | None = None
    pad_to_multiple_of: int | None = None
    return_tensors: str = "pt"

    def __call__(self, features: list[Any]) -> dict[str, torch.Tensor]:
        rows = _as_rows(features)
        name = "label" if "label" in rows[0] else "labels"
        labels = [r.pop(name) for r in rows] if name in rows[0] else None
        num_choices = len(rows[0]["input_ids"])
        flat = [{k: v[i] for k, v in r.items()} for r in rows for i in range(num_choices)]
        batch = self.tokenizer.pad(
            flat,
            padding=self.padding,
            max_length=self.max_length,
            pad_to_multiple_of=self.pad_to_multiple_of,
            return_tensors="pt",
        )
        batch = {k: v.view(len(rows), num_choices, -1) for k, v in dict(batch).items()}
        if labels is not None:
            batch["labels"] = torch.tensor([int(v) for v in labels], dtype=torch.int64)
        return batch


@dataclass
class DataCollatorForLanguageModeling:
    """MLM: pick ``mlm_probability`` of the non-special tokens; of those 80% -> [MASK], 10% -> a
    random token, 10% unchanged (BERT's recipe); labels are -100 elsewhere. ``mlm=False``: causal LM,
    labels are the inputs with padding set to -100 (the model shifts them)."""

    tokenizer: Any
    mlm: bool = True
    mlm_probability: float = 0.15
    mask_replace_prob: float = 0.8
    random_replace_prob: float = 0.1
    pad_to_multiple_of: int | None = None
    return_tensors: str = "pt"
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.mlm and getattr(self.tokenizer, "mask_token_id", None) is None:
            raise ValueError(
                "masked language modelling needs a tokenizer with a mask token; use mlm=False for causal LM"
            )
        if self.mask_replace_prob + self.random_replace_prob > 1:
            raise ValueError("mask_replace_prob + random_replace_prob must be at most 1")
        self.generator = torch.Generator().manual_seed(self.seed) if self.seed is not None else None

    def __call__(self, features: list[Any]) -> dict[str, torch.Tensor]:
        rows = _as_rows(features)
        if (
            "input_ids" in rows[0]
            and isinstance(rows[0]["input_ids"], list | torch.Tensor)
            and hasattr(self.tokenizer, "pad")
        ):
            batch = dict(self.tokenizer.pad(rows, pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="pt"))
        else:
            batch = {"input_ids": _tensor([r["input_ids"] for r in rows])}
        special = batch.pop("special_tokens_mask", None)
        if self.mlm:
            batch["input_ids"], batch["labels"] = self.mask_tokens(batch["input_ids"], special)
        else:
            labels = batch["input_ids"].clone()
            if self.tokenizer.pad_token_id is not None:
                labels[labels == self.tokenizer.pad_token_id] = IGNORE_INDEX
            batch["labels"] = labels
        return batch

    def _special_mask(self, input_ids: torch.Tensor) -> torch.Tensor:
        tok = self.tokenizer
        if hasattr(tok, "get_special_tokens_mask"):
            rows = [tok.get_special_tokens_mask(r, already_has_special_tokens=True) for r in input_ids.tolist()]
            return torch.tensor(rows, dtype=torch.bool)
        return torch.isin(input_ids, torch.tensor(list(getattr(tok, "all_special_ids", []))))

    def mask_tokens(self, inputs: torch.Tensor, special_tokens_mask: torch.Tensor | None = None):
        g = self.generator
        inputs, labels = inputs.clone(), inputs.clone()
        probability = torch.full(labels.shape, self.mlm_probability)
        special = self._special_mask(labels) if special_tokens_mask is None else special_tokens_mask.bool()
        probability.masked_fill_(special, value=0.0)
        if self.tokenizer.pad_token_id is not None:
            probability.masked_fill_(labels.eq(self.tokenizer.pad_token_id), value=0.0)
        masked = torch.bernoulli(probability, generator=g).bool()
        labels[~masked] = IGNORE_INDEX
        to_mask = torch.bernoulli(torch.full(labels.shape, self.mask_replace_prob), generator=g).bool() & masked
        inputs[to_mask] = self.tokenizer.mask_token_id
        if self.mask_replace_prob == 1 or self.random_replace_prob == 0:
            return inputs, labels
        random_share = self.random_replace_prob / (1 - self.mask_replace_prob)
        to_random = torch.bernoulli(torch.full(labels.shape, random_share), generator=g).bool() & masked & ~to_mask
        words = torch.randint(len(self.tokenizer), labels.shape, dtype=torch.long, generator=g)
        inputs[to_random] = words[to_random]
        return inputs, labels


@dataclass
class DataCollatorForSeq2Seq:
    """Pads labels with -100 (on the tokenizer's padding side) and, given a model that can, builds
    ``decoder_input_ids`` from them (labels shifted right)."""

    tokenizer: Any
    model: Any = None
    padding: bool | str = True
    max_length: int | None = None
    pad_to_multiple_of: int | None = None
    label_pad_token_id: int = IGNORE_INDEX
    return_tensors: str = "pt"

    def __call__(self, features: list[Any]) -> dict[str, torch.Tensor]:
        rows = _as_rows(features)
        labels = [r.pop("labels") for r in rows] if "labels" in rows[0] and rows[0]["labels"] is not None else None
        batch = dict(
            self.tokenizer.pad(
                rows,
                padding=self.padding,
                max_length=self.max_length,
                pad_to_multiple_of=self.pad_to_multiple_of,
                return_tensors="pt",
            )
        )
        if labels is not None:
            labels = [lab.tolist() if hasattr(lab, "tolist") else list(lab) for lab in labels]
            length = max(len(lab) for lab in labels)
            if self.pad_to_multiple_of:
                length = -(-length // self.pad_to_multiple_of) * self.pad_to_multiple_of
            batch["labels"] = _pad_rows(labels, length, self.label_pad_token_id, self.tokenizer.padding_side)
            prepare = getattr(self.model, "prepare_decoder_input_ids_from_labels", None)
            if prepare is not None:
                batch["decoder_input_ids"] = prepare(labels=batch["labels"])
        return batch
