"""Shared by the task recipes: one clearformer run and, from the same initial weights, the oracle.

Both runs go through clearformer's Trainer with the same seed, so they see the same batches in the
same order with the same optimizer and schedule; only the model implementation differs (clearformer
vs transformers 5.24). Dropout is switched off in both so the loss curves can be compared step for
step. The oracle stops after --oracle-steps (the machine is 2 shared cores) and is compared on those
steps' losses. Prints one JSON line per run and appends it to the given --record file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from clearformer.tasks import TaskRun, get_task, run_task
from clearformer.tasks.runner import load_model_and_tokenizer
from clearformer.training import TrainerCallback

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
    p.add_argument("--oracle-steps", type=int, default=15, help="steps of the transformers run (0: all, then eval)")
    p.add_argument("--oracle-only", default=None, help="skip the clearformer run; compare with its result in this file")
    p.add_argument("--threads", type=int, default=1)
    return p


class StepLog(TrainerCallback):
    """Prints each logged loss (progress on a slow machine) and stops after ``stop_at`` steps."""

    def __init__(self, name: str, stop_at: int | None = None) -> None:
        self.name, self.stop_at, self.start = name, stop_at, time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            elapsed = time.perf_counter() - self.start
            print(f"[{self.name}] step {state.global_step} loss {logs['loss']:.5f} ({elapsed:.0f}s)", file=sys.stderr)

    def on_step_end(self, args, state, control, **kwargs):
        if self.stop_at is not None and state.global_step >= self.stop_at:
            control.should_training_stop = True
        return control


def oracle_model(spec, model_dir: str, initial_state: dict, **config):
    import transformers

    auto = getattr(transformers, spec.auto_model)
    model = auto.from_pretrained(model_dir, **spec.model_kwargs(), **config)
    missing, unexpected = model.load_state_dict(initial_state, strict=False)
    extra = [k for k in missing if not k.endswith("position_ids")]
    if extra or unexpected:
        raise RuntimeError(f"oracle does not take clearformer's weights: missing {extra}, unexpected {unexpected}")
    return model


def scratch_oracle(model_class: str, model_dir: str | Path, initial_state: dict):
    """The oracle for a model built from scratch: transformers' ``model_class`` from the saved config,
    given clearformer's exact initial weights (tied weights stay tied: they are copied into place)."""

    def build():
        import transformers

        config = transformers.AutoConfig.from_pretrained(model_dir)
        model = getattr(transformers, model_class)(config)
        missing, unexpected = model.load_state_dict(initial_state, strict=False)
        extra = [k for k in missing if not k.endswith("position_ids")]
        if extra or unexpected:
            raise RuntimeError(f"oracle does not take clearformer's weights: missing {extra}, unexpected {unexpected}")
        return model

    return build


def run_pair(
    args,
    task: str,
    data_dir: Path,
    model_dir: str,
    preprocess_options: dict,
    model=None,
    tokenizer=None,
    oracle_builder=None,
    oracle_class: str | None = None,
    note: str = "",
    training_options: dict | None = None,
) -> list[dict]:
    """``oracle_class`` (e.g. "GPT2LMHeadModel"): build the oracle from scratch with that transformers
    class and clearformer's initial weights (``scratch_oracle``) instead of ``from_pretrained``."""
    torch.set_num_threads(args.threads)
    spec = get_task(task)
    if model is None:
        torch.manual_seed(0)
        model, tokenizer = load_model_and_tokenizer(spec, model_dir, tokenizer)
        for key, value in NO_DROPOUT.items():
            setattr(model.config, key, value)
        model = type(model).from_pretrained(model_dir, config=model.config)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    if oracle_builder is None and oracle_class is not None:
        oracle_builder = scratch_oracle(oracle_class, model_dir, initial)
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
        training_options={"logging_steps": 1, **(training_options or {})},
    )
    results = []
    if args.oracle_only:
        lines = [json.loads(line) for line in Path(args.oracle_only).read_text().splitlines() if line.strip()]
        results = [r for r in lines if r["task"] == task and r["implementation"] == "clearformer"][-1:]
    for name in ("clearformer", "transformers")[len(results) :]:
        if name == "transformers":
            if args.no_oracle:
                break
            model = (oracle_builder or (lambda: oracle_model(spec, model_dir, initial, **NO_DROPOUT)))()
        start = time.perf_counter()
        oracle = name == "transformers"
        stop_at = args.oracle_steps if oracle and args.oracle_steps > 0 else None
        callback = StepLog(name, stop_at)
        result = run_task(run, model=model, tokenizer=tokenizer, callbacks=[callback], do_eval=stop_at is None)
        if oracle:
            ours = dict(results[0]["loss_history"])
            diffs = [abs(loss - ours[step]) for step, loss in result["loss_history"] if step in ours]
            result["max_abs_loss_diff_vs_clearformer"] = max(diffs) if diffs else None
            result["steps_compared"] = len(diffs)
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
