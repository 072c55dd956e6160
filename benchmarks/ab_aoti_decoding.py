"""A/B of the compiled decoding step's backend: ``compile_decoding(backend="dynamo")`` vs ``"aoti"``.

    python benchmarks/ab_aoti_decoding.py                    # fp32 and W8A8, batch 1 and 8, 1 thread
    python benchmarks/ab_aoti_decoding.py --modes w8a8 --batches 1 --rounds 15

Two copies of one random-init GPT-2-small (the real config) go through the same
``optimize_for_inference``; one gets the Dynamo step (torch.compile, guards checked every call), the
other the step exported and built by AOTInductor (inference/aoti_step.py), which reads the same
weight tensors. Greedy decoding of a seeded prompt, rounds alternating the two in one process:
prints each build's compile time, tokens/s (median and best), the ratio, and whether the tokens
are identical (they must be: the same graph, built two ways).
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

import torch
from common import add_decoding_arguments

import clearformer
from clearformer.inference import compile_decoding

BACKENDS = ("dynamo", "aoti")


def build(state: dict, mode: str, backend: str, batch: int, max_length: int) -> clearformer.GPT2LMHeadModel:
    model = clearformer.GPT2LMHeadModel(clearformer.GPT2Config()).eval()
    model.load_state_dict(state)
    clearformer.optimize_for_inference(model, quantize="w8a8" if mode == "w8a8" else None)
    return compile_decoding(model, max_length=max_length, batch_size=batch, backend=backend)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", default=["fp32", "w8a8"], choices=["fp32", "w8a8"])
    add_decoding_arguments(parser)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    state = clearformer.GPT2LMHeadModel(clearformer.GPT2Config()).state_dict()
    with open("/proc/loadavg") as f:
        print(f"threads {args.threads}, rounds {args.rounds}, load average {f.read().split()[0]}")
    for mode in args.modes:
        for batch in args.batches:
            ids = torch.randint(0, 50257, (batch, args.prompt_len), generator=torch.Generator().manual_seed(batch))
            greedy = dict(attention_mask=torch.ones_like(ids), max_new_tokens=args.new_tokens, do_sample=False)
            length = args.prompt_len + args.new_tokens
            models = {b: build(state, mode, b, batch, length) for b in BACKENDS}
            times = {b: [] for b in BACKENDS}
            with torch.inference_mode():
                tokens = {b: m.generate(ids, **greedy) for b, m in models.items()}  # compiles
                for r in range(args.rounds):
                    for b in BACKENDS[:: 1 if r % 2 else -1]:
                        start = time.perf_counter()
                        partial(models[b].generate, ids, **greedy)()
                        times[b].append(time.perf_counter() - start)
            rate = {b: batch * args.new_tokens / statistics.median(ts) for b, ts in times.items()}
            best = {b: batch * args.new_tokens / min(ts) for b, ts in times.items()}
            built = {b: models[b].compiled_decoding.compile_seconds for b in BACKENDS}
            print(
                f"{mode:>5} b{batch}: dynamo {rate['dynamo']:7.1f} tok/s (best {best['dynamo']:7.1f}, built in "
                f"{built['dynamo']:.0f} s)  aoti {rate['aoti']:7.1f} (best {best['aoti']:7.1f}, built in "
                f"{built['aoti']:.0f} s)  x{rate['aoti'] / rate['dynamo']:.3f} median, "
                f"x{best['aoti'] / best['dynamo']:.3f} best  identical tokens: "
                f"{torch.equal(tokens['dynamo'], tokens['aoti'])}",
                flush=True,
            )
            del models


if __name__ == "__main__":
    main()
