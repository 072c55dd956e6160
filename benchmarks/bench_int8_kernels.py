"""One linear layer at BERT-base / GPT-2-small shapes: fp32 against each int8 kernel, by row count.

    python benchmarks/bench_int8_kernels.py [--threads 1] [--rows 1 8 32 128 4096]

Rows are the M of (M, K) x (K, N): 1 and 8 are decoding steps, 32 a short sentence, 4096 a
32 x 128 batch. Each kernel runs on the same weights; the layers are the modules
``optimize_for_inference`` swaps in, so their Python overhead counts. Prints GOP/s (2*M*K*N per
call) by the minimum of interleaved rounds, and each int8 kernel's speed relative to fp32. The
weight-only/W8A8 crossover here is what ``quantize="int8"`` uses to pick ``weight_only_max_rows``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from clearformer.inference.int8_linear import Int8WeightOnlyLinear
from clearformer.inference.w8a8_linear import Int8DynamicLinear
from clearformer.nn import cpu_kernels

SHAPES = [(768, 2304), (768, 3072), (3072, 768)]  # (K, N): fused QKV, FFN in, FFN out


def layers(weight: torch.Tensor, bias: torch.Tensor) -> dict[str, torch.nn.Module]:
    out = {"fp32 nn.Linear": torch.nn.Linear(weight.shape[1], weight.shape[0]).eval()}
    with torch.no_grad():
        out["fp32 nn.Linear"].weight.copy_(weight)
        out["fp32 nn.Linear"].bias.copy_(bias)
    if cpu_kernels.w8a8_available():
        out["W8A8 clearformer (VNNI)"] = Int8DynamicLinear(weight, bias, kernel="clearformer")
    out["W8A8 torch._int_mm"] = Int8DynamicLinear(weight, bias, kernel="torch")
    if cpu_kernels.available():
        out["weight-only clearformer"] = Int8WeightOnlyLinear(weight, bias, kernel="clearformer")
    out["weight-only torch (bf16 in)"] = Int8WeightOnlyLinear(weight, bias, kernel="torch")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 8, 16, 32, 128, 4096])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with open("/proc/loadavg") as f:
        print(f"torch {torch.__version__}, threads {args.threads}, load average {f.read().split()[0]}")
    print("| K x N | rows | " + " | ".join(layers(torch.randn(4, 4), torch.randn(4))) + " |")
    for k, n in SHAPES:
        weight, bias = torch.randn(n, k) * 0.05, torch.randn(n)
        mods = layers(weight, bias)
        for m in args.rows:
            x = torch.randn(m, k)
            calls = max(1, int(2e9 / (2 * m * k * n)))  # ~1 GOP of work per timing
            times = {name: [] for name in mods}
            with torch.no_grad():
                for _ in range(args.rounds):
                    for name, layer in mods.items():  # interleaved: every kernel sees the same load
                        inp = x.bfloat16() if "bf16" in name else x
                        layer(inp)
                        t = time.perf_counter()
                        for _ in range(calls):
                            layer(inp)
                        times[name].append((time.perf_counter() - t) / calls)
            gops = {name: 2 * m * k * n / min(ts) / 1e9 for name, ts in times.items()}
            base = gops["fp32 nn.Linear"]
            cells = [f"{g:.0f} ({g / base:.2f}x)" for g in gops.values()]
            spread = max(statistics.median(ts) / min(ts) for ts in times.values())
            print(f"| {k} x {n} | {m} | " + " | ".join(cells) + f" |  (median/min up to {spread:.2f})")


if __name__ == "__main__":
    main()
