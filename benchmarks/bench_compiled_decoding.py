"""Decoding speed of ``compile_decoding`` (compiled fixed-shape step) vs eager ``generate``.

    python benchmarks/bench_compiled_decoding.py                # GPT-2-small, batch 1 and 8, 1 and 2 threads
    python benchmarks/bench_compiled_decoding.py --quick        # batch 1, 1 thread, 16 new tokens

GPT-2-small shape, random weights, fp32, no eos (every run makes exactly --new-tokens tokens),
greedy, a --prompt-len token prompt. Eager is the plain model's ``generate`` (static cache); the
compiled row is the same model after ``compile_decoding``. Each compiled graph is built at the
thread count it is timed with (inductor's kernels fix their thread count when compiled).
Eager and compiled runs alternate (--repeats rounds, medians). Prints compile seconds,
tokens/s of both and whether the greedy tokens are identical.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from clearformer import GPT2Config, GPT2LMHeadModel  # noqa: E402
from clearformer.inference import optimize_for_inference  # noqa: E402
from clearformer.inference.compiled_decoding import compile_decoding, remove_compiled_decoding  # noqa: E402


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(model, run, rounds: int) -> tuple[float, float]:
    """Median seconds of ``run`` eager and compiled, alternating each round (a shared machine's
    load changes by the second; back-to-back blocks measured the load, not the code)."""
    step = model.compiled_decoding
    eager, fast = [], []
    for _ in range(rounds):
        for kept, times in ((None, eager), (step, fast)):
            if kept is None:
                remove_compiled_decoding(model)
            else:
                model.compiled_decoding = kept
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return statistics.median(eager), statistics.median(fast)


def profile_step(model, ids, new: int, label: str, rows: int = 12) -> None:
    """torch.profiler's top ops (self CPU time) of one generate() call."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        model.generate(ids, max_new_tokens=new, do_sample=False)
    print(f"\nprofile: {label}")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--prompt-len", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="batch 1, 1 thread, 16 new tokens")
    parser.add_argument("--no-freezing", action="store_true", help="compile without inductor freezing")
    parser.add_argument("--no-cpp-wrapper", action="store_true", help="compile with inductor's Python wrapper")
    parser.add_argument("--int8", action="store_true", help="only try the step on optimize_for_inference(int8)")
    parser.add_argument("--profile", action="store_true", help="print torch.profiler's top ops of both paths")
    args = parser.parse_args()
    if args.quick:
        args.batches, args.threads, args.new_tokens = [1], [1], 16
    options = {"freezing": not args.no_freezing, "cpp_wrapper": not args.no_cpp_wrapper}
    print(f"torch {torch.__version__}, load average {os.getloadavg()[0]:.2f}, options {options}")
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(bos_token_id=None, eos_token_id=None, pad_token_id=0)).eval()
    new, plen = args.new_tokens, args.prompt_len
    prompts = torch.randint(0, 50257, (max(args.batches), plen), generator=torch.Generator().manual_seed(0))
    rows = []
    if args.int8:
        for kernel in ("auto", "torch"):
            try_int8(prompts[:1], new, plen, options, kernel)
        return
    for threads in args.threads:
        torch.set_num_threads(threads)
        for batch in args.batches:
            ids = prompts[:batch]
            kw = dict(max_new_tokens=new, do_sample=False)
            remove_compiled_decoding(model)
            eager_tokens = model.generate(ids, **kw)
            compile_decoding(model, max_length=plen + new, batch_size=batch, options=options)
            start = time.perf_counter()
            same = torch.equal(model.generate(ids, **kw), eager_tokens)
            compile_s = time.perf_counter() - start
            eager, fast = interleaved(model, partial(model.generate, ids, **kw), args.repeats)
            row = (threads, batch, batch * new / eager, batch * new / fast, eager / fast, compile_s, same)
            rows.append(row)
            print(
                f"threads {threads} batch {batch}: eager {row[2]:.1f} tok/s, compiled {row[3]:.1f} tok/s "
                f"({row[4]:.2f}x), first compiled generate {compile_s:.1f} s, tokens identical: {same}",
                flush=True,
            )
            if args.profile:
                profile_step(model, ids, new, f"compiled, threads {threads}, batch {batch}")
                remove_compiled_decoding(model)
                profile_step(model, ids, new, f"eager, threads {threads}, batch {batch}")
            torch._dynamo.reset()
    print("\n| threads | batch | eager tok/s | compiled tok/s | ratio | first call s (compile) | tokens identical |")
    print("|---|---|---|---|---|---|---|")
    for t, b, e, c, r, s, same in rows:
        print(f"| {t} | {b} | {e:.1f} | {c:.1f} | {r:.2f} | {s:.1f} | {same} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


def try_int8(ids, new: int, plen: int, options: dict, kernel: str) -> None:
    """Does the step compile on int8 weight-only linears (optimize_for_inference(quantize='int8'))?"""
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(bos_token_id=None, eos_token_id=None, pad_token_id=0))
    optimize_for_inference(model, quantize="int8", int8_kernel=kernel)
    kw = dict(max_new_tokens=new, do_sample=False)
    eager_tokens = model.generate(ids, **kw)
    compile_decoding(model, max_length=plen + new, batch_size=ids.shape[0], options=options)
    try:
        start = time.perf_counter()
        same = torch.equal(model.generate(ids, **kw), eager_tokens)
        compile_s = time.perf_counter() - start
    except Exception as error:  # the question is whether it compiles at all: report, do not hide
        print(f"int8 ({kernel} kernel): the compiled step failed: {type(error).__name__}: {str(error)[:600]}")
        return
    eager, fast = interleaved(model, partial(model.generate, ids, **kw), 3)
    print(
        f"int8 ({kernel} kernel) batch {ids.shape[0]}: eager {ids.shape[0] * new / eager:.1f} tok/s, compiled "
        f"{ids.shape[0] * new / fast:.1f} tok/s, first call {compile_s:.1f} s, tokens identical to eager int8: {same}"
    )


if __name__ == "__main__":
    main()
