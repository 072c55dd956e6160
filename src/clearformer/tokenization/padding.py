"""Padding: rows of an encoding grown to a common length, and already-tokenized features padded
the way transformers' ``tokenizer.pad`` (what data collators call) does."""

from __future__ import annotations

from .encoding import Encoding

# What a padding position holds in each per-token field of an Encoding.
PAD_VALUES = (
    ("tokens", None),  # replaced by the pad token
    ("offsets", (0, 0)),
    ("words", None),
    ("type_ids", 0),
    ("special_tokens_mask", 1),
    ("sequence_ids", None),
    ("attention_mask", 0),
)


def target_length(rows: list[Encoding], strategy: str, max_length: int | None, multiple: int | None) -> int:
    target = max((len(r) for r in rows), default=0) if strategy == "longest" else max_length
    if multiple and target % multiple:
        target += multiple - target % multiple
    return target


def pad_rows(rows: list[Encoding], target: int, side: str, pad_id: int, pad_token: str) -> None:
    """Grow every row to ``target`` tokens in place, on the left or the right."""
    if side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {side!r}")
    fields = (("ids", pad_id),) + tuple((name, pad_token if name == "tokens" else v) for name, v in PAD_VALUES)
    for r in rows:
        n = target - len(r.ids)
        if n <= 0:
            continue
        for name, value in fields:
            current = getattr(r, name)
            setattr(r, name, current + [value] * n if side == "right" else [value] * n + current)


def _plain(value):
    return value.tolist() if hasattr(value, "tolist") else value


def features_to_rows(encoded_inputs) -> tuple[dict, list[Encoding], bool]:
    """(features as a dict of per-row lists, one Encoding per row, was it a single example?)"""
    if isinstance(encoded_inputs, (list, tuple)) and encoded_inputs and isinstance(encoded_inputs[0], dict):
        encoded_inputs = {k: [f[k] for f in encoded_inputs] for k in encoded_inputs[0]}
    encoded_inputs = dict(encoded_inputs)
    if "input_ids" not in encoded_inputs:
        raise ValueError(f"pad needs 'input_ids' among the features, got {list(encoded_inputs)}")
    ids = _plain(encoded_inputs["input_ids"])
    single = not ids or isinstance(ids[0], int)
    batch = {k: [_plain(v)] if single else [_plain(x) for x in _plain(v)] for k, v in encoded_inputs.items()}
    rows = []
    for i, row_ids in enumerate(batch["input_ids"]):
        n = len(row_ids)

        def field(name: str, default: int, i: int = i, n: int = n) -> list:
            return list(batch[name][i]) if name in batch else [default] * n

        rows.append(
            Encoding(
                list(row_ids),
                [""] * n,
                [(0, 0)] * n,
                [None] * n,
                field("token_type_ids", 0),
                field("special_tokens_mask", 0),
                [None] * n,
                field("attention_mask", 1),
            )
        )
    return batch, rows, single
