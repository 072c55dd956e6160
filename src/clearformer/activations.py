"""Activation functions by their config.json names (``hidden_act``, ``activation_function``).

The names and formulas match what checkpoints expect: ``gelu`` is the exact erf form,
``gelu_new``/``gelu_pytorch_tanh`` the tanh approximation GPT-2 was trained with.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class NewGELU(nn.Module):
    """tanh approximation of GELU (GPT-2, BERT's original TF code); kept explicit for readability."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class FastGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class TanhGELU(nn.Module):
    """PyTorch's own tanh approximation (``gelu_pytorch_tanh``): same formula as NewGELU, one kernel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate="tanh")


_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "gelu": nn.GELU,
    "gelu_new": NewGELU,
    "gelu_fast": FastGELU,
    "gelu_pytorch_tanh": TanhGELU,
    "quick_gelu": QuickGELU,
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "mish": nn.Mish,
}


def get_activation(name: str) -> nn.Module:
    """A fresh activation module for a config.json name; unknown names list the known ones."""
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(sorted(_ACTIVATIONS))}") from None


class _ActivationTable(dict):
    def __getitem__(self, name: str) -> nn.Module:
        return get_activation(name)

    def __contains__(self, name: object) -> bool:
        return name in _ACTIVATIONS


# HF's public name for the table: ACT2FN["gelu"] gives a module.
ACT2FN = _ActivationTable()
