"""clearformer: a readable, fast transformer stack with Hugging Face names, offline.

``from clearformer import AutoModel, BertModel, ...`` works as with transformers. Names are
imported on first use (PEP 562) so ``import clearformer`` stays fast and light.
"""

from __future__ import annotations

import importlib
from typing import Any

from .models import auto_tokenizer as _auto_tokenizer  # noqa: F401  (fills AutoTokenizer's registry)

__version__ = "0.1.0"

_EXPORTS: dict[str, list[str]] = {
    "configuration_utils": ["PretrainedConfig"],
    "modeling_utils": ["PreTrainedModel"],
    "inference": [
        "compile_decoding",
        "compile_for_inference",
        "optimize_for_inference",
        "remove_compiled_decoding",
        "restore_for_training",
    ],
    "modeling_outputs": ["ModelOutput"],
    "weight_files": ["CheckpointError"],
    "activations": ["ACT2FN", "get_activation"],
    "nn.cache": ["Cache", "DynamicCache", "EncoderDecoderCache", "StaticCache"],
    "models.auto": [
        "AutoConfig",
        "AutoModel",
        "AutoModelForPreTraining",
        "AutoModelForMaskedLM",
        "AutoModelForCausalLM",
        "AutoModelForSeq2SeqLM",
        "AutoModelForSequenceClassification",
        "AutoModelForTokenClassification",
        "AutoModelForQuestionAnswering",
        "AutoModelForMultipleChoice",
        "AutoModelForNextSentencePrediction",
    ],
    "models.bert.configuration_bert": ["BertConfig"],
    "models.bert.modeling_bert": [
        "BertModel",
        "BertPreTrainedModel",
        "BertForPreTraining",
        "BertForMaskedLM",
        "BertLMHeadModel",
        "BertForNextSentencePrediction",
        "BertForSequenceClassification",
        "BertForMultipleChoice",
        "BertForTokenClassification",
        "BertForQuestionAnswering",
    ],
    "models.distilbert.configuration_distilbert": ["DistilBertConfig"],
    "models.distilbert.modeling_distilbert": [
        "DistilBertModel",
        "DistilBertForMaskedLM",
        "DistilBertForSequenceClassification",
        "DistilBertForTokenClassification",
        "DistilBertForQuestionAnswering",
        "DistilBertForMultipleChoice",
    ],
    "models.roberta.configuration_roberta": ["RobertaConfig"],
    "models.roberta.modeling_roberta": [
        "RobertaModel",
        "RobertaForMaskedLM",
        "RobertaForCausalLM",
        "RobertaForSequenceClassification",
        "RobertaForTokenClassification",
        "RobertaForQuestionAnswering",
        "RobertaForMultipleChoice",
    ],
    "models.gpt2.configuration_gpt2": ["GPT2Config"],
    "models.gpt2.modeling_gpt2": [
        "GPT2Model",
        "GPT2LMHeadModel",
        "GPT2ForSequenceClassification",
        "GPT2ForTokenClassification",
        "GPT2DoubleHeadsModel",
        "GPT2PreTrainedModel",
    ],
    "models.marian.configuration_marian": ["MarianConfig"],
    "models.marian.modeling_marian": ["MarianModel", "MarianMTModel"],
    "models.t5.configuration_t5": ["T5Config"],
    "models.t5.modeling_t5": ["T5Model", "T5ForConditionalGeneration", "T5EncoderModel"],
    "models.transformer.modeling_transformer": ["make_model"],
    "models.bert.tokenization_bert": ["BertTokenizer"],
    "models.distilbert.tokenization_distilbert": ["DistilBertTokenizer"],
    "models.gpt2.tokenization_gpt2": ["GPT2Tokenizer"],
    "models.roberta.tokenization_roberta": ["RobertaTokenizer"],
    "models.marian.tokenization_marian": ["MarianTokenizer"],
    "models.t5.tokenization_t5": ["T5Tokenizer"],
    "tokenization": [
        "AddedToken",
        "AutoTokenizer",
        "BatchEncoding",
        "PreTrainedTokenizer",
        "PreTrainedTokenizerBase",
        "PreTrainedTokenizerFast",
        "TokenizersBackend",
    ],
    "generation": [
        "GenerationConfig",
        "GenerationMixin",
        "LogitsProcessor",
        "LogitsProcessorList",
        "TextIteratorStreamer",
        "TextStreamer",
    ],
    "training": [
        "EarlyStoppingCallback",
        "EvalPrediction",
        "Trainer",
        "TrainerCallback",
        "TrainerControl",
        "TrainerState",
        "TrainingArguments",
        "get_scheduler",
        "get_linear_schedule_with_warmup",
        "get_cosine_schedule_with_warmup",
        "get_constant_schedule",
        "get_constant_schedule_with_warmup",
        "set_seed",
    ],
    "training.seq2seq": ["Seq2SeqTrainer", "Seq2SeqTrainingArguments"],
    "data": [
        "DataCollatorForLanguageModeling",
        "DataCollatorForMultipleChoice",
        "DataCollatorForSeq2Seq",
        "DataCollatorForTokenClassification",
        "DataCollatorWithPadding",
        "default_data_collator",
        "load_dataset",
    ],
    "metrics": ["load_metric"],
    "pipelines": ["pipeline", "Pipeline", "SUPPORTED_TASKS"],
    "postprocessing": ["postprocess_qa_predictions"],
    "sentence_embedding": ["SentenceEmbedder"],
    "evaluation.perplexity": ["perplexity"],
    "tasks": ["TaskSpec", "TaskRun", "TaskDataError", "get_task", "list_tasks", "run_task"],
}

_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'clearformer' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
