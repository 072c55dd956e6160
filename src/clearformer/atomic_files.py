"""Atomic file writes: a temporary file in the target's folder, fsynced, then renamed over it.

A kill or a full disk mid-save leaves the previous file or the new one, never a torn one. Weights,
configs, tokenizer files and Trainer checkpoints all write through here. Standard library only, so
tokenizers can use it without importing torch. The file gets the mode a plain ``open(path, "w")``
would give it (or keeps the one it had), not mkstemp's 0600.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def _default_mode() -> int:
    mask = os.umask(0)  # the only portable way to read the umask is to set it and put it back
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | os.PathLike, fill: Callable[[str], None]) -> None:
    """Run ``fill(tmp_path)`` to write the content, then put it at ``path`` in one rename."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.is_file() else _default_mode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        fill(tmp)
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> str:
    """Write UTF-8 ``text`` with "\\n" line ends kept as they are; returns the path as a string."""

    def fill(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)

    atomic_write(path, fill)
    return str(path)


def copy_file_atomic(source: str | os.PathLike, target: str | os.PathLike) -> str:
    """Copy ``source`` to ``target`` with the same guarantee; returns the target as a string."""
    atomic_write(target, lambda tmp: shutil.copyfile(source, tmp))
    return str(target)
