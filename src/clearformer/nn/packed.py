"""CPU inference matmuls with each weight packed once for the BLAS library (oneDNN / MKL).

A GEMM library reorders the weight into its blocked layout on every call unless it is handed a
pre-packed one. Measured on this machine (2 threads): in bf16 a batch-1 decoding step's
768x2304 ``c_attn`` product took 243 us with GPT-2's (in, out) weight, 201 us as (out, in) and
149 us packed for oneDNN (``mkldnn._reorder_linear_weight``); the 50257x768 LM head 3.5 ms against
1.9 ms. In fp32, MKL's packed sgemm (``mkl._mkl_reorder_linear_weight``) was 1.2-1.6x faster on the
BERT-base shapes at 32 rows (one thread, loaded machine), and slower at 1 row (a matrix-vector
product, where MKL's unpacked kernel is already bound by memory). This is what ``torch.compile``'s
weight freezing does; doing it here gives eager inference the same kernels.

- bf16: one oneDNN-packed copy per weight, good for any number of rows (measured 1 to 4096).
  oneDNN also applies an activation inside the matmul (``POST_OPS``), which saves BERT's GELU pass.
- fp32 (opt-in: ``allow_fp32_packing()``): an MKL packed weight serves exactly one row count, so
  it is built only when a layer sees the same row count twice in a row (fixed-shape batches: padded
  to max_length, benchmarks, serving) and only from 8 rows up; varying shapes keep the plain path
  instead of repacking. Off by default because its results differ from the unpacked kernel by
  float rounding: on the real MiniLM, 1.07e-5 on the last hidden state against transformers,
  just over this project's 1e-5 fp32 parity bar (the unpacked path: 0.0).

The packed weight is derived: kept in a weak table beside the module (never in state_dict, not
copied by deepcopy or pickling — an MKL-packed buffer is only valid at the address it was made
at), rebuilt when the source weight's storage or version changes, and dropped by every forward
that records gradients (the fused AdamW kernel updates weights without bumping the version). It
costs one more copy of the weight's bytes. CUDA, training and ``torch.compile`` (inductor packs
weights itself) take the plain path.
"""

from __future__ import annotations

import functools
import weakref

import torch
import torch.nn.functional as F
from torch import nn

# module -> (source key, packed weight, rows it was packed for or None for any, see _packed_weight);
# module -> row count of its last fp32 call (the "same shape twice" rule).
_PACKED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LAST_ROWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

# Activations oneDNN applies inside the bf16 matmul (a "post-op": no second pass over the output),
# by the config names that mean exactly that function: name -> (post-op, algorithm).
POST_OPS = {"gelu": ("gelu", "none"), "relu": ("relu", "")}

MIN_FP32_ROWS = 8
_FP32 = {"enabled": False}


def allow_fp32_packing(enabled: bool = True) -> None:
    """Opt in (or out) of MKL-packed fp32 weights for fixed-shape CPU inference (see the module doc)."""
    _FP32["enabled"] = bool(enabled)


@functools.cache
def _bf16_available() -> bool:
    try:
        mkldnn = torch.ops.mkldnn
        return bool(
            torch.backends.mkldnn.is_available()
            and mkldnn._is_mkldnn_bf16_supported()
            and hasattr(mkldnn, "_reorder_linear_weight")
        )
    except (AttributeError, RuntimeError):
        return False


@functools.cache
def _fp32_available() -> bool:
    try:
        return bool(torch._C.has_mkl and hasattr(torch.ops.mkl, "_mkl_reorder_linear_weight"))
    except (AttributeError, RuntimeError):
        return False


def _plain_context(x: torch.Tensor, weight: torch.Tensor) -> bool:
    return (
        x.device.type != "cpu"
        or (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
        or torch.compiler.is_compiling()
    )


def usable(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """True when ``x @ weight`` takes the packed bf16 path: bf16 on CPU, no gradient recorded."""
    return (
        x.dtype == torch.bfloat16
        and weight.dtype == torch.bfloat16
        and not _plain_context(x, weight)
        and _bf16_available()
    )


def _fp32_rows(owner: nn.Module, x: torch.Tensor, weight: torch.Tensor) -> int | None:
    """The row count to pack an fp32 weight for, or None for the plain path (see the module doc)."""
    if not _FP32["enabled"] or x.dtype != torch.float32 or weight.dtype != torch.float32:
        return None
    if _plain_context(x, weight):
        return None
    rows = x.numel() // x.shape[-1] if x.shape[-1] else 0
    last = _LAST_ROWS.get(owner)
    _LAST_ROWS[owner] = rows
    if rows < MIN_FP32_ROWS or not _fp32_available():
        return None
    cached = _PACKED.get(owner)
    if last == rows or (cached is not None and cached[2] == rows):
        return rows
    return None


def forget_packed(owner: nn.Module) -> None:
    """Drop the cached packed weight (called by forwards that record gradients)."""
    _PACKED.pop(owner, None)


def forget_if_recording(owner: nn.Module) -> None:
    """``forget_packed`` when autograd records (a training step); free otherwise."""
    if torch.is_grad_enabled() and owner in _PACKED:
        _PACKED.pop(owner, None)


def is_packed(owner: nn.Module) -> bool:
    return owner in _PACKED


def _version(t: torch.Tensor) -> int:
    return -1 if t.is_inference() else t._version


def _packed_weight(owner: nn.Module, weight: torch.Tensor, transposed: bool, rows: int | None) -> tuple:
    """(source key, packed weight, rows or None, the (out, in) weight MKL also needs or None)."""
    key = (weight.data_ptr(), _version(weight), weight.dtype)
    cached = _PACKED.get(owner)
    if cached is None or cached[0] != key or cached[2] != rows:
        with torch.no_grad():
            out_in = (weight.t() if transposed else weight).contiguous()
            if rows is None:  # bf16, oneDNN: packed for one row, serves any row count
                packed = torch.ops.mkldnn._reorder_linear_weight(out_in, 1)
                out_in = None  # oneDNN needs only the packed copy; do not keep a transposed one too
            else:  # MKL's call also takes the plain (out, in) weight
                packed = torch.ops.mkl._mkl_reorder_linear_weight(out_in, rows)
        cached = (key, packed, rows, out_in)
        _PACKED[owner] = cached
    return cached


def packed_linear(owner: nn.Module, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                  transposed: bool, activation: str | None = None) -> torch.Tensor:  # fmt: skip
    """bf16: ``act(x @ Wᵀ + b)`` for W (out, in), or with ``x @ W`` for W (in, out) when ``transposed``.

    The caller checks ``usable`` first. ``activation`` is a key of POST_OPS or None.
    """
    cached = _packed_weight(owner, weight, transposed, None)
    post_op, algorithm = POST_OPS[activation] if activation else ("none", "")
    flat = x.reshape(-1, x.shape[-1])
    out = torch.ops.mkldnn._linear_pointwise(flat, cached[1], bias, post_op, [], algorithm)
    return out.view(*x.shape[:-1], out.shape[-1])


def any_linear(owner: nn.Module, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
               transposed: bool = False) -> torch.Tensor | None:  # fmt: skip
    """The packed product (bf16 or fp32) when one applies, else None (the caller runs its own).

    Cheap when nothing applies (fp32 without the opt-in: one dtype test and a dict lookup): it runs
    on every linear layer call, 48 times per GPT-2 decoding step.
    """
    if x.dtype == torch.bfloat16:
        return packed_linear(owner, x, weight, bias, transposed) if usable(x, weight) else None
    if not _FP32["enabled"]:
        return None
    rows = _fp32_rows(owner, x, weight)
    if rows is None:
        return None
    cached = _packed_weight(owner, weight, transposed, rows)
    out = torch.ops.mkl._mkl_linear(x.reshape(rows, x.shape[-1]), cached[1], cached[3], bias, rows)
    return out.view(*x.shape[:-1], out.shape[-1])


def linear(module: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """``module(x)``, through a packed weight when one applies (e.g. an LM head while decoding).

    Anything but a plain nn.Linear (an int8-quantized layer, a user's replacement) is just called.
    """
    if type(module) is not nn.Linear:
        return module(x)
    out = any_linear(module, x, module.weight, module.bias)
    if out is not None:
        return out
    forget_if_recording(module)
    return F.linear(x, module.weight, module.bias)
