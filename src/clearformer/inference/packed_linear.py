"""``PackedLinear``: a linear layer whose weight is packed once for the CPU GEMM library, for inference.

A GEMM library reorders a plain weight into its blocked layout on every call; handed a pre-packed
one it skips that (BENCHMARKS.md has the measurements). fp32 weights are packed for MKL's packed
SGEMM where torch has it (faster than oneDNN's here, and used only at the row counts where it beats
the plain product), bf16 ones for oneDNN (``PackedWeight``). The packed copy is made when the layer is
swapped in by ``optimize_for_inference`` and never afterwards: a forward that finds the weight
changed since (an optimizer step, ``.to()``, an in-place edit) raises instead of computing with a
stale copy — derived-weight caches that refresh themselves silently were a bug source here.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ..activations import get_activation
from ..nn.conv1d import Conv1D

# Activations oneDNN can apply inside the matmul ("post-ops"), by the config names that mean
# exactly that function: name -> (post-op, algorithm).
POST_OPS = {"gelu": ("gelu", "none"), "relu": ("relu", "")}

REFUSE_TRAINING = (
    "was swapped in by clearformer.optimize_for_inference (or from_pretrained(dtype=torch.bfloat16) "
    "on CPU) and does not train: call clearformer.restore_for_training(model) first to put the plain "
    "layers back (the Trainer does this itself)"
)


def onednn_packing_available(dtype: torch.dtype) -> bool:
    """Whether this torch build packs ``dtype`` weights for oneDNN on this CPU."""
    mkldnn = getattr(torch.ops, "mkldnn", None)
    try:
        if not (torch.backends.mkldnn.is_available() and hasattr(mkldnn, "_reorder_linear_weight")):
            return False
        if dtype == torch.bfloat16:
            return bool(mkldnn._is_mkldnn_bf16_supported())
        return dtype == torch.float32
    except (AttributeError, RuntimeError):
        return False


def mkl_packing_available() -> bool:
    """Whether this torch build has MKL's packed SGEMM (``torch.ops.mkl._mkl_linear``)."""
    mkl = getattr(torch.ops, "mkl", None)
    try:
        return torch.backends.mkl.is_available() and hasattr(mkl, "_mkl_linear")
    except (AttributeError, RuntimeError):
        return False


def fp32_packing_available() -> bool:
    """Whether fp32 weights can be packed here (MKL's packed SGEMM, else oneDNN)."""
    return mkl_packing_available() or onednn_packing_available(torch.float32)


# Rows per call for which fp32 MKL packing beats the plain product (benchmarks/ab_fp32_packing.py:
# whole GPT-2 / BERT layer stacks on cold weights, 1 thread, plain time / packed: 1 row 0.90 / 0.88,
# 8 rows 2.41 / 2.12, 32 rows 1.36 / 1.48, 64 rows 1.38 / 1.31, 128 rows 1.00 / 1.10 (0.90 in another
# run), 4096 rows 0.97 / 0.85; BENCHMARKS.md, "Eighth session").
MKL_PACKED_ROWS = (2, 64)


class PackedWeight:
    """An (out, in) weight packed once, and the row counts whose products use the packed copy.

    fp32 with MKL: MKL's packed SGEMM for 2-64 rows (bit-identical to the plain product from 32
    rows on, within ~4e-6 below); otherwise oneDNN's packed layout for any row count above
    ``plain_max_rows`` (1 for fp32: a one-row call streams the plain weight faster; none for bf16).
    ``weight`` is the plain (out, in) weight where some row counts take the plain product (and
    MKL's op reads its shape), else None, so that a caller holding only the packed copy
    (``FusedQKV`` in bf16) does not keep a second one.
    """

    def __init__(self, weight: torch.Tensor) -> None:
        fp32 = weight.dtype == torch.float32
        self.library = "MKL" if fp32 and mkl_packing_available() else "oneDNN"
        with torch.no_grad():
            dense = weight.detach().contiguous()
            if self.library == "MKL":
                self.packed = torch.ops.mkl._mkl_reorder_linear_weight(dense, MKL_PACKED_ROWS[1])
                self.plain_max_rows, self.packed_max_rows = MKL_PACKED_ROWS[0] - 1, MKL_PACKED_ROWS[1]
            else:
                self.packed = torch.ops.mkldnn._reorder_linear_weight(dense, 1)
                self.plain_max_rows, self.packed_max_rows = (1 if fp32 else -1), None
        self.weight = weight if self.plain_max_rows >= 0 or self.packed_max_rows is not None else None

    def takes(self, rows: int) -> bool:
        return rows > self.plain_max_rows and (self.packed_max_rows is None or rows <= self.packed_max_rows)

    def __call__(self, flat: torch.Tensor, bias: torch.Tensor | None, activation: str | None = None) -> torch.Tensor:
        """``act(flat @ Wᵀ + bias)`` for 2-D ``flat`` whose row count ``takes``."""
        if self.library == "MKL":
            # the row count as the "prepacked batch size": MKL's packed GEMM serves any count
            out = torch.ops.mkl._mkl_linear(flat, self.packed, self.weight, bias, flat.shape[0])
            return get_activation(activation)(out) if activation else out
        post_op, algorithm = POST_OPS[activation] if activation else ("none", "")
        return torch.ops.mkldnn._linear_pointwise(flat, self.packed, bias, post_op, [], algorithm)

    def describe(self) -> str:
        if self.packed_max_rows is not None:
            rows = f"{self.plain_max_rows + 1}-{self.packed_max_rows}"
            return f"packed for {self.library} at {rows} rows, plain otherwise"
        plain = f", plain product up to {self.plain_max_rows} row" if self.plain_max_rows > 0 else ""
        return f"packed for {self.library}{plain}"


def replaced_layer(swap: nn.Module) -> nn.Module:
    """The layer a one-weight swap stands in for (kept as ``_replaced``), on the swap's parameters."""
    layer = swap._replaced
    layer.weight, layer.bias = swap.weight, swap.bias
    return layer


def weight_key(tensors: list[torch.Tensor]) -> tuple:
    """Identity of the tensors a derived weight was made from: storage, in-place version, dtype."""
    return tuple((t.data_ptr(), -1 if t.is_inference() else t._version, t.dtype) for t in tensors)


def _repack_after_load(module: nn.Module, _incompatible_keys: object) -> None:
    module.repack()  # load_state_dict copied new values into the weight: pack those


class PackedLinear(nn.Module):
    """``act(x Wᵀ + b)`` with W packed for oneDNN; stands in for an ``nn.Linear`` or GPT-2 ``Conv1D``.

    ``weight`` and ``bias`` are the replaced layer's own parameters (same names, same layout), so
    ``state_dict()`` keys and tied weights are unchanged. A forward that records gradients takes the
    plain product on those parameters (the packed op has no backward).
    """

    def __init__(self, source: nn.Linear | Conv1D, activation: str | None = None) -> None:
        super().__init__()
        if activation is not None and activation not in POST_OPS:
            raise ValueError(f"activation must be one of {sorted(POST_OPS)} or None, got {activation!r}")
        self.weight = source.weight
        self.bias = source.bias
        self.source_type = type(source)
        # Kept outside the module tree (so its parameters are not listed twice) to swap back to.
        object.__setattr__(self, "_replaced", source)
        self.transposed = isinstance(source, Conv1D)  # Conv1D stores (in, out)
        self.out_features, self.in_features = (
            (self.weight.shape[1], self.weight.shape[0]) if self.transposed else tuple(self.weight.shape)
        )
        self.activation = activation
        self._act = get_activation(activation) if activation else None
        self.repack()
        self.register_load_state_dict_post_hook(_repack_after_load)
        self.eval()  # an inference layer: a training-mode forward (after model.train()) raises

    def repack(self) -> None:
        """Make the packed copy from the current weight (swap time, and after load_state_dict)."""
        w = self.weight.detach()
        # Not a buffer: an opaque packed tensor cannot be saved, copied or moved to a device.
        self._packed = PackedWeight(w.t() if self.transposed else w)
        self._key = weight_key([self.weight])

    def plain(self) -> nn.Module:
        """The layer this one replaced, on the same parameters (for ``restore_for_training``)."""
        return replaced_layer(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            raise RuntimeError(f"this {type(self).__name__} {REFUSE_TRAINING}")
        if torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad):
            return self._plain_forward(x)
        if weight_key([self.weight]) != self._key:
            raise RuntimeError(
                "the weight of this PackedLinear changed after it was packed (an optimizer step, .to(), "
                "or an in-place edit); run clearformer.optimize_for_inference(model) again"
            )
        flat = x.reshape(-1, x.shape[-1])
        if not self._packed.takes(flat.shape[0]):
            return self._plain_forward(x)
        return self._packed(flat, self.bias, self.activation).view(*x.shape[:-1], self.out_features)

    def _plain_forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight.t() if self.transposed else self.weight
        out = F.linear(x, weight, self.bias)
        return self._act(out) if self._act is not None else out

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_packed", None)  # opaque: made again on unpickling
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.repack()

    def __deepcopy__(self, memo: dict) -> PackedLinear:
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        new.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        return new

    def extra_repr(self) -> str:
        act = f", activation={self.activation}" if self.activation else ""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, {self.weight.dtype} "
            f"{self._packed.describe()}, replaces={self.source_type.__name__}{act}"
        )
