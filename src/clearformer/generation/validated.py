"""Which model's inputs ``generate`` has already checked, told to the model without touching it.

``generate`` validates ids, shapes and lengths once on entry; its loop then calls the model many
times with inputs it built itself. Instead of a flag written onto the model (seen by every other
caller of that model, e.g. another thread, while it is set), the loop runs inside
``inputs_validated(model)``: a context variable, local to this thread or task, naming that model.
Reading it costs one ``ContextVar.get`` per forward.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch
from torch import nn

_VALIDATED_FOR: ContextVar[nn.Module | None] = ContextVar("clearformer_generate_validated_for", default=None)


@contextmanager
def inputs_validated(model: nn.Module) -> Iterator[None]:
    """Within this block (in this thread only) ``model`` may skip its per-call input checks."""
    token = _VALIDATED_FOR.set(model)
    try:
        yield
    finally:
        _VALIDATED_FOR.reset(token)


def inputs_already_validated(model: nn.Module) -> bool:
    """True inside ``generate``'s loop for exactly the model it validated, else False.

    Always False while ``torch.compile`` traces (it cannot read a context variable); the checks a
    model then runs look at shapes only, once, at trace time (value checks skip themselves there).
    """
    if torch.compiler.is_compiling():
        return False
    return _VALIDATED_FOR.get() is model
