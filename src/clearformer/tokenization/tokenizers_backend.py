"""``backend="tokenizers"``: the same tokenizer API, with stages 1-4 run by the `tokenizers` package.

``TokenizersBackend`` is the base of these twins (``BertTokenizerTokenizersBackend`` ...): what
transformers calls ``PreTrainedTokenizerFast``. Here that name belongs to the pure-Python
tokenizers with alignment (base.py), so this class has its own, honest name (transformers 5.x
calls its Rust-backed class ``TokenizersBackend`` too).

The Rust tokenizer is built from the tokenizer.json that our own pipeline serializes, so both
paths share one definition and must give identical results (tests compare them). ``tokenizers``
is imported here only, lazily; an option it cannot honour raises instead of being ignored.

A call runs as transformers' Rust-backed tokenizers run it: truncation and padding are set on
the Rust tokenizer (only when they change from the previous call), one ``encode_batch`` encodes
every example, and the `tokenizers` ``Encoding`` objects themselves become the BatchEncoding's
rows, so word ids, sequence ids and character alignment are read from them only when asked for.
Only the fields the call returns (ids, masks, offsets ...) are converted to Python lists.
"""

from __future__ import annotations

import dataclasses
import json

from .base import PreTrainedTokenizerFast
from .batch_encoding import BatchEncoding
from .encoding import Encoding
from .pipeline import Pipeline
from .request import EncodeRequest
from .serialization import pipeline_to_json


def _import_tokenizers():
    try:
        import tokenizers
    except ImportError as err:
        raise ImportError(
            "backend='tokenizers' needs the `tokenizers` package: pip install 'clearformer[fast]' "
            "(or drop backend= to use clearformer's own tokenizer, which gives the same results)"
        ) from err
    return tokenizers


class RustPipeline(Pipeline):
    """A Pipeline whose ``encode`` and ``decode_tokens`` are delegated to ``tokenizers``."""

    def __init__(self, python: Pipeline) -> None:
        super().__init__(
            python.model,
            python.normalizer,
            python.pre_tokenizer,
            python.post_processor,
            python.decoder,
        )
        if python.never_split is not None:
            raise ValueError(
                "never_split cannot be honoured with backend='tokenizers' (the `tokenizers` package "
                "has no such option); use clearformer's own tokenizer (no backend=) instead"
            )
        self.added = python.added
        self.rust = None
        self.refresh_added_tokens()

    def refresh_added_tokens(self) -> None:
        super().refresh_added_tokens()
        self._build_rust()

    def _build_rust(self) -> None:
        tokenizers = _import_tokenizers()
        self.rust = tokenizers.Tokenizer.from_str(json.dumps(pipeline_to_json(self)))
        # what truncation / padding the Rust tokenizer is set to (None: off)
        self.rust_truncation = None
        self.rust_padding = None

    def __getstate__(self) -> dict:
        # the Rust tokenizer (and the settings the last call left on it) is rebuilt from the
        # pipeline on unpickling, so a pickle is the same before and after any call
        state = super().__getstate__()
        for key in ("rust", "rust_truncation", "rust_padding"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._build_rust()

    def set_truncation(self, settings: tuple | None) -> None:
        """(max_length, stride, strategy, direction) or None, set on the Rust tokenizer only
        when it differs from what it has (transformers' set_truncation_and_padding does the same)."""
        if settings == self.rust_truncation:
            return
        if settings is None:
            self.rust.no_truncation()
        else:
            max_length, stride, strategy, direction = settings
            self.rust.enable_truncation(max_length, stride=stride, strategy=strategy, direction=direction)
        self.rust_truncation = settings

    def set_padding(self, settings: tuple | None) -> None:
        """(length or None for the longest, direction, pad_id, pad_token, multiple) or None."""
        if settings == self.rust_padding:
            return
        if settings is None:
            self.rust.no_padding()
        else:
            length, direction, pad_id, pad_token, multiple = settings
            self.rust.enable_padding(
                direction=direction,
                pad_id=pad_id,
                pad_type_id=0,
                pad_token=pad_token,
                length=length,
                pad_to_multiple_of=multiple,
            )
        self.rust_padding = settings

    def encode(
        self,
        text,
        pair=None,
        is_pretokenized=False,
        add_special_tokens=True,
        truncation=None,
        max_length=None,
        stride=0,
        from_left=False,
    ) -> list[Encoding]:
        if truncation is not None and max_length is not None:
            n_special = self.post_processor.num_special_tokens_to_add(pair is not None)
            if max_length <= (n_special if add_special_tokens else 0):
                # let the Python path decide: it raises only if truncation is really needed
                return super().encode(
                    text,
                    pair,
                    is_pretokenized,
                    add_special_tokens,
                    truncation,
                    max_length,
                    stride,
                    from_left,
                )
            self.set_truncation((max_length, stride, truncation, "left" if from_left else "right"))
        else:
            self.set_truncation(None)
        self.set_padding(None)  # this route pads in Python
        enc = self.encode_rust([text if pair is None else (text, pair)], is_pretokenized, add_special_tokens)[0]
        return [_from_rust(e) for e in [enc, *enc.overflowing]]

    def encode_rust(self, inputs: list, is_pretokenized: bool, add_special_tokens: bool) -> list:
        """``tokenizers.Tokenizer.encode_batch`` with its settings as they are; a refusal (a
        Rust panic, e.g. a stride too large for the window) becomes a ValueError."""
        try:
            return self.rust.encode_batch(
                inputs, is_pretokenized=is_pretokenized, add_special_tokens=add_special_tokens
            )
        except BaseException as err:  # Rust panics surface as BaseException subclasses
            if isinstance(err, (KeyboardInterrupt, SystemExit)):
                raise
            raise ValueError(f"the tokenizers backend refused this input: {err}") from None

    def decode_tokens(self, tokens: list[str]) -> str:
        return self.rust.decoder.decode(tokens) if self.rust.decoder is not None else " ".join(tokens)


def _from_rust(e) -> Encoding:
    return Encoding(
        list(e.ids),
        list(e.tokens),
        list(e.offsets),
        list(e.word_ids),
        list(e.type_ids),
        list(e.special_tokens_mask),
        list(e.sequence_ids),
        list(e.attention_mask),
    )


class TokenizersBackend(PreTrainedTokenizerFast):
    """Base of the ``backend="tokenizers"`` twins (``BertTokenizerTokenizersBackend`` ...)."""

    is_fast = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(self.pipeline, RustPipeline):
            self.pipeline = RustPipeline(self.pipeline)

    _python_class: type | None = None

    def _encode_examples(self, examples: list, batched: bool, request: EncodeRequest) -> BatchEncoding:
        """One ``encode_batch`` over all examples; its Encodings are the rows, unconverted."""
        pipeline = self.pipeline
        is_pair = examples[0][1] is not None if examples else False
        if request.truncation is not None and request.max_length is not None:
            n_special = (
                pipeline.post_processor.num_special_tokens_to_add(any(s is not None for _, s in examples))
                if request.add_special_tokens
                else 0
            )
            if request.max_length <= n_special:
                # no room for text: the per-example route decides, and raises only where
                # truncation is really needed
                return super()._encode_examples(examples, batched, request)
            pipeline.set_truncation((request.max_length, request.stride, request.truncation, self.truncation_side))
        else:
            pipeline.set_truncation(None)
        if request.padding == "do_not_pad":
            pipeline.set_padding(None)
        else:
            side = request.padding_side or self.padding_side
            if side not in ("left", "right"):
                raise ValueError(f"padding_side must be 'left' or 'right', got {side!r}")
            pipeline.set_padding(
                (
                    request.pad_length if request.padding == "max_length" else None,
                    side,
                    self.pad_token_id,
                    self.pad_token,
                    request.pad_to_multiple_of,
                )
            )
        inputs = [first if second is None else (first, second) for first, second in examples]
        encodings = pipeline.encode_rust(inputs, request.is_split_into_words, request.add_special_tokens)
        mapping = None
        if request.return_overflowing_tokens:
            rows, mapping = [], []
            for index, enc in enumerate(encodings):
                windows = enc.overflowing
                rows.append(enc)
                rows += windows
                mapping += [index] * (1 + len(windows))
            batched = True
        else:
            rows = encodings
        # The Rust side has padded already; the rest (which fields, tensors) is the Python path's.
        unpadded = dataclasses.replace(request, padding="do_not_pad")
        return self._finalize(rows, batched, 2 if is_pair else 1, unpadded, overflow_to_sample_mapping=mapping)

    def __reduce__(self):
        # the twin classes are made on demand, so pickle says how to make one again
        return (_rebuild_twin, (self._python_class, self.__getstate__()))

    def __getstate__(self) -> dict:
        return dict(self.__dict__)

    @property
    def backend_tokenizer(self):
        return self.pipeline.rust


_TWIN_CLASSES: dict[type, type] = {}
TWIN_SUFFIX = "TokenizersBackend"


def tokenizers_backend_class(python_class: type) -> type:
    """``BertTokenizer`` -> ``BertTokenizerTokenizersBackend``: same API, Rust-backed pipeline."""
    if issubclass(python_class, TokenizersBackend):
        return python_class
    if not issubclass(python_class, PreTrainedTokenizerFast):
        raise ValueError(
            f"backend='tokenizers' is available for the tokenizers with alignment "
            f"(PreTrainedTokenizerFast subclasses), not {python_class.__name__}"
        )
    if python_class not in _TWIN_CLASSES:
        _TWIN_CLASSES[python_class] = type(
            python_class.__name__ + TWIN_SUFFIX,
            (TokenizersBackend, python_class),
            {"_python_class": python_class, "__module__": python_class.__module__},
        )
    return _TWIN_CLASSES[python_class]


def _rebuild_twin(python_class: type, state: dict):
    cls = tokenizers_backend_class(python_class)
    tokenizer = cls.__new__(cls)
    tokenizer.__dict__.update(state)
    return tokenizer
