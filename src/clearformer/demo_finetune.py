"""The fine-tuning half of ``clearformer demo``: MiniLM learns sentiment from a small shipped set.

The labelled sentences (assets/demo_sentiment.tsv) are written for clearformer. The model is
trained with clearformer's Trainer, evaluated on held-out rows, asked about new sentences, and a
report folder is written: metrics.json, training_curve.png and the fine-tuned model in HF format.
"""

from __future__ import annotations

import csv
import json
import logging
from importlib import resources
from pathlib import Path

import numpy as np

LABELS = {0: "negative", 1: "positive"}
NEW_SENTENCES = [
    "The waiter was kind and the dessert was amazing.",
    "The battery died within an hour, very annoying.",
    "I adored every minute of this trip.",
    "The instructions were confusing and the parts were missing.",
]
N_DEV = 18  # the last rows of the file are held out for evaluation


def load_demo_rows() -> list[dict]:
    text = resources.files("clearformer").joinpath("assets/demo_sentiment.tsv").read_text(encoding="utf-8")
    rows = []
    for line_no, row in enumerate(csv.DictReader(text.splitlines(), delimiter="\t"), start=2):
        if row.get("label") not in ("0", "1") or not row.get("sentence"):
            raise ValueError(f"assets/demo_sentiment.tsv line {line_no}: expected 'label<TAB>sentence', got {row}")
        rows.append({"sentence": row["sentence"], "label": int(row["label"])})
    return rows


def _accuracy(prediction) -> dict:
    return {"accuracy": float((np.argmax(prediction.predictions, -1) == prediction.label_ids).mean())}


def fine_tune(model_dir: Path, out: Path, epochs: int = 4, seed: int = 42) -> dict:
    """Train, evaluate, predict; write the report folder and return its metrics."""
    from .data import DataCollatorWithPadding
    from .models.auto import AutoModelForSequenceClassification
    from .tokenization import AutoTokenizer
    from .training import Trainer, TrainingArguments, set_seed

    set_seed(seed)
    rows = load_demo_rows()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=2, id2label=LABELS, label2id={v: k for k, v in LABELS.items()}
    )
    encode = [dict(tokenizer(r["sentence"], truncation=True, max_length=64), labels=r["label"]) for r in rows]
    train, dev = encode[:-N_DEV], encode[-N_DEV:]
    args = TrainingArguments(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=epochs,
        learning_rate=1e-4,
        per_device_train_batch_size=8,
        per_device_eval_batch_size=32,
        eval_strategy="epoch",
        save_strategy="no",
        logging_strategy="steps",
        logging_steps=2,
        report_to="none",
        seed=seed,
        warmup_ratio=0.1,
        disable_tqdm=True,
        log_level="warning",
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=dev,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=_accuracy,
    )
    before = trainer.evaluate()
    result = trainer.train()
    after = trainer.evaluate()
    model.eval()
    batch = tokenizer(NEW_SENTENCES, padding=True, return_tensors="pt")
    probs = model(**batch).logits.softmax(-1).detach()
    predictions = [
        {"sentence": s, "label": LABELS[int(p.argmax())], "score": round(float(p.max()), 4)}
        for s, p in zip(NEW_SENTENCES, probs)
    ]
    metrics = {
        "train_examples": len(train),
        "dev_examples": len(dev),
        "epochs": epochs,
        "dev_accuracy_before": before["eval_accuracy"],
        "dev_accuracy_after": after["eval_accuracy"],
        "training_loss": result.training_loss,
        "global_step": result.global_step,
        "predictions": predictions,
    }
    _write_report(out, trainer.state.log_history, metrics, model, tokenizer)
    return metrics


def _write_report(out: Path, history: list[dict], metrics: dict, model, tokenizer) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    model.save_pretrained(out / "model")
    tokenizer.save_pretrained(out / "model")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logging.getLogger(__name__).warning("no training_curve.png: pip install 'clearformer[viz]' for matplotlib")
        return
    train = [(h["step"], h["loss"]) for h in history if "loss" in h]
    evals = [(h["step"], h["eval_loss"]) for h in history if "eval_loss" in h]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(*zip(*train), marker=".", label="training loss")
    if evals:
        ax.plot(*zip(*evals), marker="o", label="dev loss")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title("clearformer demo: MiniLM fine-tuned on the demo sentiment set")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "training_curve.png", dpi=110)
    plt.close(fig)
