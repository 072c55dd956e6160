"""int8 weight-only linear layers for inference: ``Int8WeightOnlyLinear`` and the swap that makes them.

Weight-only quantization: a batch-1 decoding step is bound by reading weights from memory, and int8
weights are a quarter of fp32's bytes. The layer runs on clearformer's own AVX-512 kernel
(nn/cpu_kernels.py) when it is available and wanted, else on torch's ``_weight_int8pack_mm``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..nn import cpu_kernels
from ..nn.conv1d import Conv1D

INT8_KERNELS = ("auto", "clearformer", "torch")


class Int8WeightOnlyLinear(nn.Module):
    """``y = x Wᵀ + b`` with W stored as int8 plus one scale per output row (symmetric absmax).

    Activations are never quantized. On clearformer's kernel (``layout == "grouped"``) up to
    ``KERNEL_MAX_ROWS`` rows go through it, 4 per pass over the weights; longer inputs are
    dequantized for one ordinary matmul (BENCHMARKS.md has the prompt timings). Otherwise torch's
    ``_weight_int8pack_mm`` (``layout == "rows"``), which wants bf16 activations.
    """

    KERNEL_MAX_ROWS = 192  # passes and dequantizing cost the same near 200 rows (BENCHMARKS.md)

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, kernel: str = "auto") -> None:
        super().__init__()
        if kernel not in INT8_KERNELS:
            raise ValueError(f"int8 kernel must be one of {INT8_KERNELS}, got {kernel!r}")
        w = weight.detach().float()  # (out, in)
        scale = w.abs().amax(dim=1).clamp(min=1e-12) / 127.0
        self.out_features, self.in_features = w.shape
        q = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
        own = kernel != "torch" and w.device.type == "cpu" and cpu_kernels.available()
        if kernel == "clearformer" and not own:
            raise RuntimeError(f"int8 kernel 'clearformer' was asked for but {cpu_kernels.unavailable_reason()}")
        if own:
            self.layout = "grouped"
            packed = cpu_kernels.pack_int8(q)
            rows = packed.shape[0] * packed.shape[2]  # the kernel pads the row count to its groups
            self.register_buffer("weight_int8", packed)
            self.register_buffer("scales", _pad_rows(scale, rows))
            self.register_buffer("bias", None if bias is None else bias.detach().float())
        else:
            self.layout = "rows"
            self.register_buffer("weight_int8", q)
            self.register_buffer("scales", scale.to(torch.bfloat16))
            self.register_buffer("bias", None if bias is None else bias.detach().to(torch.bfloat16))
        self.eval()  # an inference layer: a training-mode forward (after model.train()) raises

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            raise RuntimeError(
                "this Int8WeightOnlyLinear was made by optimize_for_inference(quantize='int8') and cannot be "
                "trained: load the model again without quantize= to train it"
            )
        flat = x.reshape(-1, self.in_features)
        # Neither int8 kernel has a backward: a forward that autograd records (gradients for the
        # input, e.g. through a frozen quantized body) takes the dequantized matmul, which has one.
        fast = not (x.requires_grad and torch.is_grad_enabled())
        if fast and self.layout == "grouped" and x.device.type == "cpu" and flat.shape[0] <= self.KERNEL_MAX_ROWS:
            out = cpu_kernels.int8_linear(flat, self.weight_int8, self.scales, self.bias, self.out_features)
        # torch's kernel reads past the row end when in_features % 16 != 0 (garbage, or a crash)
        elif fast and self.layout == "rows" and self.in_features % 16 == 0:
            out = torch._weight_int8pack_mm(flat.to(torch.bfloat16), self.weight_int8, self.scales)
            if self.bias is not None:
                out.add_(self.bias)  # a fresh result: adding in place saves an allocation per layer
        else:
            out = F.linear(flat, self.dequantized(flat.dtype), self._bias(flat.dtype))
        return out.view(*x.shape[:-1], self.out_features)

    def dequantized(self, dtype: torch.dtype) -> torch.Tensor:
        """The (out, in) weight ``scale * W_int8`` in ``dtype`` (what the int8 kernels multiply by)."""
        if self.layout == "grouped":
            q = cpu_kernels.unpack_int8(self.weight_int8, self.out_features, self.in_features)
        else:
            q = self.weight_int8
        return (q.float() * self.scales[: self.out_features, None].float()).to(dtype)

    def _bias(self, dtype: torch.dtype) -> torch.Tensor | None:
        return None if self.bias is None else self.bias[: self.out_features].to(dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, layout={self.layout}"


def _pad_rows(v: torch.Tensor, rows: int) -> torch.Tensor:
    return torch.cat([v.float(), v.new_zeros(rows - v.shape[0], dtype=torch.float32)]).contiguous()


def quantize_int8(model: nn.Module, kernel: str = "auto") -> nn.Module:
    """Replace every Conv1D and nn.Linear of ``model`` by an int8 weight-only layer, in place.

    The rest of the model (embeddings, LayerNorms) runs in bf16. For inference only: a quantized
    model cannot be trained, and ``save_pretrained`` refuses it (the int8 layers are not the
    checkpoint format; save the model before quantizing).
    """
    model.to(torch.bfloat16)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                setattr(parent, name, Int8WeightOnlyLinear(child.weight.t(), child.bias, kernel))
            elif isinstance(child, nn.Linear):
                setattr(parent, name, Int8WeightOnlyLinear(child.weight, child.bias, kernel))
    return model
