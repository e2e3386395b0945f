"""``archsearch verify`` and ``archsearch paper``: training checks of the prior's predictions."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from archsearch.formats.yamlio import InputError

TASKS_DIR = Path(__file__).resolve().parent.parent / "tasks"


def _data(task, args):
    from archsearch.train.data import load_data

    if task.data is None:
        raise InputError("training needs a 'data' section in the task", task.source, "data")
    spec = task.data
    if args.train is not None:
        spec = replace(spec, train=args.train)
    if args.test is not None:
        spec = replace(spec, test=args.test)
    return load_data(spec, task.input_shape, cache_dir=Path(args.runs_dir) / ".cache")


def _device(args) -> str:
    from archsearch.train.loop import pick_device

    try:
        return str(pick_device(args.device))
    except ValueError as exc:
        raise InputError(str(exc), field="--device") from None


def _save_report(report: dict, args, folder: str, name: str, plot_fn, png: str) -> tuple[Path, Path]:
    """Write the report's JSON and figure under runs/FOLDER/ (the figure where --plot says); with
    --json, also print the report as one object on stdout."""
    out_dir = Path(args.runs_dir) / folder
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / name).write_text(json.dumps(report, indent=2))
    plot = Path(args.plot) if args.plot else out_dir / png
    plot_fn(report, plot)
    if args.json:
        print(json.dumps(report))
    return out_dir / name, plot


def _check_counts(args) -> None:
    for flag in ("epochs", "seeds", "layouts", "train", "test"):
        v = getattr(args, flag, None)
        if v is not None and v < 1:
            raise InputError(f"--{flag} must be >= 1, got {v}", field=f"--{flag}")


def cmd_verify(args: argparse.Namespace) -> int:
    _check_counts(args)
    from archsearch.cli.search import _task_space

    task, space = _task_space(args)
    device = _device(args)
    data = _data(task, args)
    from archsearch.evidence.verify import LayoutResult, kendall, paper_layouts_for, spread_layouts, train_layouts
    from archsearch.search.study import make_prior

    prior = make_prior(task, space)
    results = [LayoutResult(lay, f"spread {i}", score)
               for i, (lay, score) in enumerate(spread_layouts(space, prior, args.layouts, seed=args.seed))]
    for label, lay in paper_layouts_for(space):
        results.append(LayoutResult(lay, label, prior(lay).score))
    seeds = list(range(args.seed, args.seed + args.seeds))
    train_layouts(results, data, seeds, args.epochs, device, space.model, progress=not args.no_progress)
    acc = [r.mean for r in results]
    predictors = {"prior": [r.prior_score for r in results]}
    for name in ("naswot", "synflow", "params"):
        predictors[name] = [r.peers.get(name, np.nan) for r in results]
    taus = {name: kendall(vals, acc, seed=args.seed) for name, vals in predictors.items()}
    tau, p, lo, hi = taus["prior"]
    report = {
        "task": task.name, "space": space.name, "epochs": args.epochs, "seeds": seeds, "device": device,
        "kendall_tau": tau, "kendall_p": p, "kendall_tau_ci95": [lo, hi],
        "predictors": {k: {"kendall_tau": v[0], "p": v[1], "ci95": [v[2], v[3]]} for k, v in taus.items()},
        "layouts": [{"label": r.label, "channels": list(r.layout.channels), "params": r.layout.param_count(),
                     "prior_score": r.prior_score, "accuracy": r.accuracy, **r.peers} for r in results],
    }
    from archsearch.evidence.plots import plot_verify

    saved, plot = _save_report(report, args, f"verify-{task.name}", "verify.json", plot_verify,
                               "prior-vs-accuracy.png")
    if args.json:
        return 0
    print(f"task {task.name}, space {space.name}: {len(results)} layouts x {len(seeds)} seeds, "
          f"{args.epochs} epochs on {device}")
    print(f"{'layout':18} {'channels':28} {'params':>7} {'prior':>7} {'accuracy (mean +- sd)':>22}")
    for r in sorted(results, key=lambda r: r.prior_score):
        sd = float(np.std(r.accuracy)) if len(r.accuracy) > 1 else 0.0
        print(f"{r.label:18} {str(list(r.layout.channels)):28} {r.layout.param_count():7d} "
              f"{r.prior_score:7.3f} {r.mean:14.4f} +- {sd:.4f}")
    print("Kendall's tau against mean accuracy (95% bootstrap interval):")
    for name, (t, pv, a, b) in taus.items():
        print(f"  {name:8} {t:+.3f}  [{a:+.3f}, {b:+.3f}]  p={pv:.3g}")
    print(f"wrote {saved} and {plot}")
    return 0


def cmd_paper(args: argparse.Namespace) -> int:
    """The paper's experiment: wide-base against wide-tip on the local and global tasks."""
    _check_counts(args)
    from archsearch.core.layout import paper_pair
    from archsearch.evidence.verify import LayoutResult, train_layouts
    from archsearch.formats.task import load_task
    from archsearch.prior.score import Prior

    scale = {"cpu": ("digits-local-32", "digits-global-32"), "paper": ("digits-local", "digits-global")}
    local, glob = scale[args.scale]
    tasks = [load_task(args.local or TASKS_DIR / f"{local}.yaml"),
             load_task(args.glob or TASKS_DIR / f"{glob}.yaml")]
    rs = args.r or ([8] if args.scale == "cpu" else [4, 8, 16])
    device = _device(args)
    seeds = list(range(args.seed, args.seed + args.seeds))
    rows = []
    for task in tasks:
        side = task.input_shape[0]
        if len(task.input_shape) != 2 or task.input_shape[1] != side or side < 2 or side & (side - 1):
            raise InputError(f"the paper's networks need a square 2D input of side 2^k, got "
                             f"{list(task.input_shape)}", task.source, "input_shape")
        depth = side.bit_length() - 1  # 2x2 pooling down to 1x1: 5 layers on 32x32, 6 on 64x64
        data = _data(task, args)
        for r in rs:
            wb, wt = paper_pair(task.input_shape, 10, r, [2] * depth)
            prior = Prior.for_budget(task.masks, task.weights, wb, wb.param_count())
            res = [LayoutResult(wb, "wide-base", prior(wb).score), LayoutResult(wt, "wide-tip", prior(wt).score)]
            train_layouts(res, data, seeds, args.epochs, device, args.model, progress=not args.no_progress,
                          peers=False)
            for x in res:
                rows.append({"task": task.name, "r": r, "layout": x.label, "channels": list(x.layout.channels),
                             "params": x.layout.param_count(), "prior_score": x.prior_score,
                             "accuracy": x.accuracy, "mean": x.mean,
                             "sd": float(np.std(x.accuracy))})
    report = {"scale": args.scale, "epochs": args.epochs, "seeds": seeds, "device": device,
              "train": args.train, "model": args.model, "rows": rows}
    from archsearch.evidence.plots import plot_paper

    saved, plot = _save_report(report, args, f"paper-{args.scale}", "paper.json", plot_paper, "paper.png")
    if args.json:
        return 0
    print(f"the paper's experiment at {args.scale} scale: {len(seeds)} seeds, {args.epochs} epochs, {device}")
    print(f"{'task':18} {'r':>3} {'layout':10} {'prior':>7} {'accuracy':>9} {'sd':>7}   prior predicts / training")
    for i in range(0, len(rows), 2):
        wb, wt = rows[i], rows[i + 1]
        for x in (wb, wt):
            print(f"{x['task']:18} {x['r']:3d} {x['layout']:10} {x['prior_score']:7.3f} {x['mean']:9.4f} "
                  f"{x['sd']:7.4f}", end="")
            if x is wt:
                pred = "wide-base" if wb["prior_score"] > wt["prior_score"] else "wide-tip"
                got = "wide-base" if wb["mean"] > wt["mean"] else "wide-tip"
                print(f"   {pred} / {got}{'' if pred == got else '  (disagree)'}", end="")
            print()
    print(f"wrote {saved} and {plot}")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--seeds", type=int, default=3, help="training seeds per layout")
    p.add_argument("--seed", type=int, default=0, help="first seed")
    p.add_argument("--train", type=int, help="training images (default: the task's)")
    p.add_argument("--test", type=int, help="test images (default: the task's)")
    p.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, cuda:1, mps")
    p.add_argument("--runs-dir", default="runs")
    p.add_argument("--plot", metavar="PNG", help="where to draw the figure (default: under runs/)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--no-progress", action="store_true")


def add_commands(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("verify", help="train layouts across the prior's range; does the ordering hold?")
    v.add_argument("task")
    v.add_argument("space")
    v.add_argument("--layouts", type=int, default=6, help="layouts spread over the prior's range")
    _common(v)
    v.set_defaults(func=cmd_verify)

    p = sub.add_parser("paper", help="the paper's experiment: wide-base vs wide-tip, local vs global")
    p.add_argument("--scale", choices=["cpu", "paper"], default="cpu",
                   help="cpu: 32x32 tasks, 5 layers, r=8; paper: 64x64 tasks, 6 layers, r=4,8,16")
    p.add_argument("--r", type=int, nargs="+", help="widths r to compare")
    p.add_argument("--model", choices=["convnet", "convac"], default="convnet")
    p.add_argument("--local", help="local task file (default: the shipped one for the scale)")
    p.add_argument("--global", dest="glob", help="global task file")
    _common(p)
    p.set_defaults(func=cmd_paper)
