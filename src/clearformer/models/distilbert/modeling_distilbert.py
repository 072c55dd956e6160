"""DistilBERT (Sanh et al. 2019): BERT with 6 layers, no token types and no pooler.

Names follow the reference checkpoints (``distilbert.transformer.layer.0.attention.q_lin``).
Parity with transformers 5.24 is pinned in tests/models/test_encoder_parity.py.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from ...activations import get_activation
from ...modeling_outputs import (
    BaseModelOutput,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from ...modeling_utils import PreTrainedModel, validate_attention_mask, validate_input_ids
from ...nn.attention import attention, merge_heads, split_heads
from ...nn.masks import padding_mask_or_none
from ...nn.positional import sinusoidal_table
from ...utils.arguments import pick_kwargs
from ..heads import classification_loss, expand_head_mask, flatten_choices, qa_loss, token_loss, want_dict
from .configuration_distilbert import DistilBertConfig


class Embeddings(nn.Module):
    """word + position embeddings (no segments), LayerNorm, dropout."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.dim, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.dim)
        self.LayerNorm = nn.LayerNorm(config.dim, eps=1e-12)
        self.dropout = nn.Dropout(config.dropout)
        self.register_buffer("position_ids", torch.arange(config.max_position_embeddings)[None], persistent=False)

    def forward(self, input_ids=None, inputs_embeds=None, position_ids=None) -> torch.Tensor:
        if inputs_embeds is None:
            validate_input_ids(input_ids, self.word_embeddings.num_embeddings)
            inputs_embeds = self.word_embeddings(input_ids)
        if position_ids is None:
            position_ids = self.position_ids[:, : inputs_embeds.shape[1]]
        return self.dropout(self.LayerNorm(inputs_embeds + self.position_embeddings(position_ids)))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        if config.dim % config.n_heads:
            raise ValueError(
                f"dim ({config.dim}) is not a multiple of n_heads ({config.n_heads}); "
                "pick a head count that divides the width"
            )
        self.config = config
        self.n_heads = config.n_heads
        self.q_lin = nn.Linear(config.dim, config.dim)
        self.k_lin = nn.Linear(config.dim, config.dim)
        self.v_lin = nn.Linear(config.dim, config.dim)
        self.out_lin = nn.Linear(config.dim, config.dim)
        self.dropout = nn.Dropout(config.attention_dropout)

    def project(self, hidden_states: torch.Tensor) -> list[torch.Tensor]:
        """Queries, keys and values, each (B, H, L, D)."""
        return [split_heads(lin(hidden_states), self.n_heads) for lin in (self.q_lin, self.k_lin, self.v_lin)]

    def forward(self, hidden_states, mask=None, head_mask=None, output_attentions=False):
        q, k, v = self.project(hidden_states)
        context, weights = attention(
            q,
            k,
            v,
            mask,
            dropout=self.dropout,
            head_mask=head_mask,
            need_weights=output_attentions,
            implementation=self.config._attn_implementation,
        )
        return self.out_lin(merge_heads(context)), weights


class FFN(nn.Module):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        self.lin1 = nn.Linear(config.dim, config.hidden_dim)
        self.lin2 = nn.Linear(config.hidden_dim, config.dim)
        self.activation = get_activation(config.activation)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.lin2(self.activation(self.lin1(x))))


class TransformerBlock(nn.Module):
    """Post-norm block; unlike BERT the attention output has no dropout before the residual."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        self.attention = MultiHeadSelfAttention(config)
        self.sa_layer_norm = nn.LayerNorm(config.dim, eps=1e-12)
        self.ffn = FFN(config)
        self.output_layer_norm = nn.LayerNorm(config.dim, eps=1e-12)

    def forward(self, x, mask=None, head_mask=None, output_attentions=False):
        attn, weights = self.attention(x, mask, head_mask, output_attentions)
        x = self.sa_layer_norm(attn + x)
        return self.output_layer_norm(self.ffn(x) + x), weights


class Transformer(nn.Module):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(TransformerBlock(config) for _ in range(config.n_layers))
        self.gradient_checkpointing = False

    def forward(self, x, mask=None, head_mask=None, output_attentions=False, output_hidden_states=False):
        hidden, attns = ([x] if output_hidden_states else None), ([] if output_attentions else None)
        for i, layer in enumerate(self.layer):
            args = (x, mask, head_mask[i] if head_mask else None, output_attentions)
            if self.gradient_checkpointing and self.training:
                x, weights = checkpoint(layer, *args, use_reentrant=False)
            else:
                x, weights = layer(*args)
            if hidden is not None:
                hidden.append(x)
            if attns is not None:
                attns.append(weights)
        return BaseModelOutput(
            last_hidden_state=x,
            hidden_states=tuple(hidden) if hidden is not None else None,
            attentions=tuple(attns) if attns is not None else None,
        )


class DistilBertPreTrainedModel(PreTrainedModel):
    config_class = DistilBertConfig
    base_model_prefix = "distilbert"
    _keys_to_ignore_on_load_unexpected = [r"embeddings\.position_ids$"]
    # What the heads' **kwargs hand to DistilBertModel.
    _forward_kwargs = (
        "attention_mask",
        "head_mask",
        "inputs_embeds",
        "position_ids",
        "output_attentions",
        "output_hidden_states",
    )

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, Embeddings) and self.config.sinusoidal_pos_embds:
            with torch.no_grad():
                module.position_embeddings.weight.copy_(
                    sinusoidal_table(self.config.max_position_embeddings, self.config.dim, "interleaved")
                )


class DistilBertModel(DistilBertPreTrainedModel):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.embeddings = Embeddings(config)
        self.transformer = Transformer(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings.word_embeddings = value

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        head_mask=None,
        inputs_embeds=None,
        position_ids=None,
        output_attentions=None,
        output_hidden_states=None,
        return_dict=None,
    ):
        cfg = self.config
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        shape = tuple(input_ids.shape) if input_ids is not None else tuple(inputs_embeds.shape[:2])
        if shape[1] > cfg.max_position_embeddings:
            raise ValueError(
                f"sequence length {shape[1]} exceeds max_position_embeddings ({cfg.max_position_embeddings}); "
                f"truncate the input (tokenizer(..., truncation=True, max_length={cfg.max_position_embeddings}))"
            )
        validate_attention_mask(shape, attention_mask)
        x = self.embeddings(input_ids, inputs_embeds, position_ids)
        mask = padding_mask_or_none(attention_mask, x.dtype)
        out = self.transformer(
            x,
            mask,
            expand_head_mask(head_mask, cfg.n_layers, x.dtype),
            cfg.output_attentions if output_attentions is None else output_attentions,
            cfg.output_hidden_states if output_hidden_states is None else output_hidden_states,
        )
        return out if want_dict(self, return_dict) else out.to_tuple()


_BASE_ARGS = DistilBertPreTrainedModel._forward_kwargs


def _run_base(model, input_ids, kwargs):
    return model.distilbert(input_ids, **pick_kwargs(model, kwargs, _BASE_ARGS), return_dict=True)


class DistilBertForMaskedLM(DistilBertPreTrainedModel):
    _tied_weights_keys = {"vocab_projector.weight": "distilbert.embeddings.word_embeddings.weight"}

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.activation = get_activation(config.activation)
        self.distilbert = DistilBertModel(config)
        self.vocab_transform = nn.Linear(config.dim, config.dim)
        self.vocab_layer_norm = nn.LayerNorm(config.dim, eps=1e-12)
        self.vocab_projector = nn.Linear(config.dim, config.vocab_size)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.vocab_projector

    def set_output_embeddings(self, value: nn.Linear) -> None:
        self.vocab_projector = value

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        out = _run_base(self, input_ids, kwargs)
        h = self.vocab_layer_norm(self.activation(self.vocab_transform(out.last_hidden_state)))
        logits = self.vocab_projector(h)
        loss = token_loss(logits, labels)
        result = MaskedLMOutput(loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)
        return result if want_dict(self, return_dict) else result.to_tuple()


class DistilBertForSequenceClassification(DistilBertPreTrainedModel):
    """h[CLS] -> pre_classifier -> ReLU -> dropout -> classifier (DistilBERT has no pooler)."""

    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.distilbert = DistilBertModel(config)
        self.pre_classifier = nn.Linear(config.dim, config.dim)
        self.classifier = nn.Linear(config.dim, config.num_labels)
        self.dropout = nn.Dropout(config.seq_classif_dropout)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        out = _run_base(self, input_ids, kwargs)
        pooled = self.dropout(F.relu(self.pre_classifier(out.last_hidden_state[:, 0])))
        logits = self.classifier(pooled)
        result = SequenceClassifierOutput(
            loss=classification_loss(self.config, logits, labels),
            logits=logits,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class DistilBertForTokenClassification(DistilBertPreTrainedModel):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.distilbert = DistilBertModel(config)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.dim, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        out = _run_base(self, input_ids, kwargs)
        logits = self.classifier(self.dropout(out.last_hidden_state))
        loss = token_loss(logits, labels)
        result = TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class DistilBertForQuestionAnswering(DistilBertPreTrainedModel):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        if config.num_labels != 2:
            raise ValueError(f"question answering needs num_labels=2 (start, end), got {config.num_labels}")
        self.distilbert = DistilBertModel(config)
        self.qa_outputs = nn.Linear(config.dim, config.num_labels)
        self.dropout = nn.Dropout(config.qa_dropout)
        self.post_init()

    def forward(self, input_ids=None, start_positions=None, end_positions=None, return_dict=None, **kwargs):
        out = _run_base(self, input_ids, kwargs)
        start_logits, end_logits = self.qa_outputs(self.dropout(out.last_hidden_state)).split(1, dim=-1)
        start_logits, end_logits = start_logits.squeeze(-1), end_logits.squeeze(-1)
        result = QuestionAnsweringModelOutput(
            loss=qa_loss(start_logits, end_logits, start_positions, end_positions),
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class DistilBertForMultipleChoice(DistilBertPreTrainedModel):
    def __init__(self, config: DistilBertConfig) -> None:
        super().__init__(config)
        self.distilbert = DistilBertModel(config)
        self.pre_classifier = nn.Linear(config.dim, config.dim)
        self.classifier = nn.Linear(config.dim, 1)
        self.dropout = nn.Dropout(config.seq_classif_dropout)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        num_choices, flat_ids, flat = flatten_choices(input_ids, kwargs)
        out = _run_base(self, flat_ids, flat)
        pooled = self.dropout(F.relu(self.pre_classifier(out.last_hidden_state[:, 0])))
        logits = self.classifier(pooled).view(-1, num_choices)
        loss = F.cross_entropy(logits, labels.view(-1)) if labels is not None else None
        result = MultipleChoiceModelOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
        return result if want_dict(self, return_dict) else result.to_tuple()
