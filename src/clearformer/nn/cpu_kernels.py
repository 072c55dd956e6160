"""clearformer's own CPU kernel (csrc/int8_gemv.cpp), compiled on first use and cached by torch.

It multiplies a few activation rows by int8 weights kept in a grouped layout of its own, at about
twice the read rate of torch's ``_weight_int8pack_mm`` (BENCHMARKS.md). It needs AVX-512, a C++
compiler and ninja; otherwise ``available()`` is False and callers keep torch's kernel. Callers
choose per model (``optimize_for_inference(..., int8_kernel=...)``); ``CLEARFORMER_CPU_KERNELS=0``,
read only here, is the documented machine-wide override. The ~25 s build happens once per machine.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import threading
from pathlib import Path

import torch

logger = logging.getLogger(__name__)

_NAME = "clearformer_int8_gemv"
_SOURCE = Path(__file__).with_name("csrc") / "int8_gemv.cpp"
_FLAGS = ["-O3", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-fopenmp"]
_LOCK = threading.Lock()


def _cpu_has_avx512() -> bool:
    return torch.backends.cpu.get_cpu_capability() in ("AVX512", "AVX512_BF16", "AMX")


def _unavailable_reason() -> str | None:
    if os.environ.get("CLEARFORMER_CPU_KERNELS", "1") == "0":
        return "turned off by CLEARFORMER_CPU_KERNELS=0"
    if not _cpu_has_avx512():
        return f"the CPU lacks AVX-512 (torch reports {torch.backends.cpu.get_cpu_capability()})"
    if shutil.which(os.environ.get("CXX", "c++")) is None:
        return "no C++ compiler on PATH (install g++ or set CXX)"
    from torch.utils.cpp_extension import is_ninja_available

    if not is_ninja_available():  # torch builds extensions with ninja
        return "ninja is not installed (pip install ninja)"
    return None


def _built_before() -> bool:
    """Whether torch's extension cache already holds a build (then loading takes well under 1 s)."""
    try:
        from torch.utils.cpp_extension import _get_build_directory  # private, hence the fallback

        return (Path(_get_build_directory(_NAME, False)) / f"{_NAME}.so").is_file()
    except Exception:
        return False


@functools.cache
def _build():
    from torch.utils.cpp_extension import load

    # torch.utils.cpp_extension rebuilds when the source changes and locks the cache folder, so
    # parallel test workers share one build.
    if not _built_before():  # a ~25 s pause with no word would look like a hang
        logger.warning("compiling clearformer's int8 CPU kernel: once per machine, about 25 s")
    return load(
        name=_NAME,
        sources=[str(_SOURCE)],
        extra_cflags=_FLAGS,
        extra_ldflags=["-fopenmp"],  # resolves to torch's own libgomp: one OpenMP pool, not two
        verbose=False,
    )


@functools.cache
def _module():
    """The compiled module, or None (logged once, with the reason) when it cannot be had."""
    reason = _unavailable_reason()
    if reason is None:
        with _LOCK:
            try:
                return _build()
            except Exception as exc:  # a failed build must never break inference: torch's kernel remains
                reason = f"its build failed: {exc}".splitlines()[0]
    logger.warning("clearformer's int8 CPU kernel is not used (%s); torch's int8 kernel runs instead", reason)
    return None


def unavailable_reason() -> str:
    """Why ``available()`` is False, in words (or "it is available")."""
    if available():
        return "it is available"
    return _unavailable_reason() or "its build failed (see the earlier warning)"


def available() -> bool:
    """True when the kernel is compiled and usable on this machine."""
    return _module() is not None


def pack_int8(weight_int8: torch.Tensor) -> torch.Tensor:
    """(N, K) int8 -> the kernel's grouped layout (ceil(N/4), ceil(K/64), 4, 64), zero padded."""
    return _module().pack_int8(weight_int8.contiguous())


def unpack_int8(packed: torch.Tensor, out_features: int, in_features: int) -> torch.Tensor:
    """The inverse of ``pack_int8``: the (N, K) int8 matrix, padding dropped."""
    groups, chunks, rows, width = packed.shape
    full = packed.permute(0, 2, 1, 3).reshape(groups * rows, chunks * width)
    return full[:out_features, :in_features]


def int8_linear(
    x: torch.Tensor, packed: torch.Tensor, scales: torch.Tensor, bias: torch.Tensor | None, out_features: int
) -> torch.Tensor:
    """``x @ (scales[:, None] * W).T + bias`` for 2-D ``x``, in x's dtype; ``scales`` has the packed
    (padded) row count, a bias at least ``out_features`` long and of any float dtype."""
    # A model.to(dtype) after quantizing turns the fp32 scales into bf16; the kernel reads fp32.
    scales = scales if scales.dtype == torch.float32 else scales.float()
    return _module().int8_linear(x, packed, scales, bias, out_features)
