"""WordPiece: the model stage of BERT-family tokenizers (vocab.txt, greedy longest match).

A word is cut left to right into the longest pieces found in the vocabulary; every piece but the
first carries the ``##`` prefix. If any position cannot be matched, or the word is longer than
``max_input_chars_per_word`` characters (characters, not bytes, as in the reference), the whole
word becomes the unknown token.
"""

from __future__ import annotations

import os
from pathlib import Path

from .files import write_text_atomic

WordPieces = tuple[tuple[int, ...], tuple[str, ...], tuple[tuple[int, int], ...]]


def load_vocab_txt(path: str | os.PathLike) -> dict[str, int]:
    """Read a vocab.txt (one token per line, id = line number from 0) with line-precise errors."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"WordPiece vocabulary file not found: {path}")
    vocab: dict[str, int] = {}
    with open(path, encoding="utf-8", newline="\n") as f:
        try:
            lines = f.read().split("\n")
        except UnicodeDecodeError as err:
            raise ValueError(f"{path}: not valid UTF-8 ({err}); a vocab.txt is UTF-8 text") from err
    if lines and lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, start=1):
        token = line.rstrip("\r")
        if not token.strip():
            raise ValueError(
                f"{path}, line {lineno}: empty token; vocab.txt must hold one token per line "
                "(id = line number - 1), with no blank lines"
            )
        vocab.setdefault(token, lineno - 1)
    if not vocab:
        raise ValueError(f"{path}: the vocabulary is empty")
    return vocab


class WordPiece:
    """Greedy longest-match-first subword model with a per-word cache."""

    def __init__(
        self,
        vocab: dict[str, int],
        unk_token: str = "[UNK]",
        continuing_subword_prefix: str = "##",
        max_input_chars_per_word: int = 100,
    ) -> None:
        self.vocab = vocab
        self.ids_to_tokens = {i: t for t, i in vocab.items()}
        self.unk_token = unk_token
        self.prefix = continuing_subword_prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        # no piece is longer than the longest vocabulary entry, so the longest-match search
        # starts there instead of at the word's end: linear in the word, not quadratic
        self.max_piece_chars = max(map(len, vocab), default=0)
        self._cache: dict[str, WordPieces] = {}

    @classmethod
    def from_file(cls, vocab_file: str | os.PathLike, **kwargs) -> WordPiece:
        return cls(load_vocab_txt(vocab_file), **kwargs)

    def _unknown(self, word: str) -> WordPieces:
        if self.unk_token not in self.vocab:
            raise ValueError(
                f"word {word[:40]!r} cannot be split into WordPiece tokens and the unknown token "
                f"{self.unk_token!r} is not in the vocabulary"
            )
        return (self.vocab[self.unk_token],), (self.unk_token,), ((0, len(word)),)

    def _split(self, word: str) -> WordPieces:
        if len(word) > self.max_input_chars_per_word:
            return self._unknown(word)
        vocab, prefix = self.vocab, self.prefix
        ids, tokens, offsets = [], [], []
        start, n = 0, len(word)
        while start < n:
            end = min(n, start + self.max_piece_chars)
            while end > start:
                piece = word[start:end] if start == 0 else prefix + word[start:end]
                token_id = vocab.get(piece)
                if token_id is not None:
                    break
                end -= 1
            else:
                return self._unknown(word)
            ids.append(token_id)
            tokens.append(piece)
            offsets.append((start, end))
            start = end
        return tuple(ids), tuple(tokens), tuple(offsets)

    def tokenize_word(self, word: str) -> WordPieces:
        """(ids, tokens, character offsets inside ``word``) for one pre-tokenized word."""
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
        path = Path(folder) / "vocab.txt"
        ordered = sorted(self.vocab.items(), key=lambda kv: kv[1])
        return [write_text_atomic(path, "".join(token + "\n" for token, _ in ordered))]

    def to_dict(self) -> dict:
        return {
            "type": "WordPiece",
            "unk_token": self.unk_token,
            "continuing_subword_prefix": self.prefix,
            "max_input_chars_per_word": self.max_input_chars_per_word,
            "vocab": self.vocab,
        }
