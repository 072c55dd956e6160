"""Positions: sinusoidal tables (two layouts) and learned position embeddings.

Layouts of the sinusoid ``angle(pos, i) = pos / 10000^(2i/d)``:
- ``interleaved`` (the paper and the course): column 2i is sin, column 2i+1 is cos —
  ``P[:, 0::2] = sin``, ``P[:, 1::2] = cos``.
- ``half`` (Marian, DistilBERT's sinusoidal option): sin in the first ceil(d/2) columns, cos after.
Odd widths work in both (the course's version assumed an even width).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_table(num_positions: int, dim: int, layout: str = "interleaved") -> torch.Tensor:
    """(num_positions, dim) float32 table of fixed sinusoidal position encodings."""
    if layout not in ("interleaved", "half"):
        raise ValueError(f"layout must be 'interleaved' or 'half', got {layout!r}")
    position = torch.arange(num_positions, dtype=torch.float64)[:, None]
    n_sin = (dim + 1) // 2
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * -(math.log(10000.0) / dim))
    angles = position * freq[None, :]  # (P, ceil(d/2))
    table = torch.zeros(num_positions, dim, dtype=torch.float64)
    if layout == "interleaved":
        table[:, 0::2] = torch.sin(angles)
        table[:, 1::2] = torch.cos(angles[:, : dim // 2])
    else:
        table[:, :n_sin] = torch.sin(angles)
        table[:, n_sin:] = torch.cos(angles[:, : dim - n_sin])
    return table.float()


class SinusoidalPositionalEmbedding(nn.Module):
    """Fixed table kept as a non-persistent buffer: it is derived, so checkpoints need not carry it."""

    def __init__(self, num_positions: int, dim: int, layout: str = "interleaved") -> None:
        super().__init__()
        self.register_buffer("weight", sinusoidal_table(num_positions, dim, layout), persistent=False)

    def forward(self, position_ids: torch.Tensor) -> torch.Tensor:
        return self.weight[position_ids]


class LearnedPositionalEmbedding(nn.Embedding):
    """A trained table (BERT, GPT-2); with an ``offset`` for RoBERTa-style ids that skip padding."""

    def __init__(self, num_positions: int, dim: int, offset: int = 0) -> None:
        super().__init__(num_positions + offset, dim)
        self.offset = offset

    def forward(self, position_ids: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(position_ids + self.offset)
