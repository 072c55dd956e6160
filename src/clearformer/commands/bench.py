"""``clearformer bench``: run a side-by-side benchmark (clearformer vs transformers) from benchmarks/.

    clearformer bench --list
    clearformer bench encoder --quick
    clearformer bench generation --dtypes fp32 bf16 --batches 1 8

The benchmarks are scripts in the repository's ``benchmarks/`` folder, not part of the package:
they import ``transformers`` (the reference), which the package itself never does. So this
command needs a source checkout (or ``--dir`` pointing at one) and runs the script in a child
Python; every argument after the benchmark's name goes to the script unchanged.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCHMARKS = {
    "encoder": ("bench_encoder.py", "encoder forward, BERT-base shape and the real MiniLM, fp32/bf16"),
    "generation": ("bench_generation.py", "GPT-2-small greedy decoding, cache vs no cache, bandwidth limit"),
    "training": ("bench_training.py", "MiniLM training step and a short Trainer run"),
    "tokenizers": ("bench_tokenizers.py", "Python and fast tokenizers vs the reference's, sentences/s"),
    "load_memory": ("bench_load_memory.py", "from_pretrained time and peak memory, fresh process per run"),
    "peers": ("bench_peers.py", "vs CTranslate2 and ONNX Runtime, interleaved (setup_peers.sh first)"),
    "int8_kernels": ("bench_int8_kernels.py", "one linear layer: fp32 vs each int8 kernel, by row count"),
    "w8a8_kernel_ab": ("ab_w8a8_kernel.py", "the W8A8 kernel at two git revisions, a whole model's cold weights"),
    "decode_attention_ab": ("ab_decode_attention.py", "GPT-2 decoding, SDPA vs the single-query attention kernel"),
    "fp32_packing_ab": ("ab_fp32_packing.py", "fp32 products: plain vs oneDNN vs MKL packed; models with fp32_packing"),
    "aoti_decoding_ab": ("ab_aoti_decoding.py", "GPT-2 decoding, compile_decoding backend dynamo vs aoti"),
    "column_major_head_ab": ("ab_column_major_head.py", "GPT-2 fp32 LM head, row- vs column-major"),
    "huge_pages_ab": ("ab_huge_pages.py", "weights on 4 KiB vs transparent huge pages: a read, decoding, BERT"),
    "int8_accuracy": ("int8_accuracy.py", "int8 modes vs fp32 on real MiniLM, a CoLA classifier, a trained GPT-2"),
    "threads": ("bench_threads.py", "thread count and OpenMP wait policy, alone and beside a busy process"),
    "compiled_decoding": ("bench_compiled_decoding.py", "GPT-2 decoding, eager vs compile_decoding"),
}


def default_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "benchmarks"  # src/clearformer/commands -> repo root


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "bench",
        help="run a side-by-side benchmark against transformers (needs a source checkout)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", nargs="?", choices=sorted(BENCHMARKS), help="which benchmark")
    p.add_argument("script_args", nargs=argparse.REMAINDER, help="passed to the benchmark script")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    p.add_argument("--dir", type=Path, default=None, help="the benchmarks/ folder (default: this checkout's)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    if args.list or not args.name:
        for name, (script, what) in sorted(BENCHMARKS.items()):
            print(f"{name:12} {script:22} {what}")
        return 0 if args.list else 2
    folder = args.dir or default_dir()
    script = folder / BENCHMARKS[args.name][0]
    if not script.is_file():
        print(
            f"clearformer bench: {script} not found. The benchmarks live in the source repository's "
            "benchmarks/ folder (they need transformers as the reference); run from a checkout or pass "
            "--dir PATH/TO/benchmarks",
            file=sys.stderr,
        )
        return 2
    return subprocess.call([sys.executable, str(script), *args.script_args])
