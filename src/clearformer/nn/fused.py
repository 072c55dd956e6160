"""Fused projections for inference: Q, K and V as one matrix multiply.

The parameters stay separate (their names are the checkpoint format and training updates them
one by one); the fused weight is derived from them, cached on the module, and rebuilt whenever a
source weight changes (loading, an optimizer step, ``.to(dtype)``), detected by each tensor's
storage pointer and in-place version counter. Only used when no gradient is being recorded.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import packed


def _version(t: torch.Tensor) -> int:
    # Tensors created under torch.inference_mode() keep no version counter; such weights can only
    # change in place inside inference mode again, which is not a supported way to update a model.
    return -1 if t.is_inference() else t._version


def _key(linears: tuple[nn.Linear, ...]) -> tuple:
    return tuple((t.data_ptr(), _version(t)) for lin in linears for t in (lin.weight, lin.bias) if t is not None)


def forget_fused(owner: nn.Module) -> None:
    """Drop the cached fused weight; called by every forward that records gradients.

    The version counter does not see every update: the fused AdamW kernel (the Trainer's default,
    as in transformers) changes parameters in place without bumping it. A training step always
    starts with a forward that records gradients, so dropping the cache there keeps it right.
    """
    owner.__dict__.pop("_fused_projection", None)
    packed.forget_packed(owner)


def fused_linear(owner: nn.Module, linears: tuple[nn.Linear, ...], x: torch.Tensor) -> list[torch.Tensor]:
    """``[lin(x) for lin in linears]`` computed by one GEMM over the concatenated weights."""
    if torch.compiler.is_compiling():  # the cache check cannot be traced; the compiler plans its own GEMMs
        return [lin(x) for lin in linears]
    key = _key(linears)
    cached = owner.__dict__.get("_fused_projection")
    if cached is None or cached[0] != key:
        with torch.no_grad():
            weight = torch.cat([lin.weight for lin in linears])
            bias = None
            if all(lin.bias is not None for lin in linears):
                bias = torch.cat([lin.bias for lin in linears])
        # Plain attribute, not a buffer: it must never reach state_dict or be moved on its own.
        owner.__dict__["_fused_projection"] = cached = (key, weight, bias)
    sizes = [lin.out_features for lin in linears]
    out = packed.any_linear(owner, x, cached[1], cached[2])  # CPU: the fused weight packed for the BLAS
    if out is None:
        out = F.linear(x, cached[1], cached[2])
    return list(out.split(sizes, dim=-1))
