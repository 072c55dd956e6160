"""Model outputs: dataclasses readable by attribute, by key and as tuples, as in HF.

``None`` fields are left out of the tuple and key views, so ``outputs[0]`` is the first value
that is set (``loss`` when labels were given, else the logits / last hidden state).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, fields
from typing import Any


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


def _output(name: str, *names: str) -> type[ModelOutput]:
    """Build an output dataclass whose fields are ``names`` (all Optional, default None)."""
    annotations = dict.fromkeys(names, Any)
    cls = type(name, (ModelOutput,), {"__annotations__": annotations, **dict.fromkeys(names)})
    cls.__module__ = __name__
    return dataclass(cls)


_ENC = ("hidden_states", "attentions")
BaseModelOutput = _output("BaseModelOutput", "last_hidden_state", *_ENC)
BaseModelOutputWithPoolingAndCrossAttentions = _output(
    "BaseModelOutputWithPoolingAndCrossAttentions",
    "last_hidden_state",
    "pooler_output",
    "past_key_values",
    *_ENC,
    "cross_attentions",
)
BaseModelOutputWithPastAndCrossAttentions = _output(
    "BaseModelOutputWithPastAndCrossAttentions",
    "last_hidden_state",
    "past_key_values",
    *_ENC,
    "cross_attentions",
)
MaskedLMOutput = _output("MaskedLMOutput", "loss", "logits", *_ENC)
CausalLMOutputWithCrossAttentions = _output(
    "CausalLMOutputWithCrossAttentions",
    "loss",
    "logits",
    "past_key_values",
    *_ENC,
    "cross_attentions",
)
BertForPreTrainingOutput = _output(
    "BertForPreTrainingOutput", "loss", "prediction_logits", "seq_relationship_logits", *_ENC
)
NextSentencePredictorOutput = _output("NextSentencePredictorOutput", "loss", "logits", *_ENC)
SequenceClassifierOutput = _output("SequenceClassifierOutput", "loss", "logits", *_ENC)
MultipleChoiceModelOutput = _output("MultipleChoiceModelOutput", "loss", "logits", *_ENC)
TokenClassifierOutput = _output("TokenClassifierOutput", "loss", "logits", *_ENC)
QuestionAnsweringModelOutput = _output("QuestionAnsweringModelOutput", "loss", "start_logits", "end_logits", *_ENC)


__all__ = [n for n, v in dict(globals()).items() if isinstance(v, type) and issubclass(v, ModelOutput)]
