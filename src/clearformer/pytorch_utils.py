"""Small tensor helpers the course's own BERT classes import: FFN chunking and attention-head pruning.

Names and signatures are transformers' (``apply_chunking_to_forward``, ``find_pruneable_heads_and_indices``,
``prune_linear_layer``) so chapter 3's code runs unchanged; tests/models/test_pytorch_utils.py compares each
with the reference's output.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

import torch
from torch import nn

__all__ = ["apply_chunking_to_forward", "find_pruneable_heads_and_indices", "prune_linear_layer"]


def apply_chunking_to_forward(
    forward_fn: Callable[..., torch.Tensor], chunk_size: int, chunk_dim: int, *input_tensors: torch.Tensor
) -> torch.Tensor:
    """Run ``forward_fn`` on slices of ``chunk_size`` along ``chunk_dim`` and concatenate the results.

    The feed-forward block treats every position on its own, so running it a slice at a time gives
    the same numbers with a peak activation ``chunk_size / seq_len`` as large. ``chunk_size=0``
    runs it once on the whole input.
    """
    if not input_tensors:
        raise ValueError("apply_chunking_to_forward needs at least one input tensor after chunk_dim")
    wanted = len(inspect.signature(forward_fn).parameters)
    if wanted != len(input_tensors):
        raise ValueError(
            f"forward_fn takes {wanted} arguments but {len(input_tensors)} input tensors were given; "
            "pass one tensor per argument of forward_fn"
        )
    if chunk_size <= 0:
        return forward_fn(*input_tensors)
    length = input_tensors[0].shape[chunk_dim]
    for t in input_tensors:
        if t.shape[chunk_dim] != length:
            raise ValueError(
                f"every input must have the same size along dim {chunk_dim}; got {t.shape[chunk_dim]} and {length}"
            )
    if length % chunk_size:
        raise ValueError(
            f"the size along dim {chunk_dim} ({length}) is not a multiple of chunk_size ({chunk_size}); "
            "pick a chunk_size that divides the sequence length"
        )
    pieces = zip(*(t.split(chunk_size, dim=chunk_dim) for t in input_tensors))
    return torch.cat([forward_fn(*piece) for piece in pieces], dim=chunk_dim)


def find_pruneable_heads_and_indices(
    heads: Iterable[int], n_heads: int, head_size: int, already_pruned_heads: set[int]
) -> tuple[set[int], torch.LongTensor]:
    """Heads still to prune, and the flat indices (into n_heads * head_size) of the columns to keep.

    ``heads`` use the original numbering; ``n_heads`` is how many remain after earlier pruning, so
    each head's position in the current layout is shifted down by the pruned heads before it.
    """
    heads = set(heads) - set(already_pruned_heads)
    keep = torch.ones(n_heads, head_size, dtype=torch.bool)
    for head in heads:
        position = head - sum(1 for h in already_pruned_heads if h < head)
        if not 0 <= position < n_heads:
            raise ValueError(f"cannot prune head {head}: the layer has {n_heads} heads left")
        keep[position] = False
    return heads, torch.arange(n_heads * head_size)[keep.view(-1)].long()


def prune_linear_layer(layer: nn.Linear, index: torch.LongTensor, dim: int = 0) -> nn.Linear:
    """A new Linear keeping only rows (``dim=0``, output features) or columns (``dim=1``) in ``index``.

    The weights are copied (not shared) and keep the old layer's ``requires_grad``.
    """
    if dim not in (0, 1):
        raise ValueError(f"dim must be 0 (output features) or 1 (input features), got {dim}")
    index = index.to(layer.weight.device)
    weight = layer.weight.index_select(dim, index).detach().clone()
    bias = None
    if layer.bias is not None:
        bias = (layer.bias[index] if dim == 0 else layer.bias).detach().clone()
    out_features, in_features = weight.shape
    new = nn.Linear(
        in_features, out_features, bias=bias is not None, device=layer.weight.device, dtype=layer.weight.dtype
    )
    with torch.no_grad():
        new.weight.copy_(weight)
        if bias is not None:
            new.bias.copy_(bias)
    new.weight.requires_grad = layer.weight.requires_grad
    if bias is not None:
        new.bias.requires_grad = layer.bias.requires_grad
    return new
