"""Train WordPiece (BERT) and byte-level BPE (GPT-2) vocabularies from an iterator of texts.

Both follow the ``tokenizers`` library's BpeTrainer: special tokens first, then the alphabet in
code-point order, then one token per merge of the most frequent adjacent pair (ties: the pair
of smallest ids). Results save as ``vocab.txt`` or ``vocab.json`` + ``merges.txt``.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from clearformer.tokenization.files import write_text_atomic
from clearformer.tokenization.normalizers import BertNormalizer
from clearformer.tokenization.pre_tokenizers import BERT_SPLIT, GPT2_SPLIT, bytes_to_unicode

__all__ = [
    "BpeTrainingResult",
    "ByteLevelBPETrainer",
    "WordPieceTrainer",
    "WordPieceTrainingResult",
    "train_bpe_merges",
]


# Pre-tokenization comes from the shared pipeline stages, so a trained vocabulary sees words
# exactly as the BERT / GPT-2 tokenizers will split them later.
@lru_cache(maxsize=2)
def _bert_normalizer(lowercase: bool) -> BertNormalizer:
    return BertNormalizer(lowercase=lowercase)  # cached: it memoizes per-character work


def _bert_words(text: str, lowercase: bool = True) -> list[str]:
    """BERT's basic tokenizer: clean text, space out CJK, strip accents + lowercase, split."""
    normalized, _ = _bert_normalizer(lowercase).normalize(text)
    return BERT_SPLIT.findall(normalized)


def _byte_level_words(text: str, add_prefix_space: bool = False) -> list[str]:
    """GPT-2's regex split, each word's UTF-8 bytes shown as printable characters."""
    if add_prefix_space and not text.startswith(" "):
        text = " " + text
    table = bytes_to_unicode()
    return ["".join(table[b] for b in w.encode("utf-8")) for w in GPT2_SPLIT.findall(text)]


# ------------------------------------------------------------------------------ BPE core
def _merge_word(symbols: list[int], left: int, right: int, new: int) -> list[tuple]:
    """Merge every (left, right) in ``symbols`` in place, left to right; return pair deltas."""
    changes = []
    i = 0
    while i < len(symbols) - 1:
        if symbols[i] == left and symbols[i + 1] == right:
            if i > 0:
                changes += [((symbols[i - 1], left), -1), ((symbols[i - 1], new), 1)]
            symbols[i : i + 2] = [new]
            if i < len(symbols) - 1:
                changes += [((right, symbols[i + 1]), -1), ((new, symbols[i + 1]), 1)]
        i += 1
    return changes


def train_bpe_merges(
    word_counts: dict[str, int],
    *,
    vocab_size: int,
    special_tokens: Sequence[str] = (),
    initial_alphabet: Iterable[str] = (),
    min_frequency: int = 0,
    continuing_subword_prefix: str | None = None,
    limit_alphabet: int | None = None,
) -> tuple[list[str], list[tuple[str, str]]]:
    """The BPE training loop shared by both trainers: (vocabulary in id order, merges in order).

    Words are spelled in single characters (``prefix + char`` after the first when a
    continuing-subword prefix is set); the most frequent adjacent pair is merged until the
    vocabulary holds ``vocab_size`` tokens or no pair occurs ``min_frequency`` times.
    """
    if not word_counts:
        raise ValueError("cannot train on an empty corpus: no words were found in the texts")
    vocab: list[str] = list(dict.fromkeys(special_tokens))
    ids = {token: i for i, token in enumerate(vocab)}
    alphabet = _alphabet(word_counts, initial_alphabet, limit_alphabet)
    for ch in alphabet:
        if ch not in ids:
            ids[ch] = len(vocab)
            vocab.append(ch)
    words, counts = _spell_words(word_counts, ids, vocab, continuing_subword_prefix)
    if vocab_size < len(vocab):  # tokenizers would quietly return the larger vocabulary
        raise ValueError(
            f"vocab_size={vocab_size} is smaller than the {len(special_tokens)} special tokens "
            f"plus the {len(vocab) - len(special_tokens)} single-character tokens the corpus "
            f"needs ({len(vocab)} in all); raise vocab_size or set limit_alphabet"
        )

    pair_counts: Counter = Counter()
    where: dict[tuple[int, int], set[int]] = {}
    for w, (symbols, count) in enumerate(zip(words, counts)):
        for pair in zip(symbols, symbols[1:]):
            pair_counts[pair] += count
            where.setdefault(pair, set()).add(w)
    # Max-heap by count; on equal counts the smallest (left id, right id) pops first.
    heap = [(-count, pair) for pair, count in pair_counts.items() if count > 0]
    heapq.heapify(heap)
    prefix_len = len(continuing_subword_prefix or "")
    merges: list[tuple[str, str]] = []
    while len(vocab) < vocab_size and heap:
        neg_count, pair = heapq.heappop(heap)
        count = pair_counts[pair]
        if -neg_count != count:  # stale entry: requeue with today's count
            if count > 0:
                heapq.heappush(heap, (-count, pair))
            continue
        if count < max(min_frequency, 1):
            break
        left, right = vocab[pair[0]], vocab[pair[1]]
        if prefix_len and right.startswith(continuing_subword_prefix):
            right = right[prefix_len:]
        new_id = ids.setdefault(left + right, len(vocab))
        if new_id == len(vocab):
            vocab.append(left + right)
        merges.append((vocab[pair[0]], vocab[pair[1]]))
        touched = set()
        for w in sorted(where.pop(pair, ())):
            for changed, delta in _merge_word(words[w], pair[0], pair[1], new_id):
                pair_counts[changed] += delta * counts[w]
                if delta > 0:
                    where.setdefault(changed, set()).add(w)
                    touched.add(changed)
        for changed in touched:
            if pair_counts[changed] > 0:
                heapq.heappush(heap, (-pair_counts[changed], changed))
    return vocab, merges


def _alphabet(word_counts, initial_alphabet, limit_alphabet) -> list[str]:
    """Characters in code-point order; ``limit_alphabet`` keeps the most frequent ones."""
    freq: Counter = Counter()
    for word, count in word_counts.items():
        for ch in word:
            freq[ch] += count
    for ch in initial_alphabet:
        freq[ch] = float("inf")  # an initial alphabet is always kept
    chars = sorted(freq)
    if limit_alphabet is not None and len(chars) > limit_alphabet:
        chars = sorted(sorted(chars, key=lambda c: (-freq[c], c))[:limit_alphabet])
    return chars


def _spell_words(word_counts, ids, vocab, prefix):
    """Each word as token ids of its characters; unknown characters (limit_alphabet) drop out."""
    words, counts = [], []
    for word in sorted(word_counts):  # sorted: "##x" ids must not depend on corpus order
        symbols = []
        for position, ch in enumerate(word):
            if ch not in ids:
                continue
            token = prefix + ch if prefix and position > 0 else ch
            if token not in ids:
                ids[token] = len(vocab)
                vocab.append(token)
            symbols.append(ids[token])
        words.append(symbols)
        counts.append(word_counts[word])
    return words, counts


# ------------------------------------------------------------------------------- trainers
@dataclass
class WordPieceTrainingResult:
    vocab: list[str]  # id order: specials, alphabet, "##" continuations, merged pieces
    merges: list[tuple[str, str]]
    special_tokens: list[str] = field(default_factory=list)

    def get_vocab(self) -> dict[str, int]:
        return {token: i for i, token in enumerate(self.vocab)}

    def save(self, folder: str | Path) -> Path:
        """Write ``vocab.txt`` (one token per line, line number = id)."""
        path = Path(folder) / "vocab.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, "".join(token + "\n" for token in self.vocab))
        return path


@dataclass
class BpeTrainingResult:
    vocab: list[str]  # id order: specials, the 256 byte characters, merged tokens
    merges: list[tuple[str, str]]
    special_tokens: list[str] = field(default_factory=list)

    def get_vocab(self) -> dict[str, int]:
        return {token: i for i, token in enumerate(self.vocab)}

    def save(self, folder: str | Path) -> tuple[Path, Path]:
        """Write ``vocab.json`` and ``merges.txt`` the way GPT-2 checkpoints hold them."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        vocab_path, merges_path = folder / "vocab.json", folder / "merges.txt"
        write_text_atomic(vocab_path, json.dumps(self.get_vocab(), ensure_ascii=False))
        lines = ["#version: 0.2", *(f"{a} {b}" for a, b in self.merges)]
        write_text_atomic(merges_path, "\n".join(lines) + "\n")
        return vocab_path, merges_path


def _count_words(texts: Iterable[str], split) -> dict[str, int]:
    if isinstance(texts, str):
        raise TypeError("train() takes an iterable of texts, not one string; wrap it in a list")
    counts: Counter = Counter()
    for text in texts:
        counts.update(split(text))
    if not counts:
        raise ValueError("cannot train on an empty corpus: the texts held no words after pre-tokenization")
    return dict(counts)


@dataclass
class WordPieceTrainer:
    """BERT-style WordPiece: BERT basic pre-tokenization, then BPE with ``##`` continuations.

    Like ``tokenizers.trainers.WordPieceTrainer`` the vocabulary is a BPE vocabulary read as
    WordPiece: merging ``("un", "##able")`` gives the piece ``"unable"``.
    """

    vocab_size: int = 30000
    min_frequency: int = 0
    special_tokens: Sequence[str] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
    lowercase: bool = True
    limit_alphabet: int | None = None
    continuing_subword_prefix: str = "##"

    def train(self, texts: Iterable[str]) -> WordPieceTrainingResult:
        counts = _count_words(texts, lambda t: _bert_words(t, self.lowercase))
        vocab, merges = train_bpe_merges(
            counts,
            vocab_size=self.vocab_size,
            special_tokens=self.special_tokens,
            min_frequency=self.min_frequency,
            continuing_subword_prefix=self.continuing_subword_prefix,
            limit_alphabet=self.limit_alphabet,
        )
        return WordPieceTrainingResult(vocab, merges, list(self.special_tokens))


@dataclass
class ByteLevelBPETrainer:
    """GPT-2-style byte-level BPE: GPT-2 regex split, bytes shown as characters, all 256 of
    them in the alphabet so any text can be encoded without an unknown token."""

    vocab_size: int = 50257
    min_frequency: int = 0
    special_tokens: Sequence[str] = ("<|endoftext|>",)
    add_prefix_space: bool = False

    def train(self, texts: Iterable[str]) -> BpeTrainingResult:
        counts = _count_words(texts, lambda t: _byte_level_words(t, self.add_prefix_space))
        vocab, merges = train_bpe_merges(
            counts,
            vocab_size=self.vocab_size,
            special_tokens=self.special_tokens,
            initial_alphabet=bytes_to_unicode().values(),
            min_frequency=self.min_frequency,
        )
        return BpeTrainingResult(vocab, merges, list(self.special_tokens))
