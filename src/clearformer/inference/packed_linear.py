"""``PackedLinear``: a linear layer whose weight is packed once for oneDNN, for CPU inference.

A GEMM library reorders a plain weight into its blocked layout on every call; handed a pre-packed
one it skips that (BENCHMARKS.md has the measurements). The packed copy is made when the layer is
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
        # One-row calls (a decoding step at batch 1) of an fp32 weight take the plain product: it
        # streams the weight faster than oneDNN's packed one (GPT-2 greedy b1: 18.8 vs 16.7 tok/s,
        # while at b8 packing gives 86 vs 68; BENCHMARKS.md, "Seventh session").
        self.plain_max_rows = 1 if self.weight.dtype == torch.float32 else 0
        self.repack()
        self.register_load_state_dict_post_hook(_repack_after_load)
        self.eval()  # an inference layer: a training-mode forward (after model.train()) raises

    def repack(self) -> None:
        """Make the packed copy from the current weight (swap time, and after load_state_dict)."""
        with torch.no_grad():
            w = self.weight.detach()
            w = (w.t() if self.transposed else w).contiguous()
            # Not a buffer: an opaque oneDNN tensor cannot be saved, copied or moved to a device.
            self._packed = torch.ops.mkldnn._reorder_linear_weight(w, 1)
        self._key = weight_key([self.weight])

    def plain(self) -> nn.Module:
        """The layer this one replaced, on the same parameters (for ``restore_for_training``)."""
        layer = self._replaced
        layer.weight, layer.bias = self.weight, self.bias
        return layer

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
        if flat.shape[0] <= self.plain_max_rows:
            return self._plain_forward(x)
        post_op, algorithm = POST_OPS[self.activation] if self.activation else ("none", "")
        out = torch.ops.mkldnn._linear_pointwise(flat, self._packed, self.bias, post_op, [], algorithm)
        return out.view(*x.shape[:-1], self.out_features)

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
        plain = f", plain product up to {self.plain_max_rows} row" if self.plain_max_rows else ""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"packed={self.weight.dtype} for oneDNN, replaces={self.source_type.__name__}{act}{plain}"
        )
