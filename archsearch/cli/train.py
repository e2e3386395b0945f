"""``archsearch verify`` and ``archsearch paper``: training checks of the prior's predictions.

Each run writes into a new folder (``RUNS_DIR/verify-TASK/STAMP/``, ``RUNS_DIR/paper-SCALE/STAMP/``) and says
where: no run overwrites another's results.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from archsearch.cli.args import add_training_options, int_in, plot_path
from archsearch.cli.search import device_or_error, load_task_space

MAX_R = 1024  # wide-base has 4r channels in its first layers: 4096 at most


def _save(report: dict, args: argparse.Namespace, folder: str, name: str, plot_fn, png: str) -> tuple[Path, Path]:
    """The report's JSON and picture in a new run folder (the picture where --plot says, if given)."""
    from archsearch.evidence.outputs import json_text, new_run_dir

    out_dir = new_run_dir(args.runs_dir / folder)
    (out_dir / name).write_text(json_text(report, indent=2))
    plot = args.plot or out_dir / png
    plot_fn(report, plot)
    if args.json:
        print(json_text(report))
    return out_dir / name, plot


def _check_plot(args: argparse.Namespace) -> None:
    if args.plot is not None:
        from archsearch.evidence.outputs import refuse_overwrite

        refuse_overwrite(args.plot, args.force, "--plot")


def cmd_verify(args: argparse.Namespace) -> int:
    task, space = load_task_space(args.task, args.space)
    _check_plot(args)
    device = device_or_error(args.device)
    from archsearch.evidence.verify import (
        LayoutResult,
        chance_level,
        kendall,
        paper_layouts_for,
        spread_layouts,
        train_layouts,
    )
    from archsearch.prior.score import Prior
    from archsearch.train.data import load_task_data

    data = load_task_data(task, space.classes, space.in_channels, args.train, args.test, args.runs_dir / ".cache",
                          val=args.val)
    prior = Prior.for_space(task.masks, task.weights, space)
    results = [LayoutResult(lay, f"spread {i}", score)
               for i, (lay, score) in enumerate(spread_layouts(space, prior, args.layouts, seed=args.seed))]
    for label, lay in paper_layouts_for(space):
        results.append(LayoutResult(lay, label, prior(lay).score))
    seeds = list(range(args.seed, args.seed + args.seeds))
    bar = None
    if not args.no_progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(results) * len(seeds), desc=f"verify {task.name}", unit="run", dynamic_ncols=True)
    try:
        train_layouts(results, data, seeds, args.epochs, device, space.model, bar=bar)
    finally:
        if bar is not None:
            bar.close()
    acc = [r.mean for r in results]
    chance = chance_level(data.val.y)
    predictors = {"prior": [r.prior_score for r in results]}
    for name in ("naswot", "synflow", "params"):
        predictors[name] = [r.peers.get(name, np.nan) for r in results]
    taus = {name: kendall(vals, acc, seed=args.seed) for name, vals in predictors.items()}
    tau, p, lo, hi = taus["prior"]
    report = {
        "task": task.name, "space": space.name, "epochs": args.epochs, "seeds": seeds, "device": device,
        "chance": chance, "kendall_tau": tau, "kendall_p": p, "kendall_tau_ci95": [lo, hi],
        "predictors": {k: {"kendall_tau": v[0], "p": v[1], "ci95": [v[2], v[3]]} for k, v in taus.items()},
        "layouts": [{"label": r.label, "channels": list(r.layout.channels), "params": r.layout.param_count(),
                     "prior_score": r.prior_score, "val_accuracy": r.val_accuracy, "test_accuracy": r.test_accuracy,
                     "at_chance": bool(r.mean <= chance + 0.01), **r.peers} for r in results],
    }
    from archsearch.evidence.plots import plot_verify

    saved, plot = _save(report, args, f"verify-{task.name}", "verify.json", plot_verify, "prior-vs-accuracy.png")
    if args.json:
        return 0
    print(f"task {task.name}, space {space.name}: {len(results)} layouts x {len(seeds)} seeds, "
          f"{args.epochs} epochs on {device}; chance level {chance:.3f}")
    print(f"{'layout':18} {'channels':28} {'params':>7} {'prior':>7} {'val accuracy (mean +- sd)':>26} {'test':>7}")
    for r in sorted(results, key=lambda r: r.prior_score):
        sd = float(np.std(r.val_accuracy)) if len(r.val_accuracy) > 1 else 0.0
        flag = "  (chance)" if r.mean <= chance + 0.01 else ""
        print(f"{r.label:18} {str(list(r.layout.channels)):28} {r.layout.param_count():7d} "
              f"{r.prior_score:7.3f} {r.mean:18.4f} +- {sd:.4f} {r.test_mean:7.4f}{flag}")
    print("Kendall's tau-b against mean validation accuracy (ties count as ties; 95% bootstrap interval):")
    for name, (t, pv, a, b) in taus.items():
        print(f"  {name:8} {t:+.3f}  [{a:+.3f}, {b:+.3f}]  p={pv:.3g}")
    print(f"wrote {saved} and {plot}")
    return 0


def cmd_paper(args: argparse.Namespace) -> int:
    """The paper's experiment: wide-base against wide-tip on the local and global tasks."""
    from archsearch.evidence.paper import SCALES, run_paper
    from archsearch.formats.task import load_task
    from archsearch.shipped import shipped_path

    (local, glob), default_rs = SCALES[args.scale]
    tasks = [load_task(args.local or shipped_path("tasks", local)), load_task(args.glob or shipped_path("tasks", glob))]
    _check_plot(args)
    device = device_or_error(args.device)
    seeds = list(range(args.seed, args.seed + args.seeds))
    report = run_paper(tasks, args.r or default_rs, seeds, args.epochs, device, args.model, args.train, args.test,
                       args.runs_dir / ".cache", progress=not args.no_progress, val=args.val)
    report["scale"] = args.scale
    from archsearch.evidence.plots import plot_paper

    saved, plot = _save(report, args, f"paper-{args.scale}", "paper.json", plot_paper, "paper.png")
    if args.json:
        return 0
    print(f"the paper's experiment at {args.scale} scale: {len(seeds)} seeds, {args.epochs} epochs, {args.model}, "
          f"{device}")
    print(f"{'task':18} {'r':>3} {'layout':10} {'prior':>7} {'test acc':>9} {'sd':>7}   prior predicts / training")
    rows = report["rows"]
    for i, cmp in enumerate(report["comparisons"]):
        for x in rows[2 * i: 2 * i + 2]:
            chance = f"  (chance level {x['chance']:.3f})" if x["at_chance"] else ""
            print(f"{x['task']:18} {x['r']:3d} {x['layout']:10} {x['prior_score']:7.3f} {x['mean']:9.4f} "
                  f"{x['sd']:7.4f}{chance}", end="")
            if x["layout"] == "wide-tip":
                word = {True: "", False: "  (disagree)", None: "  (a tie: no verdict)"}[cmp["agree"]]
                print(f"   {cmp['predicted']} / {cmp['found']}{word}", end="")
            print()
    print(f"wrote {saved} and {plot}")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    add_training_options(p, epochs=15)
    p.add_argument("--seeds", type=int_in(1, 1000), default=3, help="training seeds per layout")
    p.add_argument("--plot", type=plot_path, metavar="FILE",
                   help="where to draw the figure (.png, .pdf, .svg; default: in the run's folder)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --plot file")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def add_commands(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("verify", help="train layouts across the prior's range; does the ordering hold?",
                       description="Train layouts spread over the prior's range (and the paper's pair), over "
                                   "seeds; Kendall's tau of the prior and its peers against accuracy.")
    v.add_argument("task", help="task spec (YAML) with a data section")
    v.add_argument("space", help="search space (YAML)")
    v.add_argument("--layouts", type=int_in(2, 10_000), default=6, help="layouts spread over the prior's range")
    _common(v)
    v.set_defaults(func=cmd_verify)

    p = sub.add_parser("paper", help="the paper's experiment: wide-base vs wide-tip, local vs global",
                       description="Levine et al.'s experiment: wide-base against wide-tip on the local and "
                                   "the global task, every width r and seed.")
    p.add_argument("--scale", choices=["cpu", "paper"], default="cpu",
                   help="cpu: 32x32 tasks, 5 layers, r=8; paper: 64x64 tasks, 6 layers, r=4, 8, 16")
    p.add_argument("--r", type=int_in(1, MAX_R), nargs="+", help="widths r to compare (default: the scale's)")
    p.add_argument("--model", choices=["convnet", "convac"], default="convnet", help="the network trained")
    p.add_argument("--local", help="local task file (default: the shipped one for the scale)")
    p.add_argument("--global", dest="glob", help="global task file (default: the shipped one for the scale)")
    _common(p)
    p.set_defaults(func=cmd_paper)
