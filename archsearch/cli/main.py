"""The ``archsearch`` command. Thin commands: validate input, call the library, print.

Every input error ends as one line on stderr and exit status 2; ``ARCHSEARCH_DEBUG=1`` shows tracebacks.
Heavy modules (torch, optuna, matplotlib) are imported inside the commands that need them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from archsearch.formats.yamlio import InputError

EXIT_INPUT = 2


def _load_pair(task_path: str, layout_path: str):
    from archsearch.formats.layout_file import load_layout
    from archsearch.formats.task import load_task

    task = load_task(task_path)
    layout = load_layout(layout_path)
    if task.input_shape != layout.input_shape:
        raise InputError(
            f"input_shape {list(layout.input_shape)} does not match the task's {list(task.input_shape)} "
            f"({task_path})", layout_path, "input_shape")
    return task, layout


def _report(task, layout, budget: int | None) -> dict[str, Any]:
    from archsearch.core.mincut import explain_mincut
    from archsearch.prior.score import Prior

    ex = explain_mincut(layout, task.masks)
    params = layout.param_count()
    prior = Prior.for_budget(task.masks, task.weights, layout, budget or params)
    res = prior(layout)
    levels = ex.levels()
    return {
        "task": task.name,
        "layout": layout.describe(),
        "params": params,
        "score": res.score,
        "reference": {"layout": prior.reference.describe(), "params": prior.reference.param_count()},
        "partitions": [
            {
                "name": p.name,
                "weight": p.weight,
                "log2_mincut": float(ex.log2_mincut[i]),
                "reference_log2_mincut": float(prior.reference_log2[i]),
                "cut": {levels[k]: int(c) for k, c in enumerate(ex.counts[i]) if c},
                "explanation": ex.describe(i),
            }
            for i, p in enumerate(task.partitions)
        ],
    }


def _print_table(rep: dict[str, Any], with_rank: bool) -> None:
    rows = [["partition", "weight", "log2 min-cut", "ref", *(["rank"] if with_rank else []), "cut runs through"]]
    for p in rep["partitions"]:
        rank = [str(p["rank"]) + ("" if p["rank"] == round(2 ** p["log2_mincut"]) else " (!)")] if with_rank else []
        rows.append([p["name"], f"{p['weight']:g}", f"{p['log2_mincut']:.2f}", f"{p['reference_log2_mincut']:.2f}",
                     *rank, p["explanation"]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(f"task {rep['task']}   layout {rep['layout']}")
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"params {rep['params']}   score {rep['score']:.4f}   "
          f"(reference: uniform {rep['reference']['layout']}, {rep['reference']['params']} params)")


def cmd_score(args: argparse.Namespace) -> int:
    task, layout = _load_pair(args.task, args.layout)
    rep = _report(task, layout, args.budget)
    if args.plot:
        from archsearch.evidence.plots import plot_cuts

        plot_cuts(task, layout, args.plot)
    if args.json:
        print(json.dumps(rep))
    else:
        _print_table(rep, with_rank=False)
        if args.plot:
            print(f"wrote {args.plot}")
    return 0


def cmd_bound(args: argparse.Namespace) -> int:
    from archsearch.core.rank import RankTooLarge, separation_rank

    task, layout = _load_pair(args.task, args.layout)
    rep = _report(task, layout, None)
    try:
        ranks = separation_rank(layout, task.masks, seed=args.seed, max_entries=args.max_entries)
    except RankTooLarge as exc:
        raise InputError(str(exc), args.layout) from None
    for p, r in zip(rep["partitions"], ranks, strict=True):
        p["rank"] = int(r)
    if args.json:
        print(json.dumps(rep))
    else:
        _print_table(rep, with_rank=True)
        print("rank: numerical rank of the matricization with Gaussian weights (seed "
              f"{args.seed}); (!) marks a rank below 2^min-cut")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from archsearch.core.layout import Layout
    from archsearch.formats.detect import Space, Task, load_any

    failed = 0
    for f in args.files:
        try:
            obj = load_any(f)
        except InputError as exc:
            print(f"archsearch: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        if isinstance(obj, Task):
            what = f"task '{obj.name}', {len(obj.partitions)} partitions on {list(obj.input_shape)}"
        elif isinstance(obj, Space):
            what = (f"search space '{obj.name}', {len(obj.schedules)} schedule(s), "
                    f"budget {obj.min_params}..{obj.max_params} params")
        else:
            assert isinstance(obj, Layout)
            what = f"layout {obj.describe()}, {obj.param_count()} params"
        print(f"{f}: ok: {what}")
    return EXIT_INPUT if failed else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="archsearch", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("score", help="log2 min-cut per partition, where the cut runs, and the prior score")
    s.add_argument("task")
    s.add_argument("layout")
    s.add_argument("--json", action="store_true", help="one JSON object on stdout")
    s.add_argument("--budget", type=int, help="parameter budget of the reference (default: the layout's)")
    s.add_argument("--plot", metavar="PNG", help="draw each partition and its cut on the input grid")
    s.set_defaults(func=cmd_score)

    b = sub.add_parser("bound", help="score, plus the separation rank measured by contraction")
    b.add_argument("task")
    b.add_argument("layout")
    b.add_argument("--seed", type=int, default=0, help="seed of the Gaussian weights")
    b.add_argument("--json", action="store_true")
    b.add_argument("--max-entries", type=int, default=2**24, help="refuse tensors larger than this")
    b.set_defaults(func=cmd_bound)

    c = sub.add_parser("check", help="validate task, search-space and layout files")
    c.add_argument("files", nargs="+")
    c.set_defaults(func=cmd_check)

    from archsearch.cli import search as cli_search
    from archsearch.cli import train as cli_train

    cli_search.add_commands(sub)
    cli_train.add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        if os.environ.get("ARCHSEARCH_DEBUG"):
            raise
        print(f"archsearch: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("archsearch: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


def entry() -> None:  # console script
    sys.exit(main())


if __name__ == "__main__":
    entry()
