"""Read SentencePiece ``.model`` files (a serialized ``ModelProto``) without protobuf.

Only the protobuf wire format is decoded here; the field numbers and the proto2 defaults of
absent fields must match what ``sentencepiece`` itself reads, so that ``UnigramModel`` built
from this file encodes exactly like ``sentencepiece.SentencePieceProcessor``.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ModelProto",
    "NormalizerSpec",
    "PieceType",
    "PrecompiledCharsmap",
    "SentencePieceModelError",
    "SentencePieceProto",
    "TrainerSpec",
    "load_sentencepiece_model",
    "parse_sentencepiece_model",
]


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
    missing = [
        name
        for num, name in ((1, "pieces"), (2, "trainer_spec"), (3, "normalizer_spec"))
        if num not in seen
    ]
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
