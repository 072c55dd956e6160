"""The docstring decorators chapter 3's classes are written with, under transformers' names.

The course copies BERT's source, whose classes are decorated with ``@add_start_docstrings(...)``
and friends. Here they only join docstrings (no generated code samples); ``ModelOutput`` is the
library's own output base class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .modeling_outputs import ModelOutput

__all__ = [
    "ModelOutput",
    "add_code_sample_docstrings",
    "add_end_docstrings",
    "add_start_docstrings",
    "add_start_docstrings_to_model_forward",
    "replace_return_docstrings",
]

T = TypeVar("T")


def _join(*parts: str | None) -> str:
    return "".join(p for p in parts if p)


def add_start_docstrings(*docstr: str) -> Callable[[T], T]:
    """Put ``docstr`` in front of the decorated class's or function's own docstring."""

    def decorate(obj: T) -> T:
        obj.__doc__ = _join(*docstr, obj.__doc__)
        return obj

    return decorate


def add_start_docstrings_to_model_forward(*docstr: str) -> Callable[[T], T]:
    """Same as ``add_start_docstrings``; transformers keeps a separate name for ``forward``."""
    return add_start_docstrings(*docstr)


def add_end_docstrings(*docstr: str) -> Callable[[T], T]:
    def decorate(obj: T) -> T:
        obj.__doc__ = _join(obj.__doc__, *docstr)
        return obj

    return decorate


def add_code_sample_docstrings(*docstr: str, **sample: Any) -> Callable[[T], T]:
    """Add ``docstr`` and a one-line note of the sample's checkpoint and output type.

    transformers generates a runnable example from ``checkpoint=``, ``output_type=``,
    ``tokenizer_class=`` ...; the names are accepted and named here, no example is generated.
    """

    def decorate(obj: T) -> T:
        note = ""
        if sample.get("output_type") is not None or sample.get("checkpoint"):
            output = getattr(sample.get("output_type"), "__name__", sample.get("output_type"))
            note = f"\n    Example checkpoint: {sample.get('checkpoint')}; returns {output}.\n"
        obj.__doc__ = _join(*docstr, obj.__doc__, note)
        return obj

    return decorate


def replace_return_docstrings(output_type: Any = None, config_class: Any = None) -> Callable[[T], T]:
    """Fill an empty ``Returns:`` line of the docstring with the output class's name."""

    def decorate(obj: T) -> T:
        doc = obj.__doc__ or ""
        name = getattr(output_type, "__name__", None)
        if name and "Returns:" in doc:
            obj.__doc__ = doc.replace("Returns:", f"Returns:\n            {name}", 1)
        return obj

    return decorate
