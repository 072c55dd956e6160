"""Hand-written tokenizers: a ``PreTrainedTokenizer`` subclass that brings its own ``_tokenize``
(and ``_convert_token_to_id``, ``build_inputs_with_special_tokens`` ...), as the course's
chapter 3.1 BERT tokenizer and every transformers 4.x Python tokenizer do.

The subclass's methods become the stages of an ordinary ``Pipeline`` (model stage, post-processor,
decoder), so the whole call API (padding, truncation, pairs, tensors) works unchanged. Such a
subclass may set ``self.vocab`` after ``super().__init__()``: its special tokens are registered
the first time the added-token table is used with the vocabulary in place. There is no character
alignment (offsets) for them, as in transformers.
"""

from __future__ import annotations

import regex

from .encoding import Encoding
from .pipeline import Pipeline


def overrides(tokenizer, name: str) -> bool:
    """Whether ``tokenizer``'s class defines ``name`` itself rather than inheriting ours."""
    from .base import PreTrainedTokenizerBase

    return getattr(type(tokenizer), name, None) is not getattr(PreTrainedTokenizerBase, name, None)


def own_vocab(tokenizer) -> dict[str, int] | None:
    """The subclass's vocabulary (``self.vocab = ...``), or None before it is set."""
    return tokenizer.__dict__.get("_own_vocab")


class WholeText:
    """The subclass's ``_tokenize`` does its own splitting: it sees every stretch of text."""

    pattern = regex.compile(r"(?s).+")

    def split(self, text: str) -> list[tuple[int, int]]:
        return [(0, len(text))] if text else []


class SubclassStage:
    """Model stage: pieces from the subclass's ``_tokenize``, ids as ``convert_tokens_to_ids``."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.unk_token = "[UNK]"  # only read by never_split, which these tokenizers do not use

    @property
    def vocab(self) -> dict[str, int]:
        return own_vocab(self.tokenizer) or {}

    def tokenize_word(self, text: str):
        tokens = tuple(self.tokenizer._tokenize(text))
        ids = self.tokenizer.convert_tokens_to_ids(list(tokens))
        return tuple(ids), tokens, tuple((0, 0) for _ in tokens)

    def token_to_id(self, token: str) -> int | None:
        vocab = own_vocab(self.tokenizer)
        if vocab is None and overrides(self.tokenizer, "get_vocab"):
            vocab = self.tokenizer.get_vocab()
        return (vocab or {}).get(token)

    def id_to_token(self, index: int) -> str | None:
        if overrides(self.tokenizer, "_convert_id_to_token"):
            return self.tokenizer._convert_id_to_token(index)
        return {i: t for t, i in self.vocab.items()}.get(index)

    def save(self, folder) -> list[str]:
        return list(self.tokenizer.save_vocabulary(str(folder))) if overrides(self.tokenizer, "save_vocabulary") else []


class SubclassProcessor:
    """Special tokens and token types from the subclass's methods (transformers' defaults when it
    has none: no special tokens, types 0 then 1)."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer

    def _build(self, ids0: list[int], ids1: list[int] | None) -> tuple[list[int], list[int], list[int]]:
        tok, both = self.tokenizer, ids0 + (ids1 or [])
        ids = both
        if overrides(tok, "build_inputs_with_special_tokens"):
            ids = tok.build_inputs_with_special_tokens(ids0, ids1)
        if overrides(tok, "create_token_type_ids_from_sequences"):
            types = tok.create_token_type_ids_from_sequences(ids0, ids1)
        else:
            types = [0] * len(ids0) + [1] * len(ids1 or [])
        special = [0] * len(both)
        if overrides(tok, "get_special_tokens_mask"):
            special = tok.get_special_tokens_mask(ids0, ids1)
        return list(ids), list(types), list(special)

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return len(self._build([], [] if is_pair else None)[0])

    def process(self, a: Encoding, b: Encoding | None, add_special_tokens: bool = True) -> Encoding:
        parts = [(0, a)] + ([(1, b)] if b is not None else [])
        if add_special_tokens:
            ids, types, special = self._build(a.ids, b.ids if b is not None else None)
        else:  # transformers: plain concatenation, all types 0
            ids = [i for _, p in parts for i in p.ids]
            types, special = [0] * len(ids), [0] * len(ids)
        plain = [(seq, p.tokens[k], p.words[k]) for seq, p in parts for k in range(len(p.ids))]
        if special.count(0) != len(plain) or len(types) != len(ids) or len(special) != len(ids):
            raise ValueError(
                f"{type(self.tokenizer).__name__}: build_inputs_with_special_tokens, "
                "create_token_type_ids_from_sequences and get_special_tokens_mask disagree on the "
                f"length ({len(ids)}, {len(types)}, {len(special)} for {len(plain)} text tokens)"
            )
        rows, queue = [], iter(plain)
        for token_id, flag in zip(ids, special):
            rows.append((None, self.tokenizer.convert_ids_to_tokens(token_id), None) if flag else next(queue))
        return Encoding(
            ids,
            [token for _, token, _ in rows],
            [(0, 0)] * len(ids),
            [word for _, _, word in rows],
            types,
            special,
            [seq for seq, _, _ in rows],
            [1] * len(ids),
        )


class SubclassDecoder:
    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer

    def decode(self, tokens: list[str]) -> str:
        if overrides(self.tokenizer, "convert_tokens_to_string"):
            return self.tokenizer.convert_tokens_to_string(tokens)
        return " ".join(tokens)


class SubclassPipeline(Pipeline):
    """A Pipeline over a subclass's own methods, with its special tokens registered late."""

    has_offsets = False

    def __init__(self, tokenizer) -> None:
        self.pending_specials: list = []
        self._flushing = False
        super().__init__(
            SubclassStage(tokenizer), None, WholeText(), SubclassProcessor(tokenizer), SubclassDecoder(tokenizer)
        )
        self.tokenizer = tokenizer

    @property
    def added(self):
        if self.pending_specials and not self._flushing:
            self._register_pending()
        return self._added

    @added.setter
    def added(self, value) -> None:
        self._added = value

    def _register_pending(self) -> None:
        self._flushing = True
        try:
            vocab = self.tokenizer.get_vocab()
        except AttributeError:  # the subclass has not set its vocabulary yet: try again later
            return
        finally:
            self._flushing = False
        pending, self.pending_specials = self.pending_specials, []
        next_id = max([len(vocab) - 1, *vocab.values()], default=-1) + 1
        for token in pending:
            if token.content in self._added.ids:
                continue
            token_id = vocab.get(token.content)
            if token_id is None:
                token_id, next_id = next_id, next_id + 1
            self._added.add(token, token_id)
        self._added.refresh(None)

    def encode(self, *args, **kwargs) -> list[Encoding]:
        self._word_cache.clear()  # whole texts are the "words" here: not worth keeping
        return super().encode(*args, **kwargs)
