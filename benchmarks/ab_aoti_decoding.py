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

from common import ab_line, add_decoding_arguments, decoding_ab

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
    for mode, batch, models, tokens, rates in decoding_ab(args, BACKENDS, build):
        built = ", ".join(f"{b} built in {models[b].compiled_decoding.compile_seconds:.0f} s" for b in BACKENDS)
        print(f"{mode:>5} b{batch}: {ab_line(BACKENDS, rates, tokens)}  ({built})", flush=True)
        del models


if __name__ == "__main__":
    main()
