"""bf16 inference matmuls on CPU through oneDNN, with each weight packed once.

A batch-1 decoding step multiplies one row by every weight matrix. In bf16 on CPU that product
is bound by the kernel, not by memory: measured on this machine (2 threads, GPT-2-small, one
token), PyTorch's default bf16 path took 243 us for the 768x2304 ``c_attn`` weight stored
(in, out) as GPT-2 stores it, 201 us as (out, in), and 149 us with the weight reordered once into
oneDNN's blocked layout (``mkldnn._reorder_linear_weight``); the LM head (50257x768) 3.5 ms
against 1.9 ms. That packed copy is what this module keeps.

Like the fused QKV weight (nn/fused.py) it is derived: cached on the module as a plain attribute
(never in state_dict), rebuilt when the source weight's storage or version changes, and dropped by
every forward that records gradients (the fused AdamW kernel updates weights without bumping the
version). It costs one more copy of the bf16 weight bytes in memory. Everything else — fp32,
CUDA, training, ``torch.compile`` (inductor packs weights itself) — takes the plain path.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

_ATTR = "_packed_bf16_weight"


@functools.cache
def _available() -> bool:
    mkldnn = getattr(torch.ops, "mkldnn", None)
    try:
        return bool(
            torch.backends.mkldnn.is_available()
            and mkldnn is not None
            and mkldnn._is_mkldnn_bf16_supported()
            and hasattr(mkldnn, "_reorder_linear_weight")
        )
    except (AttributeError, RuntimeError):
        return False


def usable(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """True when ``x @ weight`` may take the packed path: bf16 on CPU, no gradient recorded."""
    return (
        x.dtype == torch.bfloat16
        and weight.dtype == torch.bfloat16
        and x.device.type == "cpu"
        and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
        and not torch.compiler.is_compiling()
        and _available()
    )


def forget_packed(owner: nn.Module) -> None:
    """Drop the cached packed weight (called by forwards that record gradients)."""
    owner.__dict__.pop(_ATTR, None)


def _version(t: torch.Tensor) -> int:
    return -1 if t.is_inference() else t._version


# Activations oneDNN applies inside the matmul (a "post-op": no second pass over the output),
# by the config names that mean exactly that function: name -> (post-op, algorithm).
POST_OPS = {"gelu": ("gelu", "none"), "relu": ("relu", "")}


def packed_linear(owner: nn.Module, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                  transposed: bool, activation: str | None = None) -> torch.Tensor:  # fmt: skip
    """``act(x @ Wᵀ + b)`` for W (out, in), or with ``x @ W`` for W (in, out) when ``transposed``.

    The caller checks ``usable`` first. The packed weight is (out, in) in oneDNN's layout, packed
    for one row at a time (the decoding shape); measured, other row counts are as fast with it as
    with a weight packed for them. ``activation`` is a key of POST_OPS or None.
    """
    key = (weight.data_ptr(), _version(weight))
    cached = owner.__dict__.get(_ATTR)
    if cached is None or cached[0] != key:
        with torch.no_grad():
            out_in = (weight.t() if transposed else weight).contiguous()
            packed = torch.ops.mkldnn._reorder_linear_weight(out_in, 1)
        owner.__dict__[_ATTR] = cached = (key, packed)
    flat = x.reshape(-1, x.shape[-1])
    post_op, algorithm = POST_OPS[activation] if activation else ("none", "")
    out = torch.ops.mkldnn._linear_pointwise(flat, cached[1], bias, post_op, [], algorithm)
    return out.view(*x.shape[:-1], out.shape[-1])


def linear(module: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """``module(x)``, through the packed bf16 path when it applies (e.g. an LM head while decoding).

    Anything but a plain nn.Linear (an int8-quantized layer, a user's replacement) is just called.
    """
    if type(module) is not nn.Linear:
        return module(x)
    if usable(x, module.weight):
        return packed_linear(module, x, module.weight, module.bias, transposed=False)
    forget_packed(module)
    return F.linear(x, module.weight, module.bias)
