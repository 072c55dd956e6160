"""RoBERTa (Liu et al. 2019): BERT's encoder with fairseq-style positions and its own heads.

Position ids start at ``padding_idx + 1`` and padding tokens keep ``padding_idx`` (as fairseq
did), so a sequence may hold max_position_embeddings - padding_idx - 1 tokens (512 for roberta-base).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...activations import get_activation
from ...modeling_outputs import (
    CausalLMOutputWithCrossAttentions,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from ...utils.arguments import pick_kwargs
from ..bert.modeling_bert import BertEmbeddings, BertModel, BertPreTrainedModel
from ..heads import causal_lm_loss, classification_loss, flatten_choices, qa_loss, token_loss, want_dict
from .configuration_roberta import RobertaConfig


def position_ids_from_input_ids(input_ids: torch.Tensor, padding_idx: int, past: int = 0) -> torch.Tensor:
    """Count real tokens left to right from padding_idx + 1; padding stays at padding_idx."""
    real = input_ids.ne(padding_idx).long()
    return (torch.cumsum(real, dim=1) + past) * real + padding_idx


class RobertaEmbeddings(BertEmbeddings):
    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.padding_idx = config.pad_token_id
        self.position_embeddings = nn.Embedding(
            config.max_position_embeddings, config.hidden_size, padding_idx=self.padding_idx
        )

    def forward(
        self,
        input_ids=None,
        token_type_ids=None,
        position_ids=None,
        inputs_embeds=None,
        past_key_values_length: int = 0,
    ):
        if position_ids is None:
            if input_ids is not None:
                position_ids = position_ids_from_input_ids(input_ids, self.padding_idx, past_key_values_length)
            else:  # embeddings give no way to see padding: number them all
                n = inputs_embeds.shape[1]
                start = self.padding_idx + 1 + past_key_values_length
                position_ids = torch.arange(start, start + n, device=inputs_embeds.device)[None].expand(
                    inputs_embeds.shape[0], -1
                )
        return super().forward(input_ids, token_type_ids, position_ids, inputs_embeds, past_key_values_length)


class RobertaPreTrainedModel(BertPreTrainedModel):
    config_class = RobertaConfig
    base_model_prefix = "roberta"

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, RobertaLMHead):
            nn.init.zeros_(module.bias)


class RobertaModel(RobertaPreTrainedModel, BertModel):
    embeddings_class = RobertaEmbeddings

    def max_input_length(self) -> int:
        return self.config.max_position_embeddings - self.config.pad_token_id - 1


class RobertaLMHead(nn.Module):
    """dense -> gelu -> layer_norm -> decoder (tied to the word embeddings) + own bias."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.decoder.bias = self.bias
        self.act = get_activation("gelu")

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.layer_norm(self.act(self.dense(features))))


_BASE_ARGS = (
    "attention_mask",
    "token_type_ids",
    "position_ids",
    "head_mask",
    "inputs_embeds",
    "output_attentions",
    "output_hidden_states",
)


def _run_base(model, input_ids, kwargs, **extra):
    return model.roberta(input_ids, **pick_kwargs(model, kwargs, _BASE_ARGS), **extra, return_dict=True)


class _LMTied(RobertaPreTrainedModel):
    _tied_weights_keys = {
        "lm_head.decoder.weight": "roberta.embeddings.word_embeddings.weight",
        "lm_head.decoder.bias": "lm_head.bias",
    }
    _keys_to_ignore_on_load_unexpected = [r"pooler", *BertPreTrainedModel._keys_to_ignore_on_load_unexpected]

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head.decoder

    def set_output_embeddings(self, value: nn.Linear) -> None:
        self.lm_head.decoder = value
        self.lm_head.bias = value.bias

    def _set_output_bias(self, bias: nn.Parameter) -> None:
        self.lm_head.bias = bias
        self.lm_head.decoder.bias = bias


class RobertaForMaskedLM(_LMTied):
    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.lm_head = RobertaLMHead(config)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        out = _run_base(self, input_ids, kwargs)
        logits = self.lm_head(out.last_hidden_state)
        loss = token_loss(logits, labels)
        result = MaskedLMOutput(loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)
        return result if want_dict(self, return_dict) else result.to_tuple()


class RobertaForCausalLM(_LMTied):
    """RoBERTa as a left-to-right decoder (``is_decoder=True``)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.lm_head = RobertaLMHead(config)
        self.post_init()

    def forward(
        self,
        input_ids=None,
        labels=None,
        encoder_hidden_states=None,
        encoder_attention_mask=None,
        past_key_values=None,
        use_cache=None,
        return_dict=None,
        cache=None,
        **kwargs,
    ):
        out = _run_base(
            self,
            input_ids,
            kwargs,
            encoder_hidden_states=encoder_hidden_states,
            encoder_attention_mask=encoder_attention_mask,
            past_key_values=past_key_values,
            use_cache=use_cache,
            cache=cache,
        )
        logits = self.lm_head(out.last_hidden_state)
        loss = causal_lm_loss(logits, labels)
        result = CausalLMOutputWithCrossAttentions(
            loss=loss,
            logits=logits,
            past_key_values=out.past_key_values,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
            cross_attentions=out.cross_attentions,
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class RobertaClassificationHead(nn.Module):
    """On h[<s>]: dropout -> dense -> tanh -> dropout -> out_proj (RoBERTa does not use the pooler)."""

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__()
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(p)
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = self.dropout(features[:, 0])
        return self.out_proj(self.dropout(torch.tanh(self.dense(x))))


class RobertaForSequenceClassification(RobertaPreTrainedModel):
    _keys_to_ignore_on_load_unexpected = _LMTied._keys_to_ignore_on_load_unexpected

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.classifier = RobertaClassificationHead(config)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        out = _run_base(self, input_ids, kwargs)
        logits = self.classifier(out.last_hidden_state)
        result = SequenceClassifierOutput(
            loss=classification_loss(self.config, logits, labels),
            logits=logits,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class RobertaForMultipleChoice(RobertaPreTrainedModel):
    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config)
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(p)
        self.classifier = nn.Linear(config.hidden_size, 1)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        num_choices, flat_ids, flat = flatten_choices(input_ids, kwargs)
        out = _run_base(self, flat_ids, flat)
        logits = self.classifier(self.dropout(out.pooler_output)).view(-1, num_choices)
        loss = F.cross_entropy(logits, labels.view(-1)) if labels is not None else None
        result = MultipleChoiceModelOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class RobertaForTokenClassification(RobertaPreTrainedModel):
    _keys_to_ignore_on_load_unexpected = _LMTied._keys_to_ignore_on_load_unexpected

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(p)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, labels=None, return_dict=None, **kwargs):
        out = _run_base(self, input_ids, kwargs)
        logits = self.classifier(self.dropout(out.last_hidden_state))
        loss = token_loss(logits, labels)
        result = TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
        return result if want_dict(self, return_dict) else result.to_tuple()


class RobertaForQuestionAnswering(RobertaPreTrainedModel):
    _keys_to_ignore_on_load_unexpected = _LMTied._keys_to_ignore_on_load_unexpected

    def __init__(self, config: RobertaConfig) -> None:
        super().__init__(config)
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, start_positions=None, end_positions=None, return_dict=None, **kwargs):
        out = _run_base(self, input_ids, kwargs)
        start_logits, end_logits = self.qa_outputs(out.last_hidden_state).split(1, dim=-1)
        start_logits, end_logits = start_logits.squeeze(-1), end_logits.squeeze(-1)
        result = QuestionAnsweringModelOutput(
            loss=qa_loss(start_logits, end_logits, start_positions, end_positions),
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=out.hidden_states,
            attentions=out.attentions,
        )
        return result if want_dict(self, return_dict) else result.to_tuple()
