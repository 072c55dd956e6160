"""``clearformer.tokenization_utils_base``: the module path transformers code imports the shared
tokenizer base and its option enums from (the course's 4.4 multiple-choice collator does).
Everything here is clearformer's own, defined in ``clearformer.tokenization``."""

from .tokenization.base import PaddingStrategy, PreTrainedTokenizerBase, TruncationStrategy
from .tokenization.batch_encoding import BatchEncoding

__all__ = ["BatchEncoding", "PaddingStrategy", "PreTrainedTokenizerBase", "TruncationStrategy"]
