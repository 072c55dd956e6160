"""``quantize_w8a8``: every linear layer of a model becomes ``Int8DynamicLinear`` (W8A8), in place.

Self-attentions whose Q, K and V read the same input get one int8 layer for the three: the input
is then quantized once instead of three times, and the product is one larger one.
"""

from __future__ import annotations

import torch
from torch import nn

from ..activations import NewGELU
from ..models.bert.modeling_bert import BertIntermediate
from ..models.gpt2.modeling_gpt2 import GPT2MLP
from ..nn import cpu_kernels
from ..nn.conv1d import Conv1D
from .activations import FoldedActivation
from .fused_qkv import FUSED_ATTENTION
from .w8a8_linear import Int8DynamicLinear

# Without the VNNI kernel, torch's _int_mm is slower than the weight-only kernel up to about 8
# rows (BENCHMARKS.md, "The int8 kernels by row count"); with it, W8A8 is faster at every row
# count measured (1 to 4096).
_WEIGHT_ONLY_ROWS_WITHOUT_VNNI = 8


# Input channels per activation scale. One scale per row lets BERT's outlier channels coarsen every
# other channel of the row: on the real MiniLM the lowest sentence-embedding cosine to fp32 was
# 0.982 per row and 0.992 with groups of 128 (benchmarks/w8a8_group_simulation.py); the grouped
# kernel also ran faster (BENCHMARKS.md, "W8A8 activation groups").
ACTIVATION_GROUP = 128


def activation_group(in_features: int) -> int:
    """The group size a layer of ``in_features`` inputs gets: 128 where it divides, else whole rows."""
    return ACTIVATION_GROUP if in_features % ACTIVATION_GROUP == 0 else 0


def weight_only_rows_default(kernel: str = "auto") -> int:
    """The row count up to which ``quantize="int8"`` runs weight-only on this machine."""
    return 0 if kernel != "torch" and cpu_kernels.w8a8_available() else _WEIGHT_ONLY_ROWS_WITHOUT_VNNI


class Int8FusedQKV(nn.Module):
    """``[q(x), k(x), v(x)]`` from one ``Int8DynamicLinear`` over the three projections' weights."""

    def __init__(self, projections: tuple[nn.Linear, ...], kernel: str, weight_only_max_rows: int) -> None:
        super().__init__()
        weight = torch.cat([p.weight for p in projections])
        has_bias = all(p.bias is not None for p in projections)
        bias = torch.cat([p.bias for p in projections]) if has_bias else None
        self.sizes = [p.out_features for p in projections]
        self.proj = Int8DynamicLinear(
            weight, bias, kernel, weight_only_max_rows, group_size=activation_group(weight.shape[1])
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return list(self.proj(x).split(self.sizes, dim=-1))

    def extra_repr(self) -> str:
        return f"sizes={self.sizes} (query, key, value)"


def _fuse_attention(attn: nn.Module, kernel: str, rows: int) -> nn.Module:
    new = FUSED_ATTENTION[type(attn)].swap_in(attn, pack=False)
    if new is attn:  # cross-attention: nothing to fuse
        return attn
    projections = new.qkv._projections
    new.qkv = Int8FusedQKV(projections, kernel, rows)
    for name, child in list(new.named_children()):
        if any(child is p for p in projections):
            setattr(new, name, None)  # folded into qkv; the float weights are not kept twice
    return new


def quantize_w8a8(model: nn.Module, kernel: str = "auto", weight_only_max_rows: int = 0) -> nn.Module:
    """Replace every nn.Linear and Conv1D of ``model`` by an ``Int8DynamicLinear``, in place.

    For inference only: the layers cannot be trained, and ``save_pretrained`` refuses them (they
    are not the checkpoint format; save the model before quantizing).
    """
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) in FUSED_ATTENTION:
                setattr(parent, name, _fuse_attention(child, kernel, weight_only_max_rows))
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                weight = child.weight.t()
            elif isinstance(child, nn.Linear):
                weight = child.weight
            else:
                continue
            group = activation_group(weight.shape[1])
            setattr(parent, name, Int8DynamicLinear(weight, child.bias, kernel, weight_only_max_rows, group_size=group))
    _fold_ffn_gelu(model)
    return model


def _fold_ffn_gelu(model: nn.Module) -> None:
    """The FFN's GELU runs in the int8 product's epilogue, not as passes of its own: BERT's erf
    GELU, and GPT-2's gelu_new (seven elementwise passes over a (rows, 3072) tensor; ~13% of a
    32-token GPT-2 prompt's time, BENCHMARKS.md "Seventh session")."""
    for module in model.modules():
        if type(module) is BertIntermediate:
            act, dense, into = module.intermediate_act_fn, module.dense, "dense"
        elif type(module) is GPT2MLP:
            act, dense, into = module.act, module.c_fc, "c_fc"
        else:
            continue
        kind = _epilogue_name(act)
        if kind is None or not isinstance(dense, Int8DynamicLinear):
            continue
        dense.activation = kind
        folded = FoldedActivation(act, into=into)
        if into == "dense":
            module.intermediate_act_fn = folded
        else:
            module.act = folded


def _epilogue_name(act: nn.Module) -> str | None:
    """The kernel epilogue computing ``act`` (to ~1e-7), or None."""
    if type(act) is nn.GELU:
        return "gelu" if act.approximate == "none" else "gelu_tanh"
    return "gelu_tanh" if type(act) is NewGELU else None
