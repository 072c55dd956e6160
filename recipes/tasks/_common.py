"""Shared by the task recipes: one clearformer run and, from the same initial weights, the oracle.

Both runs go through clearformer's Trainer with the same seed, so they see the same batches in the
same order with the same optimizer and schedule; only the model implementation differs (clearformer
vs transformers 5.24). Dropout is switched off in both so the two loss curves can be compared step
for step. Prints one JSON line per run and appends it to the given --record file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from clearformer.tasks import TaskRun, get_task, run_task
from clearformer.tasks.runner import load_model_and_tokenizer

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "classifier_dropout": 0.0}


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--train-samples", type=int, default=None)
    p.add_argument("--eval-samples", type=int, default=None)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--max-steps", type=int, default=-1)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=None)
    p.add_argument("--max-length", type=int, default=None)
    p.add_argument("--no-oracle", action="store_true", help="skip the transformers run")
    p.add_argument("--record", default=None, help="append the JSON results to this file")
    p.add_argument("--threads", type=int, default=2)
    return p


def oracle_model(spec, model_dir: str, initial_state: dict, **config):
    import transformers

    auto = getattr(transformers, spec.auto_model)
    model = auto.from_pretrained(model_dir, **spec.model_kwargs(), **config)
    missing, unexpected = model.load_state_dict(initial_state, strict=False)
    extra = [k for k in missing if not k.endswith("position_ids")]
    if extra or unexpected:
        raise RuntimeError(f"oracle does not take clearformer's weights: missing {extra}, unexpected {unexpected}")
    return model


def run_pair(
    args,
    task: str,
    data_dir: Path,
    model_dir: str,
    preprocess_options: dict,
    model=None,
    tokenizer=None,
    oracle_builder=None,
    note: str = "",
) -> list[dict]:
    torch.set_num_threads(args.threads)
    spec = get_task(task)
    if model is None:
        torch.manual_seed(0)
        model, tokenizer = load_model_and_tokenizer(spec, model_dir, tokenizer)
        for key, value in NO_DROPOUT.items():
            setattr(model.config, key, value)
        model = type(model).from_pretrained(model_dir, config=model.config)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    run = TaskRun(
        task=task,
        data_dir=str(data_dir),
        model_dir=model_dir,
        output_dir=f"/tmp/task_{task}",
        max_train_samples=args.train_samples,
        max_eval_samples=args.eval_samples,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        preprocess_options=preprocess_options,
    )
    results = []
    for name in ("clearformer", "transformers"):
        if name == "transformers":
            if args.no_oracle:
                break
            model = (oracle_builder or (lambda: oracle_model(spec, model_dir, initial, **NO_DROPOUT)))()
        start = time.perf_counter()
        result = run_task(run, model=model, tokenizer=tokenizer)
        result.update(
            implementation=name,
            wall_s=time.perf_counter() - start,
            note=note,
            load_avg=os.getloadavg()[0],
            machine=f"{platform.machine()} {os.cpu_count()} cores",
            threads=args.threads,
            run=vars(args) | {"preprocess_options": preprocess_options},
        )
        print(json.dumps(result, default=str), flush=True)
        if args.record:
            with open(args.record, "a") as f:
                f.write(json.dumps(result, default=str) + "\n")
        results.append(result)
    return results
