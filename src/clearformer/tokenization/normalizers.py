"""Normalizers: the first pipeline stage, text -> normalized text plus an alignment.

The alignment maps every character of the normalized text back to the index of the original
character it came from, so offsets can always be reported in the user's string. ``None`` means
"identity" (the common ASCII case), which keeps the fast path free of per-character Python.
Must match the `tokenizers` library's ``BertNormalizer`` (the oracle behind transformers 5.24).
"""

from __future__ import annotations

import unicodedata

import regex

from .unicode_tables import CLEAN_KEEP, LOWERCASE_EXTRA, STRIP_DROP, STRIP_KEEP, in_ranges

# Rust's char::is_whitespace (the Unicode White_Space property) minus the control characters,
# which clean_text removes before it looks at whitespace (\x0b, \x0c, \x85 are Cc).
_SPACE_LIKE = frozenset("\t\n\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
_ASCII_CONTROL = regex.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_PRINTABLE_ASCII = regex.compile(r"[^\x20-\x7e]+")
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
    """Control, format, private-use and surrogate characters (Cc, Cf, Co, Cs) except tab, newline
    and return. Unassigned code points (Cn) are kept: the `tokenizers` library keeps them."""
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") and not in_ranges(ord(ch), CLEAN_KEEP)


def strip_marks(ch: str) -> str:
    """NFD, then drop non-spacing marks (with the reference's exceptions, see unicode_tables)."""
    if ord(ch) in STRIP_DROP:
        return ""
    if in_ranges(ord(ch), STRIP_KEEP):  # also covers a character the older tables do not decompose
        return ch
    return "".join(
        c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn" or in_ranges(ord(c), STRIP_KEEP)
    )


def lowercase(ch: str) -> str:
    """Per character, like Rust's char::to_lowercase (no final-sigma context rule)."""
    return "".join(chr(LOWERCASE_EXTRA[ord(c)]) if ord(c) in LOWERCASE_EXTRA else c.lower() for c in ch)


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
        out = ch
        if self.strip_accents:
            out = strip_marks(out)
        if self.lowercase:
            out = lowercase(out)
        if self.handle_chinese_chars and is_chinese_char(ch):
            return " " + out + " "
        return out

    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        """Return (normalized text, alignment or None when every character maps to itself)."""
        if text.isascii() and (text.isprintable() or not (self.clean_text and _ASCII_CONTROL.search(text))):
            if self.clean_text:
                text = text.translate(_ASCII_WS_TO_SPACE)
            return (text.lower() if self.lowercase else text), None
        cache = self._char_cache
        pieces: list[str] = []
        align: list[int] = []
        pos = 0
        # printable ASCII is left in place by every stage (lowercasing keeps it one-to-one), so
        # only the other characters are mapped one by one
        for m in _NOT_PRINTABLE_ASCII.finditer(text):
            begin, end = m.span()
            if begin > pos:
                run = text[pos:begin]
                pieces.append(run.lower() if self.lowercase else run)
                align.extend(range(pos, begin))
            for i in range(begin, end):
                ch = text[i]
                mapped = cache.get(ch)
                if mapped is None:
                    mapped = cache[ch] = self._map_char(ch)
                if mapped:
                    pieces.append(mapped)
                    align.extend([i] * len(mapped))
            pos = end
        if pos < len(text):
            pieces.append(text[pos:].lower() if self.lowercase else text[pos:])
            align.extend(range(pos, len(text)))
        return "".join(pieces), align

    def __getstate__(self) -> dict:
        # caches are rebuilt on demand; leaving them out keeps pickles small and makes a
        # tokenizer's pickle (datasets' map fingerprint) the same before and after use
        return {k: v for k, v in self.__dict__.items() if k != "_char_cache"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._char_cache = {}

    def to_dict(self) -> dict:
        return {
            "type": "BertNormalizer",
            "clean_text": self.clean_text,
            "handle_chinese_chars": self.handle_chinese_chars,
            "strip_accents": self.strip_accents_setting,
            "lowercase": self.lowercase,
        }
