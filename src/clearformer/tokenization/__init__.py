"""clearformer's tokenizers: a readable normalizer -> pre-tokenizer -> model -> post-processor ->
decoder pipeline (WordPiece, byte-level BPE) behind Hugging Face's tokenizer API."""

from .added_tokens import AddedToken
from .auto import AutoTokenizer
from .base import PreTrainedTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast
from .batch_encoding import BatchEncoding, CharSpan, TokenSpan
from .encoding import Encoding
from .pipeline import Pipeline


def __getattr__(name: str):
    # the model-specific classes live in models/<m>/ and are imported on first use, so that
    # `clearformer.tokenization` does not pull every model package in
    if name == "TokenizersBackend":  # imports nothing from `tokenizers` until one is built
        from .tokenizers_backend import TokenizersBackend

        return TokenizersBackend
    lazy = {
        "BertTokenizer": "clearformer.models.bert.tokenization_bert",
        "DistilBertTokenizer": "clearformer.models.distilbert.tokenization_distilbert",
        "GPT2Tokenizer": "clearformer.models.gpt2.tokenization_gpt2",
        "RobertaTokenizer": "clearformer.models.roberta.tokenization_roberta",
    }
    if name in lazy:
        import importlib

        return getattr(importlib.import_module(lazy[name]), name)
    raise AttributeError(f"module 'clearformer.tokenization' has no attribute {name!r}")


__all__ = [
    "AddedToken",
    "AutoTokenizer",
    "BatchEncoding",
    "BertTokenizer",
    "CharSpan",
    "DistilBertTokenizer",
    "Encoding",
    "GPT2Tokenizer",
    "Pipeline",
    "PreTrainedTokenizer",
    "PreTrainedTokenizerBase",
    "PreTrainedTokenizerFast",
    "RobertaTokenizer",
    "TokenSpan",
    "TokenizersBackend",
]
