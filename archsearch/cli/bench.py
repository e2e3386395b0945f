"""``archsearch bench build | show | eval``: benchmark tables of trained layouts, and every predictor
judged against them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from archsearch.cli.args import (
    STORAGE_HELP,
    RunsBar,
    add_output_options,
    add_prior_option,
    add_runs_dir_option,
    add_threads_option,
    check_plot,
    device,
    emit,
    float_above_zero,
    int_in,
    plot_path,
    shipped_or_path,
    signals_stop,
    stage_printer,
    storage_url,
    study_name,
    writable_dir,
)
from archsearch.cli.search import device_or_error
from archsearch.errors import InputError
from archsearch.evidence.table import Table
from archsearch.formats.table import MAX_TABLE_LAYOUTS
from archsearch.formats.task_space import load_task_space
from archsearch.formats.validate import MAX_IMAGES, MAX_SEED


def _table_path(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name ending in .json")
    if path.suffix != ".json":
        raise argparse.ArgumentTypeError(f"a table is a .json file, got {text!r}")
    writable_dir(str(path.parent) or ".")
    return path


def cmd_build(args: argparse.Namespace) -> int:
    from archsearch.evidence.bench import BenchSettings, build_table
    from archsearch.search.worker import cpu_threads

    task, space = load_task_space(args.task, args.space)
    if task.data is None:
        raise InputError("a table needs a 'data' section in the task", args.task, "data")
    dev = device_or_error(args.device)
    d = task.data
    settings = BenchSettings(epochs=args.epochs, seeds=args.seeds, noise_layouts=args.noise_layouts,
                             seed_layouts=args.seed_layouts, band=args.band,
                             layouts=args.layouts, train=args.train or d.train, val=args.val or d.val,
                             test=args.test or d.test, data_seed=d.seed, sample_seed=args.seed, model=space.model)
    if args.storage or args.study_name:
        return _build_on_storage(args, task, space, settings, dev)
    on_run = RunsBar(f"bench {task.name}", not args.no_progress, _describe_run)
    try:
        with signals_stop():  # SIGTERM: the pool's workers are terminated, the table keeps every finished run
            table = build_table(task, space, settings, args.out, workers=args.workers, device=dev,
                                cache_dir=args.runs_dir / ".cache", on_run=on_run,
                                threads=cpu_threads(args.threads))
    finally:
        on_run.close()
    _built(args.out, table)
    return 0


def _describe_run(run: dict) -> str:
    acc = f"val {run['val_accuracy']:.3f}" if "val_accuracy" in run else f"failed: {run['failed']}"
    return f"layout {run['layout']} seed {run['seed']} {acc} {run['seconds']:.0f}s"


def _built(out: Path, table: Table) -> None:
    done = len(table.finished())
    failed = len(table.runs) - done
    print(f"{out}: {len(table.layouts)} layouts, {done} runs trained"
          + (f", {failed} failed" if failed else "")
          + (" (the complete grid)" if table.space.complete_grid else " (a seeded sample)"))


def table_study_name(out: Path) -> str:
    """``bench-STEM`` for a table at ``out``, made a name ``--study-name`` accepts (so a worker can join it):
    characters other than letters, digits, '-', '_' and '.' become '-', at most 100 in all.

    >>> table_study_name(Path("my table (v2).json"))
    'bench-my-table--v2-'
    """
    import re

    return ("bench-" + re.sub(r"[^A-Za-z0-9_.-]", "-", out.stem))[:100]


def _build_on_storage(args: argparse.Namespace, task, space, settings, dev: str) -> int:
    """The table's runs as the trials of an Optuna study: this process and any `archsearch worker` on any
    machine train them; the table file is rewritten from the study as runs complete here and at the end."""
    from archsearch.evidence.bench import build_on_study
    from archsearch.search import study as search
    from archsearch.search.worker import cpu_threads

    name = args.study_name or table_study_name(args.out)
    storage = args.storage or search.default_storage(name, args.runs_dir)
    bar = None
    if not args.no_progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc=f"bench {task.name} [{name}]", unit="run", dynamic_ncols=True)
    table, stopped = build_on_study(task, space, settings, args.out.resolve(), name, storage, (args.task, args.space),
                                    device=dev, runs_dir=args.runs_dir, workers=args.workers,
                                    threads=cpu_threads(args.threads), bar=bar)
    _built(args.out, table)
    print(f"study {name} ({storage}): `archsearch worker --study-name {name} --storage URL` joins from any machine")
    return 3 if stopped else 0


def cmd_show(args: argparse.Namespace) -> int:
    check_plot(args)
    table = Table.load(args.table)
    rows = table.rows()
    secs = [r.seconds for r in table.runs if r.seconds is not None]
    print(f"{args.table}: {table.describe()}")
    if secs:
        print(f"training time: {sum(secs) / 3600:.2f} h in all, {np.median(secs):.0f} s per run (median)")
    print(f"{'id':>4} {'label':9} {'channels':24} {'params':>6} {'val':>7} {'test':>7} seeds")
    for r in sorted(rows, key=lambda r: -r.val_accuracy)[: args.top]:
        print(f"{r.id:4d} {r.label:9} {str(r.channels):24} {r.params:6d} {r.val_accuracy:7.4f} "
              f"{r.test_accuracy:7.4f} {r.seeds}")
    if len(rows) > args.top:
        print(f"... {len(rows) - args.top} more (--top)")
    if args.plot:
        from archsearch.evidence.plots import plot_table

        print(f"wrote {plot_table(table, rows, args.plot)}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from archsearch.evidence.replay import FIXED, check_replayable, replay_table

    check_plot(args)
    table = Table.load(args.table)
    task, space = table.task_space(args.task, args.space)
    check_replayable(table, args.budget_trials)  # before the progress bar: a refusal is one line
    bar = None
    if not args.no_progress:
        from tqdm.auto import tqdm

        total = sum(1 if s in FIXED else args.repeats for s in dict.fromkeys(args.strategies))
        bar = tqdm(total=total, desc="replay", unit="search", dynamic_ncols=True, file=sys.stderr)
    try:
        with signals_stop():
            report = replay_table(table, task, space, args.strategies, args.repeats, args.budget_trials, args.seed,
                                  prior_kind=args.prior, invert_prior=args.invert_prior, workers=args.workers,
                                  guided=None if args.spread is None else {"spread": args.spread},
                                  on_repeat=lambda name, r: bar.update(1) if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    if args.plot:
        from archsearch.evidence.plots import plot_replay

        plot_replay(report, args.plot)
    emit(args, report, lambda: _print_replay(report))
    return 0


def _print_replay(report: dict) -> None:
    figures, strategies = report["strategies"], list(report["strategies"])
    print(f"{report['table']}: {report['repeats']} searches of {report['budget_trials']} trained trials per strategy, "
          f"prior {report['prior']}{' inverted' if report['prior_inverted'] else ''} of task {report['task']}")
    print(f"{'strategy':11} {'trials to within 1 point (median [q25, q75])':>44} "
          + " ".join(f"{'regret@' + k:>10}" for k in figures[strategies[0]]["regret_at"]) + "  never within")
    for name in strategies:
        f = figures[name]
        t = f["trials_to_within_1pt"]
        print(f"{name:11} {t['median']:>26.1f} [{t['q25']:.1f}, {t['q75']:.1f}]{'':>8} "
              + " ".join(f"{v:>10.4f}" for v in f["regret_at"].values()) + f"  {f['never_within']:.0%}")


def cmd_eval(args: argparse.Namespace) -> int:
    from archsearch.evidence.evaluate import evaluate_table

    check_plot(args)
    table = Table.load(args.table)
    if args.full_seeds:
        table = _with_full_seeds(table, "eval")
    task, space = table.task_space(args.task, args.space)
    ev = evaluate_table(table, task, space, args.predictors, seed=args.seed, runs_dir=args.runs_dir,
                        label=str(args.table), bands=args.flop_bands, subset=args.subset,
                        budgets=args.flop_budgets or (), progress=stage_printer("bench eval"))
    if args.plot:
        from archsearch.evidence.plots import plot_eval

        plot_eval(ev.to_dict(), ev.acc, ev.scores, args.plot)
    emit(args, ev.to_dict(), lambda: _print_eval(ev, brief=args.brief))
    return 0


def _print_eval(ev, brief: bool = False) -> None:
    """The evaluation for a person; ``brief``: the ceiling, the predictors' table and the prior's added value
    only (the blocks on multisets, FLOPs and layers left out)."""
    ceiling, stats = ev.noise_ceiling, ev.predictors
    w = _name_width(stats)
    print(f"{ev.table}: {ev.layouts} layouts of {ev.table_layouts} trained, task {ev.task}; best validation "
          f"accuracy {ev.best_val_accuracy:.4f}")
    print(f"noise ceiling (seed 0 against seed 1 on {ceiling['layouts']} layouts): Kendall tau "
          f"{ceiling['kendall_tau']:+.3f} [{ceiling['tau_ci'][0]:+.3f}, {ceiling['tau_ci'][1]:+.3f}]")
    ms = ceiling["mean_of_seeds"]
    if ms["layouts"]:
        print(f"the mean of {ms['seeds']} seeds (on the {ms['layouts']} layouts trained with them): seed-to-seed rho "
              f"{ms['pair_rho']:+.3f}, Spearman-Brown reliability of the mean {ms['reliability']:+.3f} (Kendall "
              f"scale {ms['tau_equivalent']:+.3f})")
    print(f"{'predictor':{w}} {'Kendall tau [95% CI]':>26} {'Spearman [95% CI]':>26} {'top-1 regret':>13} "
          f"{'top-5 regret':>13} {'tau within':>11} {'ties broken':>12}")
    for name, st in sorted(stats.items(), key=lambda kv: -np.nan_to_num(kv[1].kendall_tau, nan=-9)):
        print(f"{name:{w}} {st.kendall_tau:+8.3f} [{st.tau_ci[0]:+.3f}, {st.tau_ci[1]:+.3f}] "
              f"{st.spearman:+8.3f} [{st.spearman_ci[0]:+.3f}, {st.spearman_ci[1]:+.3f}] "
              f"{st.top1_regret:13.4f} {st.top5_regret:13.4f} {st.within_group_tau:+11.3f} "
              f"{st.kendall_tau_ties_broken:+12.3f}")
    print("(tau within: Kendall tau within groups of equal narrowest width, weighted by pairs; ties broken: the "
          "tau expected with the predictor's ties broken at random, a complete ranking)")
    if ev.added_value is not None:
        d = ev.added_value
        print(f"the prior against the best task-blind predictor ({d['best_task_blind']}): tau difference "
              f"{d['tau_difference']:+.3f} [{d['tau_difference_ci'][0]:+.3f}, {d['tau_difference_ci'][1]:+.3f}], "
              f"within groups {d['within_group_tau_difference']:+.3f}; ties broken, against "
              f"{d['best_task_blind_ties_broken']}: {d['tau_ties_broken_difference']:+.3f} "
              f"[{d['tau_ties_broken_difference_ci'][0]:+.3f}, {d['tau_ties_broken_difference_ci'][1]:+.3f}]; "
              f"the balanced rule's top-1 / top-5 regret "
              f"{d['balanced_top1_regret']:.4f} / {d['balanced_top5_regret']:.4f} (the prior's minus those: "
              f"{d['top1_regret_minus_balanced']:+.4f} / {d['top5_regret_minus_balanced']:+.4f})")
    if brief:
        return
    if ev.position is not None:
        from archsearch.evidence.position import describe

        print("\n".join(describe(ev.position)))
    if ev.flop_bands is not None:
        fb = ev.flop_bands
        print(f"at equal cost: Kendall tau within {fb['bands']} bands of equal FLOPs ({fb['layouts'][0]} layouts "
              "each), weighted by pairs: " + ", ".join(f"{n} {t:+.3f}" for n, t in
                                                      sorted(fb["tau"].items(), key=lambda kv: -np.nan_to_num(kv[1]))))
    if ev.flop_budgets is not None:
        fb = ev.flop_budgets
        print(f"at a budget: Kendall tau among the layouts within {fb['tolerance']:.0%} of each budget of "
              "multiply-accumulates")
        print(f"{'':{w}} " + " ".join(f"{b:>12.4g}" for b in fb["budgets"]))
        print(f"{'layouts':{w}} " + " ".join(f"{n:>12d}" for n in fb["layouts"]))
        for name, taus in fb["tau"].items():
            print(f"{name:{w}} " + " ".join(f"{t:>+12.3f}" for t in taus))
    layers = ev.layer_preference
    if layers is not None:
        print("what each asks of each layer: Spearman's rho of the layer's width with accuracy / score")
        print(f"{'':{w}} " + " ".join(f"{'layer ' + str(i + 1):>8}" for i in range(len(layers['trained']))))
        for name, row in layers.items():
            print(f"{name:{w}} " + " ".join(f"{v:>+8.2f}" for v in row))


def cmd_contrast(args: argparse.Namespace) -> int:
    from archsearch.evidence.contrast import contrast_tables

    check_plot(args)
    table_a, table_b = Table.load(args.table_a), Table.load(args.table_b)
    if args.full_seeds:
        table_a, table_b = _with_full_seeds(table_a, "contrast"), _with_full_seeds(table_b, "contrast")
    task_a, space = table_a.task_space(args.task_a, args.space)
    task_b, _ = table_b.task_space(args.task_b, args.space)
    result = contrast_tables(table_a, table_b, task_a, task_b, space, args.predictors, top=args.top,
                             prefer=args.prefer, seed=args.seed, runs_dir=args.runs_dir)
    report = result.to_dict()
    report["table_a"], report["table_b"] = str(args.table_a), str(args.table_b)
    if args.plot:
        from archsearch.evidence.plots import plot_contrast

        plot_contrast(report, result.acc_a, result.acc_b, result.scores_a, result.scores_b, args.plot)
    emit(args, report, lambda: _print_contrast(report, result.channels))
    return 0


def _with_full_seeds(table: Table, command: str) -> Table:
    """``--full-seeds``: the table cut to its layouts with the most seeds, refused in one line when fewer than
    three are left (the plain refusal would count only those, as if the others were untrained)."""
    full = table.with_full_seeds()
    rows = full.rows()
    if len(rows) < 3:
        seeds = len(rows[0].seeds) if rows else 0
        raise InputError(f"--full-seeds leaves {len(rows)} layout(s) trained with {seeds} seeds (of "
                         f"{len(table.rows())} trained); {command} needs at least 3", table.path or table.name, "runs")
    return full


def _add_full_seeds_option(p: argparse.ArgumentParser) -> None:
    """``--full-seeds``: judge only the layouts trained with the most seeds (:meth:`Table.with_full_seeds`)."""
    p.add_argument("--full-seeds", action="store_true",
                   help="judge only the layouts trained with the most seeds any layout of the table has (a table "
                        "grown to 3 seeds on a seeded subset: that subset, every accuracy a mean of 3 runs)")


def _name_width(names) -> int:
    """The width of the predictor-name column: the longest name, at least 15."""
    return max(15, *(len(n) for n in names))


def _print_contrast(report: dict, channels: list[list[int]]) -> None:
    from archsearch.evidence.contrast import preferred_count

    ceiling, train, top = report["change_ceiling"], report["training"], report["top"]
    w = _name_width(report["predictors"])
    print(f"{report['task_a']} ({report['table_a']}) against {report['task_b']} ({report['table_b']}): "
          f"{report['layouts']} layouts on both")
    print(f"training reorders: Kendall tau {train['between_tau']:+.3f} between the two; keeps {train['top_kept']} of "
          f"its top {top}; best {train['top1_a']} -> {train['top1_b']}")
    print(f"noise ceiling of the change (seed 0 against seed 1 on {ceiling['layouts']} layouts): Kendall tau "
          f"{ceiling['kendall_tau']:+.3f} [{ceiling['tau_ci'][0]:+.3f}, {ceiling['tau_ci'][1]:+.3f}]")
    held = report.get("held_out_seed")
    if held is not None:
        print(f"a held-out seed ({held['layouts']} layouts with {held['seeds']} seeds on both; each seed judged in "
              f"turn): the other {held['seeds'] - 1} seeds' change predicts its change at tau {held['training']:+.3f}; "
              + ", ".join(f"{n} {t:+.3f}" for n, t in sorted(held["predictors"].items(),
                                                            key=lambda kv: -np.nan_to_num(kv[1], nan=-9))))
    print(f"{'predictor':{w}} {'its change vs training [95% CI]':>33} {'reorders':>9} {'top kept':>9}  top pick")
    for name, st in sorted(report["predictors"].items(), key=lambda kv: -np.nan_to_num(kv[1]["change_tau"], nan=-9)):
        moved = (f"{st['change_tau']:+8.3f} [{st['change_ci'][0]:+.3f}, {st['change_ci'][1]:+.3f}]"
                 if np.isfinite(st["change_tau"]) else f"{'unchanged (same scores)':>24}")
        pick = f"{st['top1_a']} -> {st['top1_b']}" if st["top1_a"] != st["top1_b"] else f"{st['top1_a']} on both"
        print(f"{name:{w}} {moved:>33} {st['between_tau']:>+9.3f} {st['top_kept']:>6}/{top:<2}  {pick}")
    if train["preferred_shift"] is not None:
        k = preferred_count(report["layouts"], report["prefer"])
        print(f"how the preferred layouts move (the top {k} by each one's values): mean log2 width per layer on B "
              f"minus on A; r against training's across the layers [95% CI]")
        print(f"{'':{w}} " + " ".join(f"{'layer ' + str(i + 1):>8}" for i in range(len(channels[0]))) + "  r")
        for name, st in (("training", train), *report["predictors"].items()):
            r = (f"{st['preferred_r']:+.3f}" + (f" [{st['preferred_ci'][0]:+.3f}, {st['preferred_ci'][1]:+.3f}]"
                                                 if name != "training" else "")
                 if np.isfinite(st["preferred_r"]) else "none (its group does not move, or moves alike everywhere)")
            print(f"{name:{w}} " + " ".join(f"{v:>+8.2f}" for v in st["preferred_shift"]) + f"  {r}")
    if report["layer_shift"] is not None:
        print("how each shifts what it asks of each layer: Spearman's rho of the width on B minus on A")
        print(f"{'':{w}} " + " ".join(f"{'layer ' + str(i + 1):>8}" for i in range(len(channels[0]))))
        for name, row in report["layer_shift"].items():
            print(f"{name:{w}} " + " ".join(f"{v:>+8.2f}" for v in row))


def cmd_import(args: argparse.Namespace) -> int:
    """A benchmark trained elsewhere, into a table of this project's format (checked whole, written atomically)."""
    from archsearch.evidence.imports import import_channel_bench_macro
    from archsearch.evidence.outputs import refuse_overwrite

    refuse_overwrite(args.out, args.force, "--out")
    table = import_channel_bench_macro(args.file, args.space, args.task)
    table.save(args.out)
    print(f"{args.out}: {len(table.layouts)} layouts of {table.space.name}, {len(table.runs)} runs "
          f"({table.settings.seeds} per layout) from {table.source.name} ({args.file}); task {table.task.name}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    from archsearch.evidence.bench import BenchSettings

    d = BenchSettings()
    bench = sub.add_parser("bench", help="benchmark tables of trained layouts: build, import, show, eval, "
                                         "contrast, replay",
                           description="Tables of size-matched layouts trained on a task, and every predictor "
                                       "judged against them.")
    cmds = bench.add_subparsers(dest="bench_command", required=True, metavar="ACTION",
                                help="build or import a table, show one, judge the predictors against it")
    b = cmds.add_parser("build", help="train a table (resumable; several workers)",
                        description="Train the size-matched layouts of a space on a task into a table: the "
                                    "complete grid when the space is small, else a seeded sample. The same "
                                    "command resumes, training only what is missing.")
    b.add_argument("task", type=shipped_or_path("tasks"), help="task spec (YAML, or a shipped task's name) with a data "
                   "section")
    b.add_argument("space", type=shipped_or_path("search_spaces"), help="search space (YAML, or a shipped one's name)")
    b.add_argument("--out", type=_table_path, required=True, help="the table file (.json)")
    b.add_argument("--layouts", type=int_in(1, 10_000), default=d.layouts,
                   help="layouts sampled when the space is no small finite grid")
    b.add_argument("--seeds", type=int_in(1, 100), default=d.seeds, help="training seeds per layout")
    b.add_argument("--noise-layouts", type=int_in(0, 100_000), default=d.noise_layouts,
                   help="with --seeds 1: layouts (a seeded subset) trained with a second seed, for the noise ceiling")
    b.add_argument("--seed-layouts", type=int_in(0, 20_000), default=d.seed_layouts,
                   help="with --seeds S > 1: 0 trains every layout with every seed; N trains seed 0 for every layout "
                        "and seeds 1..S-1 for a seeded subset of N (holding the --noise-layouts subset)")
    b.add_argument("--epochs", type=int_in(1, 10_000), default=d.epochs, help="training epochs per run")
    b.add_argument("--band", type=float_above_zero(1.0), default=d.band,
                   help="layouts with LO x budget to budget parameters")
    b.add_argument("--workers", type=int_in(1, 256), default=1, help="training processes at once")
    b.add_argument("--storage", type=storage_url,
                   help="build through an Optuna study on this storage, so `archsearch worker` on any machine "
                        "can train runs too (" + STORAGE_HELP.split(": ", 1)[1].split("; default")[0] + ")")
    b.add_argument("--study-name", type=study_name,
                   help="the study's name with --storage (default: bench-TABLE; without --storage, a SQLite "
                        "study under RUNS_DIR)")
    add_threads_option(b)
    b.add_argument("--device", type=device, default="auto", help="auto, cpu, cuda, cuda:N or mps")
    b.add_argument("--train", type=int_in(1, MAX_IMAGES), help="training images (default: the task's)")
    b.add_argument("--val", type=int_in(1, MAX_IMAGES), help="validation images (default: the task's)")
    b.add_argument("--test", type=int_in(1, MAX_IMAGES), help="test images (default: the task's)")
    b.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help="seed of the layout sample and subset")
    b.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help="where the data cache goes")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(func=cmd_build)

    s = cmds.add_parser("show", help="print a table and draw it", description="Print a table, best first.")
    s.add_argument("table", help="the table file (.json)")
    s.add_argument("--top", type=int_in(1, 100_000), default=20, help="rows printed")
    s.add_argument("--plot", type=plot_path, metavar="FILE", help="draw the table (.png, .pdf, .svg)")
    s.add_argument("--force", action="store_true", help="overwrite an existing --plot file")
    s.set_defaults(func=cmd_show)

    from archsearch.evidence.predictors import PREDICTORS

    e = cmds.add_parser("eval", help="every predictor against a table: tau, rho, regret, noise ceiling",
                        description="Score every layout of a table with every predictor and compare with the "
                                    "trained validation accuracies.")
    e.add_argument("table", help="the table file (.json)")
    e.add_argument("--task", type=shipped_or_path("tasks"),
                   help="score with this task's partitions (default: the table's task file)")
    e.add_argument("--space", type=shipped_or_path("search_spaces"),
                   help="the table's search space file (default: the one the table names)")
    e.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help="seed of the bootstrap, ties, random floor")
    e.add_argument("--predictors", nargs="+", choices=PREDICTORS, metavar="NAME",
                   help=f"which to score (default: every one of {', '.join(PREDICTORS)} that applies to the "
                        "table: block layouts have no prior yet, a task without data no NASWOT or MeCo; the "
                        "priors alone take seconds, the peers build and run a network per layout)")
    e.add_argument("--subset", type=int_in(0, MAX_TABLE_LAYOUTS), default=0, metavar="N",
                   help="judge on a seeded sample of N of the table's trained layouts (--seed; 0: all of them)")
    e.add_argument("--flop-bands", type=int_in(0, 1000), default=0, metavar="N",
                   help="also judge every predictor at equal cost: Kendall tau within N bands of equal FLOPs "
                        "(quantiles), weighted by pairs (0: not)")
    e.add_argument("--flop-budgets", type=float_above_zero(1e18), nargs="+", metavar="MACS",
                   help="also judge every predictor at each budget: Kendall tau among the layouts whose "
                        "multiply-accumulates lie within 5%% of it (e.g. 50e6 100e6)")
    _add_full_seeds_option(e)
    e.add_argument("--brief", action="store_true",
                   help="print the noise ceiling, the predictors' table and the prior's added value only (the "
                        "text; --json stays whole)")
    add_output_options(e, "a scatter per predictor (.png, .pdf, .svg)")
    add_runs_dir_option(e)
    e.set_defaults(func=cmd_eval)

    m = cmds.add_parser("import", help="a benchmark trained elsewhere, as a table (Channel-Bench-Macro)",
                        description="Convert a benchmark's results file into a table of this project's format: "
                                    "channel-bench-macro (Su et al., CVPR 2021: 16,384 MobileNet or ResNet "
                                    "networks on CIFAR-10, three runs each; its Results_MobileNet.json or "
                                    "Results_ResNet.json). Every network's parameter and FLOP counts are checked "
                                    "equal to the shipped block space's.")
    m.add_argument("source", choices=["channel-bench-macro"], help="which benchmark the file is from")
    m.add_argument("file", help="its results file (.json)")
    m.add_argument("--space", choices=["mobilenet", "resnet"], required=True, help="the file's search space")
    m.add_argument("--out", type=_table_path, required=True, help="the table file to write (.json)")
    m.add_argument("--task", help="the task the table names (default: the shipped natural-images-32)")
    m.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    m.set_defaults(func=cmd_import)

    from archsearch.evidence.replay import STRATEGIES

    c = cmds.add_parser("contrast", help="two tables of one space on two tasks: does a predictor reorder as "
                                         "training does?",
                        description="Compare a task with its control (MNIST-1D against its scrambled twin, local "
                                    "against global digits) on the layouts both tables trained: how each "
                                    "predictor's ordering changes against how training's does.")
    c.add_argument("table_a", help="the first table (.json)")
    c.add_argument("table_b", help="the second table (.json), same search space")
    c.add_argument("--task-a", help="score side A with this task (default: table A's task file)")
    c.add_argument("--task-b", help="score side B with this task (default: table B's task file)")
    c.add_argument("--space", type=shipped_or_path("search_spaces"),
                   help="the tables' search space file (default: the one table A names)")
    c.add_argument("--predictors", nargs="+", choices=PREDICTORS, default=list(PREDICTORS), metavar="NAME",
                   help=f"score only these (default all: {', '.join(PREDICTORS)}); the priors alone take seconds")
    c.add_argument("--top", type=int_in(1, 10_000), default=10, help="how many top picks are compared")
    c.add_argument("--prefer", type=float_above_zero(1.0), default=0.1,
                   help="the share of layouts counted as each one's preferred group")
    c.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help="seed of the bootstrap, ties, random floor")
    _add_full_seeds_option(c)
    add_output_options(c, "each one's change against training's")
    add_runs_dir_option(c)
    c.set_defaults(func=cmd_contrast)

    r = cmds.add_parser("replay", help="replay whole searches against a complete-grid table (nothing trains)",
                        description="Replay searches against a complete-grid table: each strategy's sampler "
                                    "proposes layouts, the table answers with their recorded accuracy. Reports "
                                    "the trials until within 1 point of the table's best and the regret after "
                                    "5, 10 and 20 trials, over many repeats.")
    r.add_argument("table", help="the table file (.json), a complete grid")
    r.add_argument("--strategies", nargs="+", choices=STRATEGIES, default=list(STRATEGIES), metavar="NAME",
                   help=f"which to replay (default: all of {', '.join(STRATEGIES)})")
    r.add_argument("--repeats", type=int_in(1, 100_000), default=200, help="searches per strategy (seeds)")
    r.add_argument("--budget-trials", type=int_in(1, 10_000), default=50, help="trained trials per search")
    r.add_argument("--task", help="the prior's task (default: the table's; another one makes a misleading prior)")
    r.add_argument("--space", type=shipped_or_path("search_spaces"),
                   help="the table's search space file (default: the one the table names)")
    add_prior_option(r)
    r.add_argument("--invert-prior", action="store_true",
                   help="the prior upside down, its worst layouts first: a deliberately wrong prior")
    r.add_argument("--spread", type=float_above_zero(1e6), default=None,
                   help="the guided sampler's spread: its prior draws take the k-th best free layout with "
                        "weight exp(-k / spread) (default: the sampler's, 1)")
    r.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help="seed of the first repeat")
    r.add_argument("--workers", type=int_in(1, 256), default=1,
                   help="processes sharing the repeats (the figures do not depend on it)")
    add_output_options(r, "regret against trials (.png, .pdf, .svg)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_replay)

