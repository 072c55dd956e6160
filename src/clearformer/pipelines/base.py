"""``Pipeline``: text in, model run in padded batches, readable answers out.

Every task is three steps, as in transformers: ``preprocess`` turns one input into one or more
*features* (a QA context split into windows, one NLI pair per zero-shot label), ``_forward`` runs
the model on a padded batch of features, ``postprocess`` turns one input's feature outputs into
the answer. Outputs are cut back to each feature's own length before post-processing, so a
result never depends on ``batch_size`` or on what else was in the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch.utils.data import Dataset as TorchDataset

logger = logging.getLogger(__name__)

# Padding values per model-input key when features are batched (the mask keys mark padding as
# "not real": attention 0, special/p_mask 1).
PAD_VALUES = {"attention_mask": 0, "token_type_ids": 0, "special_tokens_mask": 1, "p_mask": 1}


def resolve_device(device: int | str | torch.device | None, model: torch.nn.Module | None = None) -> torch.device:
    """``device=`` as transformers takes it: -1 or "cpu", a CUDA index, a string or a torch.device.

    ``None`` keeps the model where it already is.
    """
    if device is None:
        params = next(iter(model.parameters()), None) if model is not None else None
        return params.device if params is not None else torch.device("cpu")
    if isinstance(device, bool) or not isinstance(device, (int, str, torch.device)):
        raise TypeError(f"device must be an int (-1 = cpu), a string or a torch.device, got {device!r}")
    if isinstance(device, int):
        if device < -1:
            raise ValueError(f"device={device}: use -1 (cpu) or a CUDA index 0, 1, ...")
        device = "cpu" if device == -1 else f"cuda:{device}"
    device = torch.device(device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={str(device)!r} asked for CUDA but torch sees no GPU; use device=-1 (cpu)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device={str(device)!r} but only {torch.cuda.device_count()} GPU(s) are visible")
    return device


class Pipeline:
    """Base of every task pipeline; subclasses implement the three steps and name their options.

    ``token_outputs`` lists the ``_forward`` output keys that have one entry per input token;
    these are cut back to each feature's unpadded length when a batch is split into rows.
    """

    task: str = ""
    token_outputs: tuple[str, ...] = ()

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Any = None,
        device: int | str | torch.device | None = None,
        batch_size: int | None = None,
        task: str = "",
        **kwargs: Any,
    ) -> None:
        if tokenizer is None:
            raise ValueError(f"the {task or self.task} pipeline needs a tokenizer: pass tokenizer=folder or object")
        self.device = resolve_device(device, model)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.task = task or self.task
        self.batch_size = _check_batch_size(batch_size if batch_size is not None else 1)
        # options given at construction are defaults for every call
        self._defaults = self._sanitize_parameters(**kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task!r}, model={type(self.model).__name__}, device={self.device})"

    # ------------------------------------------------------------------ what subclasses provide
    def _sanitize_parameters(self, **kwargs: Any) -> tuple[dict, dict, dict]:
        """Split call options into (preprocess, forward, postprocess) keyword sets; reject unknowns."""
        if kwargs:
            raise TypeError(f"the {self.task} pipeline got unknown options {sorted(kwargs)}")
        return {}, {}, {}

    def preprocess(self, inputs: Any, **params: Any) -> Iterable[dict]:
        """One input -> features; each feature holds ``model_inputs`` (1-D id lists) and metadata."""
        raise NotImplementedError(f"{type(self).__name__} must define preprocess")

    def _forward(self, model_inputs: dict[str, torch.Tensor], **params: Any) -> dict[str, torch.Tensor]:
        """Run the model on one padded batch; return batch-first tensors."""
        raise NotImplementedError(f"{type(self).__name__} must define _forward")

    def postprocess(self, outputs: list[dict], **params: Any) -> Any:
        """One input's features (each with its ``_forward`` row merged in) -> the user-facing result."""
        raise NotImplementedError(f"{type(self).__name__} must define postprocess")

    def _wrap_result(self, inputs: Any, result: Any, post: dict) -> Any:
        """Reshape the result of a whole call (transformers' quirks per task live here)."""
        return result

    # ------------------------------------------------------------------ the call
    def __call__(self, inputs: Any, *, batch_size: int | None = None, **kwargs: Any) -> Any:
        """A str (or one dict input) -> one result; a list -> a list; a generator or dataset ->
        an iterator yielding one result per item, computed lazily ``batch_size`` at a time."""
        batch_size = _check_batch_size(batch_size if batch_size is not None else self.batch_size)
        params = self._merge(self._sanitize_parameters(**kwargs))
        if isinstance(inputs, (list, tuple)):
            if len(inputs) == 0:
                raise ValueError(f"the {self.task} pipeline got an empty list of inputs; pass at least one")
            return self._wrap_result(inputs, list(self._run(inputs, batch_size, *params)), params[2])
        if _is_stream(inputs):
            return self._run(iter(inputs), batch_size, *params)
        return self._wrap_result(inputs, next(self._run([inputs], batch_size, *params)), params[2])

    def _merge(self, params: tuple[dict, dict, dict]) -> tuple[dict, dict, dict]:
        return tuple({**default, **given} for default, given in zip(self._defaults, params))  # type: ignore[return-value]

    def _run(self, items: Iterable, batch_size: int, pre: dict, fwd: dict, post: dict) -> Iterator[Any]:
        """Features of consecutive inputs share batches; each input is post-processed (in input
        order) as soon as all of its features have been through the model."""
        queue: list[list[dict]] = []  # per input: its features; a feature gets "_done" once run
        waiting: list[dict] = []
        for item in items:
            features = list(self.preprocess(item, **pre))
            if not features:
                raise ValueError(f"the {self.task} pipeline produced nothing to run for input {item!r}")
            queue.append(features)
            waiting.extend(features)
            while len(waiting) >= batch_size:
                self._run_batch(waiting[:batch_size], fwd)
                del waiting[:batch_size]
            while queue and all("_done" in f for f in queue[0]):
                yield self.postprocess(queue.pop(0), **post)
        while waiting:
            self._run_batch(waiting[:batch_size], fwd)
            del waiting[:batch_size]
        for features in queue:
            yield self.postprocess(features, **post)

    @torch.inference_mode()
    def _run_batch(self, features: list[dict], fwd: dict) -> None:
        model_inputs = self._collate([f["model_inputs"] for f in features])
        outputs = self._forward({k: v.to(self.device) for k, v in model_inputs.items()}, **fwd)
        padded = model_inputs["input_ids"].shape[1]
        for row, feature in enumerate(features):
            length = len(feature["model_inputs"]["input_ids"])
            for key, value in outputs.items():
                value = value[row].cpu()
                if key in self.token_outputs:
                    # drop this row's padding (trailing or leading) so results never depend on the batch
                    value = value[:length] if self._padding_side() == "right" else value[padded - length :]
                feature[key] = value
            feature["_done"] = True

    def _padding_side(self) -> str:
        return getattr(self.tokenizer, "padding_side", "right")

    def _pad_id(self) -> int | None:
        return self.tokenizer.pad_token_id

    def _collate(self, rows: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        """Stack 1-D id lists into (B, L) tensors, padding each key with its own value."""
        longest = max(len(r["input_ids"]) for r in rows)
        if any(len(r["input_ids"]) != longest for r in rows) and self._pad_id() is None:
            raise ValueError(
                "batching inputs of different lengths needs a pad token, and this tokenizer has none; set one "
                "(tokenizer.pad_token = tokenizer.eos_token) or use batch_size=1"
            )
        batch = {}
        for key in rows[0]:
            pad = self._pad_id() if key == "input_ids" else PAD_VALUES.get(key, 0)
            padded = []
            for r in rows:
                filler = [pad] * (longest - len(r[key]))
                padded.append(list(r[key]) + filler if self._padding_side() == "right" else filler + list(r[key]))
            batch[key] = torch.tensor(padded, dtype=torch.long)
        return batch

    def model_inputs(self, encoding: Any, row: int | None = None) -> dict[str, list[int]]:
        """The tokenizer fields the model takes (``tokenizer.model_input_names``) as plain lists."""
        names = self.tokenizer.model_input_names
        return {k: list(encoding[k] if row is None else encoding[k][row]) for k in names if k in encoding}


def _check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    return batch_size


def _is_stream(inputs: Any) -> bool:
    """A generator, torch Dataset, datasets.Dataset or Column: iterated lazily, item by item."""
    if isinstance(inputs, (str, bytes, dict)):
        return False
    return isinstance(inputs, (Iterator, TorchDataset)) or hasattr(inputs, "__iter__")
