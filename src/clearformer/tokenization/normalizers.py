"""Normalizers: the first pipeline stage, text -> normalized text plus an alignment.

The alignment maps every character of the normalized text back to the index of the original
character it came from, so offsets can always be reported in the user's string. ``None`` means
"identity" (the common ASCII case), which keeps the fast path free of per-character Python.
Must match the `tokenizers` library's ``BertNormalizer`` (the oracle behind transformers 5.24).
"""

from __future__ import annotations

import unicodedata

import regex

# Rust's char::is_whitespace (the Unicode White_Space property) minus the control characters,
# which clean_text removes before it looks at whitespace (\x0b, \x0c, \x85 are Cc).
_SPACE_LIKE = frozenset("\t\n\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
_ASCII_CONTROL = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_WS_TO_SPACE = str.maketrans("\t\n\r", "   ")

# CJK Unified Ideographs blocks that BERT surrounds with spaces. The last-but-two range starts at
# U+2B920 (not U+2B820 as in the original Python BERT code): that is what the `tokenizers`
# library, and so every transformers 5.x BERT tokenizer, does.
CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def is_chinese_char(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


def is_control(ch: str) -> bool:
    """Other-category characters (Cc, Cf, Cs, Co, Cn) except tab, newline and return."""
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


class BertNormalizer:
    """clean_text -> CJK spacing -> strip accents (NFD, drop Mn) -> lowercase, in that order."""

    def __init__(
        self,
        clean_text: bool = True,
        handle_chinese_chars: bool = True,
        strip_accents: bool | None = None,
        lowercase: bool = True,
    ) -> None:
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        self.strip_accents_setting = strip_accents
        # None means "follow lowercase", as in BERT's original release.
        self.strip_accents = lowercase if strip_accents is None else strip_accents
        self.lowercase = lowercase
        self._char_cache: dict[str, str] = {}

    def _map_char(self, ch: str) -> str:
        """What one original character becomes (possibly several characters, or none)."""
        if self.clean_text:
            if ch == "\x00" or ch == "\ufffd" or is_control(ch):
                return ""
            if ch in _SPACE_LIKE:
                return " "
        if self.handle_chinese_chars and is_chinese_char(ch):
            return " " + ch + " "
        out = ch
        if self.strip_accents:
            out = "".join(
                c for c in unicodedata.normalize("NFD", out) if unicodedata.category(c) != "Mn"
            )
        if self.lowercase:
            # per character, like Rust's char::to_lowercase (no final-sigma context rule)
            out = "".join(c.lower() for c in out)
        return out

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        """Return (normalized text, alignment or None when every character maps to itself)."""
        if text.isascii() and not (self.clean_text and _ASCII_CONTROL.search(text)):
            if self.clean_text:
                text = text.translate(_ASCII_WS_TO_SPACE)
            return (text.lower() if self.lowercase else text), None
        cache = self._char_cache
        pieces: list[str] = []
        align: list[int] = []
        for i, ch in enumerate(text):
            mapped = cache.get(ch)
            if mapped is None:
                mapped = cache[ch] = self._map_char(ch)
            if len(mapped) == 1:
                pieces.append(mapped)
                align.append(i)
            elif mapped:
                pieces.append(mapped)
                align.extend([i] * len(mapped))
        return "".join(pieces), align

    def to_dict(self) -> dict:
        return {
            "type": "BertNormalizer",
            "clean_text": self.clean_text,
            "handle_chinese_chars": self.handle_chinese_chars,
            "strip_accents": self.strip_accents_setting,
            "lowercase": self.lowercase,
        }
