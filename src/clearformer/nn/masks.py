"""Additive attention masks, built once per forward.

Convention: a boolean ``allowed`` tensor (True = may attend) is turned into an additive float mask
with 0 where allowed and ``torch.finfo(dtype).min`` where not. The minimum (not -inf) keeps a row
whose keys are all masked finite: its softmax is uniform instead of NaN, as in the reference.
"""

from __future__ import annotations

import torch


def to_additive(allowed: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Boolean allowed-mask -> additive float mask of ``dtype``."""
    zeros = torch.zeros(allowed.shape, dtype=dtype, device=allowed.device)
    return zeros.masked_fill(~allowed, torch.finfo(dtype).min)


def padding_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, Lk) with 1 = real token, 0 = padding -> additive (B, 1, 1, Lk)."""
    return to_additive(attention_mask[:, None, None, :].bool(), dtype)


def padding_mask_or_none(attention_mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """``padding_mask``, or None when nothing is padded (an all-zero additive mask changes nothing).

    Without a mask SDPA takes its unmasked kernel: measured 16% faster than with an all-zero mask
    for BERT-base's (32, 12, 128, 64) bf16 attention on this CPU. The check reads the mask once per
    forward (a device sync on CUDA, as in the reference); inside ``torch.compile`` the mask is kept.
    """
    if attention_mask is None:
        return None
    if not torch.compiler.is_compiling() and bool(attention_mask.all()):
        return None
    return padding_mask(attention_mask, dtype)


def causal_allowed(query_length: int, key_length: int, device: torch.device | None = None) -> torch.Tensor:
    """(Lq, Lk) boolean: query i (at absolute position Lk-Lq+i) sees keys 0..Lk-Lq+i."""
    past = key_length - query_length
    q = torch.arange(query_length, device=device)[:, None] + past
    k = torch.arange(key_length, device=device)[None, :]
    return k <= q


def causal_mask(
    query_length: int,
    key_length: int,
    dtype: torch.dtype,
    attention_mask: torch.Tensor | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Causal (+ optional padding) additive mask: (1 or B, 1, Lq, Lk)."""
    allowed = causal_allowed(query_length, key_length, device)[None, None]
    if attention_mask is not None:
        allowed = allowed & attention_mask[:, None, None, :].bool()
    return to_additive(allowed, dtype)


def cross_attention_mask(encoder_attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Decoder queries attend to encoder keys: only the encoder's padding matters."""
    return padding_mask(encoder_attention_mask, dtype)
