"""The Unigram language-model tokenizer (SentencePiece's default model; T5, XLNet, ALBERT, Marian).

Pieces, ids and decoded text must equal ``sentencepiece.SentencePieceProcessor`` for a ``.model``
file, and the ``tokenizers`` Unigram model for a ``tokenizer.json``: the same normalization, the
same Viterbi best path (ties included; float32 sums like sentencepiece, float64 like tokenizers),
unknown runs merged into one piece or spelled as bytes.
"""

from __future__ import annotations

import base64
import json
import math
import re
import warnings
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from clearformer.tokenization.files import write_text_atomic
from clearformer.tokenization.sentencepiece_model import (
    SPACE,
    PieceType,
    PrecompiledCharsmap,
    SentencePieceNormalizer,
    SentencePieceProto,
    load_sentencepiece_model,
)

__all__ = ["SPACE", "SentencePieceNormalizer", "UnigramEncoding", "UnigramModel"]

UNK_PENALTY = 10.0  # an unknown character costs 10 nats more than the rarest piece
_FLT_MIN = 1.1754943508222875e-38
SCORINGS = ("sentencepiece", "tokenizers")
_BYTE_PIECE = re.compile(r"<0x([0-9A-F]{2})>")


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
        scoring: str = "sentencepiece",
    ) -> None:
        if scoring not in SCORINGS:
            raise ValueError(f"scoring={scoring!r}; expected one of {SCORINGS}")
        self.pieces = list(pieces)
        self.scoring = scoring
        self.normalizer = normalizer
        self.settings = _Settings(unk_id, byte_fallback, unk_surface)
        if unk_id is not None and not 0 <= unk_id < len(self.pieces):
            raise ValueError(f"unk_id={unk_id} is outside the vocabulary (0..{len(pieces) - 1})")
        self._piece_to_id = {p.piece: i for i, p in enumerate(self.pieces)}
        # The score range: sentencepiece looks at NORMAL pieces only, tokenizers at all.
        normal = [p.score for p in self.pieces if p.type == PieceType.NORMAL or scoring == "tokenizers"]
        # sentencepiece's running maximum starts at FLT_MIN (the smallest *positive* float), so
        # with the usual all-negative scores max_score is FLT_MIN and a user-defined piece
        # scores about -0.1.
        self.min_score = min(normal, default=0.0)
        self.max_score = max([_FLT_MIN, *normal])
        self._unk_score = self._round(self.min_score - UNK_PENALTY)
        self._build_matcher()
        self._word_cache: dict[str, tuple] = {}
        self._byte_ids: dict[int, int] = {}
        if byte_fallback:
            for i, p in enumerate(self.pieces):
                match = _BYTE_PIECE.fullmatch(p.piece)
                if p.type == PieceType.BYTE and match:
                    self._byte_ids[int(match.group(1), 16)] = i
            if len(self._byte_ids) != 256:
                raise ValueError(f"byte_fallback needs the 256 pieces <0x00>..<0xFF>; found {len(self._byte_ids)}")

    def _round(self, value: float) -> float:
        return array(self._float_type, [value])[0]

    @property
    def _float_type(self) -> str:
        # sentencepiece adds path scores in float32, the tokenizers library in float64; the
        # rounding decides near-ties, so each format is scored the way its own library does.
        return "f" if self.scoring == "sentencepiece" else "d"

    def _build_matcher(self) -> None:
        # sentencepiece matches only NORMAL and USER_DEFINED pieces in text (UNUSED ones are in
        # its trie but skipped: the same as leaving them out); tokenizers matches every piece.
        self._matchable: dict[str, tuple[int, float]] = {}
        for i, p in enumerate(self.pieces):
            if p.type == PieceType.NORMAL or self.scoring == "tokenizers":
                self._matchable[p.piece] = (i, p.score)
            elif p.type == PieceType.USER_DEFINED:
                # sentencepiece scores a user-defined symbol as its length in UTF-8 bytes times
                # the best piece score, minus 0.1 (about -0.1 in practice; see max_score).
                score = len(p.piece.encode("utf-8")) * self.max_score - 0.1
                self._matchable[p.piece] = (i, self._round(score))
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
            raise ValueError(f"{path} has no Unigram model section (model.type={model.get('type')})")
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
            pieces.append(SentencePieceProto(piece, float(score), kind))
        normalizer = _normalizer_from_json(data.get("normalizer"), data.get("pre_tokenizer"))
        return cls(pieces, normalizer, unk_id=unk_id, byte_fallback=byte_fallback, scoring="tokenizers")

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
        f32 = array(self._float_type, [0.0])  # each sum rounded as the reference library does
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
        a run of unknown characters is one piece (its text), or its UTF-8 bytes as
        ``<0xNN>`` pieces with byte fallback."""
        unk_id, out = self.settings.unk_id, []
        prev_unknown = False
        for start, end, index in self.viterbi(normalized):
            if index == -1:
                raise ValueError(f"{normalized[start:end]!r} is not in the vocabulary and the model has no unk piece")
            is_unknown = index == unk_id
            if is_unknown and prev_unknown:  # both libraries fuse a run of unknowns
                out[-1] = (out[-1][0] + normalized[start:end], index, out[-1][2], end)
            else:
                out.append((normalized[start:end], index, start, end))
            prev_unknown = is_unknown
        if self.scoring == "tokenizers":
            # tokenizers looks every fused string up again: a literal "<unk>" in the text is
            # that piece, not an unknown character (so it gets no byte fallback).
            lookup = self._piece_to_id
            out = [(p, lookup.get(p, i) if i == unk_id else i, a, b) for p, i, a, b in out]
        if self.settings.byte_fallback and unk_id is not None:
            out = [span for item in out for span in self._as_bytes(item, normalized)]
        return out

    def _as_bytes(self, item: tuple[str, int, int, int], normalized: str):
        piece, index, start, end = item
        if index != self.settings.unk_id or (self.scoring == "tokenizers" and piece in self._piece_to_id):
            return [item]
        if self.scoring == "tokenizers":  # every byte carries the whole unknown run's span
            return [
                (self.pieces[self._byte_ids[b]].piece, self._byte_ids[b], start, end) for b in piece.encode("utf-8")
            ]
        # sentencepiece: a character's bytes are empty spans at its start but the last one,
        # which covers the character.
        out = []
        for k in range(start, end):
            data = normalized[k].encode("utf-8")
            for j, byte in enumerate(data):
                byte_id = self._byte_ids[byte]
                out.append((self.pieces[byte_id].piece, byte_id, k, k + 1 if j == len(data) - 1 else k))
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

    # --------------------------------------------- the model stage of tokenization.Pipeline
    def tokenize_word(self, word: str) -> tuple[tuple[int, ...], tuple[str, ...], tuple[tuple[int, int], ...]]:
        """(ids, pieces, character offsets in ``word``) for one normalized, pre-tokenized word
        (e.g. ``"▁Hello"`` from a Metaspace pre-tokenizer); no normalization happens here."""
        hit = self._word_cache.get(word)
        if hit is None:
            if len(self._word_cache) > 200_000:
                self._word_cache.clear()
            spans = self._encode_spans(word)
            hit = self._word_cache[word] = (
                tuple(span[1] for span in spans),
                tuple(span[0] for span in spans),
                tuple((span[2], span[3]) for span in spans),
            )
        return hit

    def token_to_id(self, token: str) -> int | None:
        return self._piece_to_id.get(token)

    def id_to_token(self, index: int) -> str | None:
        return self.pieces[index].piece if 0 <= index < len(self.pieces) else None

    def to_dict(self) -> dict:
        """The ``"model"`` section of a tokenizer.json."""
        return {
            "type": "Unigram",
            "unk_id": self.settings.unk_id,
            "vocab": [[p.piece, p.score] for p in self.pieces],
            "byte_fallback": self.settings.byte_fallback,
        }

    def save(self, folder: str | Path) -> list[str]:
        path = Path(folder) / "unigram.json"
        return [write_text_atomic(path, json.dumps(self.to_dict(), ensure_ascii=False))]

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
                raise IndexError(f"id {index} is outside the vocabulary (0..{len(self.pieces) - 1})")
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
    """The SentencePieceNormalizer that a tokenizer.json's normalizer + Metaspace describe."""
    rule, charsmap, extra_spaces = "identity", None, False
    steps = [normalizer] if normalizer else []
    while steps:
        step = steps.pop(0)
        kind = step.get("type")
        if kind == "Sequence":
            steps = list(step.get("normalizers", [])) + steps
        elif kind == "Precompiled" and step.get("precompiled_charsmap"):
            blob = base64.b64decode(step["precompiled_charsmap"])
            charsmap, rule = PrecompiledCharsmap(blob, "tokenizer.json"), "precompiled"
        elif kind == "Replace" and step.get("content") == " ":
            extra_spaces = True  # the " {2,}" -> " " rule of converted sentencepiece models
        elif kind == "NFKC":
            rule = "nfkc"
        elif kind != "Precompiled":
            warnings.warn(
                f"tokenizer.json normalizer step {kind!r} is not applied by UnigramModel.encode; "
                "normalize with the pipeline's own normalizer and call tokenize_word",
                stacklevel=3,
            )
    dummy_prefix = True
    steps = [pre_tokenizer] if pre_tokenizer else []
    while steps:
        step = steps.pop(0)
        if step.get("type") == "Sequence":
            steps = list(step.get("pretokenizers", [])) + steps
        elif step.get("type") == "Metaspace":
            dummy_prefix = step.get("prepend_scheme", "always") != "never"
    return SentencePieceNormalizer(rule, charsmap, add_dummy_prefix=dummy_prefix, remove_extra_whitespaces=extra_spaces)
