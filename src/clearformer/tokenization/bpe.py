"""Byte-level BPE: the model stage of GPT-2 / RoBERTa tokenizers (vocab.json + merges.txt).

A pre-tokenized word is turned into bytes, each byte into its printable stand-in character
(``bytes_to_unicode``), and then adjacent symbols are merged, always taking the pair with the
lowest rank in merges.txt first, until no listed pair is left. Results are cached per word.
"""

from __future__ import annotations

import heapq
import json
import os
from pathlib import Path

from .files import write_text_atomic
from .pre_tokenizers import bytes_to_unicode

BpePieces = tuple[tuple[int, ...], tuple[str, ...], tuple[tuple[int, int], ...]]


def load_vocab_json(path: str | os.PathLike) -> dict[str, int]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"BPE vocabulary file not found: {path}")
    try:
        vocab = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{path}, line {err.lineno}, column {err.colno}: not valid JSON ({err.msg}); "
            "vocab.json must be one object mapping token -> id"
        ) from err
    if not isinstance(vocab, dict) or not all(isinstance(v, int) for v in vocab.values()):
        raise ValueError(f"{path}: vocab.json must be one JSON object mapping token -> integer id")
    return vocab


def load_merges_txt(path: str | os.PathLike) -> list[tuple[str, str]]:
    """Read merges.txt: an optional '#version' line, then one 'left right' pair per line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"BPE merges file not found: {path}")
    merges = []
    with open(path, encoding="utf-8", newline="\n") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if (lineno == 1 and line.startswith("#version")) or not line:
                continue
            parts = line.split(" ")
            if len(parts) != 2 or not parts[0] or not parts[1]:
                raise ValueError(
                    f"{path}, line {lineno}: expected two tokens separated by one space ('left right'), got {line!r}"
                )
            merges.append((parts[0], parts[1]))
    return merges


class BPE:
    """Rank-ordered merges over byte characters."""

    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]]) -> None:
        self.vocab = vocab
        self.ids_to_tokens = {i: t for t, i in vocab.items()}
        self.merges = merges
        self.merge_ranks = {pair: rank for rank, pair in enumerate(merges)}
        for rank, (a, b) in enumerate(merges):
            if a + b not in vocab:
                raise ValueError(
                    f"merge #{rank + 1} ({a!r} {b!r}) produces {a + b!r}, which is not in the "
                    "vocabulary; vocab.json and merges.txt do not belong together"
                )
        self.byte_encoder = bytes_to_unicode()
        self._byte_strings = [self.byte_encoder[b] for b in range(256)]
        self._cache: dict[str, BpePieces] = {}

    @classmethod
    def from_files(cls, vocab_file: str | os.PathLike, merges_file: str | os.PathLike) -> BPE:
        return cls(load_vocab_json(vocab_file), load_merges_txt(merges_file))

    def merge_word(self, symbols: list[str]) -> list[str]:
        """Apply merges to one word's symbols, lowest rank first; equal ranks leftmost first.

        A heap of (rank, position) over adjacent pairs and a linked list of symbols make this
        O(n log n) in the word's length (a rescan per merge was quadratic: 200k letters took
        85 s). Heap entries are never removed when a merge makes them stale; they are checked
        and skipped when popped. Leftmost-first for one rank is what the reference does for
        overlapping pairs ("aaa" -> "aa" "a").
        """
        n = len(symbols)
        if n < 2:
            return symbols
        ranks = self.merge_ranks
        symbols = list(symbols)
        nxt = list(range(1, n + 1))  # nxt[i] == n: the last symbol
        prv = list(range(-1, n - 1))
        heap = [
            (rank, i, symbols[i], symbols[i + 1])
            for i in range(n - 1)
            if (rank := ranks.get((symbols[i], symbols[i + 1]))) is not None
        ]
        heapq.heapify(heap)
        while heap:
            rank, i, left, right = heapq.heappop(heap)
            j = nxt[i]
            # stale: i was merged into its left neighbour, or i or its right neighbour grew
            if symbols[i] != left or j >= n or symbols[j] != right:
                continue
            symbols[i] = merged = left + right
            symbols[j] = ""  # consumed; an empty symbol never matches a heap entry again
            nxt[i] = k = nxt[j]
            if k < n:
                prv[k] = i
            if (p := prv[i]) >= 0 and (r := ranks.get((symbols[p], merged))) is not None:
                heapq.heappush(heap, (r, p, symbols[p], merged))
            if k < n and (r := ranks.get((merged, symbols[k]))) is not None:
                heapq.heappush(heap, (r, i, merged, symbols[k]))
        return [s for s in symbols if s]

    def _split(self, word: str) -> BpePieces:
        symbols = [self._byte_strings[b] for b in word.encode("utf-8")]
        pieces = self.merge_word(symbols)
        ids, offsets, pos = [], [], 0
        for piece in pieces:
            token_id = self.vocab.get(piece)
            if token_id is None:
                raise ValueError(
                    f"byte-level symbol {piece!r} is not in the vocabulary; a byte-level BPE "
                    "vocabulary must contain all 256 byte characters"
                )
            ids.append(token_id)
            offsets.append((pos, pos + len(piece)))
            pos += len(piece)
        return tuple(ids), tuple(pieces), tuple(offsets)

    def tokenize_word(self, word: str) -> BpePieces:
        """(ids, tokens, *byte* offsets inside ``word``'s UTF-8 encoding) for one word."""
        hit = self._cache.get(word)
        if hit is None:
            if len(self._cache) > 200_000:
                self._cache.clear()
            hit = self._cache[word] = self._split(word)
        return hit

    def __getstate__(self) -> dict:
        # caches are rebuilt on demand; leaving them out keeps pickles small and makes a
        # tokenizer's pickle (datasets' map fingerprint) the same before and after use
        return {k: v for k, v in self.__dict__.items() if k != "_cache"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._cache = {}

    def token_to_id(self, token: str) -> int | None:
        return self.vocab.get(token)

    def id_to_token(self, index: int) -> str | None:
        return self.ids_to_tokens.get(index)

    def save(self, folder: str | os.PathLike) -> list[str]:
        folder = Path(folder)
        vocab_path, merges_path = folder / "vocab.json", folder / "merges.txt"
        merges = "".join(["#version: 0.2\n", *(f"{a} {b}\n" for a, b in self.merges)])
        return [
            write_text_atomic(vocab_path, json.dumps(self.vocab, ensure_ascii=False) + "\n"),
            write_text_atomic(merges_path, merges),
        ]

    def to_dict(self) -> dict:
        return {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "",
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": self.vocab,
            "merges": [[a, b] for a, b in self.merges],
        }
