"""Pre-tokenizers: the second stage, normalized text -> word spans the model sees one at a time.

``BertPreTokenizer`` drops whitespace and isolates punctuation; ``ByteLevelPreTokenizer`` is
GPT-2's regex split followed by the bytes-to-unicode mapping. Both return ``(start, end)`` spans
into their input, so offsets survive. Must match the `tokenizers` library's pre-tokenizers.
"""

from __future__ import annotations

from functools import lru_cache

import regex

from .unicode_tables import EXTRA_PUNCTUATION, NOT_PUNCTUATION, class_ranges

# BERT punctuation = Unicode P* categories plus every ASCII symbol ($, +, <, =, >, ^, `, |, ~
# are Unicode "symbols" but BERT splits them too), with the reference's Unicode-version
# exceptions (unicode_tables.py). Written with regex's V1 set operations: [[A]--[B]] is A minus B.
_EXTRA = "".join(f"\\U{cp:08x}" for cp in EXTRA_PUNCTUATION)
_BERT_PUNCT = rf"[[\p{{P}}!-/:-@\[-`{{-~{_EXTRA}]--[{class_ranges(NOT_PUNCTUATION)}]]"
BERT_SPLIT = regex.compile(rf"(?V1)[^\p{{White_Space}}{_BERT_PUNCT}]+|{_BERT_PUNCT}")

# GPT-2's split, in plain words: an English contraction suffix ('s 't 're 've 'm 'll 'd); else an
# optional space followed by a run of letters, or of digits, or of other non-space symbols; else
# a run of whitespace that leaves the last space to the next word; else any remaining whitespace.
# So " Hello  world" -> [" Hello", " ", " world"]: each word carries its own leading space.
GPT2_SPLIT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table.

    Printable Latin-1 bytes map to themselves; the 68 others (controls, space, soft hyphen...) are
    shifted to U+0100 and up, so every byte has a visible character and merges.txt stays
    whitespace-free (a space shows as 'Ġ', a newline as 'Ċ').
    """
    keep = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    table = {b: chr(b) for b in keep}
    shifted = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + shifted)
            shifted += 1
    return table


@lru_cache(maxsize=1)
def unicode_to_bytes() -> dict[str, int]:
    return {c: b for b, c in bytes_to_unicode().items()}


class BertPreTokenizer:
    """Split on whitespace (removed) and punctuation (each mark its own word)."""

    pattern = BERT_SPLIT

    def split(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in BERT_SPLIT.finditer(text)]

    def to_dict(self) -> dict:
        return {"type": "BertPreTokenizer"}


class ByteLevelPreTokenizer:
    """GPT-2's regex split; the model then sees each word as byte characters."""

    def __init__(self, add_prefix_space: bool = False, use_regex: bool = True) -> None:
        self.add_prefix_space = add_prefix_space
        self.use_regex = use_regex
        self.pattern = GPT2_SPLIT if use_regex else regex.compile(r"(?s).+")

    def split(self, text: str) -> list[tuple[int, int]]:
        if not self.use_regex:
            return [(0, len(text))] if text else []
        return [m.span() for m in GPT2_SPLIT.finditer(text)]

    def to_dict(self) -> dict:
        return {
            "type": "ByteLevel",
            "add_prefix_space": self.add_prefix_space,
            "trim_offsets": True,
            "use_regex": self.use_regex,
        }


class WhitespaceSplit:
    """Split on whitespace only (BERT with do_basic_tokenize=False)."""

    pattern = regex.compile(r"[^\p{White_Space}]+")

    def split(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in self.pattern.finditer(text)]

    def to_dict(self) -> dict:
        return {"type": "WhitespaceSplit"}
