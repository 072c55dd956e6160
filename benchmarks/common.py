"""Shared benchmark helpers: machine facts, A/B timing, matmul peak, JSON-line + table output.

Every benchmark runs clearformer and the reference on the same weights and inputs in one run,
alternating A and B after warm-up so drift in machine load hits both sides alike.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import torch


def machine_info() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import transformers

        ref_version = transformers.__version__
    except ImportError:
        ref_version = None
    flags = ""
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": ref_version,
        "amx_bf16": "amx_bf16" in flags,
        "avx512_bf16": "avx512_bf16" in flags,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "loadavg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def ab_times(
    a: Callable[[], object], b: Callable[[], object], repeats: int, warmup: int = 2, device: str = "cpu"
) -> tuple[list[float], list[float]]:
    """Time ``a`` and ``b`` alternately (a, b, b, a, ...) and return their wall times in seconds."""
    for _ in range(warmup):
        a(), b()
    ta, tb = [], []
    for i in range(repeats):
        order = (a, b) if i % 2 == 0 else (b, a)
        for fn in order:
            sync(device)
            t0 = time.perf_counter()
            fn()
            sync(device)
            (ta if fn is a else tb).append(time.perf_counter() - t0)
    return ta, tb


def summary(times: list[float]) -> dict:
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "n": len(times)}


def matmul_peak(shapes: list[tuple[int, int, int]], dtype: torch.dtype, device: str = "cpu", repeats: int = 5) -> float:
    """Median over ``shapes`` (m, k, n) of the best achieved GFLOP/s of x @ W.T in ``dtype``."""
    rates = []
    for m, k, n in shapes:
        x = torch.randn(m, k, dtype=dtype, device=device)
        w = torch.randn(n, k, dtype=dtype, device=device)
        torch.nn.functional.linear(x, w)
        best = float("inf")
        for _ in range(repeats):
            sync(device)
            t0 = time.perf_counter()
            torch.nn.functional.linear(x, w)
            sync(device)
            best = min(best, time.perf_counter() - t0)
        rates.append(2 * m * k * n / best / 1e9)
    return statistics.median(rates)


def emit(row: dict) -> None:
    print(json.dumps(row), flush=True)


def table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"
    return "" if v is None else str(v)


def add_decoding_arguments(parser) -> None:
    """The options of the decoding A/B scripts: batch sizes, prompt and new tokens, rounds, threads."""
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--prompt-len", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
