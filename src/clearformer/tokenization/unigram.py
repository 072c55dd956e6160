"""The Unigram language-model tokenizer (SentencePiece's default model; T5, XLNet, ALBERT, Marian).

Pieces, ids and decoded text must equal ``sentencepiece.SentencePieceProcessor`` for a ``.model``
file, and the ``tokenizers`` Unigram model for a ``tokenizer.json``: the same normalization, the
same Viterbi best path (ties and float32 sums included), unknown runs merged or byte fallback.
"""

from __future__ import annotations

import base64
import json
import math
import re
import struct
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from clearformer.tokenization.sentencepiece_model import (
    NormalizerSpec,
    PieceType,
    PrecompiledCharsmap,
    SentencePieceProto,
    load_sentencepiece_model,
)

__all__ = ["SPACE", "SentencePieceNormalizer", "UnigramEncoding", "UnigramModel"]

SPACE = "\u2581"  # "▁": how SentencePiece writes a space inside a piece
UNK_PENALTY = 10.0  # an unknown character costs 10 nats more than the rarest piece
_FLT_MIN = 1.1754943508222875e-38
_BYTE_PIECE = re.compile(r"<0x([0-9A-F]{2})>")
_CLUSTER = re.compile(
    r".[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*", re.S
)

# What "nmt_nfkc" adds on top of NFKC, read off sentencepiece's precompiled table (Unicode 14
# NFKC vs. the table): C0/C1 control characters are dropped; tab, newlines, invisible format
# characters and U+2581 itself become a plain space; FULLWIDTH TILDE is kept (NFKC gives "~").
_NMT_EXTRA = {
    **{c: "" for c in [*range(0x01, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F, 0x8F, 0x9F]},
    **dict.fromkeys([0x09, 0x0A, 0x0C, 0x0D, 0x061C, 0x1680, 0x200B, 0x200C], " "),
    **dict.fromkeys([0x200E, 0x200F, 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD], " "),
    0xFF5E: "\uff5e",
}


def _float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


class SentencePieceNormalizer:
    """Text → the normalized string the lattice runs over (``"▁Hello▁world"``).

    ``charsmap`` (the model's precompiled table) is exact. Without one, ``rule`` picks a
    ``unicodedata`` equivalent; it differs from sentencepiece's table only on characters newer
    than Python's Unicode version and on combining sequences the table does not list.
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


class UnigramEncoding(NamedTuple):
    ids: list[int]
    pieces: list[str]
    offsets: list[tuple[int, int]]


@dataclass
class _Settings:
    unk_id: int | None
    byte_fallback: bool
    unk_surface: str = " \u2047 "


class UnigramModel:
    """Viterbi segmentation over scored pieces, with SentencePiece's encode/decode conventions.

    Build with :meth:`from_sentencepiece` (a ``.model`` file) or :meth:`from_tokenizer_json`.
    ``encode_to_pieces`` and ``encode`` take raw text and normalize it first.
    """

    def __init__(
        self,
        pieces: Sequence[SentencePieceProto],
        normalizer: SentencePieceNormalizer,
        *,
        unk_id: int | None,
        byte_fallback: bool = False,
        unk_surface: str = " \u2047 ",
    ) -> None:
        self.pieces = list(pieces)
        self.normalizer = normalizer
        self.settings = _Settings(unk_id, byte_fallback, unk_surface)
        if unk_id is not None and not 0 <= unk_id < len(self.pieces):
            raise ValueError(f"unk_id={unk_id} is outside the vocabulary (0..{len(pieces) - 1})")
        self._piece_to_id = {p.piece: i for i, p in enumerate(self.pieces)}
        normal = [p.score for p in self.pieces if p.type == PieceType.NORMAL]
        # sentencepiece keeps these in float32; so do we, so the same paths win. Its running
        # maximum starts at FLT_MIN (the smallest *positive* float), so with the usual all-
        # negative scores max_score is FLT_MIN and a user-defined piece scores about -0.1.
        self.min_score = min(normal, default=0.0)
        self.max_score = max([_FLT_MIN, *normal])
        self._unk_score = _float32(self.min_score - UNK_PENALTY)
        self._build_matcher()
        self._byte_ids: dict[int, int] = {}
        if byte_fallback:
            for i, p in enumerate(self.pieces):
                match = _BYTE_PIECE.fullmatch(p.piece)
                if p.type == PieceType.BYTE and match:
                    self._byte_ids[int(match.group(1), 16)] = i
            if len(self._byte_ids) != 256:
                raise ValueError(
                    "byte_fallback needs the 256 pieces <0x00>..<0xFF>; "
                    f"found {len(self._byte_ids)}"
                )

    def _build_matcher(self) -> None:
        # Only NORMAL and USER_DEFINED pieces can be matched in text; UNUSED ones are in
        # sentencepiece's trie but skipped, which is the same as leaving them out.
        self._matchable: dict[str, tuple[int, float]] = {}
        for i, p in enumerate(self.pieces):
            if p.type == PieceType.NORMAL:
                self._matchable[p.piece] = (i, p.score)
            elif p.type == PieceType.USER_DEFINED:
                # sentencepiece scores a user-defined symbol as its length in UTF-8 bytes times
                # the best piece score, minus 0.1 (about -0.1 in practice; see max_score).
                score = len(p.piece.encode("utf-8")) * self.max_score - 0.1
                self._matchable[p.piece] = (i, _float32(score))
        # One dict answers both "is this a piece?" (id, score) and "can a piece start like
        # this?" (None), so the lattice stops growing a candidate at the first dead end.
        self._lattice: dict[str, tuple[int, float] | None] = dict.fromkeys(
            (k[:n] for k in self._matchable for n in range(1, len(k))), None
        )
        self._lattice.update(self._matchable)
        self._max_len = max(map(len, self._matchable), default=1)

    # ----------------------------------------------------------------------------- loading
    @classmethod
    def from_sentencepiece(cls, path: str | Path, *, use_charsmap: bool = True) -> UnigramModel:
        """Load a SentencePiece ``.model`` file (model_type must be unigram)."""
        proto = load_sentencepiece_model(path)
        spec = proto.trainer_spec
        if spec.model_type != "unigram":
            raise ValueError(
                f"{path} is a SentencePiece {spec.model_type!r} model; UnigramModel reads only "
                f"model_type='unigram' files"
            )
        protected = [p.piece for p in proto.pieces if p.type == PieceType.USER_DEFINED]
        normalizer = SentencePieceNormalizer.from_spec(
            proto.normalizer_spec,
            treat_whitespace_as_suffix=spec.treat_whitespace_as_suffix,
            protected=protected,
            use_charsmap=use_charsmap,
            source=str(path),
        )
        unk_ids = [i for i, p in enumerate(proto.pieces) if p.type == PieceType.UNKNOWN]
        return cls(
            proto.pieces,
            normalizer,
            unk_id=unk_ids[0] if unk_ids else None,
            byte_fallback=spec.byte_fallback,
            unk_surface=spec.unk_surface,
        )

    @classmethod
    def from_tokenizer_json(cls, path: str | Path) -> UnigramModel:
        """Load the ``"model": {"type": "Unigram", ...}`` section of a ``tokenizer.json``.

        Piece types are not stored there, so they are rebuilt: ``unk_id`` is UNKNOWN, added
        special tokens are CONTROL, ``<0xNN>`` pieces are BYTE when ``byte_fallback`` is on.
        A ``Precompiled`` normalizer supplies the charsmap; a ``Metaspace`` pre-tokenizer
        with ``prepend_scheme`` "never" turns the dummy prefix off.
        """
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        model = data.get("model", data)
        if model.get("type") != "Unigram" or "vocab" not in model:
            raise ValueError(
                f"{path} has no Unigram model section (model.type={model.get('type')})"
            )
        byte_fallback = bool(model.get("byte_fallback", False))
        unk_id = model.get("unk_id")
        specials = {t["content"] for t in data.get("added_tokens", []) if t.get("special")}
        pieces = []
        for i, (piece, score) in enumerate(model["vocab"]):
            kind = PieceType.NORMAL
            if i == unk_id:
                kind = PieceType.UNKNOWN
            elif piece in specials:
                kind = PieceType.CONTROL
            elif byte_fallback and _BYTE_PIECE.fullmatch(piece):
                kind = PieceType.BYTE
            pieces.append(SentencePieceProto(piece, _float32(score), kind))
        normalizer = _normalizer_from_json(data.get("normalizer"), data.get("pre_tokenizer"))
        return cls(pieces, normalizer, unk_id=unk_id, byte_fallback=byte_fallback)

    # ---------------------------------------------------------------------------- vocabulary
    @property
    def vocab_size(self) -> int:
        return len(self.pieces)

    def get_vocab(self) -> dict[str, int]:
        return dict(self._piece_to_id)

    def piece_to_id(self, piece: str) -> int:
        """The id of ``piece``; unknown pieces give ``unk_id`` (as sentencepiece does)."""
        found = self._piece_to_id.get(piece, self.settings.unk_id)
        if found is None:
            raise KeyError(f"piece {piece!r} is not in the vocabulary and there is no unk_id")
        return found

    def id_to_piece(self, index: int) -> str:
        if not 0 <= index < len(self.pieces):
            raise IndexError(f"id {index} is outside the vocabulary (0..{len(self.pieces) - 1})")
        return self.pieces[index].piece

    # ------------------------------------------------------------------------------ encoding
    def viterbi(self, normalized: str) -> list[tuple[int, int, int]]:
        """Best segmentation of an already-normalized string as (start, end, id) triples.

        Forward pass in the order sentencepiece uses (start ascending, then length ascending,
        a later candidate only wins when strictly better), so equal-score ties agree.
        """
        size, lattice, max_len = len(normalized), self._lattice, self._max_len
        best = [0.0] + [-math.inf] * size  # best path score ending at each position
        back: list[tuple[int, int]] = [(0, -1)] * (size + 1)  # (start, id) of the last piece
        unk = -1 if self.settings.unk_id is None else self.settings.unk_id
        f32 = array("f", [0.0])  # sums are rounded to float32, as sentencepiece adds floats
        for start in range(size):
            base, has_single = best[start], False
            for end in range(start + 1, min(size, start + max_len) + 1):
                entry = lattice.get(normalized[start:end], False)
                if entry is False:  # no piece starts with this text: stop growing
                    break
                if entry is None:  # only a prefix of longer pieces
                    continue
                f32[0] = base + entry[1]
                if f32[0] > best[end]:
                    best[end], back[end] = f32[0], (start, entry[0])
                has_single = has_single or end == start + 1
            if not has_single:
                f32[0] = base + self._unk_score
                if f32[0] > best[start + 1]:
                    best[start + 1], back[start + 1] = f32[0], (start, unk)
        path, end = [], size
        while end > 0:
            start, index = back[end]
            path.append((start, end, index))
            end = start
        return path[::-1]

    def _encode_spans(self, normalized: str) -> list[tuple[str, int, int, int]]:
        """(piece, id, start, end) with start/end in ``normalized``, after unknown handling:
        an unknown run's piece is its text; byte-fallback pieces share their character's
        span, which only the character's last byte covers (as sentencepiece reports it)."""
        unk_id, out = self.settings.unk_id, []
        prev_unknown = False
        for start, end, index in self.viterbi(normalized):
            surface = normalized[start:end]
            is_unknown = index == unk_id or index == -1
            if index == -1:
                raise ValueError(
                    f"{surface!r} is not in the vocabulary and the model has no unk piece"
                )
            if is_unknown and self.settings.byte_fallback:
                for k in range(start, end):
                    data = normalized[k].encode("utf-8")
                    for j, byte in enumerate(data):
                        byte_id = self._byte_ids[byte]
                        last = j == len(data) - 1
                        out.append((self.pieces[byte_id].piece, byte_id, k, k + 1 if last else k))
            elif is_unknown and prev_unknown:
                # sentencepiece merges a run of unknown characters into one unknown piece.
                piece, _, begin, _ = out[-1]
                out[-1] = (piece + surface, index, begin, end)
            else:
                out.append((surface, index, start, end))
            prev_unknown = is_unknown and not self.settings.byte_fallback
        return out

    def encode_to_pieces(self, text: str) -> list[str]:
        """Pieces as ``SentencePieceProcessor.encode(text, out_type=str)`` returns them."""
        return [span[0] for span in self._encode_spans(self.normalizer(text))]

    def encode(self, text: str) -> list[int]:
        return [span[1] for span in self._encode_spans(self.normalizer(text))]

    def encode_with_offsets(self, text: str) -> UnigramEncoding:
        """Ids, pieces and (start, end) character offsets into ``text``, as sentencepiece's
        ``encode(text, return_type="offset_mapping")`` gives them: the dummy-prefix "▁" is
        empty, removed characters (extra spaces, controls) belong to the piece before them.
        (The ``tokenizers`` library reports some of these spans differently.)"""
        normalized, alignment = self.normalizer.normalize_with_alignment(text)
        spans = self._encode_spans(normalized)
        return UnigramEncoding(
            [span[1] for span in spans],
            [span[0] for span in spans],
            [(alignment[span[2]], alignment[span[3]]) for span in spans],
        )

    # ------------------------------------------------------------------------------ decoding
    def decode(self, ids: Iterable[int]) -> str:
        """Ids → text: control pieces vanish, byte runs are re-assembled as UTF-8 (bad bytes
        become U+FFFD), unknown ids print as ``unk_surface``, and the dummy-prefix space of
        the first piece is dropped."""
        parts: list[str] = []
        pending = bytearray()
        strip_first = self.normalizer.add_dummy_prefix or self.normalizer.remove_extra_whitespaces
        at_start = True

        def emit(piece: str, is_text: bool) -> None:
            nonlocal at_start
            if at_start and is_text and strip_first and piece.startswith(SPACE):
                piece = piece[1:]
            parts.append(piece.replace(SPACE, " ") if is_text else piece)
            at_start = False  # only the first non-control piece loses its dummy prefix

        for index in ids:
            piece = self.pieces[index] if 0 <= index < len(self.pieces) else None
            if piece is None:
                raise IndexError(
                    f"id {index} is outside the vocabulary (0..{len(self.pieces) - 1})"
                )
            if piece.type == PieceType.BYTE:
                pending.append(int(piece.piece[3:5], 16))
                continue
            if pending:
                emit(_decode_bytes(pending), True)
                pending.clear()
            if piece.type == PieceType.CONTROL:
                continue
            if piece.type == PieceType.UNKNOWN:
                emit(self.settings.unk_surface, False)
            else:
                emit(piece.piece, True)
        if pending:
            emit(_decode_bytes(pending), True)
        return "".join(parts)

    def decode_pieces(self, pieces: Iterable[str]) -> str:
        return self.decode(self.piece_to_id(p) for p in pieces)


def _decode_bytes(data: bytes) -> str:
    """UTF-8 decode with one U+FFFD per bad *byte*, as sentencepiece does (Python's "replace"
    gives one per bad sequence, so b"\\xe7\\x90" would print one U+FFFD instead of two)."""
    out, pos = [], 0
    while pos < len(data):
        try:
            out.append(data[pos:].decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            out.append(data[pos : pos + exc.start].decode("utf-8") + "\ufffd")
            pos += exc.start + 1
    return "".join(out)


def _normalizer_from_json(normalizer: dict | None, pre_tokenizer: dict | None):
    """The SentencePieceNormalizer a tokenizer.json's normalizer + Metaspace describe."""
    charsmap, extra_spaces = None, False
    steps = [normalizer] if normalizer else []
    while steps:
        step = steps.pop(0)
        if step.get("type") == "Sequence":
            steps = list(step.get("normalizers", [])) + steps
        elif step.get("type") == "Precompiled" and step.get("precompiled_charsmap"):
            blob = base64.b64decode(step["precompiled_charsmap"])
            charsmap = PrecompiledCharsmap(blob, "tokenizer.json")
        elif step.get("type") == "Replace" and step.get("content") == " ":
            extra_spaces = True  # the " {2,}" -> " " rule of converted sentencepiece models
    dummy_prefix = True
    steps = [pre_tokenizer] if pre_tokenizer else []
    while steps:
        step = steps.pop(0)
        if step.get("type") == "Sequence":
            steps = list(step.get("pretokenizers", [])) + steps
        elif step.get("type") == "Metaspace":
            dummy_prefix = step.get("prepend_scheme", "always") != "never"
    return SentencePieceNormalizer(
        "identity" if charsmap is None else "precompiled",
        charsmap,
        add_dummy_prefix=dummy_prefix,
        remove_extra_whitespaces=extra_spaces,
    )
