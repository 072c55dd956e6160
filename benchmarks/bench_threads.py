"""Throughput when the machine is shared: thread count and OpenMP wait policy, with and without a neighbour.

    python benchmarks/bench_threads.py [--rounds 3] [--new-tokens 16]

Each configuration runs in a fresh process (the OpenMP policy is read when the runtime starts):
torch threads 1 or 2 (or all cores), ``OMP_WAIT_POLICY`` unset (libgomp spins a while, then
sleeps) or PASSIVE (sleeps at once), alone or beside a neighbour process that keeps one core busy
with its own matrix products (another job on the machine). Workloads: GPT-2-small W8A8 greedy
decoding at batch 1 and BERT-base W8A8 forward at 1x32, random weights. Configurations are
interleaved across rounds; the table has the median tokens/s and the ratio to 1 thread alone.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time

WORKER = r"""
import json, sys, time, torch
import clearformer
from clearformer import optimize_for_inference
threads, new_tokens = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
cfg = clearformer.GPT2Config(); cfg.eos_token_id = cfg.bos_token_id = None
gpt2 = optimize_for_inference(clearformer.GPT2LMHeadModel(cfg).eval(), quantize="w8a8")
bert = optimize_for_inference(clearformer.BertModel(clearformer.BertConfig()).eval(), quantize="w8a8")
ids = torch.randint(0, 50000, (1, 16)); sent = torch.randint(0, 30000, (1, 32))
out = {}
with torch.inference_mode():
    gpt2.generate(ids, max_new_tokens=4, do_sample=False); bert(sent)
    t = time.perf_counter(); gpt2.generate(ids, max_new_tokens=new_tokens, do_sample=False)
    out["gpt2 b1 decode"] = new_tokens / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(8): bert(sent)
    out["bert 1x32"] = 8 * 32 / (time.perf_counter() - t)
print(json.dumps(out))
"""

NEIGHBOUR = r"""
import torch
torch.set_num_threads(1)
a = torch.randn(512, 512)
while True:
    a = torch.tanh(a @ a)
"""


def run_config(threads: int, policy: str | None, neighbour: bool, new_tokens: int) -> dict:
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    busy = subprocess.Popen([sys.executable, "-c", NEIGHBOUR]) if neighbour else None
    try:
        if busy:
            time.sleep(1.0)  # let it reach its loop
        done = subprocess.run(
            [sys.executable, "-c", WORKER, str(threads), str(new_tokens)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        if busy:
            busy.kill()
            busy.wait()
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, os.cpu_count() or 2])
    args = parser.parse_args()
    configs = list(itertools.product(args.threads, (None, "PASSIVE"), (False, True)))
    results: dict = {c: [] for c in configs}
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}", flush=True)
    for r in range(args.rounds):
        for c in configs:  # interleaved: every configuration sees each round's machine
            results[c].append(run_config(*c, args.new_tokens))
        print(f"round {r + 1} done, load average {os.getloadavg()[0]:.2f}", flush=True)
    workloads = list(results[configs[0]][0])
    base = {w: statistics.median(x[w] for x in results[(1, None, False)]) for w in workloads}
    print("\n| threads | OMP_WAIT_POLICY | neighbour busy on 1 core | " + " | ".join(workloads) + " |")
    print("|---|---|---|" + "---|" * len(workloads))
    for (threads, policy, neighbour), runs in results.items():
        cells = []
        for w in workloads:
            med = statistics.median(x[w] for x in runs)
            cells.append(f"{med:.1f} tok/s ({med / base[w]:.2f}x)")
        print(f"| {threads} | {policy or 'unset'} | {'yes' if neighbour else 'no'} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
