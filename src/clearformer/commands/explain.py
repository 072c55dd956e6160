"""``clearformer explain``: the handbook's questions as runnable demonstrations.

``clearformer explain`` lists the topics; ``clearformer explain TOPIC [--out DIR] [--model DIR]``
prints one topic's numbers (and writes its pictures to DIR); ``clearformer explain --all --out DIR``
writes every result and picture into DIR with an index.html (a topic whose weights or data are
missing is listed there with what to install, and the command then exits 1). ``register(subparsers)``
adds it to the main parser.
"""

from __future__ import annotations

import argparse
import inspect
import sys


def _list_topics() -> str:
    from ..explain import TOPICS

    width = max(len(name) for name in TOPICS)
    lines = ["clearformer explain TOPIC [--out DIR] [--model DIR]   (or --all --out DIR)", ""]
    for topic in TOPICS.values():
        needs = f"  [needs {topic.needs}]" if topic.needs else ""
        lines.append(f"  {topic.name:<{width}}  {topic.question}")
        lines.append(f"  {'':<{width}}  {topic.title} / {topic.title_zh}  ({topic.source}){needs}")
    return "\n".join(lines)


def run_explain(args: argparse.Namespace) -> int:
    from ..explain import MissingResource, UnknownTopic, format_result, get_topic, run_all, run_topic

    if args.all:
        if args.topic:
            print("give either a TOPIC or --all, not both", file=sys.stderr)
            return 2
        if not args.out:
            print("--all needs --out DIR (the folder for every result, picture and index.html)", file=sys.stderr)
            return 2
        rows = run_all(args.out, args.model, log=lambda text: print(text, flush=True))
        skipped = [r["name"] for r in rows if not r["ok"]]
        print(
            f"wrote {len(rows) - len(skipped)} topics to {args.out}/index.html"
            + (f"; skipped (see the messages above): {', '.join(skipped)}" if skipped else "")
        )
        return 1 if skipped else 0
    if not args.topic:
        print(_list_topics())
        return 0
    try:
        module = get_topic(args.topic).module
    except UnknownTopic as err:
        print(f"clearformer explain: {err}", file=sys.stderr)
        return 2
    if args.model and "model" not in inspect.signature(module.run).parameters:
        print(f"note: {args.topic} builds everything it shows itself; --model is not used", file=sys.stderr)
    try:
        result = run_topic(args.topic, args.out, args.model)
    except MissingResource as err:
        print(f"clearformer explain {args.topic}: {err}", file=sys.stderr)
        return 2
    print(format_result(args.topic, result), end="")
    if not args.out and hasattr(module, "plot"):
        print("(add --out DIR to write the pictures)")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``explain`` to the ``clearformer`` command's subparsers."""
    p = subparsers.add_parser(
        "explain",
        help="run a handbook question as code: numbers, pictures (list the topics with no argument)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("topic", nargs="?", default=None, help="topic name (run with no argument for the list)")
    p.add_argument("--out", default=None, help="folder for pictures, <topic>.json and <topic>.txt")
    p.add_argument("--model", default=None, help="a BERT model folder instead of the packaged MiniLM")
    p.add_argument("--all", action="store_true", help="run every topic into --out DIR with an index.html")
    p.set_defaults(func=run_explain)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clearformer")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["explain", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)
