"""``Encoding``: one tokenized sequence with everything aligned per token, and its truncation.

Truncation with a stride produces overflow windows exactly as the `tokenizers` library does
(and so transformers 5.24): windows of ``max_len`` tokens starting every ``max_len - stride``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Encoding:
    ids: list[int]
    tokens: list[str]
    offsets: list[tuple[int, int]]
    words: list[int | None]
    type_ids: list[int] = field(default_factory=list)
    special_tokens_mask: list[int] = field(default_factory=list)
    sequence_ids: list[int | None] = field(default_factory=list)
    attention_mask: list[int] = field(default_factory=list)
    overflowing: list[Encoding] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def word_ids(self) -> list[int | None]:
        """The `tokenizers` Encoding's name for ``words``."""
        return self.words

    def slice(self, start: int, stop: int) -> Encoding:
        return Encoding(
            self.ids[start:stop],
            self.tokens[start:stop],
            self.offsets[start:stop],
            self.words[start:stop],
            self.type_ids[start:stop],
            self.special_tokens_mask[start:stop],
            self.sequence_ids[start:stop],
            self.attention_mask[start:stop],
        )

    # The alignment queries below have the names and results of the `tokenizers` Encoding's, so
    # a BatchEncoding asks either kind the same way (the backend="tokenizers" path keeps the Rust ones).
    def token_to_word(self, token: int) -> int | None:
        return self.words[token]

    def token_to_sequence(self, token: int) -> int | None:
        return self.sequence_ids[token]

    def token_to_chars(self, token: int) -> tuple[int, int] | None:
        if self.special_tokens_mask and self.special_tokens_mask[token]:
            return None
        return self.offsets[token]

    def word_to_tokens(self, word: int, sequence: int = 0) -> tuple[int, int] | None:
        hits = [i for i, (w, s) in enumerate(zip(self.words, self.sequence_ids)) if w == word and s == sequence]
        return (hits[0], hits[-1] + 1) if hits else None

    def char_to_token(self, char: int, sequence: int = 0) -> int | None:
        for i, ((s, e), seq) in enumerate(zip(self.offsets, self.sequence_ids)):
            if seq == sequence and s <= char < e:
                return i
        return None


def window_ranges(length: int, max_len: int, stride: int, from_left: bool) -> list[tuple[int, int]]:
    """The token ranges a sequence of ``length`` is cut into: the kept part first, then overflow."""
    if max_len >= length:
        return [(0, length)]
    if max_len == 0:
        return [(0, 0), (0, length)]
    if stride >= max_len:
        raise ValueError(
            f"stride={stride} must be smaller than the truncated window of {max_len} tokens "
            "(max_length minus the special tokens, minus the other sequence for pairs); "
            "lower stride or raise max_length"
        )
    step = max_len - stride
    ranges = []
    if not from_left:
        for start in range(0, length, step):
            stop = min(start + max_len, length)
            ranges.append((start, stop))
            if stop == length:
                break
    else:
        for stop in range(length, 0, -step):
            start = max(stop - max_len, 0)
            ranges.append((start, stop))
            if start == 0:
                break
    return ranges


def truncate(encoding: Encoding, max_len: int, stride: int, from_left: bool = False) -> Encoding:
    """Keep the first window; the others become ``encoding.overflowing`` (in order)."""
    ranges = window_ranges(len(encoding), max_len, stride, from_left)
    if len(ranges) == 1:
        return encoding
    kept = encoding.slice(*ranges[0])
    kept.overflowing = [encoding.slice(*r) for r in ranges[1:]]
    return kept


def pair_lengths(n1: int, n2: int, budget: int) -> tuple[int, int]:
    """How many tokens 'longest_first' keeps of each sequence: trim the longer one down to the
    shorter, then split what is left evenly (the longer gets the odd token)."""
    swap = n1 > n2
    short, long_ = (n2, n1) if swap else (n1, n2)
    long_ = short if short > budget else max(short, budget - short)
    if short + long_ > budget:
        short = budget // 2
        long_ = short + budget % 2
    return (long_, short) if swap else (short, long_)
