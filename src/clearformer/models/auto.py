"""Auto classes: pick the model class from a local config.json (``model_type``, ``architectures``).

The tables below map a model_type to its config class and, per task, to its model class. Other
packages (and the later model families) add rows with ``AutoConfig.register`` and
``AutoModel*.register``. An unknown model_type lists what is supported.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from ..configuration_utils import CONFIG_NAME, PretrainedConfig

# model_type -> "module:ClassName", imported lazily so `import clearformer` stays light.
CONFIG_MAPPING: dict[str, str] = {
    "bert": "clearformer.models.bert.configuration_bert:BertConfig",
    "distilbert": "clearformer.models.distilbert.configuration_distilbert:DistilBertConfig",
    "roberta": "clearformer.models.roberta.configuration_roberta:RobertaConfig",
    "gpt2": "clearformer.models.gpt2.configuration_gpt2:GPT2Config",
    "marian": "clearformer.models.marian.configuration_marian:MarianConfig",
    "t5": "clearformer.models.t5.configuration_t5:T5Config",
}

_BERT = "clearformer.models.bert.modeling_bert:"
_DISTIL = "clearformer.models.distilbert.modeling_distilbert:"
_ROBERTA = "clearformer.models.roberta.modeling_roberta:"
_GPT2 = "clearformer.models.gpt2.modeling_gpt2:"
_MARIAN = "clearformer.models.marian.modeling_marian:"
_T5 = "clearformer.models.t5.modeling_t5:"

# task -> model_type -> class path. A task's table is what AutoModelFor<task> can build.
MODEL_MAPPINGS: dict[str, dict[str, str]] = {
    "base": {
        "bert": _BERT + "BertModel",
        "distilbert": _DISTIL + "DistilBertModel",
        "roberta": _ROBERTA + "RobertaModel",
        "gpt2": _GPT2 + "GPT2Model",
        "marian": _MARIAN + "MarianModel",
        "t5": _T5 + "T5Model",
    },
    "pretraining": {
        "bert": _BERT + "BertForPreTraining",
        "distilbert": _DISTIL + "DistilBertForMaskedLM",
        "roberta": _ROBERTA + "RobertaForMaskedLM",
    },
    "masked_lm": {
        "bert": _BERT + "BertForMaskedLM",
        "distilbert": _DISTIL + "DistilBertForMaskedLM",
        "roberta": _ROBERTA + "RobertaForMaskedLM",
    },
    "causal_lm": {
        "bert": _BERT + "BertLMHeadModel",
        "roberta": _ROBERTA + "RobertaForCausalLM",
        "gpt2": _GPT2 + "GPT2LMHeadModel",
    },
    "seq2seq_lm": {
        "marian": _MARIAN + "MarianMTModel",
        "t5": _T5 + "T5ForConditionalGeneration",
    },
    "sequence_classification": {
        "bert": _BERT + "BertForSequenceClassification",
        "distilbert": _DISTIL + "DistilBertForSequenceClassification",
        "roberta": _ROBERTA + "RobertaForSequenceClassification",
        "gpt2": _GPT2 + "GPT2ForSequenceClassification",
    },
    "token_classification": {
        "bert": _BERT + "BertForTokenClassification",
        "distilbert": _DISTIL + "DistilBertForTokenClassification",
        "roberta": _ROBERTA + "RobertaForTokenClassification",
        "gpt2": _GPT2 + "GPT2ForTokenClassification",
    },
    "question_answering": {
        "bert": _BERT + "BertForQuestionAnswering",
        "distilbert": _DISTIL + "DistilBertForQuestionAnswering",
        "roberta": _ROBERTA + "RobertaForQuestionAnswering",
    },
    "multiple_choice": {
        "bert": _BERT + "BertForMultipleChoice",
        "distilbert": _DISTIL + "DistilBertForMultipleChoice",
        "roberta": _ROBERTA + "RobertaForMultipleChoice",
    },
    "next_sentence_prediction": {"bert": _BERT + "BertForNextSentencePrediction"},
}


def _import(path: str | type) -> type:
    if isinstance(path, type):
        return path
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def class_by_name(name: str) -> type | None:
    """Find a model class by its architecture name (``BertForQuestionAnswering``) in any table."""
    for table in MODEL_MAPPINGS.values():
        for path in table.values():
            if (path.__name__ if isinstance(path, type) else path.split(":")[1]) == name:
                return _import(path)
    return None


class AutoConfig:
    """``AutoConfig.from_pretrained(folder)`` -> the config class named by config.json's model_type."""

    def __init__(self) -> None:
        raise OSError("use AutoConfig.from_pretrained(path) or AutoConfig.for_model(model_type)")

    @staticmethod
    def config_class_for(model_type: str | None, where: str = "") -> type[PretrainedConfig]:
        if not isinstance(model_type, str) or model_type not in CONFIG_MAPPING:
            what = "no model_type" if model_type is None else f"unknown model_type {model_type!r}"
            raise ValueError(
                f"{what}{where}; clearformer supports model_type: {', '.join(sorted(CONFIG_MAPPING))} "
                '(config.json names it as e.g. "model_type": "bert")'
            )
        return _import(CONFIG_MAPPING[model_type])

    @classmethod
    def for_model(cls, model_type: str, **kwargs: Any) -> PretrainedConfig:
        return cls.config_class_for(model_type).from_dict(kwargs)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs: Any) -> PretrainedConfig:
        data, folder = PretrainedConfig.read_config_file(name_or_path)
        config_cls = cls.config_class_for(data.get("model_type"), f" in {folder / CONFIG_NAME}")
        return config_cls.from_pretrained(folder, **kwargs)

    @staticmethod
    def register(model_type: str, config_class: type[PretrainedConfig] | str) -> None:
        CONFIG_MAPPING[model_type] = config_class


class _AutoModel:
    """Shared logic; each subclass names its task table."""

    task = "base"

    def __init__(self) -> None:
        raise OSError(f"use {type(self).__name__}.from_pretrained(path) or .from_config(config)")

    @classmethod
    def model_class_for(cls, config: PretrainedConfig) -> type:
        table = MODEL_MAPPINGS[cls.task]
        if cls.task == "base" or not config.architectures:
            pass
        else:
            # config.json names the exact head class it was saved from; use it if it serves this task.
            for arch in config.architectures:
                path = table.get(config.model_type)
                if path is not None and _import(path).__name__ == arch:
                    return _import(path)
        if config.model_type not in table:
            supported = ", ".join(sorted(table)) or "none yet"
            raise ValueError(
                f"{cls.__name__} does not support model_type {config.model_type!r}; "
                f"supported for this task: {supported}"
            )
        return _import(table[config.model_type])

    @classmethod
    def from_config(cls, config: PretrainedConfig, **kwargs: Any):
        return cls.model_class_for(config).from_config(config, **kwargs)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, *args: Any, **kwargs: Any):
        config = kwargs.pop("config", None)
        if config is None:
            config_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if _is_config_key(k, name_or_path)}
            config = AutoConfig.from_pretrained(name_or_path, **config_kwargs)
        return cls.model_class_for(config).from_pretrained(name_or_path, *args, config=config, **kwargs)

    @classmethod
    def register(cls, config_class: type[PretrainedConfig], model_class: type | str) -> None:
        MODEL_MAPPINGS[cls.task][config_class.model_type] = model_class


# from_pretrained's own arguments; never config overrides even where a config field shares the name.
_LOADER_ARGS = {
    "dtype",
    "torch_dtype",
    "device",
    "device_map",
    "ignore_mismatched_sizes",
    "output_loading_info",
    "attn_implementation",
    "state_dict",
}


def _is_config_key(key: str, name_or_path: str | os.PathLike) -> bool:
    if key in _LOADER_ARGS:
        return False
    data, _ = PretrainedConfig.read_config_file(name_or_path)
    config_cls = AutoConfig.config_class_for(data.get("model_type"))
    return key in config_cls.field_names() or key in config_cls.attribute_map or key == "num_labels"


def _auto(name: str, task: str) -> type[_AutoModel]:
    return type(name, (_AutoModel,), {"task": task, "__doc__": f"Builds the {task} model named by config.json."})


AutoModel = _auto("AutoModel", "base")
AutoModelForPreTraining = _auto("AutoModelForPreTraining", "pretraining")
AutoModelForMaskedLM = _auto("AutoModelForMaskedLM", "masked_lm")
AutoModelForCausalLM = _auto("AutoModelForCausalLM", "causal_lm")
AutoModelForSeq2SeqLM = _auto("AutoModelForSeq2SeqLM", "seq2seq_lm")
AutoModelForSequenceClassification = _auto("AutoModelForSequenceClassification", "sequence_classification")
AutoModelForTokenClassification = _auto("AutoModelForTokenClassification", "token_classification")
AutoModelForQuestionAnswering = _auto("AutoModelForQuestionAnswering", "question_answering")
AutoModelForMultipleChoice = _auto("AutoModelForMultipleChoice", "multiple_choice")
AutoModelForNextSentencePrediction = _auto("AutoModelForNextSentencePrediction", "next_sentence_prediction")
