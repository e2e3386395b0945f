"""The ``archsearch`` command: neural architecture search driven by entanglement priors.

Exit status: 0 done; 2 bad input (one line on stderr naming the file or flag and the field); 1 an
internal error (one line; ``ARCHSEARCH_DEBUG=1`` shows the traceback); 130 / 143 interrupted by Ctrl-C /
SIGTERM (run the same command again to resume). Heavy modules (torch, optuna, matplotlib) are imported
inside the commands that need them, so ``archsearch score`` answers at once.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from archsearch import __version__
from archsearch.cli.args import OneLineParser
from archsearch.errors import InputError
from archsearch.train.memory import check_keep_freed_env

__all__ = ["build_parser", "entry", "main"]

EXIT_INTERNAL, EXIT_INPUT = 1, 2


def build_parser() -> OneLineParser:
    from archsearch.cli import bench, layout, prior, profile, quickstart, search, studies, train

    p = OneLineParser(prog="archsearch", description="Neural architecture search driven by entanglement priors: "
                      "score channel layouts by the min cuts of their tensor networks, search, train, export.")
    p.add_argument("--version", action="version", version=f"archsearch {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="what to do (COMMAND --help for more)")
    quickstart.add_commands(sub)  # first in the help: a newcomer's first command
    prior.add_commands(sub)
    search.add_commands(sub)
    train.add_commands(sub)
    bench.add_commands(sub)
    profile.add_commands(sub)
    studies.add_commands(sub)
    layout.add_commands(sub)
    return p


def _unknown(parser: argparse.ArgumentParser, args: argparse.Namespace, extra: list[str]) -> None:
    """Arguments no parser took: refused by the command's own parser (its usage and its ``--help``), with
    the nearest option it has for a mistyped one."""
    import difflib

    leaf = parser
    while leaf._subparsers is not None:  # down to the command's parser: archsearch -> bench -> eval
        action = next(a for a in leaf._subparsers._group_actions if isinstance(a, argparse._SubParsersAction))
        chosen = getattr(args, action.dest, None)
        if chosen not in action.choices:
            break
        leaf = action.choices[chosen]
    options = [o for a in leaf._actions for o in a.option_strings]
    hints = []
    for word in extra:
        if word.startswith("-"):
            near = difflib.get_close_matches(word.split("=")[0], options, n=1, cutoff=0.6)
            if near:
                hints.append(f"{word}: did you mean {near[0]}?")
    leaf.error(f"unrecognized arguments: {' '.join(extra)}" + (f" ({'; '.join(hints)})" if hints else ""))


def _debug() -> bool:
    return bool(os.environ.get("ARCHSEARCH_DEBUG"))


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit status (usage errors exit 2 from the parser)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        _unknown(parser, args, extra)
    try:
        check_keep_freed_env()
        return int(args.func(args) or 0)
    except InputError as exc:
        if _debug():
            raise
        print(f"archsearch: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        if not getattr(exc, "announced", False):  # a search says so the moment the signal arrives
            name = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
            print(f"archsearch: interrupted ({name}); run the same command again to resume", file=sys.stderr)
        return 128 + int(signum)
    except BrokenPipeError:  # the reader went away (`archsearch bench show T | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + int(signal.SIGPIPE)
    except Exception as exc:  # noqa: BLE001 - the last guard: one line, never a traceback
        if _debug():
            raise
        text = " ".join(str(exc).split())[:300]
        print(f"archsearch: internal error: {type(exc).__name__}: {text} (rerun with ARCHSEARCH_DEBUG=1 for "
              "the traceback, and please report it)", file=sys.stderr)
        return EXIT_INTERNAL


def entry() -> None:  # console script
    sys.exit(main())


if __name__ == "__main__":
    entry()
