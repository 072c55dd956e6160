"""One check for keyword arguments a model's ``forward`` does not read.

Heads take ``**kwargs`` and hand the base model the names they know; without this check a
misspelt ``attn_mask=`` would be dropped and the model would run unmasked, giving other numbers
with no error. The message names the argument and the closest accepted name.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable
from typing import Any

import torch

# forward function -> the names it accepts, or None when it takes **kwargs it does not declare.
_ACCEPTED: dict[Callable[..., Any], frozenset[str] | None] = {}


def unexpected_kwargs_error(owner: str, unknown: Iterable[str], accepted: Iterable[str]) -> TypeError:
    accepted = sorted(accepted)
    parts = []
    for name in sorted(unknown):
        close = difflib.get_close_matches(name, accepted, n=1, cutoff=0.6)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]}?)" if close else ""))
    return TypeError(
        f"{owner} got unexpected keyword argument{'s' if len(parts) > 1 else ''} {', '.join(parts)}; "
        f"it accepts: {', '.join(accepted)}"
    )


def accepted_forward_args(model: Any) -> frozenset[str] | None:
    """Names ``model.forward`` reads: its parameters, plus the class's ``_forward_kwargs`` table for
    what its ``**kwargs`` pass on. None when ``**kwargs`` is open-ended (no table): nothing to check."""
    if "forward" in vars(model):
        return None  # replaced on the instance (a wrapper, a test double): its own business
    forward = model.forward
    key = getattr(forward, "__func__", forward)
    if key not in _ACCEPTED:
        params = inspect.signature(forward).parameters.values()
        names = {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        if any(p.kind is p.VAR_KEYWORD for p in params):
            extra = getattr(type(model), "_forward_kwargs", None)
            _ACCEPTED[key] = None if extra is None else frozenset(names | set(extra))
        else:
            _ACCEPTED[key] = frozenset(names)
    return _ACCEPTED[key]


def check_forward_kwargs(model: Any, kwargs: dict[str, Any]) -> None:
    """Raise TypeError for any key of ``kwargs`` that ``model.forward`` would not read."""
    accepted = accepted_forward_args(model)
    if accepted is None:
        return
    unknown = kwargs.keys() - accepted
    if unknown:
        raise unexpected_kwargs_error(f"{type(model).__name__}.forward()", unknown, accepted)


def pick_kwargs(model: Any, kwargs: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """``{name: kwargs.get(name)}`` for ``names``; any other key is an error, not silently dropped."""
    names = tuple(names)
    unknown = kwargs.keys() - set(names)
    if unknown:
        accepted = accepted_forward_args(model) or frozenset(names)
        raise unexpected_kwargs_error(f"{type(model).__name__}.forward()", unknown, accepted)
    return {k: kwargs.get(k) for k in names}


class ChecksForwardKwargs:
    """Mixin for an ``nn.Module``: calling it with a keyword ``forward`` does not read is a TypeError.

    Python would raise for a plain signature too, but without the suggestion, and a ``**kwargs``
    head would not raise at all. Skipped while torch.compile traces (the names were checked on
    the eager call, and a graph cannot carry the error path).
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs and not torch.compiler.is_compiling():
            check_forward_kwargs(self, kwargs)
        return super().__call__(*args, **kwargs)
