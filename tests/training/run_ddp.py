"""Trains the tiny model under torchrun (or alone) and writes final weights and eval metrics.

torchrun --standalone --nproc_per_node 2 run_ddp.py OUT --batch 4   vs   python run_ddp.py OUT --batch 8
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from tiny import tiny_model, tiny_rows  # noqa: E402

from clearformer.training import Trainer, TrainingArguments  # noqa: E402


def accuracy(eval_pred):
    preds, labels = eval_pred
    return {"accuracy": float((preds.argmax(-1) == labels).mean()), "n": int(len(labels))}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--batch", type=int, required=True)
    a = p.parse_args()
    args = TrainingArguments(
        a.out,
        per_device_train_batch_size=a.batch,
        per_device_eval_batch_size=5,
        num_train_epochs=2,
        learning_rate=1e-3,
        save_steps=4,
        logging_steps=2,
        seed=3,
        log_level="warning",
    )
    model = tiny_model(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    trainer = Trainer(
        model, args, train_dataset=tiny_rows(64), eval_dataset=tiny_rows(27, seed=5), compute_metrics=accuracy
    )
    trainer.train()
    metrics = trainer.evaluate()
    trainer.save_model(os.path.join(a.out, "final"))
    if int(os.environ.get("RANK", "0")) == 0:
        with open(os.path.join(a.out, "metrics.json"), "w") as f:
            json.dump(metrics, f)


if __name__ == "__main__":
    main()
