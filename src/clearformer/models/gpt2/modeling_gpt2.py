"""GPT-2 (Radford et al. 2019): a pre-norm decoder-only transformer, with the course's heads.

Attribute names are Hugging Face's (``transformer.h.0.attn.c_attn``, Conv1D weights stored
(in, out)) because they are the checkpoint format. Parity with transformers 5.24 — logits, loss,
classification logits, cached decoding and ``generate`` — is pinned in tests/models/test_gpt2*.py
and tests/generation at 1e-5 in fp32; a training step (logits, gradients, 100 AdamW steps) is
pinned bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ...activations import get_activation
from ...generation.utils import GenerationMixin
from ...generation.validated import inputs_already_validated
from ...modeling_outputs import (
    BaseModelOutputWithPastAndCrossAttentions,
    CausalLMOutputWithCrossAttentions,
    ModelOutput,
    SequenceClassifierOutputWithPast,
    TokenClassifierOutput,
)
from ...modeling_utils import PreTrainedModel, validate_attention_mask, validate_input_ids
from ...nn.attention import attention, merge_heads, split_heads
from ...nn.cache import Cache, DynamicCache, as_cache
from ...nn.conv1d import Conv1D
from ...nn.masks import causal_mask
from ...utils.arguments import pick_kwargs
from ..heads import causal_lm_loss, classification_loss, token_loss
from .configuration_gpt2 import GPT2Config


@dataclass
class GPT2DoubleHeadsModelOutput(ModelOutput):
    """GPT-2 with an LM head and a multiple-choice head: both losses, both logits, the cache."""

    loss: torch.FloatTensor | None = None
    mc_loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    mc_logits: torch.FloatTensor | None = None
    past_key_values: Cache | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


def upcast_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None,
    scale: float,
    dropout: nn.Dropout,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``reorder_and_upcast_attn``: scores and softmax in fp32 even when the model runs in fp16/bf16.

    The scale is applied inside the product (to Q·Kᵀ, not afterwards), which keeps half-precision
    scores of deep models from overflowing; the weights are cast back to V's dtype.
    """
    scores = torch.matmul(q.float(), k.float().transpose(-1, -2)) * scale  # (B, H, Lq, Lk)
    if mask is not None:
        scores = scores + mask.float()
    weights = dropout(torch.softmax(scores, dim=-1).to(v.dtype))
    return torch.matmul(weights, v), weights


class GPT2Attention(nn.Module):
    """Causal multi-head self-attention; Q, K and V come from one Conv1D (``c_attn``) split in three."""

    def __init__(self, config: GPT2Config, layer_idx: int = 0) -> None:
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(
                f"n_embd ({config.n_embd}) is not a multiple of n_head ({config.n_head}): each head "
                "gets n_embd / n_head dimensions, so pick a head count that divides the width"
            )
        self.config = config
        self.embed_dim = config.n_embd
        self.num_heads = config.n_head
        self.head_dim = config.n_embd // config.n_head
        self.layer_idx = layer_idx
        self.scaling = 1.0 / math.sqrt(self.head_dim) if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            self.scaling /= float(layer_idx + 1)
        self.upcast = config.reorder_and_upcast_attn
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)
        self.attn_dropout = nn.Dropout(config.attn_pdrop)
        self.resid_dropout = nn.Dropout(config.resid_pdrop)

    def forward(
        self,
        hidden_states: torch.Tensor,
        mask: torch.Tensor | None = None,
        cache: Cache | None = None,
        output_attentions: bool = False,
        blind_queries: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        q, k, v = self.c_attn(hidden_states).split(self.embed_dim, dim=2)
        q = split_heads(q, self.num_heads)  # (B, H, Lq, D)
        k, v = split_heads(k, self.num_heads), split_heads(v, self.num_heads)
        if cache is not None:
            k, v = cache.update(k, v, self.layer_idx)  # (B, H, past + Lq, D)
        if self.upcast:
            context, weights = upcast_attention(q, k, v, mask, self.scaling, self.attn_dropout)
        else:
            context, weights = attention(
                q,
                k,
                v,
                mask,
                dropout=self.attn_dropout,
                scale=self.scaling,
                need_weights=output_attentions,
                implementation=self.config._attn_implementation,
            )
        if blind_queries is not None:
            context = context.masked_fill(blind_queries, 0.0)
        out = self.c_proj(merge_heads(context))
        return (self.resid_dropout(out) if self.training else out), weights


class GPT2MLP(nn.Module):
    """Position-wise FFN: Conv1D up to n_inner (4 x n_embd), GELU (tanh form), Conv1D down.

    ``gelu_new`` is the reference's seven-op formula, so a training step is bit-identical to the
    oracle's (AdamW turns last-bit differences into lr-sized updates; docs/results-gpt2.md).
    ``optimize_for_inference`` swaps in the one-kernel form for decoding.
    """

    def __init__(self, intermediate_size: int, config: GPT2Config) -> None:
        super().__init__()
        self.c_fc = Conv1D(intermediate_size, config.n_embd)
        self.c_proj = Conv1D(config.n_embd, intermediate_size)
        self.act = get_activation(config.activation_function)
        self.dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        out = self.c_proj(self.act(self.c_fc(hidden_states)))
        return self.dropout(out) if self.training else out  # skip the no-op call while decoding


class GPT2Block(nn.Module):
    """Pre-norm residual block: x + attn(ln_1(x)), then x + mlp(ln_2(x)) (GPT-2's change from GPT)."""

    def __init__(self, config: GPT2Config, layer_idx: int = 0) -> None:
        super().__init__()
        inner = config.n_inner if config.n_inner is not None else 4 * config.n_embd
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(inner, config)

    def forward(
        self,
        hidden_states: torch.Tensor,
        mask: torch.Tensor | None = None,
        cache: Cache | None = None,
        output_attentions: bool = False,
        blind_queries: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attn_out, weights = self.attn(self.ln_1(hidden_states), mask, cache, output_attentions, blind_queries)
        hidden_states = hidden_states + attn_out
        hidden_states = hidden_states + self.mlp(self.ln_2(hidden_states))
        return hidden_states, weights


class GPT2PreTrainedModel(PreTrainedModel):
    config_class = GPT2Config
    base_model_prefix = "transformer"
    # What the heads' **kwargs hand to GPT2Model.
    _forward_kwargs = (
        "past_key_values",
        "attention_mask",
        "token_type_ids",
        "position_ids",
        "inputs_embeds",
        "use_cache",
        "output_attentions",
        "output_hidden_states",
        "cache",
    )
    # Old checkpoints saved the causal-mask buffers (``attn.bias``, ``attn.masked_bias``); the
    # mask is rebuilt per forward here, so they are ignored.
    _keys_to_ignore_on_load_unexpected = [r"\.attn\.masked_bias$", r"\.attn\.bias$"]

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        std = self.config.initializer_range
        if isinstance(module, Conv1D):
            nn.init.normal_(module.weight, std=std)
            nn.init.zeros_(module.bias)
        elif isinstance(module, (GPT2Attention, GPT2MLP)):
            # GPT-2 paper: residual projections get std / sqrt(2 * n_layer) so the residual
            # stream's variance does not grow with depth (children are initialised first).
            nn.init.normal_(module.c_proj.weight, std=std / math.sqrt(2 * self.config.n_layer))

    def gradient_checkpointing_enable(self, **_: object) -> None:
        """Recompute each block in the backward pass: less memory, ~30% more time."""
        self.base_model.gradient_checkpointing = True

    def gradient_checkpointing_disable(self) -> None:
        self.base_model.gradient_checkpointing = False


class GPT2Model(GPT2PreTrainedModel):
    """Token + learned position embeddings -> n_layer blocks -> final LayerNorm ``ln_f``."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.drop = nn.Dropout(config.embd_pdrop)
        self.h = nn.ModuleList(GPT2Block(config, i) for i in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.wte

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.wte = value

    def _check_inputs(self, input_ids, inputs_embeds, attention_mask, past: int) -> tuple[int, int]:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        shape = tuple(input_ids.shape) if input_ids is not None else tuple(inputs_embeds.shape[:2])
        if inputs_already_validated(self):  # inside generate(), which checked ids and lengths once
            return shape
        if len(shape) != 2:
            raise ValueError(f"input_ids must be (batch, seq_len), got shape {shape}")
        if shape[1] + past > self.config.n_positions:
            raise ValueError(
                f"sequence length {shape[1] + past} (including {past} cached) exceeds n_positions "
                f"({self.config.n_positions}), the size of GPT-2's position table; truncate the input "
                "or use a sliding window (clearformer.evaluation.perplexity)"
            )
        if input_ids is not None:
            validate_input_ids(input_ids, self.wte.num_embeddings)
        validate_attention_mask(shape, attention_mask, past)
        return shape

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        past_key_values: Cache | tuple | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        cache: Cache | None = None,
    ):
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None else output_attentions
        output_hidden = cfg.output_hidden_states if output_hidden_states is None else output_hidden_states
        use_cache = cfg.use_cache if use_cache is None else use_cache
        cache = as_cache(cache if cache is not None else past_key_values)
        if use_cache and cache is None:
            cache = DynamicCache()
        past = cache.get_seq_length() if cache is not None else 0
        batch, length = self._check_inputs(input_ids, inputs_embeds, attention_mask, past)

        if inputs_embeds is None:
            inputs_embeds = self.wte(input_ids)
        if position_ids is None:
            position_ids = torch.arange(past, past + length, device=inputs_embeds.device)[None]
        hidden_states = inputs_embeds + self.wpe(position_ids)
        if token_type_ids is not None:  # GPT-2 embeds segment ids with the token table
            hidden_states = hidden_states + self.wte(token_type_ids)
        if self.training:
            hidden_states = self.drop(hidden_states)
        mask = None
        # One new token with no padding may attend to everything cached: no mask at all.
        if length > 1 or attention_mask is not None:
            mask = causal_mask(length, past + length, hidden_states.dtype, attention_mask, hidden_states.device)
        blind = _blind_queries(attention_mask, past, length) if cfg._attn_implementation != "eager" else None

        all_hidden = [] if output_hidden else None
        all_attn = [] if output_attentions else None
        for block in self.h:
            if all_hidden is not None:
                all_hidden.append(hidden_states)
            if self.gradient_checkpointing and self.training:
                hidden_states, weights = torch.utils.checkpoint.checkpoint(
                    block, hidden_states, mask, None, output_attentions, blind, use_reentrant=False
                )
            else:
                hidden_states, weights = block(hidden_states, mask, cache, output_attentions, blind)
            if all_attn is not None:
                all_attn.append(weights)
        hidden_states = self.ln_f(hidden_states)
        if all_hidden is not None:
            all_hidden.append(hidden_states)
        result = BaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=hidden_states,
            past_key_values=cache if use_cache else None,
            hidden_states=tuple(all_hidden) if all_hidden is not None else None,
            attentions=tuple(all_attn) if all_attn is not None else None,
        )
        return result if _want_dict(self, return_dict) else result.to_tuple()


def _blind_queries(attention_mask: torch.Tensor | None, past: int, length: int) -> torch.Tensor | None:
    """(B, 1, Lq, 1) True for queries that may attend to no key (left padding before the first
    real token); None when there are none.

    transformers 5.24's default (SDPA) path hands torch a boolean mask, and torch >= 2.5 returns a
    zero context for a query with every key masked; its eager path, like ours, spreads the
    attention over the masked keys instead. Those rows only reach the output through padded
    positions, but a loss over labels that include them sees the difference (~1e-3), so the SDPA
    setting reproduces the zero.
    """
    if attention_mask is None or torch.compiler.is_compiling():
        return None
    seen_real = attention_mask.cumsum(-1)[:, past : past + length] > 0  # (B, Lq)
    if bool(seen_real.all()):
        return None
    return ~seen_real[:, None, :, None]


def _base_kwargs(model: PreTrainedModel, kwargs: dict) -> dict:
    return pick_kwargs(model, kwargs, GPT2PreTrainedModel._forward_kwargs)


class GPT2LMHeadModel(GenerationMixin, GPT2PreTrainedModel):
    """GPT2Model + a vocabulary projection tied to ``wte`` (one matrix in and out)."""

    _tied_weights_keys = {"lm_head.weight": "transformer.wte.weight"}
    _default_cache_implementation = "static"

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def set_output_embeddings(self, value: nn.Linear) -> None:
        self.lm_head = value

    def forward(self, input_ids=None, labels=None, return_dict=None, logits_to_keep: int = 0, **kwargs):
        """``logits_to_keep=n`` projects only the last n positions (generation needs just one)."""
        out = self.transformer(input_ids, **_base_kwargs(self, kwargs), return_dict=True)
        hidden = out.last_hidden_state
        logits = self.lm_head(hidden[:, -logits_to_keep:] if logits_to_keep else hidden)
        result = CausalLMOutputWithCrossAttentions(
            loss=causal_lm_loss(logits, labels),
            logits=logits,
            past_key_values=out.past_key_values,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )
        return result if _want_dict(self, return_dict) else result.to_tuple()


def last_token_index(input_ids: torch.Tensor | None, pad_token_id: int | None) -> torch.Tensor | int:
    """Index of the rightmost non-pad token per row (works for left and right padding)."""
    if input_ids is None or pad_token_id is None:
        return -1
    length = input_ids.shape[-1]
    not_pad = (input_ids != pad_token_id).int()
    return (torch.arange(length, device=input_ids.device) * not_pad).argmax(-1)


class GPT2ForSequenceClassification(GPT2PreTrainedModel):
    """Classify from the hidden state of the last real token (GPT-2 has no [CLS])."""

    _keys_to_ignore_on_load_unexpected = [*GPT2PreTrainedModel._keys_to_ignore_on_load_unexpected, r"^lm_head\."]

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.transformer = GPT2Model(config)
        self.score = nn.Linear(config.n_embd, config.num_labels, bias=False)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        out = self.transformer(input_ids, **_base_kwargs(self, kwargs), return_dict=True)
        logits = self.score(out.last_hidden_state)  # (B, L, num_labels)
        batch = logits.shape[0]
        if self.config.pad_token_id is None and batch != 1:
            raise ValueError(
                "GPT2ForSequenceClassification needs config.pad_token_id to find the last real token "
                f"of each row in a batch of {batch}; set model.config.pad_token_id = tokenizer.pad_token_id "
                "(GPT-2 has no pad token: tokenizer.pad_token = tokenizer.eos_token is the usual choice)"
            )
        index = last_token_index(input_ids, self.config.pad_token_id)
        pooled = logits[torch.arange(batch, device=logits.device), index]
        result = SequenceClassifierOutputWithPast(
            loss=classification_loss(self.config, pooled, labels),
            logits=pooled,
            past_key_values=out.past_key_values,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )
        return result if _want_dict(self, return_dict) else result.to_tuple()


class GPT2ForTokenClassification(GPT2PreTrainedModel):
    _keys_to_ignore_on_load_unexpected = GPT2ForSequenceClassification._keys_to_ignore_on_load_unexpected

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.transformer = GPT2Model(config)
        p = getattr(config, "classifier_dropout", None)
        self.dropout = nn.Dropout(p if p is not None else getattr(config, "hidden_dropout", 0.1))
        self.classifier = nn.Linear(config.n_embd, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        out = self.transformer(input_ids, **_base_kwargs(self, kwargs), return_dict=True)
        logits = self.classifier(self.dropout(out.last_hidden_state))
        loss = token_loss(logits, labels)
        result = TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
        return result if _want_dict(self, return_dict) else result.to_tuple()


class SequenceSummary(nn.Module):
    """The multiple-choice head: take one token's hidden state (``cls_index``), project to a score."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__()
        if config.summary_type != "cls_index":
            raise ValueError(f"summary_type {config.summary_type!r} is not supported; use 'cls_index'")
        out = config.num_labels if config.summary_proj_to_labels and config.num_labels > 0 else config.n_embd
        self.summary = nn.Linear(config.n_embd, out) if config.summary_use_proj else nn.Identity()
        act = config.summary_activation
        self.activation = get_activation(act) if act else nn.Identity()
        self.first_dropout = nn.Dropout(config.summary_first_dropout)
        self.last_dropout = nn.Dropout(getattr(config, "summary_last_dropout", 0.0))

    def forward(self, hidden_states: torch.Tensor, cls_index: torch.Tensor | None = None) -> torch.Tensor:
        if cls_index is None:  # default: the last token of each choice
            cls_index = torch.full(
                hidden_states.shape[:-2], hidden_states.shape[-2] - 1, dtype=torch.long, device=hidden_states.device
            )
        index = cls_index[..., None, None].expand(*cls_index.shape, 1, hidden_states.shape[-1])
        output = hidden_states.gather(-2, index).squeeze(-2)  # (B, C, hidden)
        return self.last_dropout(self.activation(self.summary(self.first_dropout(output))))


class GPT2DoubleHeadsModel(GenerationMixin, GPT2PreTrainedModel):
    """LM head + multiple-choice head (GPT's RocStories/SWAG set-up); inputs (batch, choices, seq)."""

    _tied_weights_keys = GPT2LMHeadModel._tied_weights_keys

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        config.num_labels = 1
        self.transformer = GPT2Model(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.multiple_choice_head = SequenceSummary(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def forward(self, input_ids=None, mc_token_ids=None, labels=None, mc_labels=None, return_dict=None, **kwargs):
        shape = input_ids.shape if input_ids is not None else kwargs["inputs_embeds"].shape[:-1]
        flat = {
            k: (v.flatten(0, 1) if isinstance(v, torch.Tensor) and v.dim() > 2 else v)
            for k, v in _base_kwargs(self, kwargs).items()
        }
        ids = input_ids.flatten(0, 1) if input_ids is not None and input_ids.dim() > 2 else input_ids
        out = self.transformer(ids, **flat, return_dict=True)
        hidden = out.last_hidden_state.view(*shape[:-1], *out.last_hidden_state.shape[-2:])
        logits = self.lm_head(hidden)
        mc_logits = self.multiple_choice_head(hidden, mc_token_ids).squeeze(-1)
        mc_loss = None
        if mc_labels is not None:
            mc_loss = F.cross_entropy(mc_logits.view(-1, mc_logits.shape[-1]), mc_labels.view(-1))
        lm_loss = causal_lm_loss(logits.flatten(0, -3), labels.flatten(0, -2)) if labels is not None else None
        result = GPT2DoubleHeadsModelOutput(
            loss=lm_loss,
            mc_loss=mc_loss,
            logits=logits,
            mc_logits=mc_logits,
            past_key_values=out.past_key_values,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )
        return result if _want_dict(self, return_dict) else result.to_tuple()


def _want_dict(model: PreTrainedModel, return_dict: bool | None) -> bool:
    return model.config.return_dict if return_dict is None else return_dict
