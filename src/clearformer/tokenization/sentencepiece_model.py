"""SentencePiece's own formats: the ``.model`` file (a ``ModelProto``, read without protobuf),
its precompiled normalization table, and the normalizer that turns text into "▁Hello▁world".

Field numbers, proto2 defaults and the normalizer's whitespace rules must match what
``sentencepiece`` does, so ``UnigramModel`` built from a file encodes exactly like it.
"""

from __future__ import annotations

import enum
import re
import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ModelProto",
    "NormalizerSpec",
    "PieceType",
    "PrecompiledCharsmap",
    "SPACE",
    "SentencePieceNormalizer",
    "SentencePieceModelError",
    "SentencePieceProto",
    "TrainerSpec",
    "load_sentencepiece_model",
    "parse_sentencepiece_model",
]


SPACE = "\u2581"  # "▁": how SentencePiece writes a space inside a piece


class SentencePieceModelError(ValueError):
    """A ``.model`` file that is not a readable SentencePiece ModelProto."""


class PieceType(enum.IntEnum):
    """``ModelProto.SentencePiece.Type``; the numbers are the on-disk values."""

    NORMAL = 1
    UNKNOWN = 2
    CONTROL = 3
    USER_DEFINED = 4
    UNUSED = 5
    BYTE = 6


@dataclass
class SentencePieceProto:
    piece: str
    score: float = 0.0
    type: PieceType = PieceType.NORMAL


# Defaults below are the proto2 defaults: sentencepiece only writes fields that differ from
# them, so a reader that forgot one (e.g. add_dummy_prefix=True) would silently diverge.
@dataclass
class TrainerSpec:
    model_type: str = "unigram"  # on disk: UNIGRAM=1, BPE=2, WORD=3, CHAR=4
    vocab_size: int = 8000
    character_coverage: float = 0.9995
    max_sentencepiece_length: int = 16
    split_by_unicode_script: bool = True
    split_by_number: bool = True
    split_by_whitespace: bool = True
    treat_whitespace_as_suffix: bool = False
    allow_whitespace_only_pieces: bool = False
    split_digits: bool = False
    control_symbols: list[str] = field(default_factory=list)
    user_defined_symbols: list[str] = field(default_factory=list)
    byte_fallback: bool = False
    unk_id: int = 0
    bos_id: int = 1
    eos_id: int = 2
    pad_id: int = -1
    unk_surface: str = " \u2047 "
    unk_piece: str = "<unk>"
    bos_piece: str = "<s>"
    eos_piece: str = "</s>"
    pad_piece: str = "<pad>"


@dataclass
class NormalizerSpec:
    name: str = ""
    precompiled_charsmap: bytes = b""
    add_dummy_prefix: bool = True
    remove_extra_whitespaces: bool = True
    escape_whitespaces: bool = True


@dataclass
class ModelProto:
    pieces: list[SentencePieceProto]
    trainer_spec: TrainerSpec
    normalizer_spec: NormalizerSpec
    denormalizer_spec: NormalizerSpec | None = None
    source: str = "<bytes>"


_MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}

# field number -> (attribute, kind); kinds: int (signed int32 varint), bool, float (fixed32),
# str, bytes, strlist (repeated string), model_type (enum).
_TRAINER_FIELDS = {
    3: ("model_type", "model_type"),
    4: ("vocab_size", "int"),
    10: ("character_coverage", "float"),
    20: ("max_sentencepiece_length", "int"),
    21: ("split_by_unicode_script", "bool"),
    22: ("split_by_whitespace", "bool"),
    23: ("split_by_number", "bool"),
    24: ("treat_whitespace_as_suffix", "bool"),
    25: ("split_digits", "bool"),
    26: ("allow_whitespace_only_pieces", "bool"),
    30: ("control_symbols", "strlist"),
    31: ("user_defined_symbols", "strlist"),
    35: ("byte_fallback", "bool"),
    40: ("unk_id", "int"),
    41: ("bos_id", "int"),
    42: ("eos_id", "int"),
    43: ("pad_id", "int"),
    44: ("unk_surface", "str"),
    45: ("unk_piece", "str"),
    46: ("bos_piece", "str"),
    47: ("eos_piece", "str"),
    48: ("pad_piece", "str"),
}
_NORMALIZER_FIELDS = {
    1: ("name", "str"),
    2: ("precompiled_charsmap", "bytes"),
    3: ("add_dummy_prefix", "bool"),
    4: ("remove_extra_whitespaces", "bool"),
    5: ("escape_whitespaces", "bool"),
}


class _Truncated(Exception):
    pass


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Truncated
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _iter_fields(buf: bytes):
    """Yield (field_number, wire_type, value) for one message; value is int or bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise _Truncated(f"unsupported wire type {wire} for field {number}")
        if pos > len(buf) or number == 0:
            raise _Truncated
        yield number, wire, value


def _as_int32(value: int) -> int:
    # Negative int32 values (pad_id=-1) are written as 10-byte two's-complement varints.
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _fill(target: object, buf: bytes, table: dict[int, tuple[str, str]]) -> None:
    for number, wire, value in _iter_fields(buf):
        if number not in table:
            continue  # fields we do not need (input paths, thread counts, ...)
        name, kind = table[number]
        if kind == "int":
            setattr(target, name, _as_int32(value))
        elif kind == "bool":
            setattr(target, name, bool(value))
        elif kind == "float":
            setattr(target, name, struct.unpack("<f", value)[0])
        elif kind == "str":
            setattr(target, name, value.decode("utf-8"))
        elif kind == "bytes":
            setattr(target, name, bytes(value))
        elif kind == "strlist":
            getattr(target, name).append(value.decode("utf-8"))
        elif kind == "model_type":
            setattr(target, name, _MODEL_TYPES.get(value, f"unknown({value})"))
        if kind in ("int", "bool", "model_type") and wire != 0 or kind == "float" and wire != 5:
            raise _Truncated(f"field {number} ({name}) has wire type {wire}")


def _parse_piece(buf: bytes) -> SentencePieceProto:
    piece = SentencePieceProto(piece="")
    for number, wire, value in _iter_fields(buf):
        if number == 1 and wire == 2:
            piece.piece = value.decode("utf-8")
        elif number == 2 and wire == 5:
            # Scores are float32 on disk; widening to float64 is exact.
            piece.score = struct.unpack("<f", value)[0]
        elif number == 3 and wire == 0:
            try:
                piece.type = PieceType(value)
            except ValueError as exc:
                raise _Truncated(f"piece {piece.piece!r} has unknown type {value}") from exc
    return piece


def parse_sentencepiece_model(data: bytes, source: str = "<bytes>") -> ModelProto:
    """Decode the bytes of a SentencePiece ``.model`` file."""
    pieces: list[SentencePieceProto] = []
    trainer, normalizer, denormalizer = TrainerSpec(), NormalizerSpec(), None
    seen: set[int] = set()
    try:
        for number, wire, value in _iter_fields(data):
            if wire != 2:
                raise _Truncated(f"top-level field {number} has wire type {wire}")
            seen.add(number)
            if number == 1:
                pieces.append(_parse_piece(value))
            elif number == 2:
                _fill(trainer, value, _TRAINER_FIELDS)
            elif number == 3:
                _fill(normalizer, value, _NORMALIZER_FIELDS)
            elif number == 5:
                denormalizer = NormalizerSpec()
                _fill(denormalizer, value, _NORMALIZER_FIELDS)
    except (_Truncated, UnicodeDecodeError, struct.error) as exc:
        detail = f" ({exc})" if str(exc) else ""
        raise SentencePieceModelError(
            f"{source} is not a valid SentencePiece model: the protobuf data is truncated or "
            f"corrupt{detail}; re-download or re-train the .model file"
        ) from exc
    # sentencepiece always writes both specs after the pieces, so a file cut at a field
    # boundary shows up as a missing spec rather than as a half-read field.
    missing = [name for num, name in ((1, "pieces"), (2, "trainer_spec"), (3, "normalizer_spec")) if num not in seen]
    if missing:
        raise SentencePieceModelError(
            f"{source} is not a valid SentencePiece model: {', '.join(missing)} missing "
            f"({len(data)} bytes read); is it truncated, or not a SentencePiece .model file?"
        )
    return ModelProto(pieces, trainer, normalizer, denormalizer, source)


def load_sentencepiece_model(path: str | Path) -> ModelProto:
    """Read a SentencePiece ``.model`` file from disk."""
    path = Path(path)
    return parse_sentencepiece_model(path.read_bytes(), source=str(path))


def _first_utf8_byte(ch: str) -> int:
    cp = ord(ch)
    if cp < 0x80:
        return cp
    if cp < 0x800:
        return 0xC0 | cp >> 6
    return 0xE0 | cp >> 12 if cp < 0x10000 else 0xF0 | cp >> 18


class PrecompiledCharsmap:
    """The ``precompiled_charsmap`` of a NormalizerSpec: longest-prefix string replacements.

    On disk: a little-endian uint32 byte size of a darts-clone double-array trie, the trie's
    uint32 units, then NUL-terminated replacement strings; a trie value is an offset into them.
    Keys and replacements are UTF-8; ``lookup`` works on one position of a ``bytes`` string.
    """

    def __init__(self, blob: bytes, source: str = "<bytes>") -> None:
        if len(blob) < 4:
            raise SentencePieceModelError(f"{source}: precompiled_charsmap is {len(blob)} bytes")
        trie_size = struct.unpack_from("<I", blob)[0]
        if trie_size % 4 or 4 + trie_size > len(blob):
            raise SentencePieceModelError(
                f"{source}: precompiled_charsmap declares a {trie_size}-byte trie but holds "
                f"{len(blob) - 4} bytes; the normalizer data is corrupt"
            )
        self._units = struct.unpack_from(f"<{trie_size // 4}I", blob, 4)
        self._strings = blob[4 + trie_size :]
        # Bytes that can begin a key: everything else is copied without walking the trie.
        self.first_bytes = frozenset(b for b in range(1, 256) if self._child(0, b) is not None)
        # Per character: (its replacement or None, the first bytes of the next character with
        # which some longer key continues) - so "e" only walks the trie when a mark follows.
        self._char_cache: dict[str, tuple[str | None, frozenset[int]]] = {}

    def _child(self, node: int, label: int) -> int | None:
        units = self._units
        # A unit packs: bits 0-7 label (bit 31 marks a leaf unit), bit 8 has_leaf, and the
        # offset to the children in bits 10-31 (shifted left by 8 more when bit 9 is set).
        unit = units[node]
        child = node ^ ((unit >> 10) << ((unit & 0x200) >> 6)) ^ label
        if child >= len(units) or (units[child] & 0x800000FF) != label:
            return None
        return child

    def _char_entry(self, ch: str) -> tuple[str | None, frozenset[int]]:
        key = ch.encode("utf-8")
        node: int | None = 0
        for byte in key:
            node = self._child(node, byte)
            if node is None:
                entry = (None, frozenset())
                break
        else:
            match = self.lookup(key, 0)
            replacement = match[1].decode("utf-8") if match and match[0] == len(key) else None
            longer = frozenset(b for b in range(1, 256) if self._child(node, b) is not None)
            entry = (replacement, longer)
        self._char_cache[ch] = entry
        return entry

    def normalize(self, text: str) -> str:
        """Replace, left to right, the longest key at each position (else keep the character)."""
        return "".join(self.chunks(text)[1])

    def chunks(self, text: str) -> tuple[list[int], list[str]]:
        """``text`` cut where the table matched: each chunk's start index and its replacement."""
        starts, out, pos, size, cache = [], [], 0, len(text), self._char_cache
        while pos < size:
            ch = text[pos]
            starts.append(pos)
            replacement, longer = cache.get(ch) or self._char_entry(ch)
            if longer and pos + 1 < size and _first_utf8_byte(text[pos + 1]) in longer:
                # Rare: a multi-character key may start here (e.g. a letter + combining mark).
                # Keys are short; 32 characters of context is far more than any key needs.
                window = text[pos : pos + 32].encode("utf-8")
                match = self.lookup(window, 0)
                if match is not None:
                    out.append(match[1].decode("utf-8"))
                    pos += len(window[: match[0]].decode("utf-8"))
                    continue
            out.append(ch if replacement is None else replacement)
            pos += 1
        return starts, out

    def lookup(self, text: bytes, start: int) -> tuple[int, bytes] | None:
        """Longest key at ``text[start:]``: (key length in bytes, replacement) or None."""
        units, node, best = self._units, 0, None
        for pos in range(start, len(text)):
            node = self._child(node, text[pos])
            if node is None:
                break
            unit = units[node]
            if unit & 0x100:  # has_leaf: the value lives in the leaf unit below this node
                leaf = node ^ ((unit >> 10) << ((unit & 0x200) >> 6))
                offset = units[leaf] & 0x7FFFFFFF
                end = self._strings.index(b"\0", offset)
                best = (pos + 1 - start, self._strings[offset:end])
        return best


_CLUSTER = re.compile(r".[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*", re.S)

# What "nmt_nfkc" adds on top of NFKC, read off sentencepiece's precompiled table (Unicode 14
# NFKC vs. the table): C0/C1 control characters are dropped; tab, newlines, invisible format
# characters and U+2581 itself become a plain space; FULLWIDTH TILDE is kept (NFKC gives "~").

_NMT_EXTRA = {
    **{c: "" for c in [*range(0x01, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F, 0x8F, 0x9F]},
    **dict.fromkeys([0x09, 0x0A, 0x0C, 0x0D, 0x061C, 0x1680, 0x200B, 0x200C], " "),
    **dict.fromkeys([0x200E, 0x200F, 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD], " "),
    0xFF5E: "\uff5e",
}


class SentencePieceNormalizer:
    """Text → the normalized string the lattice runs over (``"▁Hello▁world"``).

    ``charsmap`` (the model's precompiled table) is exact. Without one, ``rule`` picks a
    ``unicodedata`` equivalent: for nmt_nfkc it differs from sentencepiece's table only on the
    99 code points newer than Python 3.11's Unicode 14 (measured over every code point); the
    ``*_cf`` rules use ``str.casefold``, which the table does not follow for ß and İ.
    """

    def __init__(
        self,
        rule: str = "nmt_nfkc",
        charsmap: PrecompiledCharsmap | None = None,
        *,
        add_dummy_prefix: bool = True,
        remove_extra_whitespaces: bool = True,
        escape_whitespaces: bool = True,
        treat_whitespace_as_suffix: bool = False,
        protected: Iterable[str] = (),
    ) -> None:
        known = ("identity", "nfkc", "nmt_nfkc", "nfkc_cf", "nmt_nfkc_cf")
        if charsmap is None and rule not in known:
            raise ValueError(
                f"normalization rule {rule!r} needs its precompiled charsmap; "
                f"without one only {', '.join(known)} are available"
            )
        self.rule, self.charsmap = rule, charsmap
        self.add_dummy_prefix = add_dummy_prefix
        self.remove_extra_whitespaces = remove_extra_whitespaces
        self.escape_whitespaces = escape_whitespaces
        self.treat_whitespace_as_suffix = treat_whitespace_as_suffix
        # User-defined symbols pass through unnormalized, longest first (as sentencepiece does).
        protected = sorted(set(protected), key=len, reverse=True)
        self._protected = re.compile("|".join(map(re.escape, protected))) if protected else None

    def _map(self, text: str) -> str:
        if self.charsmap is not None:
            return self.charsmap.normalize(text)
        if self.rule.startswith("nmt_"):
            text = text.translate(_NMT_EXTRA)
        if self.rule != "identity":
            # Split around FULLWIDTH TILDE so NFKC cannot turn the one nmt keeps into "~".
            parts = text.split("\uff5e") if self.rule.startswith("nmt_") else [text]
            text = "\uff5e".join(unicodedata.normalize("NFKC", part) for part in parts)
        return text.casefold() if self.rule.endswith("_cf") else text

    def _map_unprotected(self, text: str) -> str:
        if self._protected is None:
            return self._map(text)
        parts, start = [], 0
        for match in self._protected.finditer(text):
            parts += [self._map(text[start : match.start()]), match.group()]
            start = match.end()
        return "".join([*parts, self._map(text[start:])])

    def __call__(self, text: str) -> str:
        if not text:
            return ""
        text = self._map_unprotected(text)
        if self.remove_extra_whitespaces:
            text = re.sub(" {2,}", " ", text).strip(" ")
            if not text:
                return ""
        if self.add_dummy_prefix:
            text = text + " " if self.treat_whitespace_as_suffix else " " + text
        if self.escape_whitespaces:
            text = text.replace(" ", SPACE)
        if self.remove_extra_whitespaces and not self.treat_whitespace_as_suffix:
            # sentencepiece strips trailing "▁" after escaping, literal "▁" input included.
            text = text.rstrip(SPACE if self.escape_whitespaces else " ")
        return text

    def _chunks(self, text: str, offset: int = 0) -> list[tuple[int, str]]:
        """(start index in ``text`` + offset, replacement) for each piece the rule rewrites."""
        if self.charsmap is not None:
            starts, outs = self.charsmap.chunks(text)
            return [(offset + start, out) for start, out in zip(starts, outs)]
        # unicodedata has no alignment: map character by character, except where a character
        # and the marks after it normalize together (e + U+0301 -> é), which is one chunk.
        chunks = []
        for match in _CLUSTER.finditer(text):
            a, b = match.span()
            whole, parts = self._map(text[a:b]), [self._map(ch) for ch in text[a:b]]
            if whole == "".join(parts):
                chunks += [(offset + a + k, part) for k, part in enumerate(parts)]
            else:
                chunks.append((offset + a, whole))
        if "".join(out for _, out in chunks) != self._map(text):
            # Composition across clusters (Hangul jamo, a few Indic vowels): keep the pieces
            # right and give up on the alignment inside this text.
            return [(offset, self._map(text))] if text else []
        return chunks

    def normalize_with_alignment(self, text: str) -> tuple[str, list[int]]:
        """The normalized string and where each of its characters came from in ``text``.

        ``alignment[i]`` is the index in ``text`` where the source of normalized character
        ``i`` starts, plus one last entry for the end (sentencepiece's ``norm_to_orig``,
        counted in characters): removed text is charged to the piece before it.
        """
        chunks: list[tuple[int, str]] = []
        start = 0
        for match in self._protected.finditer(text) if self._protected else ():
            chunks += self._chunks(text[start : match.start()], start)
            chunks.append((match.start(), match.group()))
            start = match.end()
        chunks += self._chunks(text[start:], start)
        first = 0
        while self.remove_extra_whitespaces and first < len(chunks) and chunks[first][1] == " ":
            first += 1
        if first == len(chunks):
            return "", [len(text) if chunks else 0]
        space = SPACE if self.escape_whitespaces else " "
        out: list[str] = []
        alignment: list[int] = []
        if self.add_dummy_prefix and not self.treat_whitespace_as_suffix:
            out.append(space)
            alignment.append(chunks[first][0])
        is_prev_space = self.remove_extra_whitespaces
        for origin, replacement in chunks[first:]:
            if is_prev_space:
                replacement = replacement.lstrip(" ")
            if replacement:
                out += [space if ch == " " else ch for ch in replacement]
                alignment += [origin] * len(replacement)
                is_prev_space = self.remove_extra_whitespaces and replacement.endswith(" ")
        end = len(text)
        while self.remove_extra_whitespaces and out and out[-1] == space:
            out.pop()
            end = alignment.pop()
        if self.add_dummy_prefix and self.treat_whitespace_as_suffix:
            out.append(space)
            alignment.append(end)
        return "".join(out), [*alignment, end]

    @classmethod
    def from_spec(
        cls,
        spec: NormalizerSpec,
        *,
        treat_whitespace_as_suffix: bool = False,
        protected: Iterable[str] = (),
        use_charsmap: bool = True,
        source: str = "<spec>",
    ) -> SentencePieceNormalizer:
        charsmap = None
        if use_charsmap and spec.precompiled_charsmap:
            charsmap = PrecompiledCharsmap(spec.precompiled_charsmap, source)
        return cls(
            spec.name or "identity",
            charsmap,
            add_dummy_prefix=spec.add_dummy_prefix,
            remove_extra_whitespaces=spec.remove_extra_whitespaces,
            escape_whitespaces=spec.escape_whitespaces,
            treat_whitespace_as_suffix=treat_whitespace_as_suffix,
            protected=protected,
        )
