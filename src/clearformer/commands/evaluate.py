"""``clearformer evaluate``: score a fine-tuned model folder on a course task's evaluation split.

clearformer evaluate --task cola --data ../shared/data/cola --model out/checkpoint-804
"""

from __future__ import annotations

import argparse
import json

from .train import add_common_arguments


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("evaluate", help="evaluate a fine-tuned model folder on a course task")
    add_common_arguments(p)
    p.add_argument("--per_device_eval_batch_size", type=int, default=32)
    p.set_defaults(func=run)
    return p


def build_trainer(args: argparse.Namespace):
    """(spec, trainer, eval features, eval examples, tokenizer) for the task's evaluation split."""
    from pathlib import Path

    from ..tasks import TaskRun, get_task
    from ..tasks.runner import load_model_and_tokenizer, tokenize_splits
    from ..training import Trainer, TrainingArguments

    spec = get_task(args.task)
    model, tokenizer = load_model_and_tokenizer(spec, args.model)
    run = TaskRun(
        task=args.task,
        data_dir=args.data,
        model_dir=args.model,
        max_train_samples=1,
        max_eval_samples=args.max_eval_samples,
        preprocess_options={"max_length": args.max_length} if args.max_length else {},
    )
    _, features, examples = tokenize_splits(spec, spec.load(Path(args.data)), tokenizer, run)
    targs = TrainingArguments(
        "evaluate_output",
        per_device_eval_batch_size=args.per_device_eval_batch_size,
        report_to="none",
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model,
        args=targs,
        data_collator=spec.collator(tokenizer),
        processing_class=tokenizer,
        compute_metrics=spec.compute_metrics() if spec.compute_metrics else None,
    )
    return spec, trainer, features, examples, tokenizer


def run(args: argparse.Namespace) -> int:
    from ..tasks.runner import evaluate

    spec, trainer, features, examples, tokenizer = build_trainer(args)
    if spec.family != "question_answering":
        trainer.eval_dataset = features
    print(json.dumps(evaluate(spec, trainer, features, examples, tokenizer), indent=2, default=str))
    return 0
