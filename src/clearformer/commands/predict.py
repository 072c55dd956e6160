"""``clearformer predict``: a fine-tuned model's predictions on a course task's evaluation split,
one JSON object per line (row index, predicted label, gold label).

    clearformer predict --task cola --data ../shared/data/cola --model out --max_eval_samples 20
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from .evaluate import build_trainer
from .train import add_common_arguments


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("predict", help="print a fine-tuned model's predictions on a task (JSON lines)")
    add_common_arguments(p)
    p.add_argument("--per_device_eval_batch_size", type=int, default=32)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    spec, trainer, features, _, _ = build_trainer(args)
    if spec.family == "question_answering":
        print("clearformer predict: use `clearformer evaluate` for question answering (answers need post-processing)")
        return 2
    out = trainer.predict(features)
    logits = out.predictions[0] if isinstance(out.predictions, tuple) else out.predictions
    predicted = logits[..., 0] if logits.shape[-1] == 1 else np.argmax(logits, axis=-1)
    names = trainer.model.config.id2label or {}
    for i, pred in enumerate(predicted.tolist()):
        row = {"index": i, "prediction": pred if isinstance(pred, float) else names.get(pred, pred)}
        if out.label_ids is not None:
            row["label"] = out.label_ids[i].tolist()
        print(json.dumps(row, ensure_ascii=False))
    print(json.dumps(out.metrics), flush=True)
    return 0
