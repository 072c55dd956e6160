"""The tokenizer classes: the Hugging Face call API over a tokenization ``Pipeline``.

``PreTrainedTokenizerBase`` holds the whole API. ``PreTrainedTokenizerFast`` is the base of the
tokenizers whose outputs carry alignment (offsets, ``word_ids()``): BERT, DistilBERT, GPT-2,
RoBERTa, all in Python here, no `tokenizers` package needed. ``PreTrainedTokenizer`` is the base
of those without per-word alignment (T5, Marian). ``TokenizersBackend`` (tokenizers_backend.py)
runs the same pipeline in the `tokenizers` package (``backend="tokenizers"``).

What ``tokenizer(text, ...)`` runs (the handbook asks; transformers names it ``__call__`` ->
``prepare_for_model`` -> ``BatchEncoding``): ``__call__`` checks inputs and resolves the options
into one ``EncodeRequest`` (request.py), then ``_encode_examples`` runs per text
``Pipeline.encode_sequence`` (normalizer, pre-tokenizer, model) and ``Pipeline.post_process``
(truncation with stride/overflow, special tokens, token types: transformers' prepare_for_model
step, public here as ``prepare_for_model`` for ids you already have), then ``_finalize`` pads
the rows and picks the fields -> ``BatchEncoding``. The ``backend="tokenizers"`` classes
replace ``_encode_examples`` with one ``tokenizers`` ``encode_batch`` call (see
tokenizers_backend.py). Outputs match transformers 5.24 field for field.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Sequence
from enum import Enum, StrEnum
from pathlib import Path

from .added_tokens import AddedToken
from .batch_encoding import BatchEncoding
from .custom import SubclassPipeline, overrides
from .decoders import clean_up_tokenization
from .encoding import Encoding
from .padding import features_to_rows, pad_rows, target_length
from .pipeline import TRUNCATION_STRATEGIES, Pipeline
from .request import EncodeRequest
from .special_tokens import SPECIAL_TOKENS_ATTRIBUTES, SpecialTokensMixin

VERY_LARGE_INTEGER = int(1e30)  # transformers' "no limit" model_max_length
PADDING_STRATEGIES = ("longest", "max_length", "do_not_pad")
BACKENDS = (None, "clearformer", "tokenizers")


class PaddingStrategy(StrEnum):
    """transformers' names for the ``padding=`` strings (a member works wherever a string does)."""

    LONGEST = "longest"
    MAX_LENGTH = "max_length"
    DO_NOT_PAD = "do_not_pad"


class TruncationStrategy(StrEnum):
    """transformers' names for the ``truncation=`` strings."""

    ONLY_FIRST = "only_first"
    ONLY_SECOND = "only_second"
    LONGEST_FIRST = "longest_first"
    DO_NOT_TRUNCATE = "do_not_truncate"


def _as_list(value):
    """Sequence-like batches that are not list/tuple/str (Column, Series, ndarray) -> list."""
    if value is None or isinstance(value, (str, list, tuple, dict)) or not hasattr(value, "__len__"):
        return value
    if not hasattr(value, "__iter__") or len(getattr(value, "shape", ())) > 1:
        return value
    return list(value)


class PreTrainedTokenizerBase(SpecialTokensMixin):
    vocab_files_names: dict[str, str] = {}
    model_input_names: list[str] = ["input_ids", "token_type_ids", "attention_mask"]
    padding_side: str = "right"
    truncation_side: str = "right"
    is_fast: bool = False

    def __init__(
        self,
        pipeline: Pipeline | None = None,
        model_max_length: int | None = None,
        padding_side: str | None = None,
        truncation_side: str | None = None,
        clean_up_tokenization_spaces: bool | None = None,
        model_input_names: list[str] | None = None,
        additional_special_tokens: Sequence | None = None,
        name_or_path: str = "",
        **kwargs,
    ) -> None:
        pipeline = pipeline or kwargs.pop("_pipeline", None)
        tokenizer_file = kwargs.pop("tokenizer_file", None)
        if pipeline is None and tokenizer_file is None and overrides(self, "_tokenize"):
            pipeline = SubclassPipeline(self)  # a hand-written tokenizer (see custom.py)
        if pipeline is None and tokenizer_file is not None:
            from .serialization import pipeline_from_json, read_json

            pipeline = pipeline_from_json(read_json(Path(tokenizer_file)), tokenizer_file)
        if pipeline is None:
            raise ValueError(
                f"{type(self).__name__} needs its vocabulary: use {type(self).__name__}."
                "from_pretrained(folder), pass tokenizer_file='tokenizer.json', or define "
                "_tokenize in a subclass"
            )
        self.pipeline = pipeline
        self.model_max_length = VERY_LARGE_INTEGER if model_max_length is None else model_max_length
        self.padding_side = padding_side or type(self).padding_side
        self.truncation_side = truncation_side or type(self).truncation_side
        for side in (self.padding_side, self.truncation_side):
            if side not in ("left", "right"):
                raise ValueError(f"padding_side/truncation_side must be 'left' or 'right', got {side!r}")
        if clean_up_tokenization_spaces is None:
            # a hand-written tokenizer is transformers 4.x code, whose decode cleaned " ," up by
            # default; ours follow 5.24 (their decoders do their own clean-up)
            clean_up_tokenization_spaces = isinstance(pipeline, SubclassPipeline)
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        if model_input_names is not None:
            self.model_input_names = list(model_input_names)
        self.name_or_path = name_or_path
        self._special_tokens: dict = {}
        for name in SPECIAL_TOKENS_ATTRIBUTES:
            value = kwargs.pop(name, None)
            if value is not None:
                self._special_tokens[name] = value
                self._register_special(value)
        if additional_special_tokens:
            self.add_special_tokens({"additional_special_tokens": list(additional_special_tokens)})
        self.init_kwargs = dict(kwargs)
        self.pipeline.refresh_added_tokens()

    def _register_special(self, token) -> None:
        if isinstance(token, str):
            token = AddedToken(token, special=True, normalized=False)
        if isinstance(self.pipeline, SubclassPipeline):  # its vocabulary may come later
            self.pipeline.pending_specials.append(token)
            return
        if token.content not in self.pipeline.added.ids:
            token_id = self.pipeline.model.token_to_id(token.content)
            self.pipeline.added.add(token, len(self) if token_id is None else token_id)

    # ------------------------------------------------------------------ the call API
    def __call__(
        self,
        text=None,
        text_pair=None,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
        text_target=None,
        **kwargs,
    ) -> BatchEncoding:
        """Tokenize a text, a pair, a batch of either, or pre-split words (see module docstring).

        Byte-level tokenizers (GPT-2, RoBERTa) also take ``add_prefix_space=`` for this call, as
        transformers' Python GPT-2 tokenizer did (the course uses it; 5.24 accepts and ignores it)."""
        prefix_space = kwargs.pop("add_prefix_space", None)
        if kwargs:
            raise TypeError(f"unexpected keyword arguments {sorted(kwargs)} for the tokenizer call")
        if return_offsets_mapping and not getattr(self.pipeline, "has_offsets", True):
            raise NotImplementedError(
                f"return_offsets_mapping is not available for {type(self).__name__}: its own "
                "_tokenize gives no character alignment (transformers' Python tokenizers have none either)"
            )
        if text is None:
            if text_target is None:
                raise ValueError("give the text to tokenize (text=... or text_target=...)")
            text = text_target
        batched, examples = self._examples(text, text_pair, is_split_into_words)
        strategy, max_length = self._truncation_args(truncation, max_length, padding, verbose)
        pad_strategy, pad_length = self._padding_args(padding, max_length)
        if stride < 0:
            raise ValueError(f"stride must be >= 0, got {stride}")
        if strategy and pad_strategy != "do_not_pad" and pad_to_multiple_of and max_length % pad_to_multiple_of:
            raise ValueError(
                f"Truncation and padding are both activated but truncation length ({max_length}) is not "
                f"a multiple of pad_to_multiple_of ({pad_to_multiple_of}); padding could not stay within "
                "max_length (transformers raises here too)"
            )
        request = EncodeRequest(
            add_special_tokens=add_special_tokens,
            is_split_into_words=is_split_into_words,
            truncation=strategy,
            max_length=max_length,
            stride=stride,
            padding=pad_strategy,
            pad_length=pad_length,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_tensors=return_tensors,
            return_token_type_ids=return_token_type_ids,
            return_attention_mask=return_attention_mask,
            return_overflowing_tokens=return_overflowing_tokens,
            return_special_tokens_mask=return_special_tokens_mask,
            return_offsets_mapping=return_offsets_mapping,
            return_length=return_length,
        )
        if prefix_space is None:
            return self._encode_examples(examples, batched, request)
        with self._prefix_space(bool(prefix_space)):
            return self._encode_examples(examples, batched, request)

    @contextlib.contextmanager
    def _prefix_space(self, add_prefix_space: bool):
        """Run one call with a byte-level pipeline that does (or does not) add a space before
        the text: a shallow copy sharing the model, added tokens and word cache."""
        pipeline = self.pipeline
        if getattr(pipeline, "byte_level", False) and pipeline.pre_tokenizer.add_prefix_space == add_prefix_space:
            yield
            return
        if not getattr(pipeline, "byte_level", False) or type(pipeline) is not Pipeline:
            raise TypeError(
                f"add_prefix_space= at call time is only for clearformer's byte-level tokenizers "
                f"(GPT-2, RoBERTa), not {type(self).__name__}; with backend='tokenizers', pass "
                "add_prefix_space=True to from_pretrained instead"
            )
        variant = copy.copy(pipeline)
        variant.pre_tokenizer = copy.copy(pipeline.pre_tokenizer)
        variant.pre_tokenizer.add_prefix_space = add_prefix_space
        if hasattr(pipeline.post_processor, "add_prefix_space"):  # RoBERTa's offset trimming
            variant.post_processor = copy.copy(pipeline.post_processor)
            variant.post_processor.add_prefix_space = add_prefix_space
        self.pipeline = variant
        try:
            yield
        finally:
            self.pipeline = pipeline

    def _encode_examples(self, examples: list, batched: bool, request: EncodeRequest) -> BatchEncoding:
        """The checked (first, second) examples -> pipeline encodings -> padded BatchEncoding.
        (The ``backend="tokenizers"`` classes override this with one ``encode_batch`` call.)"""
        rows, mapping = [], []
        for index, (first, second) in enumerate(examples):
            encodings = self.pipeline.encode(
                first,
                second,
                is_pretokenized=request.is_split_into_words,
                add_special_tokens=request.add_special_tokens,
                truncation=request.truncation,
                max_length=request.max_length,
                stride=request.stride,
                from_left=self.truncation_side == "left",
            )
            if not request.return_overflowing_tokens:
                encodings = encodings[:1]
            rows += encodings
            mapping += [index] * len(encodings)
        return self._finalize(
            rows,
            batched=batched or request.return_overflowing_tokens,
            n_sequences=2 if examples and examples[0][1] is not None else 1,
            request=request,
            overflow_to_sample_mapping=mapping if request.return_overflowing_tokens else None,
        )

    @staticmethod
    def _examples(text, text_pair, is_split_into_words: bool):
        """(batched?, [(first, second-or-None), ...]) with the input shapes checked."""

        def is_words(x) -> bool:
            return isinstance(x, (list, tuple)) and all(isinstance(w, str) for w in x)

        # A column of a datasets.Dataset (``ds["text"]`` is a lazy Column in datasets >= 4), a
        # pandas Series or a numpy array of strings is a batch too: read it into a list once.
        text, text_pair = _as_list(text), _as_list(text_pair)

        if is_split_into_words:
            if is_words(text):
                # an empty pair means "no pair" for a single input, as in transformers
                return False, [(list(text), list(text_pair) if text_pair else None)]
            if isinstance(text, (list, tuple)) and all(is_words(t) for t in text):
                pairs = text_pair if text_pair is not None else [None] * len(text)
                return True, [(list(a), list(b) if b is not None else None) for a, b in zip(text, pairs)]
            raise TypeError(
                "with is_split_into_words=True, text must be a list of words (list[str]) or a "
                f"batch of them (list[list[str]]), got {type(text).__name__}"
            )
        if isinstance(text, str):
            if text_pair is not None and not isinstance(text_pair, str):
                raise TypeError("text is one string, so text_pair must be one string too")
            return False, [(text, text_pair or None)]
        if isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text):
            if text_pair is None:
                return True, [(t, None) for t in text]
            if len(text_pair) != len(text):
                raise ValueError(f"text has {len(text)} entries but text_pair has {len(text_pair)}; they pair up")
            return True, list(zip(text, text_pair))
        if isinstance(text, (list, tuple)) and all(
            isinstance(t, (list, tuple)) and len(t) == 2 and all(isinstance(s, str) for s in t) for t in text
        ):
            return True, [(a, b) for a, b in text]
        raise TypeError(
            "text must be a string, a list of strings, a list of (text, pair) tuples, or pre-split "
            f"words with is_split_into_words=True; got {type(text).__name__}"
        )

    def _truncation_args(self, truncation, max_length, padding, verbose):
        truncation = truncation.value if isinstance(truncation, Enum) else truncation
        padding = padding.value if isinstance(padding, Enum) else padding
        if truncation is None and max_length is not None and padding in (False, None, "do_not_pad"):
            if verbose:
                warnings.warn(
                    "max_length is given but truncation is not; truncating with 'longest_first' "
                    "as transformers does (pass truncation=True to silence this)",
                    stacklevel=3,
                )
            truncation = True
        if truncation in (None, False, "do_not_truncate"):
            return None, max_length
        strategy = "longest_first" if truncation is True else truncation
        if strategy not in TRUNCATION_STRATEGIES:
            raise ValueError(
                f"truncation={truncation!r} is not a strategy; use True, False or one of {TRUNCATION_STRATEGIES}"
            )
        if max_length is None:
            max_length = self.model_max_length
        if max_length >= VERY_LARGE_INTEGER:
            return None, None
        return strategy, max_length

    def _padding_args(self, padding, max_length):
        padding = padding.value if isinstance(padding, Enum) else padding
        if padding is True:
            padding = "longest"
        elif padding in (False, None):
            padding = "do_not_pad"
        if padding not in PADDING_STRATEGIES:
            raise ValueError(f"padding={padding!r}; use True, False or one of {PADDING_STRATEGIES}")
        if padding != "do_not_pad" and self.pad_token_id is None:
            raise ValueError(
                "asked to pad but this tokenizer has no pad token; set one first, e.g. "
                "tokenizer.pad_token = tokenizer.eos_token, or "
                "tokenizer.add_special_tokens({'pad_token': '[PAD]'})"
            )
        if padding == "max_length" and max_length is None:
            if self.model_max_length >= VERY_LARGE_INTEGER:
                raise ValueError("padding='max_length' needs max_length: this tokenizer has no limit")
            max_length = self.model_max_length
        return padding, max_length

    def prepare_for_model(
        self,
        ids: list[int],
        pair_ids: list[int] | None = None,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        return_overflowing_tokens: bool = False,
        **kwargs,
    ) -> BatchEncoding:
        """Second half of the call chain for ids you already have: truncate, add special tokens,
        pad, and wrap in a ``BatchEncoding`` (word ids are None and offsets (0, 0) here)."""
        strategy, max_length = self._truncation_args(truncation, max_length, padding, True)
        pad_strategy, pad_length = self._padding_args(padding, max_length)
        first = self._bare_encoding(ids)
        second = self._bare_encoding(pair_ids) if pair_ids is not None else None
        rows = self.pipeline.post_process(
            first,
            second,
            add_special_tokens,
            strategy,
            max_length,
            stride,
            self.truncation_side == "left",
        )
        if not return_overflowing_tokens:
            rows = rows[:1]
        request = EncodeRequest(
            add_special_tokens=add_special_tokens,
            truncation=strategy,
            max_length=max_length,
            stride=stride,
            padding=pad_strategy,
            pad_length=pad_length,
            return_overflowing_tokens=return_overflowing_tokens,
            **kwargs,
        )
        return self._finalize(
            rows,
            batched=return_overflowing_tokens,
            n_sequences=2 if pair_ids is not None else 1,
            request=request,
            overflow_to_sample_mapping=[0] * len(rows) if return_overflowing_tokens else None,
        )

    def _bare_encoding(self, ids: list[int]) -> Encoding:
        ids = list(ids)
        return Encoding(ids, self.convert_ids_to_tokens(ids), [(0, 0)] * len(ids), [None] * len(ids))

    def _finalize(
        self,
        rows: list[Encoding],
        batched: bool,
        n_sequences: int,
        request: EncodeRequest,
        overflow_to_sample_mapping: list[int] | None = None,
    ) -> BatchEncoding:
        """Pad the rows and build the BatchEncoding with the fields asked for."""
        if request.padding != "do_not_pad":
            self._pad_rows(rows, request.padding, request.pad_length, request.pad_to_multiple_of, request.padding_side)
        return_token_type_ids = request.return_token_type_ids
        if return_token_type_ids is None:
            return_token_type_ids = "token_type_ids" in self.model_input_names
        return_attention_mask = request.return_attention_mask
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        data = {"input_ids": [r.ids for r in rows]}
        if return_token_type_ids:
            data["token_type_ids"] = [r.type_ids for r in rows]
        if return_attention_mask:
            data["attention_mask"] = [r.attention_mask for r in rows]
        if request.return_special_tokens_mask:
            data["special_tokens_mask"] = [r.special_tokens_mask for r in rows]
        if request.return_offsets_mapping:
            data["offset_mapping"] = [r.offsets for r in rows]
        if request.return_length:
            data["length"] = [len(r.ids) for r in rows]
        if overflow_to_sample_mapping is not None:
            data["overflow_to_sample_mapping"] = overflow_to_sample_mapping
        if not batched and request.return_tensors is None:
            data = {k: (v if k == "length" else v[0]) for k, v in data.items()}
        return BatchEncoding(data, rows, tensor_type=request.return_tensors, n_sequences=n_sequences)

    def _pad_rows(self, rows, strategy, max_length, pad_to_multiple_of, padding_side) -> None:
        target = target_length(rows, strategy, max_length, pad_to_multiple_of)
        pad_rows(rows, target, padding_side or self.padding_side, self.pad_token_id, self.pad_token)

    # ------------------------------------------------------------------ convenience calls
    def tokenize(self, text: str, pair: str | None = None, add_special_tokens: bool = False, **kwargs) -> list[str]:
        return self(text, pair, add_special_tokens=add_special_tokens, **kwargs).tokens()

    def encode(self, text, text_pair=None, add_special_tokens: bool = True, **kwargs):
        """Just the input ids (a [1, L] tensor with return_tensors='pt')."""
        return self(text, text_pair, add_special_tokens=add_special_tokens, **kwargs)["input_ids"]

    def explain(self, text: str) -> dict:
        """Every pipeline stage for ``text``: added-token split, normalized text, pre-tokens,
        model pieces, final tokens/ids/types/offsets/word ids and the decoded string."""
        return self.pipeline.trace(text)

    trace = explain

    def train_new_from_iterator(
        self, text_iterator, vocab_size: int, new_special_tokens=None, min_frequency: int = 0, **kwargs
    ):
        """A tokenizer like this one (same class, settings and special tokens) with a vocabulary
        of ``vocab_size`` learnt from ``text_iterator`` (strings, or batches of strings)."""
        from .retrain import train_like

        def texts():
            for item in text_iterator:
                yield from ([item] if isinstance(item, str) else item)

        return train_like(self, texts(), vocab_size, new_special_tokens, min_frequency)

    @contextlib.contextmanager
    def as_target_tokenizer(self):
        """The course's 4.x context manager; these tokenizers have no separate target side."""
        yield self

    # ------------------------------------------------------------------ ids-level helpers
    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return self.pipeline.post_processor.num_special_tokens_to_add(pair)

    def _template(self, ids0: list[int], ids1: list[int] | None) -> Encoding:
        second = self._bare_encoding(ids1) if ids1 is not None else None
        return self.pipeline.post_processor.process(self._bare_encoding(ids0), second)

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None) -> list[int]:
        return self._template(token_ids_0, token_ids_1).ids

    def create_token_type_ids_from_sequences(self, token_ids_0, token_ids_1=None) -> list[int]:
        return self._template(token_ids_0, token_ids_1).type_ids

    def get_special_tokens_mask(
        self, token_ids_0, token_ids_1=None, already_has_special_tokens: bool = False
    ) -> list[int]:
        if already_has_special_tokens:
            if token_ids_1 is not None:
                raise ValueError("give one sequence when it already has its special tokens")
            special = set(self.all_special_ids)
            return [1 if i in special else 0 for i in token_ids_0]
        return self._template(token_ids_0, token_ids_1).special_tokens_mask

    # ------------------------------------------------------------------ decoding
    def decode(
        self,
        token_ids,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **kwargs,
    ) -> str:
        if hasattr(token_ids, "tolist"):
            token_ids = token_ids.tolist()
        if isinstance(token_ids, int):
            token_ids = [token_ids]
        if token_ids and isinstance(token_ids[0], list):
            raise TypeError("decode takes one sequence of ids; use batch_decode for a batch")
        tokens = self.convert_ids_to_tokens(token_ids, skip_special_tokens=skip_special_tokens)
        text = self.pipeline.decode_tokens(tokens)
        if clean_up_tokenization_spaces is None:
            clean_up_tokenization_spaces = self.clean_up_tokenization_spaces
        return clean_up_tokenization(text) if clean_up_tokenization_spaces else text

    def batch_decode(
        self,
        sequences,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **kwargs,
    ) -> list[str]:
        if hasattr(sequences, "tolist"):
            sequences = sequences.tolist()
        return [self.decode(s, skip_special_tokens, clean_up_tokenization_spaces, **kwargs) for s in sequences]

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return self.pipeline.decode_tokens(list(tokens))

    # ------------------------------------------------------------------ padding features
    def pad(
        self,
        encoded_inputs,
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
        verbose: bool = True,
    ) -> BatchEncoding:
        """Pad already-tokenized features (a dict of lists, or a list of dicts as a collator
        gets them); keys other than the tokenizer's own are passed through untouched."""
        batch, rows, single = features_to_rows(encoded_inputs)
        strategy, length = self._padding_args(padding, max_length)
        if strategy != "do_not_pad":
            self._pad_rows(rows, strategy, length, pad_to_multiple_of, padding_side)
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        out = dict(batch)
        out["input_ids"] = [r.ids for r in rows]
        for key, attr in (("token_type_ids", "type_ids"), ("special_tokens_mask", "special_tokens_mask")):
            if key in batch:
                out[key] = [getattr(r, attr) for r in rows]
        if return_attention_mask or "attention_mask" in batch:
            out["attention_mask"] = [r.attention_mask for r in rows]
        if single and return_tensors is None:
            out = {k: v[0] for k, v in out.items()}
        return BatchEncoding(out, None, tensor_type=return_tensors)

    # ------------------------------------------------------------------ files
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *inputs, **kwargs):
        """Load from a local folder (vocab files and/or tokenizer.json); never downloads.

        ``backend="tokenizers"`` returns the `tokenizers`-backed twin of this class (same API,
        same results). ``use_fast`` is accepted and ignored, as in transformers 5.24: every
        tokenizer with alignment here is already a ``PreTrainedTokenizerFast``."""
        kwargs.pop("use_fast", None)
        backend = kwargs.pop("backend", None)
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}; use one of {BACKENDS} (None: clearformer's own)")
        if backend == "tokenizers":
            from .tokenizers_backend import tokenizers_backend_class

            twin = tokenizers_backend_class(cls)
            if twin is not cls:
                return twin.from_pretrained(pretrained_model_name_or_path, *inputs, **kwargs)
        from .serialization import load_tokenizer

        return load_tokenizer(cls, pretrained_model_name_or_path, **kwargs)

    def save_pretrained(self, save_directory, **kwargs) -> tuple[str, ...]:
        """Write vocab files, tokenizer_config.json, special_tokens_map.json and tokenizer.json."""
        from .serialization import save_tokenizer

        return save_tokenizer(self, save_directory)

    def save_vocabulary(self, save_directory, filename_prefix: str | None = None) -> tuple[str, ...]:
        return tuple(self.pipeline.model.save(save_directory))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name_or_path={self.name_or_path!r}, "
            f"vocab_size={self.vocab_size}, model_max_length={self.model_max_length}, "
            f"is_fast={self.is_fast}, "
            f"padding_side={self.padding_side!r}, special_tokens={self.special_tokens_map})"
        )


class PreTrainedTokenizer(PreTrainedTokenizerBase):
    """Base of tokenizers without per-word alignment (T5, Marian: SentencePiece over whole
    texts), and transformers' name for the class a hand-written tokenizer subclasses."""

    is_fast = False


class PreTrainedTokenizerFast(PreTrainedTokenizerBase):
    """Base of the tokenizers whose encodings carry alignment: character offsets,
    ``word_ids()``, ``char_to_token``... (BERT, DistilBERT, GPT-2, RoBERTa). Pure Python here;
    transformers' class of this name needs the `tokenizers` package, ours does not (ours is
    ``TokenizersBackend``, chosen with ``backend="tokenizers"``)."""

    is_fast = True
