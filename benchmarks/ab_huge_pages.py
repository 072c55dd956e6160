"""A/B of weights on transparent huge pages: ``optimize_for_inference(huge_pages=False)`` vs the default.

    python benchmarks/ab_huge_pages.py                        # every part, 1 thread
    python benchmarks/ab_huge_pages.py --part stream decoding --rounds 9

Part "stream": one core reading 124 MB of fp32 (the size of GPT-2-small's int8 weights) three times,
from 4 KiB pages and from an arena advised as huge pages, summed with ``torch.sum``: a read rate.
Part "decoding": two copies of one random-init GPT-2-small (the real config) through the same
``optimize_for_inference``, one with ``huge_pages=False``; greedy decoding, eager and compiled
(``compile_decoding``), fp32 and W8A8, batch 1 and 8. Part "encoder": BERT-base forwards (1x32,
32x128) in fp32, fp32 with ``fp32_packing`` and W8A8. Rounds alternate the two copies in one process;
prints tokens/s (median, best), the ratio, and whether outputs are identical (they must be: only
where the weights lie changes), and the process's AnonHugePages: the memory the kernel actually backed
with huge pages, both copies alive (it may fall back to 4 KiB pages when memory is fragmented).
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
from clearformer.inference.huge_pages import HugePageArena, huge_pages_unavailable_reason

DECODING = ("fp32", "w8a8", "fp32-compiled", "w8a8-compiled")
ENCODER = {"fp32": {}, "fp32-packed": {"fp32_packing": True}, "w8a8": {"quantize": "w8a8"}}


def alternate(rounds: int, calls: dict) -> dict:
    """Times of each call, the order flipped every round so that drift hits both alike."""
    times = {name: [] for name in calls}
    for r in range(rounds):
        for name in list(calls)[:: 1 if r % 2 else -1]:
            start = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - start)
    return times


def report(label: str, work: float, times: dict, same: bool, unit: str = "tok/s") -> None:
    rate = {k: work / statistics.median(v) for k, v in times.items()}
    best = {k: work / min(v) for k, v in times.items()}
    print(
        f"{label:>26}: 4 KiB {rate['4k']:8.1f} {unit} (best {best['4k']:8.1f})  huge {rate['huge']:8.1f} "
        f"(best {best['huge']:8.1f})  x{rate['huge'] / rate['4k']:.3f} median, x{best['huge'] / best['4k']:.3f} best"
        f"  identical: {same}  AnonHugePages {anon_huge_pages()}",
        flush=True,
    )


def read_all(tensors: list[torch.Tensor]) -> None:
    for t in tensors:
        t.sum()


def stream(rounds: int) -> None:
    nbytes = 124 << 20
    plain = [torch.ones(nbytes // 4) for _ in range(3)]  # three: more than the L3 cache
    arena = HugePageArena()
    huge = [arena.copy(t) for t in plain]
    calls = {"4k": partial(read_all, plain), "huge": partial(read_all, huge)}
    report("read 3 x 124 MB", 3 * nbytes / 1e9, alternate(rounds, calls), True, unit="GB/s")


def decoding(args, state: dict) -> None:
    for mode in args.decoding:
        for batch in args.batches:
            ids = torch.randint(0, 50257, (batch, args.prompt_len), generator=torch.Generator().manual_seed(batch))
            greedy = dict(attention_mask=torch.ones_like(ids), max_new_tokens=args.new_tokens, do_sample=False)
            models = {}
            for name, huge in (("4k", False), ("huge", None)):
                model = clearformer.GPT2LMHeadModel(clearformer.GPT2Config()).eval()
                model.load_state_dict(state)
                quantize = "w8a8" if mode.startswith("w8a8") else None
                clearformer.optimize_for_inference(model, quantize=quantize, huge_pages=huge)
                if mode.endswith("compiled"):
                    compile_decoding(model, max_length=args.prompt_len + args.new_tokens, batch_size=batch)
                models[name] = model
            with torch.inference_mode():
                tokens = {k: m.generate(ids, **greedy) for k, m in models.items()}  # warm-up (compiles)
                times = alternate(args.rounds, {k: partial(m.generate, ids, **greedy) for k, m in models.items()})
            report(f"GPT-2 {mode} b{batch}", batch * args.new_tokens, times, torch.equal(tokens["4k"], tokens["huge"]))
            del models


def encoder(args, state: dict) -> None:
    for mode, options in ENCODER.items():
        for batch, length in ((1, 32), (32, 128)):
            ids = torch.randint(0, 30522, (batch, length), generator=torch.Generator().manual_seed(length))
            models = {}
            for name, huge in (("4k", False), ("huge", None)):
                model = clearformer.BertModel(clearformer.BertConfig()).eval()
                model.load_state_dict(state)
                models[name] = clearformer.optimize_for_inference(model, huge_pages=huge, **options)
            with torch.inference_mode():
                out = {k: m(ids).last_hidden_state for k, m in models.items()}
                times = alternate(args.rounds, {k: partial(m, ids) for k, m in models.items()})
            report(f"BERT {mode} {batch}x{length}", batch * length, times, torch.equal(out["4k"], out["huge"]))
            del models


def anon_huge_pages() -> str:
    with open("/proc/self/smaps_rollup") as f:
        return next(line.split(":", 1)[1].strip() for line in f if line.startswith("AnonHugePages"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", nargs="+", default=["stream", "decoding", "encoder"])
    parser.add_argument("--decoding", nargs="+", default=list(DECODING), choices=DECODING)
    add_decoding_arguments(parser)
    args = parser.parse_args()
    reason = huge_pages_unavailable_reason()
    if reason is not None:
        raise SystemExit(f"nothing to compare: {reason}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with open("/proc/loadavg") as f:
        print(f"threads {args.threads}, rounds {args.rounds}, load average {f.read().split()[0]}")
    if "stream" in args.part:
        stream(args.rounds)
    if "decoding" in args.part:
        decoding(args, clearformer.GPT2LMHeadModel(clearformer.GPT2Config()).state_dict())
    if "encoder" in args.part:
        encoder(args, clearformer.BertModel(clearformer.BertConfig()).state_dict())


if __name__ == "__main__":
    main()
