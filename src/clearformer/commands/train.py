"""``clearformer train``: fine-tune a model folder on a course task with the Trainer.

    clearformer train --task cola --data ../shared/data/cola --model DIR --output_dir out \\
        --num_train_epochs 3 --learning_rate 2e-5 --per_device_train_batch_size 32
    clearformer train --config args.json --task cola --data ... --model ...   (flags override the JSON)

Every TrainingArguments field is a flag (``--evaluation_strategy epoch``, ``--fp16``, ...). The task
table (``clearformer task --list``) says how each task's data is read, tokenized and scored.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", required=True, help="course task name (cola, sst2, conll2003, squad, dream, ...)")
    p.add_argument("--data", required=True, help="the task's data folder (e.g. ../shared/data/cola)")
    p.add_argument("--model", required=True, help="model folder with config.json, weights and tokenizer files")
    p.add_argument("--max_train_samples", type=int, default=None)
    p.add_argument("--max_eval_samples", type=int, default=None)
    p.add_argument("--max_length", type=int, default=None, help="tokens per sequence")


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from ..training.training_args import TrainingArguments, add_dataclass_arguments

    p = subparsers.add_parser("train", help="fine-tune a model on a course task (TrainingArguments as flags)")
    add_common_arguments(p)
    p.add_argument("--config", default=None, help="a JSON file of TrainingArguments; flags override it")
    add_dataclass_arguments(p, TrainingArguments)
    p.set_defaults(func=run)
    return p


def training_options(args: argparse.Namespace) -> dict:
    """TrainingArguments values: the --config JSON, then every flag given on the command line."""
    import dataclasses

    from ..training.training_args import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments) if not f.name.startswith("_")}
    values = read_config(args.config, names) if args.config else {}
    values.update({k: v for k, v in vars(args).items() if k in names})
    TrainingArguments(**values)  # invalid combinations fail here, before any data is read
    return values


def read_config(path: str, names: set[str]) -> dict:
    """The --config JSON as a dict of TrainingArguments fields; each fault names the file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise FileNotFoundError(f"--config {file}: no such file") from err
    except (OSError, UnicodeDecodeError) as err:
        raise OSError(f"--config {file}: cannot read it ({err})") from err
    try:
        values = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"--config {file} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from err
    if not isinstance(values, dict):
        raise ValueError(
            f"--config {file} must hold a JSON object of TrainingArguments fields, found {type(values).__name__}"
        )
    unknown = sorted(set(values) - names)
    if unknown:
        import difflib

        hints = [
            f"{u!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(u, names, 1)) else repr(u)
            for u in unknown
        ]
        raise ValueError(f"--config {file} has unknown TrainingArguments fields: {', '.join(hints)}")
    return values


def run(args: argparse.Namespace) -> int:
    from ..tasks import TaskRun, run_task

    options = training_options(args)
    task_run = TaskRun(
        task=args.task,
        data_dir=args.data,
        model_dir=args.model,
        output_dir=options.get("output_dir", "trainer_output"),
        max_train_samples=args.max_train_samples,
        max_eval_samples=args.max_eval_samples,
        seed=options.get("seed", 42),
        preprocess_options={"max_length": args.max_length} if args.max_length else {},
        training_options=options,
    )
    result = run_task(task_run)
    print(json.dumps(result, indent=2, default=str))
    return 0
