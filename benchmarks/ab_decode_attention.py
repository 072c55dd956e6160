"""A/B of the single-query attention kernel: GPT-2-small decoding with "sdpa" vs "sdpa_decode".

    python benchmarks/ab_decode_attention.py                       # fp32 and W8A8, eager and compiled
    python benchmarks/ab_decode_attention.py --modes w8a8-compiled --batches 8 --rounds 15

Two copies of one random-init GPT-2-small (the real config) go through the same
``optimize_for_inference``; one is set back to "sdpa", the other keeps "sdpa_decode" (the kernel
in nn/csrc/decode_attention.cpp). Greedy decoding of a seeded prompt, rounds alternating the two,
in one process: prints tokens/s (median and best of the rounds), the ratio, and whether the
tokens are identical (fp32 must be; W8A8 may differ where a near-tie flips after requantizing).
"""

from __future__ import annotations

import argparse

from common import ab_line, add_decoding_arguments, decoding_ab

import clearformer
from clearformer.inference import compile_decoding

MODES = ("fp32-eager", "w8a8-eager", "fp32-compiled", "w8a8-compiled")


def build(state: dict, mode: str, implementation: str, batch: int, max_length: int) -> clearformer.GPT2LMHeadModel:
    model = clearformer.GPT2LMHeadModel(clearformer.GPT2Config()).eval()
    model.load_state_dict(state)
    clearformer.optimize_for_inference(model, quantize="w8a8" if mode.startswith("w8a8") else None)
    if model.config._attn_implementation != "sdpa_decode":
        raise SystemExit("optimize_for_inference did not select 'sdpa_decode' (is the kernel buildable here?)")
    model.config._attn_implementation = implementation
    if mode.endswith("compiled"):
        compile_decoding(model, max_length=max_length, batch_size=batch)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    add_decoding_arguments(parser)
    args = parser.parse_args()
    arms = ("sdpa", "sdpa_decode")
    for mode, batch, _, tokens, rates in decoding_ab(args, arms, build):
        print(f"{mode:>14} b{batch}: {ab_line(arms, rates, tokens)}", flush=True)


if __name__ == "__main__":
    main()
