"""``clearformer.tokenization_utils``: the module path of ``PreTrainedTokenizer`` and of the
character tests that the course's chapter 3.1 BERT tokenizer imports.

The three helpers are the *original Python BERT* character classes that chapter's code was
written with (ASCII symbols count as punctuation; whitespace is the four ASCII blanks plus
category Zs). clearformer's own BERT normalizer follows the `tokenizers` library instead, which
differs on a few rare code points (see tokenization/unicode_tables.py).
"""

from __future__ import annotations

import unicodedata

from .tokenization.base import PreTrainedTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

__all__ = ["PreTrainedTokenizer", "PreTrainedTokenizerBase", "PreTrainedTokenizerFast"]


def _is_whitespace(char: str) -> bool:
    """A blank BERT splits on: space, tab, newline, carriage return, or any Zs space."""
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    """A character BERT deletes: any C* category, except tab/newline/return (blanks there)."""
    return char not in "\t\n\r" and unicodedata.category(char).startswith("C")


def _is_punctuation(char: str) -> bool:
    """A character BERT makes its own token: any P* category, or any printable ASCII symbol
    (``$ + < = > ^ ` | ~`` are Unicode symbols, S*, but BERT splits them too)."""
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")
