"""The ``clearformer`` command (also ``python -m clearformer``): one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import sys


def _demo(args: argparse.Namespace) -> int:
    from . import demo

    return demo.run(args.model, args.out, finetune=not args.no_finetune)


def _convert(args: argparse.Namespace) -> int:
    """Rewrite a model folder's weights as safetensors (e.g. an old pytorch_model.bin)."""
    from pathlib import Path

    from . import weight_files
    from .hub import resolve_pretrained_dir

    src = resolve_pretrained_dir(args.model)
    state = weight_files.read_state_dict(src)
    out = Path(args.output or src)
    written = weight_files.write_state_dict(state, out, safe_serialization=True, max_shard_size=args.max_shard_size)
    if out != src:
        import shutil

        for f in src.iterdir():
            if f.is_file() and f.suffix in (".json", ".txt", ".model") and not f.name.endswith(".index.json"):
                shutil.copy2(f, out / f.name)
    print(f"wrote {', '.join(str(p) for p in written)} ({len(state)} tensors)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clearformer", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    parser.add_argument(
        "--threads",
        default="auto",
        help="intra-op threads: a number, or 'auto' = cores not already busy by the load average "
        "(two threads on a shared core decode at ~0.4x of one; BENCHMARKS.md 'Threads')",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="real MiniLM: sentence similarity, then fine-tuning with a report folder")
    p.add_argument("--model", default=None, help="a sentence-transformers folder (default: the packaged MiniLM)")
    p.add_argument("--out", default="clearformer-demo-report", help="report folder of the fine-tuning part")
    p.add_argument("--no-finetune", action="store_true", help="only the similarity table")
    p.set_defaults(func=_demo)

    p = sub.add_parser("convert", help="rewrite a model folder's weights as safetensors")
    p.add_argument("model", help="model folder")
    p.add_argument("--output", default=None, help="output folder (default: in place)")
    p.add_argument("--max-shard-size", default="5GB")
    p.set_defaults(func=_convert)

    for module in _command_modules():
        module.register(sub)
    return parser


def _command_modules() -> list:
    """The modules of clearformer.commands that define ``register`` (one subcommand each)."""
    import importlib
    import pkgutil

    from . import commands

    found = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(module, "register"):
            found.append(module)
    return found


def _set_threads(value: str) -> None:
    """The command's own process: set torch's intra-op thread count (see inference/threads.py)."""
    from .inference.threads import recommended_threads

    if value == "auto":
        threads = recommended_threads()
    elif value.isdigit() and int(value) > 0:
        threads = int(value)
    else:
        raise SystemExit(f"clearformer: error: --threads must be a positive number or 'auto', got {value!r}")
    import torch

    torch.set_num_threads(threads)
    logging.getLogger("clearformer").info("using %d intra-op thread(s)", threads)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    _set_threads(args.threads)
    if args.verbose:  # the whole traceback, for a bug report
        return args.func(args)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("clearformer: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - a command-line tool answers with one line, not a traceback
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"clearformer {args.command}: error: {message} (--verbose shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
