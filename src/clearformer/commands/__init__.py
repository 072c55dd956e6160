"""Subcommands of the ``clearformer`` CLI: every module here with a ``register(subparsers)`` adds one.

Each module adds its parser and sets ``func`` (a callable taking the parsed arguments and
returning an exit code). cli.py discovers them, so a new command is one new file.
"""
