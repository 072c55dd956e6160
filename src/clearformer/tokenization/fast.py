"""``use_fast=True``: the same tokenizer API, with stages 1-4 run by the `tokenizers` package.

The Rust tokenizer is built from the tokenizer.json that our own pipeline serializes, so both
paths share one definition and must give identical results (tests compare them). ``tokenizers``
is imported here only, lazily; an option it cannot honour raises instead of being ignored.
"""

from __future__ import annotations

import json

from .base import PreTrainedTokenizer
from .encoding import Encoding
from .pipeline import Pipeline
from .serialization import pipeline_to_json


def _import_tokenizers():
    try:
        import tokenizers
    except ImportError as err:
        raise ImportError(
            "use_fast=True needs the `tokenizers` package: pip install 'clearformer[fast]' "
            "(or drop use_fast to use clearformer's Python tokenizer)"
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
                "never_split cannot be honoured with use_fast=True (the `tokenizers` package has "
                "no such option); use the default Python tokenizer (use_fast=False) instead"
            )
        self.added = python.added
        self.rust = None
        self.refresh_added_tokens()

    def refresh_added_tokens(self) -> None:
        super().refresh_added_tokens()
        tokenizers = _import_tokenizers()
        self.rust = tokenizers.Tokenizer.from_str(json.dumps(pipeline_to_json(self)))

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
        rust = self.rust
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
            rust.enable_truncation(
                max_length,
                stride=stride,
                strategy=truncation,
                direction="left" if from_left else "right",
            )
        else:
            rust.no_truncation()
        try:
            enc = rust.encode(text, pair, is_pretokenized=is_pretokenized, add_special_tokens=add_special_tokens)
        except BaseException as err:  # Rust panics surface as BaseException subclasses
            if isinstance(err, (KeyboardInterrupt, SystemExit)):
                raise
            raise ValueError(f"the tokenizers backend refused this input: {err}") from None
        return [_from_rust(e) for e in [enc, *enc.overflowing]]

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


class PreTrainedTokenizerFast(PreTrainedTokenizer):
    """Marker base of the ``use_fast=True`` variants (``BertTokenizerFast`` ...)."""

    is_fast = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(self.pipeline, RustPipeline):
            self.pipeline = RustPipeline(self.pipeline)

    _python_class: type | None = None

    def __reduce__(self):
        # the Fast classes are made on demand, so pickle says how to make one again
        return (_rebuild_fast, (self._python_class, self.__getstate__()))

    def __getstate__(self) -> dict:
        return dict(self.__dict__)

    @property
    def backend_tokenizer(self):
        return self.pipeline.rust


_FAST_CLASSES: dict[type, type] = {}


def fast_class(python_class: type) -> type:
    """``BertTokenizer`` -> ``BertTokenizerFast``: same API, Rust-backed pipeline."""
    if issubclass(python_class, PreTrainedTokenizerFast):
        return python_class
    if python_class not in _FAST_CLASSES:
        _FAST_CLASSES[python_class] = type(
            python_class.__name__ + "Fast",
            (PreTrainedTokenizerFast, python_class),
            {"_python_class": python_class, "__module__": python_class.__module__},
        )
    return _FAST_CLASSES[python_class]


def _rebuild_fast(python_class: type, state: dict):
    cls = fast_class(python_class)
    tokenizer = cls.__new__(cls)
    tokenizer.__dict__.update(state)
    return tokenizer
