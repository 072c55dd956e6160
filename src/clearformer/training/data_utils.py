"""What the Trainer does to data before the loop: column filtering, checks, batching, gathering.

Accepts ``datasets.Dataset``, map-style torch datasets, lists of dicts and dicts of columns. The user's dataset is
never changed: filtering returns a new ``Dataset`` (datasets) or a read-only view (the others).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import DistributedSampler

LABEL_NAMES = ("labels", "label", "label_ids")
INPUT_NAMES = ("input_ids", "inputs_embeds", "pixel_values", "input_values", "input_features")


def column_names(dataset: Any) -> list[str] | None:
    """Column names of a dataset whose rows are dicts; None when they cannot be known cheaply."""
    names = getattr(dataset, "column_names", None)
    if isinstance(names, list):
        return names
    if len(dataset) == 0:
        return []
    first = dataset[0]
    return list(first) if isinstance(first, dict) else None


def model_input_names(model: torch.nn.Module) -> set[str]:
    """Argument names ``model.forward`` reads, looking through ``**kwargs`` into the base model."""
    names: set[str] = set()
    for module in (model, getattr(model, "base_model", model)):
        params = inspect.signature(module.forward).parameters
        names |= {n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    return names | set(LABEL_NAMES)


class ColumnView(TorchDataset):
    """Rows of ``dataset`` restricted to ``keep`` columns, without copying or mutating it."""

    def __init__(self, dataset: Any, keep: Sequence[str]) -> None:
        self.dataset, self.keep = dataset, list(keep)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> dict[str, Any]:
        row = self.dataset[i]
        return {k: row[k] for k in self.keep if k in row}


def remove_unused_columns(dataset: Any, model: torch.nn.Module, description: str, log) -> Any:
    columns = column_names(dataset)
    if columns is None:
        return dataset
    accepted = model_input_names(model)
    unused = [c for c in columns if c not in accepted]
    if not unused:
        return dataset
    log(
        "The following columns in the %s set don't have a corresponding argument in `%s.forward` and "
        "have been ignored: %s.",
        description,
        type(model).__name__,
        ", ".join(unused),
    )
    if hasattr(dataset, "remove_columns"):
        return dataset.remove_columns(unused)
    return ColumnView(dataset, [c for c in columns if c in accepted])


def rows_from_columns(dataset: Any) -> Any:
    """A dict of equal-length columns as a list of row dicts; anything else unchanged.

    Notebook 4.5 passes ``lm_datasets["train"][:1000]``: slicing a datasets.Dataset gives columns,
    not a Dataset (transformers fails on it with ``KeyError: 0``).
    """
    if not isinstance(dataset, Mapping):
        return dataset
    lengths = {}
    for name, column in dataset.items():
        if not hasattr(column, "__len__") or isinstance(column, str | bytes):
            raise TypeError(
                f"the dataset is a dict, read as columns, but column {name!r} is a {type(column).__name__}, "
                "not a list of values; pass a datasets.Dataset, a list of row dicts or a dict of lists"
            )
        lengths[name] = len(column)
    if len(set(lengths.values())) > 1:
        raise ValueError(f"the dataset's columns differ in length ({lengths}); every column needs one value per row")
    n = next(iter(lengths.values()), 0)
    return [{name: column[i] for name, column in dataset.items()} for i in range(n)]


def check_dataset(dataset: Any, description: str, raw_columns: list[str] | None) -> None:
    """Raise before training for an empty dataset or one the model cannot read (not tokenized)."""
    if dataset is None:
        return
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise TypeError(
            f"the {description} dataset must be a datasets.Dataset, a map-style torch Dataset or a list "
            f"of dicts; got {type(dataset).__name__}"
        )
    if len(dataset) == 0:
        raise ValueError(f"the {description} dataset is empty (0 rows); check the split and any filtering")
    columns = column_names(dataset)
    if columns is not None and not any(c in columns for c in INPUT_NAMES):
        raise ValueError(
            f"the {description} dataset has no column the model reads ({', '.join(INPUT_NAMES[:2])}); "
            f"its columns are {raw_columns or columns}. Tokenize the text column first, e.g. "
            "dataset.map(lambda b: tokenizer(b['sentence'], truncation=True), batched=True)"
        )


def _label_values(dataset: Any, name: str) -> list[Any]:
    if hasattr(dataset, "column_names") and hasattr(dataset, "remove_columns"):
        return list(dataset[name])
    return [dataset[i][name] for i in range(len(dataset))]


def check_labels(dataset: Any, model: torch.nn.Module, description: str) -> None:
    """Integer labels must be in [0, num_labels) (or -100) for heads that predict num_labels classes."""
    num_labels = getattr(model, "num_labels", None)
    columns = column_names(dataset)
    if not num_labels or num_labels < 2 or columns is None or len(dataset) > 200_000:
        return
    for name in (n for n in LABEL_NAMES if n in columns):
        flat = np.asarray(_flatten(_label_values(dataset, name)))
        if flat.size == 0 or not np.issubdtype(flat.dtype, np.integer):
            continue
        bad = flat[(flat != -100) & ((flat < 0) | (flat >= num_labels))]
        if bad.size:
            raise ValueError(
                f"the {description} dataset has label {int(bad[0])} in column {name!r}, but the model has "
                f"num_labels={num_labels} (labels 0..{num_labels - 1}, or -100 to ignore); load the model "
                f"with num_labels={int(flat.max()) + 1} or fix the labels"
            )


def _flatten(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, list | tuple):
            out += _flatten(list(v))
        elif isinstance(v, torch.Tensor | np.ndarray):
            out += np.asarray(v).reshape(-1).tolist()
        else:
            out.append(v)
    return out


def epoch_batches(
    n: int, batch_size: int, epoch: int, seed: int, world: int, rank: int, shuffle: bool = True, drop_last: bool = False
) -> list[list[int]]:
    """This process's batches of row indices for ``epoch``: a fixed function of (seed, epoch).

    Uses DistributedSampler's permutation for any world size, so one process with batch N*B sees
    the same rows per step as N processes with batch B.
    """
    sampler = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=shuffle, seed=seed)
    sampler.set_epoch(epoch)
    order = list(sampler)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()
    return batches


def shard_indices(n: int, world: int, rank: int) -> list[int]:
    """Contiguous shard of 0..n-1 for evaluation; shards concatenated in rank order give 0..n-1."""
    per = math.ceil(n / world)
    return list(range(rank * per, min(n, (rank + 1) * per)))


def sequence_lengths(dataset: Any, column: str = "input_ids") -> list[int] | None:
    """Length of ``column`` in every row, or None when the rows have no such column."""
    if column not in (column_names(dataset) or []):
        return None
    if hasattr(dataset, "column_names"):  # datasets.Dataset: one column read, not n row reads
        return [len(x) for x in dataset[column]]
    return [len(dataset[i][column]) for i in range(len(dataset))]


def length_grouped_batches(indices: list[int], lengths: list[int], batch_size: int) -> list[list[int]]:
    """Batches of ``indices`` sorted by length, longest first (an out-of-memory shows at once)."""
    ordered = sorted(indices, key=lambda i: -lengths[i])  # stable: equal lengths keep their order
    return [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]


def restore_order(value: Any, order: list[int]) -> Any:
    """Rows of ``value`` (an array or a tuple of arrays) came in ``order``; put row k at index order[k]."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return tuple(restore_order(v, order) for v in value)
    out = np.empty_like(value)
    out[np.asarray(order)] = value
    return out


def count_items(batch: dict[str, Any]) -> int:
    """Number of loss terms in a batch: labels that are not -100, else the number of rows."""
    labels = batch.get("labels")
    if isinstance(labels, torch.Tensor) and not labels.is_floating_point():
        return int((labels != -100).sum())
    first = next((v for v in batch.values() if isinstance(v, torch.Tensor)), None)
    return int(first.shape[0]) if first is not None else 1


def pad_concat(arrays: list[np.ndarray], pad_index: int = -100) -> np.ndarray:
    """Concatenate on axis 0, padding axis 1 with ``pad_index`` when lengths differ (token tasks)."""
    if arrays[0].ndim < 2 or all(a.shape[1:] == arrays[0].shape[1:] for a in arrays):
        return np.concatenate(arrays, axis=0)
    width = max(a.shape[1] for a in arrays)
    padded = []
    for a in arrays:
        out = np.full((a.shape[0], width, *a.shape[2:]), pad_index, dtype=a.dtype)
        out[:, : a.shape[1]] = a
        padded.append(out)
    return np.concatenate(padded, axis=0)


def concat_nested(parts: list[Any]) -> Any:
    """Concatenate a list of arrays, or of tuples of arrays, batch by batch."""
    if not parts:
        return None
    if isinstance(parts[0], tuple):
        return tuple(concat_nested([p[i] for p in parts]) for i in range(len(parts[0])))
    return pad_concat(parts)


def to_numpy(x: Any) -> Any:
    if isinstance(x, tuple | list):
        return tuple(to_numpy(v) for v in x)
    return x.detach().float().cpu().numpy() if x.is_floating_point() else x.detach().cpu().numpy()
