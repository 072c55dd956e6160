"""GPT-2's ``Conv1D``: a linear layer whose weight is stored (in_features, out_features).

The name and layout are the original OpenAI checkpoint's (a 1x1 convolution in TensorFlow), so
``transformer.h.0.attn.c_attn.weight`` loads with its checkpoint shape and no transpose table.
The computation is exactly ``x @ W + b``.
"""

from __future__ import annotations

import torch
from torch import nn


class Conv1D(nn.Module):
    """``Conv1D(nf, nx)``: nx inputs -> nf outputs (HF's argument order), weight (nx, nf)."""

    def __init__(self, nf: int, nx: int) -> None:
        super().__init__()
        self.nf = nf
        self.nx = nx
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.addmm(self.bias, x.reshape(-1, self.nx), self.weight)  # one fused GEMM + bias
        return out.view(*x.shape[:-1], self.nf)

    def extra_repr(self) -> str:
        return f"nf={self.nf}, nx={self.nx}"
