"""clearformer's tokenizers: a readable normalizer -> pre-tokenizer -> model -> post-processor ->
decoder pipeline (WordPiece, byte-level BPE) behind Hugging Face's tokenizer API.

The model-specific classes (``BertTokenizer`` ...) live in ``clearformer.models.<family>`` and
are exported by ``clearformer``; this package knows no model family (docs/architecture.md).
Names are imported on first use, so the model families can register their tokenizers
(registry.py) without loading the tokenizer code.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, list[str]] = {
    "added_tokens": ["AddedToken"],
    "auto": ["AutoTokenizer"],
    "base": ["PreTrainedTokenizer", "PreTrainedTokenizerBase", "PreTrainedTokenizerFast"],
    "batch_encoding": ["BatchEncoding", "CharSpan", "TokenSpan"],
    "encoding": ["Encoding"],
    "pipeline": ["Pipeline"],
    "registry": ["register_tokenizer"],
    "tokenizers_backend": ["TokenizersBackend"],  # imports nothing from `tokenizers` until one is built
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'clearformer.tokenization' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
