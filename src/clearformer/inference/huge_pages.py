"""Weights on transparent huge pages (2 MiB) instead of 4 KiB pages, for streaming them faster.

A decoding step reads every weight once, so it runs at the speed memory streams. With 4 KiB pages
that stream crosses a page, and a TLB miss, every 4 KiB, where the prefetchers stop: on this repo's
test CPU one core read 10.2 GB/s from 4 KiB pages and 12.4 GB/s from huge pages (BENCHMARKS.md,
"Ninth session"). ``HugePageArena`` copies tensors into anonymous memory advised as huge pages
(``madvise(MADV_HUGEPAGE)``); values are unchanged, only where they lie. Linux only.
"""

from __future__ import annotations

import mmap
import os
import sys
from pathlib import Path

import torch

HUGE_PAGE = 2 << 20
CHUNK_BYTES = 64 << 20  # one mapping per 64 MiB of tensors: at most one partly used huge page each
ALIGN = 4096  # each tensor starts on a page boundary (the kernels want 64-byte alignment)
MIN_BYTES = 1 << 16  # smaller tensors (norms, biases) are read from cache, not streamed
_THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def huge_pages_unavailable_reason() -> str | None:
    """Why tensors cannot be put on transparent huge pages here, or None if they can."""
    if not sys.platform.startswith("linux"):
        return f"transparent huge pages are a Linux feature and this is {sys.platform}"
    if not hasattr(mmap, "MADV_HUGEPAGE"):
        return "this Python's mmap module has no MADV_HUGEPAGE"
    try:
        setting = _THP_SETTING.read_text()
    except OSError as err:
        return f"the kernel has no transparent huge pages ({_THP_SETTING}: {err.strerror})"
    if "[never]" in setting:
        return (
            f"transparent huge pages are switched off ({_THP_SETTING} says {setting.strip()!r}); "
            f"'echo madvise > {_THP_SETTING}' as root switches them on"
        )
    return None


def huge_pages_available() -> bool:
    return huge_pages_unavailable_reason() is None


class HugePageArena:
    """Copies tensors into mappings advised as transparent huge pages, packed one after another.

    Each copy is a tensor of its own (its own storage, so saving one saves only its bytes), holding
    a reference to its mapping: a mapping is returned to the system when its last tensor is freed.
    ``placed_bytes`` counts what was copied in.
    """

    def __init__(self, chunk_bytes: int = CHUNK_BYTES) -> None:
        reason = huge_pages_unavailable_reason()
        if reason is not None:
            raise RuntimeError(f"cannot place tensors on huge pages: {reason}")
        self.chunk_bytes = chunk_bytes
        self.placed_bytes = 0
        self._chunk: mmap.mmap | None = None
        self._start = self._used = self._size = 0

    def empty(self, shape: tuple[int, ...] | torch.Size, dtype: torch.dtype) -> torch.Tensor:
        """An uninitialised contiguous CPU tensor in huge-page memory."""
        count = 1
        for size in shape:
            count *= size
        nbytes = count * torch.empty((), dtype=dtype).element_size()
        if self._chunk is None or self._used + nbytes > self._size:
            self._new_chunk(nbytes)
        offset = self._start + self._used
        self._used += -(-max(nbytes, 1) // ALIGN) * ALIGN
        self.placed_bytes += nbytes
        if count == 0:
            return torch.empty(shape, dtype=dtype)
        return torch.frombuffer(self._chunk, dtype=dtype, count=count, offset=offset).view(shape)

    def copy(self, tensor: torch.Tensor) -> torch.Tensor:
        """A copy of the CPU tensor ``tensor`` in huge-page memory (same values, shape and dtype)."""
        if tensor.device.type != "cpu" or tensor.layout != torch.strided:
            raise ValueError(f"only dense CPU tensors can be placed on huge pages, got {tensor.device} {tensor.layout}")
        out = self.empty(tensor.shape, tensor.dtype)
        with torch.no_grad():
            out.copy_(tensor)
        return out

    def _new_chunk(self, nbytes: int) -> None:
        size = -(-max(nbytes, self.chunk_bytes) // HUGE_PAGE) * HUGE_PAGE
        # One huge page more than needed, so that a 2 MiB-aligned window of ``size`` bytes fits:
        # only whole aligned 2 MiB ranges can become huge pages.
        chunk = mmap.mmap(-1, size + HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        base = torch.frombuffer(chunk, dtype=torch.uint8, count=1).data_ptr()
        start = -base % HUGE_PAGE
        chunk.madvise(mmap.MADV_HUGEPAGE, start, size)
        # the previous chunk stays alive through its tensors' references to it
        self._chunk, self._start, self._used, self._size = chunk, start, 0, size


def place_on_huge_pages(module: torch.nn.Module, arena: HugePageArena, min_bytes: int = MIN_BYTES) -> int:
    """Move ``module``'s parameters and buffers of at least ``min_bytes`` into ``arena``, in place.

    Parameters keep their identity (``param.data`` is replaced), so tied weights stay tied and
    optimizers or hooks holding them still do; a tensor reachable under two names is copied once.
    Call it before deriving anything from the weights (a fused or packed copy keys on their
    storage). Returns the bytes moved.
    """
    moved: dict[int, torch.Tensor] = {}  # data_ptr -> the copy in the arena
    before = arena.placed_bytes
    for owner in module.modules():
        for name, tensor in list(owner._parameters.items()) + list(owner._buffers.items()):
            if not _worth_placing(tensor, min_bytes):
                continue
            key = tensor.data_ptr()
            if key not in moved:
                moved[key] = arena.copy(tensor.detach())
                moved[moved[key].data_ptr()] = moved[key]  # a tied parameter, met again after its move
            if isinstance(tensor, torch.nn.Parameter):
                tensor.data = moved[key]
            else:
                owner._buffers[name] = moved[key]
    return arena.placed_bytes - before


def _worth_placing(tensor: torch.Tensor | None, min_bytes: int) -> bool:
    return (
        tensor is not None
        and tensor.device.type == "cpu"
        and tensor.layout == torch.strided
        and tensor.is_contiguous()
        and tensor.numel() * tensor.element_size() >= min_bytes
    )


def huge_page_advised_bytes(tensors: list[torch.Tensor]) -> int:
    """How many bytes of ``tensors`` lie in memory advised as huge pages (``hg`` in
    /proc/self/smaps), for checking a placement. 0 where /proc is not readable."""
    try:
        smaps = Path(f"/proc/{os.getpid()}/smaps").read_text()
    except OSError:
        return 0
    advised, start, end = [], 0, 0
    for line in smaps.splitlines():
        head = line.split(" ", 1)[0]
        if "-" in head and ":" not in head:
            low, high = head.split("-")
            start, end = int(low, 16), int(high, 16)
        elif head == "VmFlags:" and " hg" in line:
            advised.append((start, end))
    total = 0
    for t in tensors:
        first, nbytes = t.data_ptr(), t.numel() * t.element_size()
        if any(low <= first and first + nbytes <= high for low, high in advised):
            total += nbytes
    return total
