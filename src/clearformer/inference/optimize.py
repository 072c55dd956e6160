"""``optimize_for_inference``: faster CPU inference as visible module swaps on a built model.

The model classes stay the reference implementation. This function replaces some of their modules
by inference equivalents that keep the checkpoint's parameter names (``state_dict()`` is unchanged
except for int8), derive what they need once, here, and refuse a training-mode forward.
``print(model)`` shows each swap; ``restore_for_training`` (also run by ``model.train()`` on a
clearformer model) puts the plain modules back on the same parameters.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from ..activations import NewGELU
from ..models.bert.modeling_bert import BertIntermediate
from ..nn import cpu_kernels
from ..nn.conv1d import Conv1D
from .activations import FoldedActivation, OneKernelTanhGELU
from .column_major_linear import ColumnMajorLinear, column_major_output_wanted
from .compiled_decoding import remove_compiled_decoding
from .fused_qkv import FUSED_ATTENTION, FusedQKVBertSelfAttention, FusedQKVMultiHeadSelfAttention
from .huge_pages import HugePageArena, huge_pages_unavailable_reason, place_on_huge_pages
from .int8_linear import INT8_KERNELS, Int8WeightOnlyLinear, quantize_int8
from .packed_linear import PackedLinear, fp32_packing_available, onednn_packing_available
from .w8a8_linear import Int8DynamicLinear
from .w8a8_model import quantize_w8a8, weight_only_rows_default

QUANTIZE_MODES = (None, "int8", "w8a8", "int8-weight-only")

logger = logging.getLogger(__name__)

_SWAPPED = (
    PackedLinear,
    ColumnMajorLinear,
    FoldedActivation,
    OneKernelTanhGELU,
    FusedQKVBertSelfAttention,
    FusedQKVMultiHeadSelfAttention,
)


def optimize_for_inference(
    model: nn.Module,
    dtype: torch.dtype | None = None,
    quantize: str | None = None,
    fp32_packing: bool = False,
    int8_kernel: str = "auto",
    weight_only_max_rows: int | None = None,
    huge_pages: bool | None = None,
    column_major_head: bool = True,
) -> nn.Module:
    """Swap ``model``'s modules for inference equivalents, in place; returns the model in eval mode.

    - ``dtype``: cast first (``torch.bfloat16`` is the fast CPU choice).
    - every self-attention's Q, K, V projections become one product (``FusedQKV``);
    - on CPU, bf16 weights are packed once for oneDNN (``PackedLinear``) and BERT's GELU or ReLU
      runs inside the FFN's first product (``FoldedActivation``); with ``fp32_packing=True`` fp32
      weights are packed for MKL's packed SGEMM (oneDNN where torch lacks MKL), used for 2-64 rows
      per call (~4e-6 from the plain product below 32 rows, so not by default);
    - on CPU in fp32 without packing, a decoder's output projection (GPT-2's LM head) keeps its
      weight column-major (``ColumnMajorLinear``): same values, a faster product at 1 and 4+ rows
      (decoding), slower at 2-3 (``column_major_head=False`` keeps it row-major);
    - GPT-2's ``gelu_new`` runs as one kernel (``OneKernelTanhGELU``, ~2e-7 from the seven-op form);
    - ``quantize="w8a8"``: every linear layer becomes ``Int8DynamicLinear``: int8 weights, activations
      quantized per row at run time, the product in int8 (VNNI); Q/K/V fused into one such layer.
      The rest stays in the model's dtype. ``quantize="int8"`` is the same, except that calls of at
      most ``weight_only_max_rows`` rows (decoding) take a weight-only int8 layer instead, and
      ``None`` picks that row count for this machine (``weight_only_rows_default``; 0 where the
      VNNI kernel runs, since it wins there at every row count).
    - ``quantize="int8-weight-only"``: every linear layer becomes ``Int8WeightOnlyLinear``
      (activations never quantized), the rest bf16. Quantizing is not reversible.
    - ``int8_kernel``: "auto" / "clearformer" (our C++ kernels) / "torch" (torch's int8 ops).
    - on CPU, for a model that attends in fp32 (fp32 and W8A8), attention of one query position
      (a decoding step) runs clearformer's single-query kernel: the config's
      ``_attn_implementation`` "sdpa" becomes "sdpa_decode" (see ``print(model.config)``) where
      that kernel can be built (``decode_attention_available()``).
    - ``huge_pages``: on CPU, the weights the products stream (and FusedQKV's concatenation) are
      copied into memory advised as transparent huge pages (``inference/huge_pages.py``): same
      values, streamed faster. None: where the kernel allows it (else logged); True: required
      (raises with the reason); False: left in torch's memory. Opaque packed copies (oneDNN,
      MKL) stay where their library put them.
    """
    if quantize not in QUANTIZE_MODES:
        raise ValueError(f"quantize must be one of {QUANTIZE_MODES}, got {quantize!r}")
    if int8_kernel not in INT8_KERNELS:
        raise ValueError(f"int8_kernel must be one of {INT8_KERNELS}, got {int8_kernel!r}")
    if dtype is not None:
        model.to(dtype)
    model.eval()
    restore_for_training(model)  # optimizing twice starts from the plain modules
    arena = _huge_page_arena(model, huge_pages)
    if quantize == "int8-weight-only":
        return _use_decode_attention(_place(quantize_int8(model, int8_kernel), arena)).eval()
    if quantize in ("int8", "w8a8"):
        rows = 0 if quantize == "w8a8" else weight_only_max_rows
        rows = weight_only_rows_default(int8_kernel) if rows is None else rows
        # placed after quantizing: the float weights about to be replaced are not worth a copy
        return _use_decode_attention(_place(quantize_w8a8(model, int8_kernel, rows), arena)).eval()
    first = next(model.parameters(), None)
    on_cpu = first is not None and first.device.type == "cpu"
    weights_dtype = first.dtype if first is not None else torch.float32
    pack = on_cpu and (
        (weights_dtype == torch.bfloat16 and onednn_packing_available(weights_dtype))
        or (fp32_packing and weights_dtype == torch.float32 and fp32_packing_available())
    )
    if column_major_head and not pack and column_major_output_wanted(model):
        # re-laid into the arena itself; _place then leaves the (non-contiguous) view alone
        head = model.get_output_embeddings()
        _replace(model, lambda m: ColumnMajorLinear(m, arena) if m is head else m)
    _place(model, arena)  # before the other swaps: what they derive from the weights keys on their storage
    _replace(model, lambda m: FUSED_ATTENTION[type(m)].swap_in(m, pack, arena) if type(m) in FUSED_ATTENTION else m)
    _replace(model, lambda m: OneKernelTanhGELU(m) if type(m) is NewGELU else m)
    if pack:
        _fold_ffn_activations(model)
        fused = {id(p) for m in model.modules() if hasattr(m, "qkv") for p in m.qkv._projections}
        _replace(model, lambda m: PackedLinear(m) if _packable(m) and id(m) not in fused else m)
    return _use_decode_attention(model).eval()  # the new modules too


def _huge_page_arena(model: nn.Module, wanted: bool | None) -> HugePageArena | None:
    """Where this call puts the streamed weights: a huge-page arena, or None (torch's memory)."""
    if wanted is not None and not isinstance(wanted, bool):
        raise TypeError(f"huge_pages must be True, False or None (where available), got {wanted!r}")
    if wanted is False:
        return None
    first = next(model.parameters(), None)
    if first is None or first.device.type != "cpu":
        if wanted:
            where = "has no parameters" if first is None else f"is on {first.device}"
            raise ValueError(f"huge_pages=True places CPU weights, but the model {where}; leave huge_pages unset")
        return None
    reason = huge_pages_unavailable_reason()
    if reason is not None:
        if wanted:
            raise RuntimeError(f"huge_pages=True: {reason}")
        logger.info("weights stay on 4 KiB pages: %s", reason)
        return None
    return HugePageArena()


def _place(model: nn.Module, arena: HugePageArena | None) -> nn.Module:
    if arena is not None:
        moved = place_on_huge_pages(model, arena)
        logger.info("placed %.1f MB of weights on transparent huge pages", moved / 1e6)
    return model


def _use_decode_attention(model: nn.Module) -> nn.Module:
    """Switch every "sdpa" config of a model that attends in fp32 on CPU (after its swaps: W8A8
    keeps fp32 activations, bf16 and int8-weight-only models do not) to "sdpa_decode", where the
    kernel is available; nothing is built for a model the kernel would never serve."""
    first = next((p for p in model.parameters() if p.is_floating_point()), None)
    configs = {id(c): c for m in model.modules() if (c := getattr(m, "config", None)) is not None}
    wanted = [c for c in configs.values() if getattr(c, "_attn_implementation", None) == "sdpa"]
    if first is None or first.device.type != "cpu" or first.dtype != torch.float32 or not wanted:
        return model
    if not cpu_kernels.decode_attention_available():
        logger.info("one-query attention stays on torch's SDPA: %s", cpu_kernels.decode_attention_unavailable_reason())
        return model
    for config in wanted:
        config._attn_implementation = "sdpa_decode"
    return model


def _packable(module: nn.Module) -> bool:
    return type(module) in (nn.Linear, Conv1D)


def _fold_ffn_activations(model: nn.Module) -> None:
    """BERT's FFN: dense then the activation becomes one oneDNN product with a post-op."""
    for module in model.modules():
        if type(module) is not BertIntermediate or type(module.dense) is not nn.Linear:
            continue
        act = _post_op_name(module.intermediate_act_fn)
        if act is None:
            continue
        module.dense = PackedLinear(module.dense, activation=act)
        module.intermediate_act_fn = FoldedActivation(module.intermediate_act_fn, into="dense")


def _post_op_name(activation: nn.Module) -> str | None:
    """The oneDNN post-op computing exactly ``activation``, or None."""
    if type(activation) is nn.GELU and activation.approximate == "none":
        return "gelu"
    return "relu" if type(activation) is nn.ReLU else None


def restore_for_training(model: nn.Module) -> nn.Module:
    """Put back the plain modules that ``optimize_for_inference`` replaced (same parameters).

    int8 layers cannot be turned back into the checkpoint's weights: a ValueError says so. A
    compiled decoding step (``compile_decoding``) is removed too: it holds the weights it was
    compiled with. The attention implementation "sdpa_decode" stays: it computes the same attention
    and never runs where gradients are needed.
    """
    if any(isinstance(m, (Int8WeightOnlyLinear, Int8DynamicLinear)) for m in model.modules()):
        raise ValueError(
            "this model was quantized to int8 by optimize_for_inference(quantize='int8'); that cannot be "
            "undone: load the checkpoint again without quantize= to train or save it"
        )
    if "compiled_decoding" in model._modules:
        remove_compiled_decoding(model)
        logger.info("removed the compiled decoding step (compile_decoding) from the model")
    if not any(isinstance(m, _SWAPPED) for m in model.modules()):
        return model
    _replace(model, _plain)
    logger.info("restored the plain modules that optimize_for_inference had swapped in")
    return model


def is_optimized(model: nn.Module) -> bool:
    """Whether ``model`` holds any module swapped in by ``optimize_for_inference``."""
    return any(isinstance(m, (*_SWAPPED, Int8WeightOnlyLinear, Int8DynamicLinear)) for m in model.modules())


def _plain(module: nn.Module) -> nn.Module:
    if isinstance(module, (PackedLinear, ColumnMajorLinear)):
        return module.plain()
    if isinstance(module, (FoldedActivation, OneKernelTanhGELU)):
        return module.replaced
    if isinstance(module, (FusedQKVBertSelfAttention, FusedQKVMultiHeadSelfAttention)):
        return module.swap_out()
    return module


def _replace(model: nn.Module, swap) -> None:
    """Apply ``swap`` to every descendant module (children before their parents are visited)."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            new = swap(child)
            if new is not child:
                setattr(parent, name, new)
