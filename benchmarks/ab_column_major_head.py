"""A/B of GPT-2's fp32 LM head stored row-major (out, in) vs column-major (in, out), 1 thread.

    python benchmarks/ab_column_major_head.py                 # the head alone by rows, then whole models
    python benchmarks/ab_column_major_head.py --rows 1 8 --batches 1 --rounds 9

First the 50257 x 768 product alone, both layouts on huge pages where available, for each row
count, alternated. Then whole GPT-2-small models (random init, real config) through
``optimize_for_inference(column_major_head=False / True)``, greedy decoding of a seeded prompt,
eager and with the AOTInductor step (``compile_decoding(backend="aoti")``); rounds alternate the arms
in one process. Prints ms or tok/s (median), the ratio column-major / row-major and token identity.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from common import ab_line, add_decoding_arguments, decoding_ab

import clearformer
from clearformer.inference import compile_decoding
from clearformer.inference.huge_pages import HugePageArena, huge_pages_available

ARMS = ("row-major", "column-major")


def head_alone(rows: list[int], rounds: int) -> None:
    arena = HugePageArena() if huge_pages_available() else None
    weight = torch.randn(50257, 768)
    row_major = arena.copy(weight) if arena else weight
    columns = weight.t().contiguous()
    column_major = (arena.copy(columns) if arena else columns).t()
    for m in rows:
        x = torch.randn(m, 768)
        arms = {"row-major": lambda x=x: torch.nn.functional.linear(x, row_major),
                "column-major": lambda x=x: torch.nn.functional.linear(x, column_major)}  # fmt: skip
        times = {a: [] for a in arms}
        for f in arms.values():
            f()
        for r in range(rounds):
            for a in ARMS[:: 1 if r % 2 else -1]:
                start = time.perf_counter()
                arms[a]()
                times[a].append(time.perf_counter() - start)
        med = {a: statistics.median(v) * 1e3 for a, v in times.items()}
        print(
            f"head alone, {m:>3} rows: row-major {med['row-major']:6.2f} ms  column-major {med['column-major']:6.2f} ms"
            f"  x{med['row-major'] / med['column-major']:.3f} speed"
        )


def build(state: dict, mode: str, arm: str, batch: int, max_length: int) -> clearformer.GPT2LMHeadModel:
    model = clearformer.GPT2LMHeadModel(clearformer.GPT2Config()).eval()
    model.load_state_dict(state)
    clearformer.optimize_for_inference(model, column_major_head=arm == "column-major")
    if mode == "aoti":
        compile_decoding(model, max_length=max_length, batch_size=batch, backend="aoti")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="*", default=[1, 2, 3, 4, 8, 16, 32])
    parser.add_argument("--modes", nargs="*", default=["eager", "aoti"], choices=["eager", "aoti"])
    add_decoding_arguments(parser)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    head_alone(args.rows, max(args.rounds, 9))
    for mode, batch, _models, tokens, rates in decoding_ab(args, ARMS, build):
        print(f"{mode:>5} b{batch}: {ab_line(ARMS, rates, tokens)}", flush=True)


if __name__ == "__main__":
    main()
