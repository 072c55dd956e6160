"""clearformer's own CPU kernels (csrc/*.cpp), compiled on first use and cached by torch.

- ``int8_gemv.cpp``: a few activation rows times int8 weights in a grouped layout, at about twice
  the read rate of torch's ``_weight_int8pack_mm`` (int8 weight-only decoding). Needs AVX-512.
- ``int8_gemm.cpp``: W8A8, activations quantized per row and multiplied in int8 (VNNI), for any
  row count. Needs AVX-512 VNNI.
- ``decode_attention.cpp``: attention of a single query position (a decoding step) in fp32, used by
  ``nn.attention.attention`` in place of SDPA's set-up-heavy kernels. Needs AVX-512.
All need a C++ compiler and ninja; otherwise ``available()`` / ``w8a8_available()`` is False and
callers keep torch's kernels. Callers choose per model (``optimize_for_inference(...,
int8_kernel=...)``); ``CLEARFORMER_CPU_KERNELS=0``, read only here, is the documented machine-wide
override. Each ~25 s build happens once per machine.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import threading
from pathlib import Path

import torch

logger = logging.getLogger(__name__)

_CSRC = Path(__file__).with_name("csrc")


# Headers of csrc/ that sources include: part of every source's version, so a change rebuilds them.
_HEADERS = sorted(_CSRC.glob("*.h"))


def _versioned(stem: str, source: Path, flags: list[str]) -> str:
    """An extension name per source text (with the shared headers) and flags: torch's cache folder
    is per name, so two checkouts (or versions) of clearformer never rebuild each other's kernel."""
    text = b"".join(path.read_bytes() for path in [source, *_HEADERS])
    digest = hashlib.sha256(text + " ".join(flags).encode()).hexdigest()[:10]
    return f"{stem}_{digest}"


_SOURCE = _CSRC / "int8_gemv.cpp"
_FLAGS = ["-O3", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-fopenmp"]
_NAME = _versioned("clearformer_int8_gemv", _SOURCE, _FLAGS)
_W8A8_SOURCE = _CSRC / "int8_gemm.cpp"
_W8A8_FLAGS = [*_FLAGS, "-mavx512vnni"]
_W8A8_NAME = _versioned("clearformer_int8_gemm", _W8A8_SOURCE, _W8A8_FLAGS)
_ATTENTION_SOURCE = _CSRC / "decode_attention.cpp"
_ATTENTION_NAME = _versioned("clearformer_decode_attention", _ATTENTION_SOURCE, _FLAGS)
_LOCK = threading.Lock()
_DECODE_ATTENTION = None  # the operator, once loaded (see loaded_decode_attention)


def _cpu_has_avx512() -> bool:
    return torch.backends.cpu.get_cpu_capability() in ("AVX512", "AVX512_BF16", "AMX")


def _cpu_has_vnni() -> bool:
    probe = getattr(torch.cpu, "_is_vnni_supported", None)  # private in torch: read /proc as a fallback
    if probe is not None:
        return bool(probe())
    try:
        return "avx512_vnni" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


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


def _w8a8_unavailable_reason() -> str | None:
    reason = _unavailable_reason()
    if reason is None and not _cpu_has_vnni():
        reason = "the CPU lacks AVX-512 VNNI (int8 dot products)"
    return reason


def _built_before(name: str = _NAME) -> bool:
    """Whether torch's extension cache already holds a build (then loading takes well under 1 s)."""
    try:
        from torch.utils.cpp_extension import _get_build_directory  # private, hence the fallback

        return (Path(_get_build_directory(name, False)) / f"{name}.so").is_file()
    except Exception:
        return False


def _build(name: str, source: Path, flags: list[str]):
    from torch.utils.cpp_extension import load

    # torch.utils.cpp_extension rebuilds when the source changes and locks the cache folder, so
    # parallel test workers share one build.
    if not _built_before(name):  # a ~25 s pause with no word would look like a hang
        logger.warning("compiling clearformer's CPU kernel %s: once per machine, about 25 s", source.name)
    return load(
        name=name,
        sources=[str(source)],
        extra_cflags=flags,
        extra_ldflags=["-fopenmp"],  # resolves to torch's own libgomp: one OpenMP pool, not two
        verbose=False,
    )


def _load(reason: str | None, name: str, source: Path, flags: list[str], fallback: str):
    """The compiled module, or None (logged once, with the reason) when it cannot be had."""
    if reason is None:
        with _LOCK:
            try:
                return _build(name, source, flags)
            except Exception as exc:  # a failed build must never break inference: torch's kernel remains
                reason = f"its build failed: {exc}".splitlines()[0]
    logger.warning("clearformer's CPU kernel %s is not used (%s); %s", source.name, reason, fallback)
    return None


@functools.cache
def _module():
    return _load(_unavailable_reason(), _NAME, _SOURCE, _FLAGS, "torch's int8 kernel runs instead")


def _load_operator(reason: str | None, name: str, source: Path, flags: list[str], operator: str, fallback: str):
    """``_load``, except that a build without ``torch.ops.clearformer.<operator>`` counts as none
    (e.g. a stale build of an older source in torch's extension cache, shared by checkouts)."""
    module = _load(reason, name, source, flags, fallback)
    if module is not None and not hasattr(torch.ops.clearformer, operator):
        logger.warning("clearformer's kernel %s loaded without its operator %s; %s", source.name, operator, fallback)
        return None
    return module


@functools.cache
def _w8a8_module():
    fallback = "torch's _int_mm runs instead"
    module = _load_operator(_w8a8_unavailable_reason(), _W8A8_NAME, _W8A8_SOURCE, _W8A8_FLAGS, "w8a8_linear", fallback)
    if module is not None:
        _register_w8a8_shape()
    return module


@functools.cache
def _attention_module():
    fallback = "torch's SDPA runs instead"
    module = _load_operator(
        _unavailable_reason(), _ATTENTION_NAME, _ATTENTION_SOURCE, _FLAGS, "decode_attention", fallback
    )
    if module is not None:

        @torch.library.register_fake("clearformer::decode_attention")
        def _(query, key, value, mask, scale):
            return query.new_empty(query.shape)

        global _DECODE_ATTENTION
        _DECODE_ATTENTION = torch.ops.clearformer.decode_attention
    return module


def _register_w8a8_shape() -> None:
    """The output shape of ``torch.ops.clearformer.w8a8_linear``, so that torch.compile can trace it."""

    @torch.library.register_fake("clearformer::w8a8_linear")
    def _(x, packed, weight_scales, bias, n, activation, group=0):
        return x.new_empty((x.shape[0], n))


def unavailable_reason() -> str:
    """Why ``available()`` is False, in words (or "it is available")."""
    if available():
        return "it is available"
    return _unavailable_reason() or "its build failed (see the earlier warning)"


def w8a8_unavailable_reason() -> str:
    """Why ``w8a8_available()`` is False, in words (or "it is available")."""
    if w8a8_available():
        return "it is available"
    return _w8a8_unavailable_reason() or "its build failed (see the earlier warning)"


def available() -> bool:
    """True when the int8 weight-only kernel is compiled and usable on this machine."""
    return _module() is not None


def w8a8_available() -> bool:
    """True when the W8A8 (VNNI) kernel is compiled and usable on this machine."""
    return _w8a8_module() is not None


def decode_attention_available() -> bool:
    """True when the single-query attention kernel is compiled and usable on this machine (builds
    or loads it on first call)."""
    return _attention_module() is not None


def decode_attention_unavailable_reason() -> str:
    """Why ``decode_attention_available()`` is False, in words (or "it is available")."""
    if decode_attention_available():
        return "it is available"
    return _unavailable_reason() or "its build failed (see the earlier warning)"


def loaded_decode_attention():
    """``torch.ops.clearformer.decode_attention`` (query (B, H, 1, D), key/value (B, H, L, D) fp32,
    additive fp32 mask broadcastable to (B, H, 1, L) or None, scale) -> (B, H, 1, D): softmax(scale *
    q kᵀ + mask) v. Only once ``decode_attention_available()`` has loaded it: this lookup builds
    nothing, so that torch.compile can trace it."""
    if _DECODE_ATTENTION is None:
        raise RuntimeError(
            "attention 'sdpa_decode' needs clearformer's decode-attention kernel, which is not loaded: "
            "use clearformer.optimize_for_inference(model) or from_pretrained(..., "
            "attn_implementation='sdpa_decode'), which load it, or attn_implementation='sdpa'"
        )
    return _DECODE_ATTENTION


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


def pack_w8a8(weight_int8: torch.Tensor) -> torch.Tensor:
    """(N, K) int8 in [-127, 127] -> the W8A8 kernel's panels (ceil(N/48), ceil(K/4), 48, 4) uint8."""
    return _w8a8_module().pack_w8a8(weight_int8.contiguous())


def unpack_w8a8(packed: torch.Tensor, out_features: int, in_features: int) -> torch.Tensor:
    """The inverse of ``pack_w8a8``: the (N, K) int8 matrix, padding dropped."""
    panels, quads, rows, four = packed.shape
    full = packed.permute(0, 2, 1, 3).reshape(panels * rows, quads * four).to(torch.int16) - 128
    return full[:out_features, :in_features].to(torch.int8)


def w8a8_linear(
    x: torch.Tensor,
    packed: torch.Tensor,
    weight_scales: torch.Tensor,
    bias: torch.Tensor | None,
    out_features: int,
    activation: str = "none",
    group: int = 0,
) -> torch.Tensor:
    """fp32 ``x`` (2-D) quantized per row (or per ``group`` channels of a row) to int8, times the
    packed int8 weight, rescaled, plus bias, then ``activation`` ("none", "gelu" or
    "gelu_tanh"); fp32 out."""
    _w8a8_module()  # loads the library that defines the operator
    return torch.ops.clearformer.w8a8_linear(x, packed, weight_scales, bias, out_features, activation, group)
