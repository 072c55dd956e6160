"""GPT-2's ``Conv1D``: a linear layer whose weight is stored (in_features, out_features).

The name and layout are the original OpenAI checkpoint's (a 1x1 convolution in TensorFlow), so
``transformer.h.0.attn.c_attn.weight`` loads with its checkpoint shape and no transpose table.
The computation is exactly ``x @ W + b``.
"""

from __future__ import annotations

import torch
from torch import nn

from . import packed


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
        out = packed.any_linear(self, x, self.weight, self.bias, transposed=True)  # CPU inference
        if out is not None:
            return out
        packed.forget_if_recording(self)
        out = torch.addmm(self.bias, x.reshape(-1, self.nx), self.weight)  # one fused GEMM + bias
        return out.view(*x.shape[:-1], self.nf)

    def extra_repr(self) -> str:
        return f"nf={self.nf}, nx={self.nx}"


class Int8WeightOnlyLinear(nn.Module):
    """``y = x Wᵀ + b`` with W stored as int8 plus one bf16 scale per output row.

    Weight-only quantization: a batch-1 decoding step is bound by reading weights from memory,
    and int8 weights are a quarter of fp32's bytes. The matmul is ``torch._weight_int8pack_mm``,
    which wants bf16 activations (with fp32 activations the CPU path was 3x slower than fp32).
    Symmetric per-row absmax scaling: ``W ≈ scale[:, None] * W_int8``.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        w = weight.detach().float()  # (out, in)
        scale = w.abs().amax(dim=1).clamp(min=1e-12) / 127.0
        self.out_features, self.in_features = w.shape
        self.register_buffer(
            "weight_int8", torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
        )
        self.register_buffer("scales", scale.to(torch.bfloat16))
        self.register_buffer("bias", None if bias is None else bias.detach().to(torch.bfloat16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, self.in_features).to(torch.bfloat16)
        out = torch._weight_int8pack_mm(flat, self.weight_int8, self.scales)
        if self.bias is not None:
            out.add_(self.bias)  # a fresh result: adding in place saves an allocation per layer
        return out.view(*x.shape[:-1], self.out_features)


def quantize_int8(model: nn.Module) -> nn.Module:
    """Replace every Conv1D and nn.Linear of ``model`` by an int8 weight-only layer, in place.

    The rest of the model (embeddings, LayerNorms) runs in bf16. For inference only: a quantized
    model cannot be trained or saved in the checkpoint format.
    """
    model.to(torch.bfloat16)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                setattr(parent, name, Int8WeightOnlyLinear(child.weight.t(), child.bias))
            elif isinstance(child, nn.Linear):
                setattr(parent, name, Int8WeightOnlyLinear(child.weight, child.bias))
    model.quantized = "int8"
    return model
