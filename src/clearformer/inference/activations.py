"""Activation stand-ins that ``optimize_for_inference`` swaps in; each remembers what it replaced."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FoldedActivation(nn.Module):
    """Identity: the activation it replaced now runs inside the preceding ``PackedLinear``."""

    def __init__(self, replaced: nn.Module, into: str) -> None:
        super().__init__()
        object.__setattr__(self, "replaced", replaced)  # not a child: swapped back, never run here
        self.into = into

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def extra_repr(self) -> str:
        return f"{type(self.replaced).__name__} applied inside {self.into}"


class OneKernelTanhGELU(nn.Module):
    """``gelu_new`` as PyTorch's single tanh-GELU kernel.

    The same formula as GPT-2's seven-op ``NewGELU``, rounded differently (up to ~2e-7 apart in
    fp32); one pass over the activations instead of seven, which shows in a decoding step. The
    plain model keeps the reference's op sequence so that training is bit-identical to it.
    """

    def __init__(self, replaced: nn.Module) -> None:
        super().__init__()
        object.__setattr__(self, "replaced", replaced)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate="tanh")
