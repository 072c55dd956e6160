"""Scaled dot-product attention: one function, an explicit eager path and the SDPA fast path.

Both take query (B, H, Lq, D) and key/value (B, H, Lk, D) — Lq and Lk may differ (cross-attention),
but key and value must have the same length — and an additive float mask broadcastable to
(B, H, Lq, Lk). The eager path is the textbook formula and returns the attention weights; SDPA
fuses it into one kernel. Tests pin that the two agree to 1e-5 in fp32.

A third implementation, ``"sdpa_decode"``, is SDPA except for one query position in fp32 on CPU
(a decoding step), which runs clearformer's single-query kernel (nn/csrc/decode_attention.cpp):
torch's CPU SDPA spends most of such a call on set-up. ``optimize_for_inference`` sets it on the
model's config where that kernel is available; ``attn_implementation="sdpa_decode"`` asks for it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from . import cpu_kernels
from .dropout import FastDropout

IMPLEMENTATIONS = ("eager", "sdpa", "sdpa_decode")


def check_implementation(name: str) -> str:
    """``name`` if it is an attention implementation this machine can run (loads the single-query
    kernel for "sdpa_decode", so that ``attention`` finds it); otherwise an error naming the choices."""
    if name not in IMPLEMENTATIONS:
        raise ValueError(f"attn_implementation must be one of {IMPLEMENTATIONS}, got {name!r}")
    if name == "sdpa_decode" and not cpu_kernels.decode_attention_available():
        raise RuntimeError(
            "attn_implementation='sdpa_decode' needs clearformer's decode-attention kernel, but "
            f"{cpu_kernels.decode_attention_unavailable_reason()}; use 'sdpa'"
        )
    return name


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(B, L, H*D) -> (B, H, L, D): the ``view`` + ``permute(0, 2, 1, 3)`` of the course."""
    b, length, width = x.shape
    return x.view(b, length, num_heads, width // num_heads).permute(0, 2, 1, 3)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, L, D) -> (B, L, H*D): the inverse of split_heads."""
    b, h, length, d = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, length, h * d)


def eager_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    scale: float | None = None,
    head_mask: torch.Tensor | None = None,
    dropout: nn.Module | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(Q Kᵀ · scale + mask) V, returning (context, weights).

    ``scale`` defaults to 1/sqrt(D): without it the dot products of D-dim vectors have variance
    ~D, the softmax saturates and its gradients vanish (the handbook's question; see
    ``clearformer explain attention-scale``). T5 passes scale=1.0.
    """
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = torch.matmul(query, key.transpose(-1, -2)) * scale  # (B, H, Lq, Lk)
    if mask is not None:
        scores = scores + mask
    weights = torch.softmax(scores, dim=-1)
    if dropout is not None and dropout_p > 0.0:
        weights = dropout(weights)
    elif dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p)
    if head_mask is not None:
        weights = weights * head_mask
    return torch.matmul(weights, value), weights


def attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    scale: float | None = None,
    head_mask: torch.Tensor | None = None,
    need_weights: bool = False,
    implementation: str = "sdpa",
    dropout: nn.Module | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Dispatch to SDPA unless weights are wanted, a head mask is given, or eager is asked for.

    Attention dropout: ``dropout`` (the layer's dropout module; its ``p`` while it is training) or
    a plain ``dropout_p``. SDPA draws torch's mask; a ``FastDropout`` module's mask needs the
    eager path (on CPU SDPA would run its math path anyway).
    """
    if dropout is not None:
        dropout_p = dropout.p if dropout.training else 0.0
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"key and value must have the same length, got {key.shape[-2]} and {value.shape[-2]}: "
            "each key position needs the value it stands for"
        )
    fast_mask = dropout_p > 0.0 and isinstance(dropout, FastDropout) and query.device.type == "cpu"
    if need_weights or head_mask is not None or implementation == "eager" or fast_mask:
        return eager_attention(query, key, value, mask, dropout_p, scale, head_mask, dropout)
    if mask is not None and mask.dtype != query.dtype:
        mask = mask.to(query.dtype)
    if implementation == "sdpa_decode" and _single_query_kernel_applies(query, key, value, dropout_p):
        scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
        return cpu_kernels.loaded_decode_attention()(query, key, value, mask, scale), None
    context = F.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=dropout_p, scale=scale)
    return context, None


def _single_query_kernel_applies(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, dropout_p: float) -> bool:
    """One query position, fp32, CPU, no dropout and nothing to differentiate: the kernel's case."""
    if query.shape[-2] != 1 or query.device.type != "cpu" or dropout_p > 0.0:
        return False
    if not all(t.dtype == torch.float32 and t.dim() == 4 for t in (query, key, value)):
        return False
    return not (torch.is_grad_enabled() and any(t.requires_grad for t in (query, key, value)))
