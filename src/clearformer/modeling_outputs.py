"""Model outputs: dataclasses readable by attribute, by key and as tuples, as in HF.

``None`` fields are left out of the tuple and key views, so ``outputs[0]`` is the first value
that is set (``loss`` when labels were given, else the logits / last hidden state). Field names
and order are transformers 5.24's (pinned in tests/test_modeling_outputs.py), except that its
``cache`` field is called ``past_key_values`` here (``.cache`` reads it), and that the pooled
output follows the order BertModel really returns (see the class).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, fields
from typing import Any

import torch

from .nn.cache import Cache


class ModelOutput(OrderedDict):
    """Base class; subclasses are ``@dataclass`` with every field defaulting to None."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                super().__setitem__(f.name, value)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return dict(self.items())[key]
        return self.to_tuple()[key]

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.keys() and value is not None:
            super().__setitem__(name, value)
        super().__setattr__(name, value)

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        super().__setattr__(key, value)

    def __iter__(self):
        return iter(self.keys())

    def to_tuple(self) -> tuple[Any, ...]:
        return tuple(self[k] for k in self.keys())

    @property
    def cache(self) -> Any:
        """transformers 5.x's name for ``past_key_values``; both read the same object."""
        return getattr(self, "past_key_values", None)


# Per-layer tensors: one entry per layer (plus the embeddings for hidden_states).
Layers = tuple[torch.FloatTensor, ...]


@dataclass
class BaseModelOutput(ModelOutput):
    """An encoder's output: the last layer's states, optionally every layer's states and attentions."""

    last_hidden_state: torch.FloatTensor | None = None
    hidden_states: Layers | None = None
    attentions: Layers | None = None


@dataclass
class BaseModelOutputWithPoolingAndCrossAttentions(ModelOutput):
    """BERT's base model output: the states plus the pooled [CLS] vector (and a decoder's cache)."""

    last_hidden_state: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    # transformers 5.24 declares hidden_states first, but its BertModel fills hidden_states and
    # attentions after the cache, so its outputs index as (..., cache, hidden_states, ...); this
    # order reproduces what BertModel returns there (and 4.x's return_dict=False tuple).
    past_key_values: Cache | None = None
    hidden_states: Layers | None = None
    attentions: Layers | None = None
    cross_attentions: Layers | None = None


@dataclass
class BaseModelOutputWithPastAndCrossAttentions(ModelOutput):
    """A decoder stack's output: the states and the key/value cache for the next step."""

    last_hidden_state: torch.FloatTensor | None = None
    past_key_values: Cache | None = None
    hidden_states: Layers | None = None
    attentions: Layers | None = None
    cross_attentions: Layers | None = None


@dataclass
class MaskedLMOutput(ModelOutput):
    """Masked language modelling: the loss on the masked tokens and per-token vocabulary logits."""

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    hidden_states: Layers | None = None
    attentions: Layers | None = None


@dataclass
class CausalLMOutputWithCrossAttentions(ModelOutput):
    """Next-token prediction: the loss, per-token vocabulary logits and the key/value cache."""

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    past_key_values: Cache | None = None
    hidden_states: Layers | None = None
    attentions: Layers | None = None
    cross_attentions: Layers | None = None


@dataclass
class BertForPreTrainingOutput(ModelOutput):
    """BERT pre-training: masked-LM logits and next-sentence logits, with their summed loss."""

    loss: torch.FloatTensor | None = None
    prediction_logits: torch.FloatTensor | None = None
    seq_relationship_logits: torch.FloatTensor | None = None
    hidden_states: Layers | None = None
    attentions: Layers | None = None


@dataclass
class NextSentencePredictorOutput(ModelOutput):
    """Next-sentence prediction: (is-next, is-random) logits and their loss."""

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    hidden_states: Layers | None = None
    attentions: Layers | None = None


@dataclass
class SequenceClassifierOutput(ModelOutput):
    """Sequence classification (or regression): one row of logits per sequence and the loss."""

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    hidden_states: Layers | None = None
    attentions: Layers | None = None


@dataclass
class SequenceClassifierOutputWithPast(ModelOutput):
    """Sequence classification by a decoder (GPT-2): logits, loss and the key/value cache."""

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    past_key_values: Cache | None = None
    hidden_states: Layers | None = None
    attentions: Layers | None = None


@dataclass
class MultipleChoiceModelOutput(ModelOutput):
    """Multiple choice: one logit per choice, (batch, num_choices), and the loss."""

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    hidden_states: Layers | None = None
    attentions: Layers | None = None


@dataclass
class TokenClassifierOutput(ModelOutput):
    """Token classification (NER): per-token label logits and the loss."""

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    hidden_states: Layers | None = None
    attentions: Layers | None = None


@dataclass
class QuestionAnsweringModelOutput(ModelOutput):
    """Extractive question answering: answer-start and answer-end logits per token, and the loss."""

    loss: torch.FloatTensor | None = None
    start_logits: torch.FloatTensor | None = None
    end_logits: torch.FloatTensor | None = None
    hidden_states: Layers | None = None
    attentions: Layers | None = None


@dataclass
class Seq2SeqModelOutput(ModelOutput):
    """An encoder-decoder's base output: decoder states and cache, then the encoder's outputs."""

    last_hidden_state: torch.FloatTensor | None = None
    past_key_values: Cache | None = None
    decoder_hidden_states: Layers | None = None
    decoder_attentions: Layers | None = None
    cross_attentions: Layers | None = None
    encoder_last_hidden_state: torch.FloatTensor | None = None
    encoder_hidden_states: Layers | None = None
    encoder_attentions: Layers | None = None


@dataclass
class Seq2SeqLMOutput(ModelOutput):
    """An encoder-decoder LM (translation, T5): loss, target-vocabulary logits, cache, encoder outputs."""

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    past_key_values: Cache | None = None
    decoder_hidden_states: Layers | None = None
    decoder_attentions: Layers | None = None
    cross_attentions: Layers | None = None
    encoder_last_hidden_state: torch.FloatTensor | None = None
    encoder_hidden_states: Layers | None = None
    encoder_attentions: Layers | None = None


__all__ = [
    "BaseModelOutput",
    "BaseModelOutputWithPastAndCrossAttentions",
    "BaseModelOutputWithPoolingAndCrossAttentions",
    "BertForPreTrainingOutput",
    "CausalLMOutputWithCrossAttentions",
    "MaskedLMOutput",
    "ModelOutput",
    "MultipleChoiceModelOutput",
    "NextSentencePredictorOutput",
    "QuestionAnsweringModelOutput",
    "Seq2SeqLMOutput",
    "Seq2SeqModelOutput",
    "SequenceClassifierOutput",
    "SequenceClassifierOutputWithPast",
    "TokenClassifierOutput",
]
