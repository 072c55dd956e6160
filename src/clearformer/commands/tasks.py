"""``clearformer task``: fine-tune and evaluate one course task from local data and a model folder.

``clearformer task --list`` prints the task table; ``clearformer task conll2003 --data DIR --model DIR``
runs ``clearformer.tasks.run_task`` and prints its result as JSON. A ``train`` command can call
``task_table()`` / ``run_from_args()`` to offer ``--task`` itself.
"""

from __future__ import annotations

import argparse
import json
import sys


def task_table() -> list[tuple[str, str, str, str]]:
    """(name, family, Auto class, description) for every registered task."""
    from ..tasks import get_task, list_tasks

    return [(n, get_task(n).family, get_task(n).auto_model, get_task(n).description) for n in list_tasks()]


def add_task_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="the task's data folder (e.g. ../shared/data/conll2003)")
    parser.add_argument("--model", help="a model folder with config.json, weights and tokenizer files")
    parser.add_argument("--output", default="task_output", help="output folder")
    parser.add_argument("--epochs", type=float, default=None, help="default: the course's value for the task")
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (> 0)")
    parser.add_argument("--max-train-samples", type=int, default=None)
    parser.add_argument("--max-eval-samples", type=int, default=None)
    parser.add_argument("--max-length", type=int, default=None, help="tokens per sequence / window")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--seed", type=int, default=42)


def run_from_args(args: argparse.Namespace) -> int:
    from ..tasks import TaskRun, run_task

    if not (args.data and args.model):
        print("clearformer task: --data and --model are required to run a task", file=sys.stderr)
        return 2
    run = TaskRun(
        task=args.task,
        data_dir=args.data,
        model_dir=args.model,
        output_dir=args.output,
        max_train_samples=args.max_train_samples,
        max_eval_samples=args.max_eval_samples,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        seed=args.seed,
        preprocess_options={"max_length": args.max_length} if args.max_length else {},
    )
    print(json.dumps(run_task(run), indent=2, default=str))
    return 0


def _main(args: argparse.Namespace) -> int:
    if args.list or not args.task:
        for name, family, auto, description in task_table():
            print(f"{name:14} {family:22} {auto:36} {description}")
        return 0
    return run_from_args(args)


def register(subparsers) -> None:
    p = subparsers.add_parser("task", help="fine-tune and evaluate one course task (list them with --list)")
    p.add_argument("task", nargs="?", help="task name, e.g. conll2003, squad, dream, chnsenticorp, cola")
    p.add_argument("--list", action="store_true", help="print the task table")
    add_task_arguments(p)
    p.set_defaults(func=_main)
