"""``clearformer pipeline``: run one task pipeline on texts and print one JSON result per line.

    clearformer pipeline ner "Hugging Face is in New York." --model DIR --option aggregation_strategy=simple
    clearformer pipeline question-answering --model DIR --question "Where?" --context "It is in Paris."
    cat texts.txt | clearformer pipeline sentiment-analysis --model DIR --batch-size 16

Texts come from the arguments (right after the task), or one per line from stdin. ``--option key=value`` passes a task
option (the value is read as JSON when it parses: ``top_k=3``, ``candidate_labels='["a","b"]'``).
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("pipeline", help="run a task pipeline (ner, fill-mask, ...) on texts, JSON out")
    p.add_argument("task", help="e.g. sentiment-analysis, ner, question-answering, fill-mask, text-generation")
    p.add_argument("texts", nargs="*", help="inputs (default: one per line from stdin)")
    p.add_argument("--model", required=True, help="model folder (config.json, weights, tokenizer files)")
    p.add_argument("--tokenizer", default=None, help="tokenizer folder (default: the model folder)")
    p.add_argument("--device", default=None, help="-1 / cpu, a CUDA index, or cuda:N")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--question", default=None, help="question-answering: the question")
    p.add_argument("--context", default=None, help="question-answering: the context")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="a task option; repeatable")
    p.set_defaults(func=run)
    return p


def parse_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--option takes KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def run(args: argparse.Namespace) -> int:
    from ..pipelines import pipeline

    device = int(args.device) if args.device is not None and args.device.lstrip("-").isdigit() else args.device
    pipe = pipeline(args.task, model=args.model, tokenizer=args.tokenizer, device=device, batch_size=args.batch_size)
    options = parse_options(args.option)
    if args.question is not None or args.context is not None:
        results = [pipe(question=args.question, context=args.context, **options)]
    else:
        texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
        if not texts:
            raise SystemExit("no input texts: pass them as arguments or one per line on stdin")
        results = pipe(iter(texts), **options)  # a stream: one result per text, whatever the task
    for result in results:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0
