"""``archsearch score``, ``bound`` and ``check``: the prior's answers, instantly (no torch, no optuna)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from archsearch.cli.args import add_prior_option, emit, int_in, plot_path, shipped_or_path
from archsearch.errors import InputError

EXIT_INPUT = 2


def _load_pair(task_path: str, layout_path: str):
    from archsearch.formats.layout_file import load_layout
    from archsearch.formats.task import load_task

    try:
        task = load_task(task_path)
    except InputError as exc:  # a layout given first, say: point at the order, not at a key
        from archsearch.formats.detect import load_any

        try:
            other = load_any(task_path)
        except InputError:
            other = None
        if other is not None and type(other).__name__ in ("Layout", "BlockLayout", "Space", "BlockSpace"):
            kind = "a search space" if "Space" in type(other).__name__ else "a layout"
            raise InputError(f"this is {kind} file, not a task: the order is TASK.yaml LAYOUT.yaml", task_path,
                             "") from None
        raise exc
    from archsearch.formats.blocks_file import is_blocks_file, load_block_layout
    from archsearch.formats.yamlio import read_yaml

    data, _ = read_yaml(layout_path)
    layout = load_block_layout(layout_path) if is_blocks_file(data) else load_layout(layout_path)
    if task.input_shape != layout.input_shape:
        raise InputError(
            f"input_shape {list(layout.input_shape)} does not match the task's {list(task.input_shape)} "
            f"({task_path})", layout_path, "input_shape")
    return task, layout


def _block_report(task, layout, space_path: str | None, kind: str) -> dict[str, Any]:
    """:func:`_report` for a block layout: the block rule's cuts (docs/blocks.md) against the needs of the
    space's reference (``space_path``), else of the layout itself (then every need is met: score 1)."""
    import numpy as np

    from archsearch.prior.blocks import BlockPrior

    if space_path is not None:
        from archsearch.formats.blocks_file import load_block_space

        space = load_block_space(space_path)
        if tuple(space.input_shape) != tuple(layout.input_shape):
            raise InputError(f"input_shape {list(space.input_shape)} does not match the layout's "
                             f"{list(layout.input_shape)}", space_path, "input_shape")
        prior = BlockPrior.for_task(task, space, kind)
    else:
        prior = BlockPrior(task.masks, task.weights, layout, needs=task.needs, kind=kind,
                           windows=np.array([p.kind == "canonical" for p in task.partitions]))
    res = prior(layout)
    return {
        "task": task.name, "layout": layout.describe(), "params": layout.param_count(), "prior": kind,
        "rule": "blocks", "score": res.score,
        "reference": {"layout": prior.reference.describe(), "params": prior.reference.param_count()},
        "partitions": [
            {"name": p.name, "weight": p.weight, "log2_mincut": float(res.log2_mincut[i]),
             "reference_log2_mincut": float(prior.reference_log2[i]),
             "need": float(prior.needs[i]) if kind != "ratio" else None, "need_declared": p.need is not None,
             "cut": {}, "explanation": "block rule (docs/blocks.md)"}
            for i, p in enumerate(task.partitions)
        ],
        "canonical": [],
        "output": None if kind == "ratio" else {"log2_mincut": res.output_log2, "need": res.output_need},
    }


def _report(task, layout, budget: int | None = None, space_path: str | None = None,
            kind: str = "needs") -> dict[str, Any]:
    """The per-partition cuts and the score, against the reference of one rule (README, "The prior
    score"): the space's when ``space_path`` is given (what a search over it reports), else the layout's
    own schedule and M at ``budget`` (default: the layout's own size)."""
    from archsearch.core.blocks import BlockLayout
    from archsearch.core.mincut import explain_mincut
    from archsearch.prior.score import Prior

    if isinstance(layout, BlockLayout):
        if budget is not None:
            raise InputError("--budget scores layer layouts; a block layout takes --space", field="--budget")
        return _block_report(task, layout, space_path, kind)
    ex = explain_mincut(layout, task.masks)
    params = layout.param_count()
    if space_path is not None:
        from archsearch.formats.space import load_space

        space = load_space(space_path)
        if space.input_shape != layout.input_shape:
            raise InputError(f"input_shape {list(space.input_shape)} does not match the layout's "
                             f"{list(layout.input_shape)}", space_path, "input_shape")
        prior = Prior.for_task(task, space, kind)
    else:
        prior = Prior.for_budget(task.masks, task.weights, layout, budget or params, kind=kind,
                                 **Prior.task_options(task))
    res = prior(layout)
    levels = ex.levels()
    return {
        "task": task.name,
        "layout": layout.describe(),
        "params": params,
        "prior": kind,
        "score": res.score,
        "reference": {"layout": prior.reference.describe(), "params": prior.reference.param_count()},
        "partitions": [
            {
                "name": p.name,
                "weight": p.weight,
                "log2_mincut": float(ex.log2_mincut[i]),
                "reference_log2_mincut": float(prior.reference_log2[i]),
                "need": float(prior.needs[i]) if kind != "ratio" else None,
                "need_declared": p.need is not None,
                "cut": {levels[k]: int(c) for k, c in enumerate(ex.counts[i]) if c},
                "explanation": ex.describe(i),
            }
            for i, p in enumerate(task.partitions)
        ],
        # the canonical floor of the layout's own pooling tree (needs, when the task lists none itself)
        "canonical": [{"level": k + 1, "log2_mincut": float(c), "need": float(n)}
                      for k, (c, n) in enumerate(zip(res.canonical_log2, res.canonical_needs, strict=True))],
        # the whole input against the output (every variant but ratio): the narrowest level of bonds
        "output": None if kind == "ratio" else {"log2_mincut": res.output_log2, "need": res.output_need},
    }


def _print_table(rep: dict[str, Any], with_rank: bool) -> None:
    rows = [["partition", "weight", "log2 min-cut", "ref", "need", *(["rank"] if with_rank else []),
             "cut runs through"]]
    for p in rep["partitions"]:
        rank = [str(p["rank"]) + ("" if p["rank"] == round(2 ** p["log2_mincut"]) else " (!)")] if with_rank else []
        need = "-" if p["need"] is None else f"{p['need']:.2f}" + ("" if p["need_declared"] else " (ref)")
        rows.append([p["name"], f"{p['weight']:g}", f"{p['log2_mincut']:.2f}", f"{p['reference_log2_mincut']:.2f}",
                     need, *rank, p["explanation"]])
    for c in rep["canonical"]:
        rows.append([f"canonical {c['level']}", "1", f"{c['log2_mincut']:.2f}", f"{c['need']:.2f}",
                     f"{c['need']:.2f} (ref)", *([""] if with_rank else []), "window of pooling {} vs rest".format(
                         c["level"])])
    if rep["output"] is not None:
        o = rep["output"]
        rows.append(["output", "1", f"{o['log2_mincut']:.2f}", f"{o['need']:.2f}", f"{o['need']:.2f} (ref)",
                     *([""] if with_rank else []), "whole input vs output (narrowest level of bonds)"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(f"task {rep['task']}   layout {rep['layout']}")
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"params {rep['params']}   prior {rep['prior']}: score {rep['score']:.4f}   "
          f"(reference: uniform {rep['reference']['layout']}, {rep['reference']['params']} params)")


def cmd_score(args: argparse.Namespace) -> int:
    if args.budget is not None and args.space is not None:
        raise InputError("give --budget or --space, not both (a space's budget is its max_params)", field="--budget")
    task, layout = _load_pair(args.task, args.layout)
    rep = _report(task, layout, args.budget, args.space, args.prior)
    if args.plot:
        from archsearch.evidence.outputs import refuse_overwrite

        refuse_overwrite(args.plot, args.force, "--plot")
        from archsearch.pictures import plot_cuts

        plot_cuts(task, layout, args.plot)
    emit(args, rep, lambda: _print_table(rep, with_rank=False))
    return 0


def _measured_ranks(task, layout, seed: int, max_entries: int):
    """A layer layout's separation rank by contraction; a block layout's by evaluating its ConvAC on 3
    templates per input (docs/blocks.md), a lower bound on its rank."""
    from archsearch.core.blocks import BlockLayout
    from archsearch.core.rank import RankTooLarge, separation_rank

    if not isinstance(layout, BlockLayout):
        return separation_rank(layout, task.masks, seed=seed, max_entries=max_entries)
    from archsearch.core.blockcut import block_program
    from archsearch.core.convac import grid_rank

    n = layout.input_shape[0] * layout.input_shape[1]
    if 3 ** n > max_entries:
        raise RankTooLarge(f"the grid tensor of this block network has 3^{n} entries, over the limit of "
                           f"{max_entries}; measure it on a smaller network")
    return grid_rank(block_program(layout), layout.input_shape, layout.in_channels, layout.widths, task.masks,
                     seed=seed, max_entries=max_entries)


def cmd_bound(args: argparse.Namespace) -> int:
    from archsearch.core.rank import RankTooLarge

    task, layout = _load_pair(args.task, args.layout)
    rep = _report(task, layout)
    try:
        ranks = _measured_ranks(task, layout, args.seed, args.max_entries)
    except RankTooLarge as exc:
        raise InputError(str(exc), args.layout) from None
    for p, r in zip(rep["partitions"], ranks, strict=True):
        p["rank"] = int(r)
    def text() -> None:
        _print_table(rep, with_rank=True)
        how = "of the grid tensor on 3 templates per input" if rep.get("rule") == "blocks" else "of the matricization"
        print(f"rank: numerical rank {how} with Gaussian weights (seed {args.seed}); (!) marks a rank below "
              "2^min-cut")

    emit(args, rep, text)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from archsearch.core.blocks import BlockLayout
    from archsearch.core.layout import Layout
    from archsearch.formats.blocks_file import BlockSpace
    from archsearch.formats.detect import Space, Task, load_any
    from archsearch.shipped import KINDS, resolve

    failed = 0
    for f in args.files:
        f = next((r for r in (resolve(f, kind) for kind in KINDS) if r != f), f)  # a shipped file's name
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
        elif isinstance(obj, BlockSpace):
            what = (f"block space '{obj.name}', {len(obj.slots)} width slots, {obj.size} layouts, up to "
                    f"{obj.max_params} params")
        elif isinstance(obj, BlockLayout):
            what = f"block layout {obj.describe()}, {obj.param_count()} params, {obj.mac_count()} MACs"
        else:
            assert isinstance(obj, Layout)
            what = f"layout {obj.describe()}, {obj.param_count()} params"
        print(f"{f}: ok: {what}")
    return EXIT_INPUT if failed else 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("score", help="log2 min-cut per partition, where the cut runs, and the prior score",
                       description="Score a layout for a task: the log2 min cut of every partition, where the "
                                   "cut runs, and the prior score against the reference layout.")
    s.add_argument("task", type=shipped_or_path("tasks"),
                   help="task spec (YAML, or a shipped task's name): the partitions and their weights")
    s.add_argument("layout", type=shipped_or_path("layouts"),
                   help="layout file (YAML, as `export` writes, or a shipped layout's name)")
    s.add_argument("--json", action="store_true", help="one JSON object on stdout")
    s.add_argument("--budget", type=int_in(1, 10**10),
                   help="parameter budget of the reference (default: the layout's own parameter count)")
    s.add_argument("--space", metavar="SPACE.yaml", type=shipped_or_path("search_spaces"),
                   help="score against this search space's reference, as a search over it does (or a shipped "
                        "space's name)")
    s.add_argument("--plot", type=plot_path, metavar="FILE", help="draw each partition and its cut on the "
                   "input grid (.png, .pdf or .svg)")
    s.add_argument("--force", action="store_true", help="overwrite an existing --plot file")
    add_prior_option(s)
    s.set_defaults(func=cmd_score)

    b = sub.add_parser("bound", help="score, plus the separation rank measured by contraction",
                       description="The min cut per partition beside the separation rank measured by contracting "
                                   "the ConvAC with Gaussian weights (small networks only).")
    b.add_argument("task", type=shipped_or_path("tasks"), help="task spec (YAML, or a shipped task's name)")
    b.add_argument("layout", type=shipped_or_path("layouts"), help="layout file (YAML, or a shipped layout's name)")
    b.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0, help="seed of the Gaussian weights")
    b.add_argument("--json", action="store_true", help="one JSON object on stdout")
    b.add_argument("--max-entries", type=int_in(1, 2**30), default=2**24,
                   help="refuse networks whose coefficient tensor has more entries (float64: 8 bytes each)")
    b.set_defaults(func=cmd_bound)

    c = sub.add_parser("check", help="validate task, search-space and layout files",
                       description="Validate files, telling each kind by its keys; one line per file.")
    c.add_argument("files", nargs="+", metavar="FILE",
                   help="task, search-space or layout files (YAML), or shipped ones' names")
    c.set_defaults(func=cmd_check)
