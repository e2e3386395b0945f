"""The command-line reference as Markdown, generated from the argparse definitions (so it cannot drift):
the docs site's ``reference/cli.md`` is this text (``docs/_hooks.py``), and a test holds every command
in it."""

from __future__ import annotations

import argparse
import os

__all__ = ["cli_markdown", "commands"]


def commands(parser: argparse.ArgumentParser | None = None, prefix: str = "archsearch"):
    """``(name, parser)`` for the program and every command under it, depth first, in definition order."""
    if parser is None:
        from archsearch.cli.main import build_parser

        parser = build_parser()
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, f"{prefix} {name}")


def cli_markdown() -> str:
    """Each command's ``--help``, under a heading of its own (80 columns wide, whatever the terminal)."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        parts = []
        for name, parser in commands():
            depth = name.count(" ")
            parts.append(f"{'#' * min(depth + 1, 4)} `{name}`\n\n```text\n{parser.format_help().rstrip()}\n```\n")
        return "\n".join(parts)
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
