"""The library's logger tree and verbosity switches, under transformers' names.

Everything logs through the standard ``logging`` module below the ``clearformer`` logger, so
``set_verbosity_info()`` here and ``logging.getLogger("clearformer").setLevel(...)`` are the same
switch. Course code does ``logger = logging.get_logger(__name__)`` and this is what it gets.
"""

from __future__ import annotations

import logging
import os

CRITICAL, FATAL, ERROR, WARNING, WARN, INFO, DEBUG, NOTSET = (
    logging.CRITICAL,
    logging.FATAL,
    logging.ERROR,
    logging.WARNING,
    logging.WARN,
    logging.INFO,
    logging.DEBUG,
    logging.NOTSET,
)

_ROOT = "clearformer"
_LEVELS = {"debug": DEBUG, "info": INFO, "warning": WARNING, "error": ERROR, "critical": CRITICAL}


def _root() -> logging.Logger:
    return logging.getLogger(_ROOT)


def _env_level() -> int | None:
    name = os.environ.get("CLEARFORMER_VERBOSITY")
    if not name:
        return None
    if name.lower() not in _LEVELS:
        raise ValueError(f"CLEARFORMER_VERBOSITY={name!r} is not one of {sorted(_LEVELS)}")
    return _LEVELS[name.lower()]


def get_logger(name: str | None = None) -> logging.Logger:
    """The logger for ``name`` (a module's ``__name__``); ``None`` gives the library's root logger."""
    level = _env_level()
    if level is not None and _root().level == NOTSET:
        _root().setLevel(level)
    return logging.getLogger(name) if name else _root()


def get_verbosity() -> int:
    return _root().getEffectiveLevel()


def set_verbosity(verbosity: int) -> None:
    _root().setLevel(verbosity)


def set_verbosity_debug() -> None:
    set_verbosity(DEBUG)


def set_verbosity_info() -> None:
    set_verbosity(INFO)


def set_verbosity_warning() -> None:
    set_verbosity(WARNING)


def set_verbosity_error() -> None:
    set_verbosity(ERROR)


def enable_propagation() -> None:
    _root().propagate = True


def disable_propagation() -> None:
    _root().propagate = False


_handler: logging.Handler | None = None


def enable_default_handler() -> None:
    """Print the library's records to stderr even when the application configured no logging."""
    global _handler
    if _handler is None:
        _handler = logging.StreamHandler()
        _handler.setFormatter(logging.Formatter("[%(levelname)s|%(name)s] %(message)s"))
    if _handler not in _root().handlers:
        _root().addHandler(_handler)


def disable_default_handler() -> None:
    if _handler is not None:
        _root().removeHandler(_handler)
