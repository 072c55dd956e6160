"""fp32 weight packing: the plain product vs oneDNN's and MKL's packed ones, then whole models.

    python benchmarks/ab_fp32_packing.py                 # both parts, 1 thread
    python benchmarks/ab_fp32_packing.py --part layers --rows 1 8 32 64 128

Part "layers": the linear layers of a GPT-2-small (with its LM head) or BERT-base stack on cold
weights (more than the L3 cache), each row count timed with ``F.linear``, oneDNN's packed op and
MKL's packed SGEMM, interleaved; prints each one's time and its speed relative to ``F.linear``.
This is the evidence for ``MKL_PACKED_ROWS`` in inference/packed_linear.py.
Part "models": ``optimize_for_inference(model)`` vs ``optimize_for_inference(model,
fp32_packing=True)`` on random-init BERT-base (1x32, 32x128) and GPT-2-small greedy decoding
(batch 1 and 8), interleaved, with the largest output difference / whether tokens are identical.
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

import torch
import torch.nn.functional as F

import clearformer

BLOCK = [(768, 2304), (768, 768), (768, 3072), (3072, 768)]  # (in, out) of one transformer layer
STACKS = {"GPT-2 small": BLOCK * 12 + [(768, 50257)], "BERT-base": BLOCK * 12}


def best_of(rounds: int, calls: dict) -> dict:
    times = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return times


def stack_pass(kind: str, weights: list, packs: list, xs: dict) -> None:
    """One pass over the stack's layers with one kind of product."""
    for (w, b), p in zip(weights, packs):
        x = xs[w.shape[1]]
        if kind == "F.linear":
            F.linear(x, w, b)
        elif kind == "oneDNN":
            torch.ops.mkldnn._linear_pointwise(x, p, b, "none", [], "")
        else:
            torch.ops.mkl._mkl_linear(x, p, w, b, x.shape[0])


def layers(rows_list: list[int], rounds: int) -> None:
    torch.manual_seed(0)
    for stack, shapes in STACKS.items():
        weights = [(torch.randn(n, k) * 0.03, torch.randn(n)) for k, n in shapes]
        packs = {
            "F.linear": [None] * len(weights),
            "oneDNN": [torch.ops.mkldnn._reorder_linear_weight(w, 1) for w, _ in weights],
            "MKL": [torch.ops.mkl._mkl_reorder_linear_weight(w, 64) for w, _ in weights],
        }
        for rows in rows_list:
            xs = {k: torch.randn(rows, k) for k in {k for k, _ in shapes}}
            calls = {kind: partial(stack_pass, kind, weights, p, xs) for kind, p in packs.items()}
            with torch.inference_mode():
                times = best_of(rounds if rows <= 256 else 2, calls)
            base = min(times["F.linear"])
            cells = "  ".join(f"{n} {min(t) * 1e3:8.1f} ms x{base / min(t):.2f}" for n, t in times.items())
            print(f"{stack:>11} {rows:>5} rows  {cells}")


def encode(model, ids: torch.Tensor, kw: dict, calls: int) -> None:
    for _ in range(calls):
        model(input_ids=ids, **kw)


def models(rounds: int) -> None:
    torch.manual_seed(0)
    bert_state = clearformer.BertModel(clearformer.BertConfig()).state_dict()
    gpt_state = clearformer.GPT2LMHeadModel(clearformer.GPT2Config()).state_dict()

    def build(cls, config, state, packing):
        model = cls(config).eval()
        model.load_state_dict(state)
        return clearformer.optimize_for_inference(model, fp32_packing=packing)

    pairs = {p: build(clearformer.BertModel, clearformer.BertConfig(), bert_state, p) for p in (False, True)}
    for batch, length, calls in ((1, 32, 8), (32, 128, 1)):
        ids = torch.randint(1000, 20000, (batch, length), generator=torch.Generator().manual_seed(length))
        kw = dict(attention_mask=torch.ones_like(ids), token_type_ids=torch.zeros_like(ids))
        with torch.inference_mode():
            outs = {p: m(input_ids=ids, **kw).last_hidden_state for p, m in pairs.items()}
            times = best_of(rounds, {p: partial(encode, m, ids, kw, calls) for p, m in pairs.items()})
        rate = {p: batch * length * calls / statistics.median(t) for p, t in times.items()}
        print(
            f"BERT-base {batch}x{length}: plain {rate[False]:7.0f} tok/s  fp32_packing {rate[True]:7.0f}"
            f"  x{rate[True] / rate[False]:.2f}  max |diff| {(outs[True] - outs[False]).abs().max().item():.1e}"
        )
    pairs = {p: build(clearformer.GPT2LMHeadModel, clearformer.GPT2Config(), gpt_state, p) for p in (False, True)}
    for batch in (1, 8):
        ids = torch.randint(0, 50257, (batch, 16), generator=torch.Generator().manual_seed(batch))
        kw = dict(attention_mask=torch.ones_like(ids), max_new_tokens=32, do_sample=False)
        with torch.inference_mode():
            tokens = {p: m.generate(ids, **kw) for p, m in pairs.items()}
            times = best_of(rounds, {p: partial(m.generate, ids, **kw) for p, m in pairs.items()})
        rate = {p: batch * 32 / statistics.median(t) for p, t in times.items()}
        print(
            f"GPT-2-small greedy b{batch}: plain {rate[False]:6.1f} tok/s  fp32_packing {rate[True]:6.1f}"
            f"  x{rate[True] / rate[False]:.2f}  identical tokens: {torch.equal(tokens[False], tokens[True])}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["layers", "models", "both"], default="both")
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 8, 16, 32, 64, 128, 512, 4096])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not hasattr(getattr(torch.ops, "mkl", None), "_mkl_linear"):
        raise SystemExit("this torch build has no MKL packed SGEMM (torch.ops.mkl._mkl_linear)")
    with open("/proc/loadavg") as f:
        print(f"threads {args.threads}, rounds {args.rounds}, load average {f.read().split()[0]}")
    if args.part in ("layers", "both"):
        layers(args.rows, args.rounds)
    if args.part in ("models", "both"):
        models(args.rounds)


if __name__ == "__main__":
    main()
