"""Q, K and V of one input from one matrix product: a module swapped into self-attention layers.

The checkpoint keeps three projections (``query``/``key``/``value``, ``q_lin``/``k_lin``/``v_lin``)
and training updates them one by one, so they stay as they are; ``FusedQKV`` holds their
concatenation, made once at swap time (packed as ``PackedLinear`` packs, where that applies). Three
small GEMMs become one larger one, which keeps the matrix unit busier at small batches.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ..models.bert.modeling_bert import BertSelfAttention
from ..models.distilbert.modeling_distilbert import MultiHeadSelfAttention
from ..nn.attention import split_heads
from .huge_pages import HugePageArena
from .packed_linear import REFUSE_TRAINING, PackedWeight, weight_key


class FusedQKV(nn.Module):
    """``[q(x), k(x), v(x)]`` by one product over the concatenated weights of three ``nn.Linear``."""

    def __init__(self, projections: tuple[nn.Linear, ...], pack: bool, arena: HugePageArena | None = None) -> None:
        super().__init__()
        # The projections belong to the attention module (their parameters are the checkpoint's);
        # kept outside this module's tree so nothing is listed twice.
        object.__setattr__(self, "_projections", tuple(projections))
        self.sizes = [p.out_features for p in projections]
        self.pack = pack
        self._arena = arena  # where the concatenation is made (huge pages), or None: torch's memory
        self.refresh()
        self.register_load_state_dict_post_hook(_refresh_after_load)
        self.eval()  # an inference layer: a training-mode forward (after model.train()) raises

    def _sources(self) -> list[torch.Tensor]:
        return [t for p in self._projections for t in (p.weight, p.bias) if t is not None]

    def refresh(self) -> None:
        """Concatenate (and pack) the current weights: swap time, and after load_state_dict."""
        with torch.no_grad():
            weight = torch.cat([p.weight for p in self._projections])
            has_bias = all(p.bias is not None for p in self._projections)
            self._bias = torch.cat([p.bias for p in self._projections]) if has_bias else None
            self._packed = PackedWeight(weight) if self.pack else None
            # the plain product's weight: None where the packed copy serves every row count (bf16)
            plain = weight if self._packed is None else self._packed.weight
            if plain is not None and self._arena is not None:
                plain = self._arena.copy(plain)
                if self._packed is not None:
                    self._packed.weight = plain
            self._weight = plain
        self._key = weight_key(self._sources())

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.training:
            raise RuntimeError(f"this FusedQKV {REFUSE_TRAINING}")
        if torch.is_grad_enabled() and (x.requires_grad or any(t.requires_grad for t in self._sources())):
            return [p(x) for p in self._projections]  # the separate products have a backward
        if weight_key(self._sources()) != self._key:
            raise RuntimeError(
                "query/key/value weights changed after they were fused (an optimizer step, .to(), or an "
                "in-place edit); run clearformer.optimize_for_inference(model) again"
            )
        flat = x.reshape(-1, x.shape[-1])
        if self._packed is not None and self._packed.takes(flat.shape[0]):
            out = self._packed(flat, self._bias).view(*x.shape[:-1], sum(self.sizes))
        else:
            out = F.linear(x, self._weight, self._bias)
        return list(out.split(self.sizes, dim=-1))

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_weight", None)  # derived: made again on unpickling (a packed copy is opaque)
        state.pop("_packed", None)
        state["_arena"] = None  # a memory mapping cannot be pickled; a copy's weight is torch's
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.refresh()

    def __deepcopy__(self, memo: dict) -> FusedQKV:
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        new.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        return new

    def extra_repr(self) -> str:
        packed = self._packed.describe() if self._packed is not None else "not packed"
        where = ", on huge pages" if self._arena is not None and self._weight is not None else ""
        return f"sizes={self.sizes}, {packed}{where} (derived at swap time from the separate projections)"


def _refresh_after_load(module: nn.Module, _incompatible_keys: object) -> None:
    module.refresh()


def _swap_class(module: nn.Module, cls: type) -> nn.Module:
    """A ``cls`` instance sharing ``module``'s parameters, buffers and children (nothing copied)."""
    new = cls.__new__(cls)
    new.__dict__ = module.__dict__.copy()
    for attr in ("_parameters", "_buffers", "_modules"):
        new.__dict__[attr] = dict(module.__dict__[attr])
    return new


class FusedQKVBertSelfAttention(BertSelfAttention):
    """BERT/RoBERTa self-attention whose Q, K and V come from one ``FusedQKV`` product."""

    @classmethod
    def swap_in(cls, attn: BertSelfAttention, pack: bool, arena: HugePageArena | None = None) -> nn.Module:
        if attn.is_cross_attention:  # queries and keys come from different inputs: nothing to fuse
            return attn
        new = _swap_class(attn, cls)
        new.qkv = FusedQKV((attn.query, attn.key, attn.value), pack, arena)
        return new

    def swap_out(self) -> BertSelfAttention:
        plain = _swap_class(self, BertSelfAttention)
        del plain._modules["qkv"]
        return plain

    def project(self, hidden_states, encoder_hidden_states=None, cache=None):
        q, k, v = (split_heads(t, self.num_attention_heads) for t in self.qkv(hidden_states))
        if cache is not None:
            k, v = cache.update(k, v, self.layer_idx)
        return q, k, v


class FusedQKVMultiHeadSelfAttention(MultiHeadSelfAttention):
    """DistilBERT self-attention whose Q, K and V come from one ``FusedQKV`` product."""

    @classmethod
    def swap_in(cls, attn: MultiHeadSelfAttention, pack: bool, arena: HugePageArena | None = None) -> nn.Module:
        new = _swap_class(attn, cls)
        new.qkv = FusedQKV((attn.q_lin, attn.k_lin, attn.v_lin), pack, arena)
        return new

    def swap_out(self) -> MultiHeadSelfAttention:
        plain = _swap_class(self, MultiHeadSelfAttention)
        del plain._modules["qkv"]
        return plain

    def project(self, hidden_states):
        return [split_heads(t, self.n_heads) for t in self.qkv(hidden_states)]


FUSED_ATTENTION = {BertSelfAttention: FusedQKVBertSelfAttention, MultiHeadSelfAttention: FusedQKVMultiHeadSelfAttention}
