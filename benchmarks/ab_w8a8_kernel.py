"""A/B of the W8A8 kernel (src/clearformer/nn/csrc/int8_gemm.cpp) between git revisions, interleaved.

    python benchmarks/ab_w8a8_kernel.py HEAD~1 HEAD            # two revisions
    python benchmarks/ab_w8a8_kernel.py 5de7d83 WORKTREE       # a revision against the working tree

Each revision's kernel is built as its own extension (the operator renamed per build, so they load
side by side in one process) and runs the linear layers of a whole model on *cold* weights: GPT-2
small (48 layers plus the 38.6 MB LM head; 1 and 8 rows: decoding) and BERT-base (48 layers; 32
and 1024 rows: a sentence, a batch), 124 MB and 85 MB of int8, more than the L3 cache, as in a real
forward. A single layer timed in a loop (bench_int8_kernels.py) keeps its weights in cache instead.
Rounds alternate the builds; prints the minimum and median time per model pass, GB/s of weights,
GOP/s, and each build's speed relative to the first. ``--huge-pages`` puts the packed weights on
transparent huge pages, where ``optimize_for_inference`` puts them by default.
Needs AVX-512 VNNI, a C++ compiler and ninja.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.cpp_extension import load

from clearformer.inference.huge_pages import HugePageArena

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "src/clearformer/nn/csrc/int8_gemm.cpp"
FLAGS = ["-O3", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512vnni", "-fopenmp"]
BLOCK = [(768, 2304), (768, 768), (768, 3072), (3072, 768)]  # (K, N): fused QKV, attention out, FFN in, out
MODELS = {"GPT-2 small": (BLOCK * 12 + [(768, 50257)], [1, 8]), "BERT-base": (BLOCK * 12, [32, 1024])}


def source_at(rev: str, path: str = SOURCE) -> str:
    if rev == "WORKTREE":
        return (ROOT / path).read_text()
    shown = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True)
    return shown.stdout


def build(rev: str, index: int, workdir: Path):
    """(module with pack_w8a8, the operator) for ``rev``'s kernel, under the namespace ab<index>."""
    text = re.sub(r"TORCH_LIBRARY_(FRAGMENT|IMPL)\(clearformer,", rf"TORCH_LIBRARY_\1(ab{index},", source_at(rev))
    folder = workdir / f"ab{index}"
    folder.mkdir()
    # the csrc/ headers the source includes (avx512_exp.h since the eighth session), at the same revision
    for header in re.findall(r'#include "([\w.]+\.h)"', text):
        (folder / header).write_text(source_at(rev, str(Path(SOURCE).parent / header)))
    path = folder / f"ab{index}.cpp"
    path.write_text(text)
    version = text + "".join(p.read_text() for p in sorted(folder.glob("*.h")))
    module = load(
        name=f"ab_w8a8_{index}_{abs(hash(version)) % 10**8}",
        sources=[str(path)],
        extra_cflags=FLAGS,
        extra_ldflags=["-fopenmp"],
    )
    return module, getattr(torch.ops, f"ab{index}").w8a8_linear


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revs", nargs="+", help="git revisions, or WORKTREE for the file as it is now")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--group", type=int, default=128, help="activation group (0: whole rows)")
    parser.add_argument("--huge-pages", action="store_true", help="weights on huge pages")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        builds = [build(rev, i, Path(tmp)) for i, rev in enumerate(args.revs)]
    with open("/proc/loadavg") as f:
        print(
            f"threads {args.threads}, group {args.group}, rounds {args.rounds}, huge pages {args.huge_pages}, "
            f"load average {f.read().split()[0]}"
        )
    torch.manual_seed(0)
    place = HugePageArena().copy if args.huge_pages else (lambda t: t)
    for model, (shapes, row_counts) in MODELS.items():
        layers = []
        for k, n in shapes:
            q = torch.randint(-127, 128, (n, k), dtype=torch.int8)
            layers.append((k, n, torch.rand(n) * 0.01, torch.randn(n), [place(mod.pack_w8a8(q)) for mod, _ in builds]))
        weight_bytes = sum(k * n for k, n, *_ in layers)
        for rows in row_counts:
            xs = {k: torch.randn(rows, k) for k in {k for k, _ in shapes}}
            times = [[] for _ in builds]
            for _ in range(args.rounds):
                for i, (_, op) in enumerate(builds):
                    start = time.perf_counter()
                    for k, n, sw, bias, packed in layers:
                        op(xs[k], packed[i], sw, bias, n, "none", args.group)
                    times[i].append(time.perf_counter() - start)
            first = min(times[0])
            for rev, ts in zip(args.revs, times):
                best = min(ts)
                print(
                    f"{model} {rows:>4} rows  {rev:>10}: min {best * 1e3:8.2f} ms"
                    f"  median {statistics.median(ts) * 1e3:8.2f} ms"
                    f"  {weight_bytes / best / 1e9:5.1f} GB/s  {2 * rows * weight_bytes / best / 1e9:4.0f} GOP/s"
                    f"  x{first / best:.2f}"
                )
    # the builds must compute the same numbers (they differ in speed, not arithmetic)
    x, sw, bias = torch.randn(9, 256), torch.rand(100), torch.randn(100)
    q = torch.randint(-127, 128, (100, 256), dtype=torch.int8)
    outs = [op(x, mod.pack_w8a8(q), sw, bias, 100, "none", args.group) for mod, op in builds]
    print("identical outputs:", all(torch.equal(outs[0], o) for o in outs))


if __name__ == "__main__":
    main()
