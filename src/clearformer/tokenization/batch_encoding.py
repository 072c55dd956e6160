"""``BatchEncoding``: what a tokenizer call returns, a dict with attribute access and alignment.

The dict holds the model inputs (``input_ids``, ``attention_mask``, ...); the per-row
encodings behind it answer ``word_ids``, ``sequence_ids``, ``token_to_chars``,
``char_to_token`` and ``tokens``. Matches transformers' BatchEncoding API. The rows are
clearformer ``Encoding`` objects, or with ``backend="tokenizers"`` the `tokenizers` package's own
``Encoding`` objects, kept as they are (as transformers does): the alignment fields are read
from them only when asked for.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .encoding import Encoding


class CharSpan(NamedTuple):
    start: int
    end: int


class TokenSpan(NamedTuple):
    start: int
    end: int


class BatchEncoding(dict):
    def __init__(
        self,
        data: dict[str, Any] | None = None,
        encodings: list[Encoding] | None = None,
        tensor_type: str | None = None,
        n_sequences: int | None = None,
    ) -> None:
        super().__init__(data or {})
        self._encodings = encodings
        self._n_sequences = n_sequences
        if tensor_type is not None:
            self.convert_to_tensors(tensor_type)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"BatchEncoding has no field {name!r}; it has {list(self)}") from None

    def __getitem__(self, key):
        if isinstance(key, str):
            return super().__getitem__(key)
        if isinstance(key, int) and self._encodings is not None:
            return self._encodings[key]
        raise KeyError(f"index a BatchEncoding with a field name (one of {list(self)}) or a row")

    def __getstate__(self) -> dict:
        return {"data": dict(self), "encodings": self._encodings}

    def __setstate__(self, state: dict) -> None:
        self.update(state["data"])
        self._encodings = state["encodings"]

    @property
    def encodings(self) -> list[Encoding] | None:
        return self._encodings

    @property
    def is_fast(self) -> bool:
        return self._encodings is not None

    @property
    def n_sequences(self) -> int | None:
        return self._n_sequences

    def _encoding(self, batch_index: int) -> Encoding:
        if not self._encodings:
            raise ValueError(
                "this BatchEncoding carries no alignment information (it was built by pad() or "
                "from plain lists); call the tokenizer on text to get word_ids/offsets"
            )
        return self._encodings[batch_index]

    def tokens(self, batch_index: int = 0) -> list[str]:
        return self._encoding(batch_index).tokens

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        return self._encoding(batch_index).word_ids

    words = word_ids

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        return self._encoding(batch_index).sequence_ids

    def _row_and_token(self, batch_or_index: int, index: int | None):
        """(the row's encoding, the token index made non-negative, as Python indexing reads it)."""
        row, i = (0, batch_or_index) if index is None else (batch_or_index, index)
        enc = self._encoding(row)
        return enc, (i + len(enc) if i < 0 else i)

    def _row(self, batch_or_index: int, index: int | None):
        return (self._encoding(0), batch_or_index) if index is None else (self._encoding(batch_or_index), index)

    def token_to_word(self, batch_or_token_index: int, token_index: int | None = None):
        enc, i = self._row_and_token(batch_or_token_index, token_index)
        return enc.token_to_word(i)

    def token_to_sequence(self, batch_or_token_index: int, token_index: int | None = None):
        enc, i = self._row_and_token(batch_or_token_index, token_index)
        return enc.token_to_sequence(i)

    def token_to_chars(self, batch_or_token_index: int, token_index: int | None = None):
        enc, i = self._row_and_token(batch_or_token_index, token_index)
        span = enc.token_to_chars(i)
        return CharSpan(*span) if span is not None else None

    def char_to_token(
        self, batch_or_char_index: int, char_index: int | None = None, sequence_index: int = 0
    ) -> int | None:
        enc, i = self._row(batch_or_char_index, char_index)
        return enc.char_to_token(i, sequence_index)

    def word_to_tokens(
        self, batch_or_word_index: int, word_index: int | None = None, sequence_index: int = 0
    ) -> TokenSpan | None:
        enc, i = self._row(batch_or_word_index, word_index)
        span = enc.word_to_tokens(i, sequence_index)
        return TokenSpan(*span) if span else None

    def convert_to_tensors(self, tensor_type: str | None = None) -> BatchEncoding:
        if tensor_type is None:
            return self
        if tensor_type not in ("pt", "torch"):
            raise ValueError(
                f"return_tensors={tensor_type!r} is not supported; clearformer returns 'pt' "
                "(torch) tensors or plain lists (None)"
            )
        import torch

        for key, value in list(self.items()):
            if isinstance(value, torch.Tensor):
                continue
            if value and isinstance(value[0], list):
                lengths = {len(row) for row in value}
                if len(lengths) > 1:
                    raise ValueError(
                        f"cannot make a tensor from {key!r}: rows have different lengths "
                        f"{sorted(lengths)}; pass padding=True (or 'max_length') with "
                        "return_tensors='pt'"
                    )
            self[key] = torch.tensor(value)
        return self

    def to(self, device) -> BatchEncoding:
        import torch

        for key, value in self.items():
            if isinstance(value, torch.Tensor):
                self[key] = value.to(device)
        return self
