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


def decoding_ab(args, arms: tuple[str, str], build: Callable):
    """The decoding A/B loop: for each ``args.modes`` x ``args.batches``, one GPT-2-small (the real
    config, one seeded state) per arm from ``build(state, mode, arm, batch, max_length)``, greedy
    decoding of a seeded prompt (a warm-up, which compiles), then ``args.rounds`` timed runs with
    the arms' order flipped every round. Yields (mode, batch, models, tokens, tok/s samples)."""
    import clearformer

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    state = clearformer.GPT2LMHeadModel(clearformer.GPT2Config()).state_dict()
    print(f"threads {args.threads}, rounds {args.rounds}, load average {os.getloadavg()[0]:.2f}")
    for mode in args.modes:
        for batch in args.batches:
            ids = torch.randint(0, 50257, (batch, args.prompt_len), generator=torch.Generator().manual_seed(batch))
            greedy = dict(attention_mask=torch.ones_like(ids), max_new_tokens=args.new_tokens, do_sample=False)
            models = {arm: build(state, mode, arm, batch, args.prompt_len + args.new_tokens) for arm in arms}
            rates = {arm: [] for arm in arms}
            with torch.inference_mode():
                tokens = {arm: m.generate(ids, **greedy) for arm, m in models.items()}
                for r in range(args.rounds):
                    for arm in arms[:: 1 if r % 2 else -1]:
                        start = time.perf_counter()
                        models[arm].generate(ids, **greedy)
                        rates[arm].append(batch * args.new_tokens / (time.perf_counter() - start))
            yield mode, batch, models, tokens, rates


def ab_line(arms: tuple[str, str], rates: dict, tokens: dict) -> str:
    """Each arm's median (best) tok/s, the second arm's ratio to the first, and token identity."""
    a, b = arms
    med = {arm: statistics.median(v) for arm, v in rates.items()}
    best = {arm: max(v) for arm, v in rates.items()}
    return (
        f"{a} {med[a]:7.1f} tok/s (best {best[a]:7.1f})  {b} {med[b]:7.1f} (best {best[b]:7.1f})"
        f"  x{med[b] / med[a]:.3f} median, x{best[b] / best[a]:.3f} best"
        f"  identical tokens: {torch.equal(tokens[a], tokens[b])}"
    )
