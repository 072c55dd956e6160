"""The tokenization pipeline: normalizer -> pre-tokenizer -> model -> post-processor -> decoder.

``Pipeline.encode`` runs the stages for one input (a text or a pair) and returns the main
``Encoding`` followed by its overflow windows; ``Pipeline.trace`` is its debugging twin and
returns every intermediate stage. Offsets always point into the caller's original string.
Behaviour matches the `tokenizers` library (the backend of transformers 5.24) field for field.
"""

from __future__ import annotations

import regex

from .added_tokens import AddedVocabulary
from .encoding import Encoding, pair_lengths, truncate
from .pre_tokenizers import ByteLevelPreTokenizer

TRUNCATION_STRATEGIES = ("longest_first", "only_first", "only_second")


class Pipeline:
    def __init__(self, model, normalizer, pre_tokenizer, post_processor, decoder) -> None:
        self.model = model
        self.normalizer = normalizer
        self.pre_tokenizer = pre_tokenizer
        self.post_processor = post_processor
        self.decoder = decoder
        self.added = AddedVocabulary()
        self.byte_level = isinstance(pre_tokenizer, ByteLevelPreTokenizer)
        self.never_split: regex.Pattern | None = None
        self.never_split_lowercase = False
        self._word_cache: dict[str, tuple] = {}

    def __getstate__(self) -> dict:
        # caches are rebuilt on demand; leaving them out keeps pickles small and makes a
        # tokenizer's pickle (datasets' map fingerprint) the same before and after use
        return {k: v for k, v in self.__dict__.items() if k != "_word_cache"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._word_cache = {}

    def set_never_split(self, words) -> None:
        """Whole words (BERT's ``never_split``) that skip normalization and pre-tokenization and
        go to the model as they are, as in the original Python BERT tokenizer. That tokenizer
        lowercased the text first, so for an uncased model only lowercase entries can match
        (case-insensitively) and the word reaches the model lowercased."""
        self.never_split_lowercase = bool(getattr(self.normalizer, "lowercase", False))
        if self.never_split_lowercase:
            words = [w for w in words if w == w.lower()]
        words = sorted(set(words), key=len, reverse=True)
        body = "|".join(regex.escape(w) for w in words)
        flags = "(?i)" if self.never_split_lowercase else ""
        self.never_split = regex.compile(rf"{flags}(?<!\S)(?:{body})(?!\S)") if words else None

    def _split_never(self, text: str) -> list[tuple[int, int, bool]]:
        if self.never_split is None:
            return [(0, len(text), False)]
        pieces, pos = [], 0
        for m in self.never_split.finditer(text):
            if m.start() > pos:
                pieces.append((pos, m.start(), False))
            pieces.append((m.start(), m.end(), True))
            pos = m.end()
        if pos < len(text) or not pieces:
            pieces.append((pos, len(text), False))
        return pieces

    # ---- stage 1: normalize (with the byte-level prefix space, which is also a text rewrite)
    def normalize(self, text: str) -> tuple[str, list[int] | None]:
        if self.normalizer is not None:
            return self.normalizer.normalize(text)
        if self.byte_level and self.pre_tokenizer.add_prefix_space and text and text[0] != " ":
            return " " + text, [0, *range(len(text))]
        return text, None

    def normalize_content(self, text: str) -> str:
        return self.normalize(text)[0] if self.normalizer is not None else text

    def refresh_added_tokens(self) -> None:
        self.added.refresh(self.normalize_content if self.normalizer is not None else None)

    # ---- stages 2-3 for one word: model pieces with offsets in the word's characters
    def _word_pieces(self, word: str):
        """(ids, tokens, character offsets inside ``word``), cached per word: the byte-level
        model counts in bytes, so its offsets are converted to characters once, here."""
        hit = self._word_cache.get(word)
        if hit is None:
            ids, tokens, local = self.model.tokenize_word(word)
            if self.byte_level and not word.isascii():
                byte_to_char = [i for i, ch in enumerate(word) for _ in ch.encode("utf-8")]
                local = tuple((byte_to_char[a], byte_to_char[b - 1] + 1) for a, b in local)
            if len(self._word_cache) > 200_000:
                self._word_cache.clear()
            hit = self._word_cache[word] = (list(ids), list(tokens), local)
        return hit

    def _encode_text(self, text: str, word: int, fixed_word: bool, out: Encoding) -> int:
        """Append ``text``'s tokens to ``out``; return the next word index."""
        for start, end, added_id in self.added.split(text, normalized=False):
            if added_id is not None:
                word = self._append_added(out, added_id, (start, end), word, fixed_word)
                continue
            if self.never_split is None:
                word = self._encode_segment(text[start:end], start, word, fixed_word, out)
                continue
            for n_start, n_end, keep in self._split_never(text[start:end]):
                if keep:
                    word = self._append_never_split(out, text, start + n_start, start + n_end, word, fixed_word)
                else:
                    word = self._encode_segment(
                        text[start + n_start : start + n_end],
                        start + n_start,
                        word,
                        fixed_word,
                        out,
                    )
        return word

    def _encode_segment(self, text: str, start: int, word: int, fixed_word: bool, out) -> int:
        """Normalize one stretch of ordinary text, cut normalized added tokens, pre-tokenize it
        and run the model on each word."""
        norm, align = self.normalize(text)
        for n_start, n_end, n_added in self.added.split(norm, normalized=True):
            if n_start == n_end:
                continue
            if n_added is not None:
                span = _to_original(align, start, n_start, n_end)
                word = self._append_added(out, n_added, span, word, fixed_word)
                continue
            piece = norm if n_end - n_start == len(norm) else norm[n_start:n_end]
            if align is None:
                word = self._append_words(out, piece, start + n_start, word, fixed_word)
            else:
                # positions in ``piece`` -> original characters (``start`` + alignment)
                origin = [start + i for i in align[n_start:n_end]]
                word = self._append_words(out, piece, 0, word, fixed_word, origin)
        return word

    def _append_words(self, out: Encoding, text: str, base: int, word: int, fixed: bool, origin=None):
        """Pre-tokenize ``text`` and append every word's cached model pieces in one tight loop.
        Offsets are ``base`` + position when normalization kept characters in place, else
        ``origin[position]`` (the original character each normalized one came from)."""
        cache, step = self._word_cache, 0 if fixed else 1
        ids_out, tokens_out, offsets_out, words_out = out.ids, out.tokens, out.offsets, out.words
        for m in self.pre_tokenizer.pattern.finditer(text):
            w = m.group()
            ids, tokens, local = cache.get(w) or self._word_pieces(w)
            ids_out += ids
            tokens_out += tokens
            s = m.start()
            if origin is None:
                s += base
                if len(ids) == 1:
                    offsets_out.append((s, s + len(w)))
                else:
                    offsets_out += [(s + a, s + b) for a, b in local]
            elif len(ids) == 1:
                offsets_out.append((origin[s], origin[s + len(w) - 1] + 1))
            else:
                offsets_out += [(origin[s + a], origin[s + b - 1] + 1) for a, b in local]
            if len(ids) == 1:
                words_out.append(word)
            else:
                words_out += [word] * len(ids)
            word += step
        return word

    def _append_never_split(self, out: Encoding, text: str, start: int, end: int, word: int, fixed: bool):
        """A never_split word is one token, not cut by the model (unknown id if not in the vocab)."""
        token = text[start:end].lower() if self.never_split_lowercase else text[start:end]
        token_id = self.model.token_to_id(token)
        if token_id is None:  # the original keeps the word as its token string, with the unknown id
            token_id = self.model.token_to_id(self.model.unk_token)
        out.ids.append(token_id)
        out.tokens.append(token)
        out.offsets.append((start, end))
        out.words.append(word)
        return word if fixed else word + 1

    def _append_added(self, out: Encoding, token_id: int, span, word: int, fixed: bool) -> int:
        out.ids.append(token_id)
        out.tokens.append(self.added.token_string(token_id))
        out.offsets.append(span)
        out.words.append(word)
        return word if fixed else word + 1

    def encode_sequence(self, text: str | list[str], is_pretokenized: bool = False) -> Encoding:
        """Stages 1-3 for one sequence: tokens with offsets and word indices, no special tokens."""
        out = Encoding([], [], [], [])
        if is_pretokenized:
            for index, word in enumerate(text):
                self._encode_text(word, index, True, out)
        else:
            self._encode_text(text, 0, False, out)
        return out

    # ---- stage 4: truncation + post-processing (special tokens, token types)
    def encode(
        self,
        text,
        pair=None,
        is_pretokenized: bool = False,
        add_special_tokens: bool = True,
        truncation: str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        from_left: bool = False,
    ) -> list[Encoding]:
        """The main encoding of (text, pair), then every overflow window combination."""
        first = self.encode_sequence(text, is_pretokenized)
        second = self.encode_sequence(pair, is_pretokenized) if pair is not None else None
        return self.post_process(first, second, add_special_tokens, truncation, max_length, stride, from_left)

    def post_process(
        self,
        first: Encoding,
        second: Encoding | None,
        add_special_tokens: bool = True,
        truncation: str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        from_left: bool = False,
    ) -> list[Encoding]:
        """Truncate (keeping overflow windows), then add special tokens to every combination:
        main pair first, then each window of the first text with the second text and its
        windows, then the first text with the second's windows (the `tokenizers` order)."""
        if truncation is not None and max_length is not None:
            first, second = self.truncate(first, second, truncation, max_length, stride, from_left, add_special_tokens)
        process = self.post_processor.process
        encodings = [process(first, second, add_special_tokens)]
        second_windows = second.overflowing if second is not None else []
        for a in first.overflowing:
            encodings.append(process(a, second, add_special_tokens))
            encodings += [process(a, b, add_special_tokens) for b in second_windows]
        encodings += [process(first, b, add_special_tokens) for b in second_windows]
        return encodings

    def truncate(self, first, second, strategy, max_length, stride, from_left, add_special):
        n_special = self.post_processor.num_special_tokens_to_add(second is not None) if add_special else 0
        total = len(first) + (len(second) if second is not None else 0) + n_special
        if total <= max_length:
            return first, second
        budget = max_length - n_special
        if budget <= 0:
            raise ValueError(
                f"max_length={max_length} leaves no room for text: the special tokens alone take "
                f"{n_special}; use max_length > {n_special} or add_special_tokens=False"
            )
        to_remove = total - max_length
        if strategy == "longest_first":
            if second is None:
                return truncate(first, budget, stride, from_left), None
            n1, n2 = pair_lengths(len(first), len(second), budget)
            return (
                truncate(first, n1, stride, from_left),
                truncate(second, n2, stride, from_left),
            )
        if strategy == "only_second" and second is None:
            raise ValueError(
                "truncation='only_second' needs a pair of sequences; for a single text use "
                "truncation=True (longest_first) or 'only_first'"
            )
        target = first if strategy == "only_first" else second
        if len(target) <= to_remove:
            raise ValueError(
                f"cannot truncate with {strategy!r} to max_length={max_length}: that sequence has "
                f"{len(target)} tokens but {to_remove} must go (the other sequence and "
                f"{n_special} special tokens take the rest); raise max_length or use "
                "truncation='longest_first'"
            )
        cut = truncate(target, len(target) - to_remove, stride, from_left)
        return (cut, second) if strategy == "only_first" else (first, cut)

    # ---- stage 5: decode
    def decode_tokens(self, tokens: list[str]) -> str:
        return self.decoder.decode(tokens) if self.decoder is not None else " ".join(tokens)

    def trace(self, text: str) -> dict:
        """Every intermediate stage for ``text`` (the debugging twin of ``encode``)."""
        normalized, _ = self.normalize(text)
        words = [normalized[s:e] for s, e in self.pre_tokenizer.split(normalized)]
        pieces = [list(self.model.tokenize_word(w)[1]) for w in words]
        final = self.encode(text)[0]
        return {
            "text": text,
            "added_token_split": [(text[s:e], i) for s, e, i in self.added.split(text, normalized=False)],
            "normalized": normalized,
            "pre_tokens": words,
            "model_tokens": pieces,
            "tokens": final.tokens,
            "input_ids": final.ids,
            "type_ids": final.type_ids,
            "offsets": final.offsets,
            "word_ids": final.words,
            "decoded": self.decode_tokens(final.tokens),
        }


def _to_original(align, base: int, start: int, end: int) -> tuple[int, int]:
    if align is None:
        return (base + start, base + end)
    return (base + align[start], base + align[end - 1] + 1)
