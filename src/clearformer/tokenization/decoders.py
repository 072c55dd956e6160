"""Decoders: the last stage, tokens -> text (the inverse direction of the pipeline).

``WordPieceDecoder`` glues ``##`` pieces and puts spaces between words; ``ByteLevelDecoder``
turns the byte characters back into bytes and decodes UTF-8, replacing invalid sequences with
U+FFFD as the reference does, with a warning that says where.
"""

from __future__ import annotations

import warnings

from .pre_tokenizers import unicode_to_bytes

_CLEANUPS = (
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
)


def clean_up_tokenization(text: str) -> str:
    """Undo the spaces tokenization put before punctuation and English contractions."""
    for dirty, clean in _CLEANUPS:
        text = text.replace(dirty, clean)
    return text


class WordPieceDecoder:
    def __init__(self, prefix: str = "##", cleanup: bool = True) -> None:
        self.prefix = prefix
        self.cleanup = cleanup

    def decode(self, tokens: list[str]) -> str:
        out = []
        for i, token in enumerate(tokens):
            if i:
                token = token[len(self.prefix) :] if token.startswith(self.prefix) else " " + token
            if self.cleanup:
                # per token, as the `tokenizers` library does (so " do not" is never rewritten)
                for dirty, clean in _CLEANUPS[:4]:
                    token = token.replace(dirty, clean)
            out.append(token)
        return "".join(out)

    def to_dict(self) -> dict:
        return {"type": "WordPiece", "prefix": self.prefix, "cleanup": self.cleanup}


def decode_utf8_with_warning(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        warnings.warn(
            f"decoded bytes are not valid UTF-8 (first bad byte at position {err.start}: "
            f"{data[err.start : err.end]!r}); invalid sequences were replaced with U+FFFD. This "
            "happens when ids cut a multi-byte character in two, e.g. a window boundary.",
            UnicodeWarning,
            stacklevel=3,
        )
        return data.decode("utf-8", errors="replace")


class ByteLevelDecoder:
    def decode(self, tokens: list[str]) -> str:
        table = unicode_to_bytes()
        data = bytearray()
        for token in tokens:
            try:
                data += bytes(table[c] for c in token)
            except KeyError:
                data += token.encode("utf-8")  # an added token outside the byte alphabet
        return decode_utf8_with_warning(bytes(data))

    def to_dict(self) -> dict:
        return {
            "type": "ByteLevel",
            "add_prefix_space": True,
            "trim_offsets": True,
            "use_regex": True,
        }
