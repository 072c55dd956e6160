"""W8A8 int8 linear layers for inference: ``Int8DynamicLinear``.

Weights are int8 with one scale per output row, as in weight-only int8; activations are quantized
too, per row, at run time (symmetric absmax), so the product itself runs in int8 with int32 sums.
That is what lets int8 win at batch > 1, where weight-only int8 still multiplies in floating point.
On CPUs with AVX-512 VNNI the product runs on clearformer's kernel (nn/csrc/int8_gemm.cpp);
elsewhere on torch's ``_int_mm`` (CPU) or a float matmul of the same integers (other devices).
Optionally the few-row calls of decoding take a weight-only layer instead: ``weight_only_max_rows``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..nn import cpu_kernels
from .int8_linear import Int8WeightOnlyLinear

W8A8_KERNELS = ("auto", "clearformer", "torch")
# What may follow the product inside the layer (the C++ kernel computes it in its epilogue).
ACTIVATIONS = {"none": lambda t: t, "gelu": F.gelu, "gelu_tanh": lambda t: F.gelu(t, approximate="tanh")}


def quantize_rows(x: torch.Tensor, group: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` (rows, k) -> int8 values and fp32 scales, symmetric absmax per row: (rows, 1) scales,
    or per ``group`` channels of a row: (rows, k // group) scales.

    The same arithmetic as the C++ kernel (divide by the scale, round half to even), so the two
    paths give the same integers.
    """
    x = x.float()
    size = group or max(x.shape[1], 1)
    rows = x.reshape(x.shape[0], x.shape[1] // size, size)  # not -1: a batch of 0 rows is valid
    scale = _absmax_scale(rows.abs().amax(dim=2, keepdim=True))
    # NaN (from a non-finite input) becomes 0 here; the NaN scale then makes those outputs NaN.
    q = torch.round(rows / scale).nan_to_num(0.0).clamp(-127, 127).to(torch.int8)
    return q.reshape(x.shape), scale.squeeze(2)


def _absmax_scale(amax: torch.Tensor) -> torch.Tensor:
    """absmax / 127, never 0; NaN where the values were not all finite, so that, as in a float
    product, a NaN or inf input gives NaN outputs instead of numbers from a meaningless scale."""
    scale = amax.clamp(min=1e-12) / 127.0
    return torch.where(torch.isfinite(amax), scale, torch.nan)


def quantize_weight(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(out, in) float weight -> int8 values and one fp32 scale per output row."""
    q, scale = quantize_rows(weight.detach())
    return q, scale.squeeze(1).contiguous()


class Int8DynamicLinear(nn.Module):
    """``y ≈ x Wᵀ + b`` as ``s_x s_W (q_x · q_W) + b``: int8 weights and int8 activations (W8A8).

    ``weight_only``, when given, is an ``Int8WeightOnlyLinear`` of the same weight that calls of at
    most ``weight_only_max_rows`` rows take instead (no activation rounding; for decoding where it
    is the faster one). Outputs are fp32 (or x's dtype); the layer cannot be trained.
    """

    def __init__(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        kernel: str = "auto",
        weight_only_max_rows: int = 0,
        activation: str = "none",
        group_size: int = 0,
    ) -> None:
        super().__init__()
        if kernel not in W8A8_KERNELS:
            raise ValueError(f"W8A8 kernel must be one of {W8A8_KERNELS}, got {kernel!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}, got {activation!r}")
        in_features = weight.shape[1]
        if group_size < 0 or (group_size and (group_size % 4 or in_features % group_size)):
            raise ValueError(
                f"group_size must be 0 (one activation scale per row) or a multiple of 4 dividing the "
                f"{in_features} input features, got {group_size}"
            )
        if weight_only_max_rows < 0:
            raise ValueError(f"weight_only_max_rows must be >= 0, got {weight_only_max_rows}")
        q, scale = quantize_weight(weight)
        self.out_features, self.in_features = q.shape
        own = kernel != "torch" and q.device.type == "cpu" and cpu_kernels.w8a8_available()
        if kernel == "clearformer" and not own:
            raise RuntimeError(f"W8A8 kernel 'clearformer' was asked for but {cpu_kernels.w8a8_unavailable_reason()}")
        self.kernel = "clearformer" if own else "torch"
        self.register_buffer("weight_int8", cpu_kernels.pack_w8a8(q) if own else q)
        self.register_buffer("weight_scales", scale)
        self.register_buffer("bias", None if bias is None else bias.detach().float().contiguous())
        self.weight_only_max_rows = weight_only_max_rows
        self.activation = activation  # applied to the result: in the kernel's epilogue, or after
        self.group_size = group_size  # input channels per activation scale (0: the whole row)
        self.weight_only = Int8WeightOnlyLinear(weight, bias, kernel) if weight_only_max_rows > 0 else None
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            raise RuntimeError(
                "this Int8DynamicLinear was made by optimize_for_inference(quantize=...) and cannot be "
                "trained: load the model again without quantize= to train it"
            )
        shape = (*x.shape[:-1], self.out_features)
        flat = x.reshape(-1, self.in_features)
        recording = x.requires_grad and torch.is_grad_enabled()
        if self._on_kernel and x.dtype == torch.float32 and not recording and self.weight_only is None:
            # the common case first, with nothing else in its way: a decoding step makes ~50 of
            # these calls, and each Python-level tensor operation costs as much as a small product
            return self._kernel(flat).view(shape)
        after = ACTIVATIONS[self.activation]
        if self.weight_only is not None and flat.shape[0] <= self.weight_only_max_rows:
            return after(self.weight_only(x.float())).to(x.dtype)
        if recording:
            # No int8 kernel has a backward: gradients for the input go through the same integers
            # as a float product (the rounding of x itself counts as the identity).
            out = after(self._float_path(flat))
        elif self._on_kernel:
            out = self._kernel(flat.float())
        elif flat.device.type == "cpu":
            out = self._int_mm_path(flat) * self.weight_scales
            out = after(out if self.bias is None else out + self.bias)
        else:
            out = after(self._float_path(flat))
        return out.to(x.dtype).view(shape)

    def _kernel(self, flat: torch.Tensor) -> torch.Tensor:
        return torch.ops.clearformer.w8a8_linear(
            flat, self.weight_int8, self.weight_scales, self.bias, self.out_features, self.activation, self.group_size
        )

    @property
    def _on_kernel(self) -> bool:
        """clearformer's VNNI operator (its library was loaded when this layer packed its weight)."""
        return self.kernel == "clearformer" and self.weight_int8.device.type == "cpu"

    def _int_mm_path(self, flat: torch.Tensor) -> torch.Tensor:
        """sum over groups of s_x,g (q_x,g . q_w,g) with torch's int8 matmul (before the weight scales)."""
        q, scale = quantize_rows(flat, self.group_size)
        if not self.group_size:
            return torch._int_mm(q, self.weight_int8.t()).float() * scale
        g = self.group_size
        out = None
        for i in range(self.in_features // g):
            part = torch._int_mm(q[:, i * g : (i + 1) * g].contiguous(), self.weight_int8[:, i * g : (i + 1) * g].t())
            part = part.float() * scale[:, i : i + 1]
            out = part if out is None else out + part
        return out

    def _float_path(self, flat: torch.Tensor) -> torch.Tensor:
        """The same W8A8 numbers with float products: for autograd and for devices without int8 matmul."""
        q, scale = quantize_rows(flat, self.group_size)
        if self.group_size:
            scale = scale.repeat_interleave(self.group_size, dim=1)
        # straight-through: the forward value is the quantized one, the gradient is x's
        xq = flat.float() + (q.float() * scale - flat.float()).detach()
        return F.linear(xq, self.dequantized(torch.float32), self.bias)

    def weight_int8_rows(self) -> torch.Tensor:
        """The (out, in) int8 weight, whatever layout the kernel keeps it in."""
        if self.kernel == "clearformer":
            return cpu_kernels.unpack_w8a8(self.weight_int8, self.out_features, self.in_features)
        return self.weight_int8

    def dequantized(self, dtype: torch.dtype) -> torch.Tensor:
        """``scale * W_int8`` as an (out, in) matrix in ``dtype``."""
        return (self.weight_int8_rows().float() * self.weight_scales[:, None]).to(dtype)

    def extra_repr(self) -> str:
        rows = f", weight-only up to {self.weight_only_max_rows} rows" if self.weight_only is not None else ""
        then = f", then {self.activation}" if self.activation != "none" else ""
        per = f"per {self.group_size} channels" if self.group_size else "per row"
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"activations=int8 {per}, kernel={self.kernel}{rows}{then}"
        )
