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
import statistics
import time

import torch
from common import add_decoding_arguments

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
            models = {impl: build(state, mode, impl, batch, length) for impl in ("sdpa", "sdpa_decode")}
            times = {impl: [] for impl in models}
            with torch.inference_mode():
                tokens = {impl: m.generate(ids, **greedy) for impl, m in models.items()}  # warm-up (compiles)
                for _ in range(args.rounds):
                    for impl, m in models.items():
                        start = time.perf_counter()
                        m.generate(ids, **greedy)
                        times[impl].append(time.perf_counter() - start)
            rate = {impl: batch * args.new_tokens / statistics.median(ts) for impl, ts in times.items()}
            best = {impl: batch * args.new_tokens / min(ts) for impl, ts in times.items()}
            same = torch.equal(tokens["sdpa"], tokens["sdpa_decode"])
            print(
                f"{mode:>14} b{batch}: sdpa {rate['sdpa']:7.1f} tok/s (best {best['sdpa']:7.1f})"
                f"  sdpa_decode {rate['sdpa_decode']:7.1f} (best {best['sdpa_decode']:7.1f})"
                f"  x{rate['sdpa_decode'] / rate['sdpa']:.3f} median, x{best['sdpa_decode'] / best['sdpa']:.3f} best"
                f"  identical tokens: {same}"
            )


if __name__ == "__main__":
    main()
