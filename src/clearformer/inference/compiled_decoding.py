"""``compile_decoding``: one-token decoding steps as one compiled graph of fixed shape (opt-in).

The step runs the model's own ``forward`` (the eager model stays the source of truth) on a cache
of fixed size: each layer writes its new key/value into a preallocated (B, H, max_length, D)
buffer at a slot given as a tensor, and attends over the whole buffer with unwritten slots masked.
Nothing in the step's shapes depends on the position, so inductor compiles it once (no per-op
Python dispatch afterwards); the prompt (prefill) runs eagerly. ``generate()`` uses it when the
model carries one (``model.compiled_decoding``, shown by ``print(model)``); tokens match eager fp32.
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import torch
from torch import nn

from ..nn.cache import Cache, StaticCache
from .aoti_step import build_aoti_step

logger = logging.getLogger(__name__)

# Compile options, applied by torch.compile to this graph only (inductor patches its config while
# it compiles this function; nothing is set process-wide).
#   cpp_wrapper: the step's kernel calls are one C++ function instead of Python wrapper code.
DEFAULT_OPTIONS = {"cpp_wrapper": True}


def default_freezing(batch_size: int) -> bool:
    """Inductor's ``freezing`` (weights become constants it folds and packs for the CPU's matmul
    kernels) pays from two rows up; at one row the plain matrix-vector product over the model's own
    weights is faster and keeps no derived copy. GPT-2-small fp32, 1 thread, AOTInductor step,
    7 interleaved rounds: b1 22.3 tok/s unfrozen vs 20.6 frozen, b8 frozen 1.40x unfrozen;
    W8A8 b1 equal (BENCHMARKS.md, "Tenth session")."""
    return batch_size > 1


# "dynamo": torch.compile (guards checked each call); "aoti": exported and built by AOTInductor
# (aoti_step.py), called with no Dynamo in between.
BACKENDS = ("dynamo", "aoti")


class SlotCache(Cache):
    """The fixed-shape cache of the compiled step: write at ``slot``, return the whole buffer.

    ``get_seq_length`` always answers ``max_length - 1``, so the model builds its mask over all
    ``max_length`` keys for its one query; the caller's ``attention_mask`` (B, max_length) hides
    the slots not written yet and the padding.
    """

    def __init__(self, keys: list[torch.Tensor], values: list[torch.Tensor], slot: torch.Tensor) -> None:
        self.keys, self.values, self.slot = keys, values, slot

    def update(self, key: torch.Tensor, value: torch.Tensor, layer_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        keys, values = self.keys[layer_idx], self.values[layer_idx]
        keys.index_copy_(2, self.slot, key)  # (B, H, max_length, D) <- (B, H, 1, D) at the slot
        values.index_copy_(2, self.slot, value)
        return keys, values

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.keys[layer_idx].shape[2] - 1


def decode_step(model: nn.Module, ids, slot, position_base, key_mask, keys, values) -> torch.Tensor:
    """The compiled graph: one token per row at ``slot``, (B, 1) ids -> (B, vocab) fp32 logits;
    writes the cache and marks the slot in ``key_mask``."""
    key_mask.index_fill_(1, slot, 1)
    out = model(
        ids,
        cache=SlotCache(keys, values, slot),
        attention_mask=key_mask,
        position_ids=position_base + slot,  # (B, 1): left padding shifts each row's positions
        use_cache=True,
        return_dict=True,
        logits_to_keep=1,
    )
    return out.logits[:, -1].float()


class CompiledDecoding(nn.Module):
    """Carried by the model as ``model.compiled_decoding``; ``generate()`` asks it for its step.

    Holds no parameters (the model is referenced, not a child, so ``state_dict()`` and
    ``modules()`` are unchanged apart from this entry) and the KV buffers of one batch shape,
    which every ``generate()`` call reuses: one call at a time per model.
    """

    def __init__(
        self, model: nn.Module, batch_size: int, max_length: int, options: dict[str, Any], backend: str = "dynamo"
    ) -> None:
        super().__init__()
        object.__setattr__(self, "_model", model)  # a plain reference: a child would loop state_dict()
        self.batch_size, self.max_length, self.options = batch_size, max_length, dict(options)
        self.compile_seconds: float | None = None
        # Inductor writes the thread count into its fused kernels when it compiles (none at 1 thread).
        self.threads = torch.get_num_threads()
        self._weights_version = _weights_version(model)
        self._buffers_for: tuple | None = None
        self.backend = backend
        self._compiled = (
            torch.compile(self._decode, fullgraph=True, dynamic=False, options=self.options)
            if backend == "dynamo"
            else None  # built on the first step, from the buffers generate() fills
        )

    def extra_repr(self) -> str:
        done = f"compiled in {self.compile_seconds:.1f} s" if self.compile_seconds else "compiles on first generate()"
        opts = ", ".join(f"{k}={v}" for k, v in self.options.items())
        return (
            f"batch_size={self.batch_size}, max_length={self.max_length}, threads={self.threads}, "
            f"{self.backend}, inductor({opts}), {done}"
        )

    # --- the compiled graph ---------------------------------------------------------------------
    def _decode(self, ids, slot, position_base, key_mask, keys, values) -> torch.Tensor:
        return decode_step(self._model, ids, slot, position_base, key_mask, keys, values)

    # --- what generate() calls ---------------------------------------------------------------------
    def make_step(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, config: Any):
        """``generate``'s step function (sequences, start, end) -> logits, and the cache it fills."""
        self._check_use(input_ids, config.max_length)
        model, batch, prompt = self._model, input_ids.shape[0], input_ids.shape[1]
        keys, values, ids, slot, position_base, key_mask = self._state(model)
        key_mask.zero_()
        key_mask[:, :prompt] = attention_mask
        padded = not bool(attention_mask.all())
        prompt_positions = None
        position_base.zero_()
        if padded:
            prompt_positions = (attention_mask.long().cumsum(-1) - 1).masked_fill(attention_mask == 0, 0)
            position_base.copy_(prompt_positions[:, -1:] - (prompt - 1))
        cache = StaticCache(self.max_length, len(keys))
        cache.key_cache, cache.value_cache = keys, values

        def step(sequences: torch.Tensor, start: int, end: int) -> torch.Tensor:
            if start == 0:  # the prompt: eager, into the same buffers
                out = model(
                    sequences[:, :end],
                    cache=cache,
                    attention_mask=attention_mask if padded else None,
                    position_ids=prompt_positions,
                    use_cache=True,
                    return_dict=True,
                    logits_to_keep=1,
                )
                return out.logits[:, -1].float()
            ids.copy_(sequences[:, start:end])
            slot.fill_(start)
            cache.length = end
            if self.compile_seconds is not None:
                return self._compiled(ids, slot, position_base, key_mask, keys, values)
            self.threads = torch.get_num_threads()  # the count the kernels are compiled for
            began = time.perf_counter()
            if self._compiled is None:
                example = (ids, slot, position_base, key_mask, keys, values)
                self._compiled = build_aoti_step(model, decode_step, example, self.options, owner=self)
            logits = self._compiled(ids, slot, position_base, key_mask, keys, values)
            self.compile_seconds = time.perf_counter() - began
            logger.info("compiled the decoding step (batch %d) in %.1f s", batch, self.compile_seconds)
            return logits

        return step, cache

    def _check_use(self, input_ids: torch.Tensor, max_length: int) -> None:
        model = self._model
        if model.training:
            raise RuntimeError(
                "model.compiled_decoding is an inference path but the model is in training mode; call "
                "model.eval() to generate with it, or restore_for_training(model) to remove it"
            )
        if input_ids.shape[0] != self.batch_size:
            raise ValueError(
                f"the decoding step was compiled for batch_size={self.batch_size} but generate() got "
                f"{input_ids.shape[0]} rows (after num_beams / num_return_sequences); call "
                f"compile_decoding(model, batch_size={input_ids.shape[0]}, ...) or remove_compiled_decoding(model)"
            )
        if max_length > self.max_length:
            raise ValueError(
                f"the decoding step was compiled for max_length={self.max_length} (prompt + new tokens) but "
                f"generate() needs {max_length}; call compile_decoding(model, max_length={max_length}, ...) "
                "or lower max_new_tokens"
            )
        if self.compile_seconds is not None and torch.get_num_threads() != self.threads:
            warnings.warn(
                f"the decoding step was compiled at {self.threads} threads and its fused kernels keep that "
                f"count; torch now uses {torch.get_num_threads()}: call compile_decoding(model, ...) again "
                "after torch.set_num_threads to compile for it",
                stacklevel=4,
            )
        if _weights_version(model) != self._weights_version:
            raise RuntimeError(
                "the model's weights changed after compile_decoding (the compiled step holds the old ones "
                "as constants); call compile_decoding(model, ...) again"
            )

    def _state(self, model: nn.Module):
        """The step's fixed inputs, made once per device/dtype (inside inference mode, as generate runs)."""
        device, dtype = _device_and_dtype(model)
        if self._buffers_for != (device, dtype):
            cfg, b, m = model.config, self.batch_size, self.max_length
            shape = (b, cfg.n_head, m, cfg.n_embd // cfg.n_head)
            keys = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(cfg.n_layer)]
            values = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(cfg.n_layer)]
            ids = torch.zeros(b, 1, dtype=torch.long, device=device)
            slot = torch.zeros(1, dtype=torch.long, device=device)
            position_base = torch.zeros(b, 1, dtype=torch.long, device=device)
            key_mask = torch.zeros(b, m, dtype=torch.long, device=device)
            self._tensors = (keys, values, ids, slot, position_base, key_mask)
            self._buffers_for = (device, dtype)
        return self._tensors


def compile_decoding(
    model: nn.Module,
    max_length: int,
    batch_size: int = 1,
    options: dict[str, Any] | None = None,
    backend: str = "dynamo",
) -> nn.Module:
    """Give ``model`` a compiled one-token decoding step for ``batch_size`` rows up to ``max_length``.

    ``generate()`` then decodes with it (greedy, sampling; beam search when ``batch * num_beams``
    equals ``batch_size``); the first such call compiles (once per model and shape: see
    ``print(model)`` for the time). A batch of another size, a longer run, a training-mode model or
    changed weights raise and say what to do. ``options`` replace inductor's options for this graph
    (default ``DEFAULT_OPTIONS``, and ``freezing`` from ``default_freezing(batch_size)``).
    ``backend="aoti"`` builds the step ahead of time with AOTInductor (``aoti_step.py``) and calls
    it without Dynamo's per-call checks; every check above is the same.
    Returns the model, in eval mode; ``remove_compiled_decoding``
    (also run by ``restore_for_training``) takes the step away.
    """
    cfg = getattr(model, "config", None)
    if cfg is None or cfg.is_encoder_decoder or not all(hasattr(cfg, k) for k in ("n_head", "n_embd", "n_layer")):
        raise TypeError(
            f"compile_decoding supports GPT-2-style decoder-only models (config with n_head, n_embd, n_layer); "
            f"got {type(model).__name__}"
        )
    limit = getattr(cfg, "n_positions", None)
    if not isinstance(max_length, int) or max_length < 2 or (limit is not None and max_length > limit):
        raise ValueError(
            f"max_length must be an int between 2 and the model's {limit} positions (prompt + new tokens), "
            f"got {max_length!r}"
        )
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    model.eval()
    options = DEFAULT_OPTIONS | {"freezing": default_freezing(batch_size)} | (options or {})
    model.compiled_decoding = CompiledDecoding(model, batch_size, max_length, options, backend)
    return model


def remove_compiled_decoding(model: nn.Module) -> nn.Module:
    """Take away ``model.compiled_decoding`` (generate() decodes eagerly again)."""
    if "compiled_decoding" in model._modules:
        del model._modules["compiled_decoding"]
    return model


def _weights_version(model: nn.Module) -> tuple:
    """Which parameter objects the model has, their in-place version counters (copy_, an optimizer
    step or load_state_dict change them), dtypes and devices (``model.to`` changes those)."""
    return tuple((id(p), p._version, p.dtype, p.device) for p in model.parameters())


def _device_and_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    first = next(p for p in model.parameters() if p.is_floating_point())
    return first.device, first.dtype
