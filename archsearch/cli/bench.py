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
    add_prior_option,
    add_threads_option,
    device,
    float_above_zero,
    int_in,
    plot_path,
    signals_stop,
    storage_url,
    study_name,
    writable_dir,
)
from archsearch.cli.search import device_or_error, load_task_space
from archsearch.formats.validate import MAX_IMAGES, MAX_SEED
from archsearch.formats.yamlio import InputError


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

    def describe(run: dict) -> str:
        acc = f"val {run['val_accuracy']:.3f}" if "val_accuracy" in run else f"failed: {run['failed']}"
        return f"layout {run['layout']} seed {run['seed']} {acc} {run['seconds']:.0f}s"

    on_run = RunsBar(f"bench {task.name}", not args.no_progress, describe)
    try:
        with signals_stop():  # SIGTERM: the pool's workers are terminated, the table keeps every finished run
            table = build_table(task, space, settings, args.out, workers=args.workers, device=dev,
                                cache_dir=args.runs_dir / ".cache", on_run=on_run,
                                threads=cpu_threads(args.threads))
    finally:
        on_run.close()
    _built(args.out, table)
    return 0


def _built(out: Path, table: dict) -> None:
    done = sum("val_accuracy" in r for r in table["runs"])
    failed = sum("failed" in r for r in table["runs"])
    print(f"{out}: {len(table['layouts'])} layouts, {done} runs trained"
          + (f", {failed} failed" if failed else "")
          + (" (the complete grid)" if table["space"]["complete_grid"] else " (a seeded sample)"))


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
    from dataclasses import asdict

    from archsearch.evidence.bench import open_table, planned_runs, save_table, sync_table, table_study
    from archsearch.search import study as search
    from archsearch.search.recipe import Recipe
    from archsearch.search.worker import cpu_threads, prepare, work_with_helpers

    name = args.study_name or table_study_name(args.out)
    out = args.out.resolve()
    table = open_table(task, space, settings, out, None, dev)
    total = len(planned_runs(len(table["layouts"]), settings))  # the study is done when it holds them all
    recipe = Recipe.from_files(args.task, args.space, kind="bench", mode="bench", trials=total,
                               epochs=settings.epochs, seed=settings.sample_seed, max_failures=10**6,
                               bench={"settings": asdict(settings), "layouts": table["layouts"], "out": str(out)})
    threads = cpu_threads(args.threads)
    work = prepare(recipe, name, device=dev, runs_dir=args.runs_dir, threads=threads)
    storage = args.storage or search.default_storage(name, args.runs_dir)
    study = search.open_study(name, storage, fp=work.fingerprint, create=True)
    study.set_user_attr("fingerprint", work.fingerprint)
    save_table(out, table)
    table_study(table, settings, study)
    recipe.store(study)
    from archsearch.search.dashboard import describe_study

    describe_study(study, recipe, task, space)
    objective = work.objective

    def and_save(trial):  # every run this process finishes rewrites the table with all runs so far
        value = objective(trial)
        sync_table(study, table, out, extra=[trial.user_attrs["run"]])
        return value

    work.objective = and_save
    bar = None
    if not args.no_progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=f"bench {task.name} [{name}]", unit="run", dynamic_ncols=True)
    try:
        outcome = work_with_helpers(study, work, storage, workers=args.workers, runs_dir=args.runs_dir,
                                    threads=threads, progress=False, bar=bar)
    finally:
        table = sync_table(study, table, out)
    _built(args.out, table)
    print(f"study {name} ({storage}): `archsearch worker --study-name {name} --storage URL` joins from any machine")
    return 3 if outcome.stopped else 0


def cmd_show(args: argparse.Namespace) -> int:
    from archsearch.evidence.bench import load_table, table_summary

    table = load_table(args.table, locate=True)
    rows = table_summary(table)
    s = table["settings"]
    secs = [r["seconds"] for r in table["runs"]]
    print(f"{args.table}: task {table['task']['name']}, space {table['space']['name']}, "
          f"{len(table['layouts'])} layouts ({'complete grid' if table['space']['complete_grid'] else 'sample'}), "
          f"{len(table['runs'])} runs on {table.get('device')}; {s['epochs']} epochs, {s['train']} / {s['val']} / "
          f"{s['test']} images; archsearch {table.get('archsearch_version')}")
    if secs:
        print(f"training time: {sum(secs) / 3600:.2f} h in all, {np.median(secs):.0f} s per run (median)")
    print(f"{'id':>4} {'label':9} {'channels':24} {'params':>6} {'val':>7} {'test':>7} seeds")
    for r in sorted(rows, key=lambda r: -r["val_accuracy"])[: args.top]:
        print(f"{r['id']:4d} {r['label']:9} {str(r['channels']):24} {r['params']:6d} {r['val_accuracy']:7.4f} "
              f"{r['test_accuracy']:7.4f} {r['seeds']}")
    if len(rows) > args.top:
        print(f"... {len(rows) - args.top} more (--top)")
    if args.plot:
        from archsearch.evidence.outputs import refuse_overwrite
        from archsearch.evidence.plots import plot_table

        refuse_overwrite(args.plot, args.force, "--plot")
        print(f"wrote {plot_table(table, rows, args.plot)}")
    return 0


def _task_space(args: argparse.Namespace, table: dict, path: str):
    """The task (``--task``, else the table's) and space (``--space``, else the table's) of the table at
    ``path``, checked to match each other and the table's layouts."""
    from archsearch.evidence.bench import table_task_space

    return table_task_space(table, path, args.task, args.space)


def cmd_replay(args: argparse.Namespace) -> int:
    from archsearch.evidence.bench import load_table
    from archsearch.evidence.replay import FIXED, replay, summarise
    from archsearch.prior.score import Prior

    table = load_table(args.table, locate=True)
    if not table["space"]["complete_grid"]:
        raise InputError("replay needs a complete-grid table (a sample cannot answer every proposal)",
                         args.table, "space.complete_grid")
    task, space = _task_space(args, table, args.table)
    trained = len({r["layout"] for r in table["runs"] if "val_accuracy" in r})
    if trained < 2:
        raise InputError(f"{trained} trained layout(s): a replay needs at least 2", args.table, "runs")
    if args.budget_trials > trained:  # a search could never count that many distinct trainings
        raise InputError(f"{args.budget_trials} trials per search, but the table holds {trained} trained layouts; "
                         f"give at most {trained}", field="--budget-trials")
    if args.plot:
        from archsearch.evidence.outputs import refuse_overwrite

        refuse_overwrite(args.plot, args.force, "--plot")
    prior = Prior.for_task(task, space, args.prior)
    if args.invert_prior:
        from archsearch.prior.score import InvertedPrior

        prior = InvertedPrior(prior)
    strategies = list(dict.fromkeys(args.strategies))
    bar = None
    if not args.no_progress:
        from tqdm.auto import tqdm

        total = sum(1 if s in FIXED else args.repeats for s in strategies)
        bar = tqdm(total=total, desc="replay", unit="search", dynamic_ncols=True, file=sys.stderr)
    try:
        with signals_stop():
            results = replay(table, task, space, prior, strategies, args.repeats, args.budget_trials, args.seed,
                             on_repeat=lambda name, r: bar.update(1) if bar is not None else None,
                             workers=args.workers)
    finally:
        if bar is not None:
            bar.close()
    figures = summarise(results, table, args.budget_trials)
    report = {"table": str(args.table), "repeats": args.repeats, "budget_trials": args.budget_trials,
              "task": task.name, "prior": args.prior, "prior_inverted": args.invert_prior, "strategies": figures}
    if args.plot:
        from archsearch.evidence.plots import plot_replay

        plot_replay(report, args.plot)
    if args.json:
        from archsearch.evidence.outputs import json_text

        print(json_text(report))
        return 0
    print(f"{args.table}: {args.repeats} searches of {args.budget_trials} trained trials per strategy, prior "
          f"{args.prior}{' inverted' if args.invert_prior else ''} of task {task.name}")
    print(f"{'strategy':11} {'trials to within 1 point (median [q25, q75])':>44} "
          + " ".join(f"{'regret@' + k:>10}" for k in figures[strategies[0]]["regret_at"]) + "  never within")
    for name in strategies:
        f = figures[name]
        t = f["trials_to_within_1pt"]
        print(f"{name:11} {t['median']:>26.1f} [{t['q25']:.1f}, {t['q75']:.1f}]{'':>8} "
              + " ".join(f"{v:>10.4f}" for v in f["regret_at"].values()) + f"  {f['never_within']:.0%}")
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def _peer_data(table: dict, space, args: argparse.Namespace):
    """The images the data-dependent peers look at: the table's own task's (whatever task the priors read)."""
    from archsearch.formats.task import load_task
    from archsearch.train.data import load_task_data

    s = table["settings"]
    return load_task_data(load_task(table["task"]["file"]), space.classes, space.in_channels, s["train"], s["test"],
                          args.runs_dir / ".cache", val=s["val"])


def cmd_eval(args: argparse.Namespace) -> int:
    from archsearch.evidence.baselines import balanced_order, min_width
    from archsearch.evidence.bench import load_table, table_summary
    from archsearch.evidence.evaluate import (
        PEERS,
        added_value,
        evaluate,
        layer_preferences,
        noise_ceiling,
        predictor_scores,
    )

    if args.plot:
        from archsearch.evidence.outputs import refuse_overwrite

        refuse_overwrite(args.plot, args.force, "--plot")  # before any work
    table = load_table(args.table, locate=True)
    task, space = _task_space(args, table, args.table)
    rows = table_summary(table)
    if len(rows) < 3:
        raise InputError(f"only {len(rows)} layout(s) trained so far; eval needs at least 3", args.table, "runs")
    s = table["settings"]
    data = _peer_data(table, space, args) if any(p in PEERS for p in args.predictors) else None
    scores = predictor_scores(rows, task, space, data, s["model"], args.seed, args.predictors)
    acc = np.array([r["val_accuracy"] for r in rows])
    layouts = [space.layout(r["schedule"], r["M"], r["channels"]) for r in rows]
    narrowest = min_width(layouts)
    stats = evaluate(acc, scores, seed=args.seed, groups=narrowest)
    ceiling = noise_ceiling(table, seed=args.seed)
    layers = layer_preferences([r["channels"] for r in rows], {"trained": acc, **scores})
    order = balanced_order(layouts)
    added = added_value(acc, scores, order, stats, seed=args.seed)
    variants = {name: added_value(acc, scores, order, stats, predictor=name, seed=args.seed)
                for name in scores if name.startswith("prior-")}
    report = {"table": str(args.table), "task": task.name, "layouts": len(rows),
              "noise_ceiling_tau": ceiling["kendall_tau"], "noise_ceiling": ceiling,
              "best_val_accuracy": float(acc.max()),
              "predictors": {name: st.to_dict() for name, st in stats.items()},
              "added_value": added, "added_value_variants": variants, "layer_preference": layers}
    if args.plot:
        from archsearch.evidence.plots import plot_eval

        plot_eval(report, acc, scores, args.plot)
    if args.json:
        from archsearch.evidence.outputs import json_text

        print(json_text(report))
        return 0
    print(f"{args.table}: {len(rows)} layouts of {len(table['layouts'])} trained, task {task.name}; best validation "
          f"accuracy {acc.max():.4f}")
    print(f"noise ceiling (seed 0 against seed 1 on {ceiling['layouts']} layouts): Kendall tau "
          f"{ceiling['kendall_tau']:+.3f} [{ceiling['tau_ci'][0]:+.3f}, {ceiling['tau_ci'][1]:+.3f}]")
    ms = ceiling["mean_of_seeds"]
    if ms["layouts"]:
        print(f"the mean of {ms['seeds']} seeds (on the {ms['layouts']} layouts trained with them): seed-to-seed rho "
              f"{ms['pair_rho']:+.3f}, Spearman-Brown reliability of the mean {ms['reliability']:+.3f} (Kendall "
              f"scale {ms['tau_equivalent']:+.3f})")
    print(f"{'predictor':15} {'Kendall tau [95% CI]':>26} {'Spearman [95% CI]':>26} {'top-1 regret':>13} "
          f"{'top-5 regret':>13} {'tau within':>11} {'ties broken':>12}")
    for name, st in sorted(stats.items(), key=lambda kv: -np.nan_to_num(kv[1].kendall_tau, nan=-9)):
        print(f"{name:15} {st.kendall_tau:+8.3f} [{st.tau_ci[0]:+.3f}, {st.tau_ci[1]:+.3f}] "
              f"{st.spearman:+8.3f} [{st.spearman_ci[0]:+.3f}, {st.spearman_ci[1]:+.3f}] "
              f"{st.top1_regret:13.4f} {st.top5_regret:13.4f} {st.within_group_tau:+11.3f} "
              f"{st.kendall_tau_ties_broken:+12.3f}")
    print("(tau within: Kendall tau within groups of equal narrowest width, weighted by pairs; ties broken: the "
          "tau expected with the predictor's ties broken at random, a complete ranking)")
    if added is not None:
        d = added
        print(f"the prior against the best task-blind predictor ({d['best_task_blind']}): tau difference "
              f"{d['tau_difference']:+.3f} [{d['tau_difference_ci'][0]:+.3f}, {d['tau_difference_ci'][1]:+.3f}], "
              f"within groups {d['within_group_tau_difference']:+.3f}; ties broken, against "
              f"{d['best_task_blind_ties_broken']}: {d['tau_ties_broken_difference']:+.3f} "
              f"[{d['tau_ties_broken_difference_ci'][0]:+.3f}, {d['tau_ties_broken_difference_ci'][1]:+.3f}]; "
              f"the balanced rule's top-1 / top-5 regret "
              f"{d['balanced_top1_regret']:.4f} / {d['balanced_top5_regret']:.4f} (the prior's minus those: "
              f"{d['top1_regret_minus_balanced']:+.4f} / {d['top5_regret_minus_balanced']:+.4f})")
    if layers is not None:
        print("what each asks of each layer: Spearman's rho of the layer's width with accuracy / score")
        print(f"{'':15} " + " ".join(f"{'layer ' + str(i + 1):>8}" for i in range(len(layers['trained']))))
        for name, row in layers.items():
            print(f"{name:15} " + " ".join(f"{v:>+8.2f}" for v in row))
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def _side(path: str, task_file: str | None, space_file: str | None):
    """One side of a contrast: the table, its task (``task_file``, else the table's), its space, its rows."""
    from archsearch.evidence.bench import load_table, table_summary

    table = load_table(path, locate=True)
    task, space = _task_space(argparse.Namespace(task=task_file, space=space_file), table, path)
    return table, task, space, table_summary(table)


def cmd_contrast(args: argparse.Namespace) -> int:
    from archsearch.evidence.contrast import change_ceiling, contrast, preferred_count, shared_layouts
    from archsearch.evidence.evaluate import PEERS, predictor_scores

    if args.plot:
        from archsearch.evidence.outputs import refuse_overwrite

        refuse_overwrite(args.plot, args.force, "--plot")  # before any work
    table_a, task_a, space, rows_a = _side(args.table_a, args.task_a, args.space)
    table_b, task_b, _, rows_b = _side(args.table_b, args.task_b, args.space)
    for key in ("name", "schedules", "max_params"):
        if table_a["space"].get(key) != table_b["space"].get(key):
            raise InputError(f"the tables are on different spaces ({key} {table_a['space'].get(key)!r} against "
                             f"{table_b['space'].get(key)!r}): a contrast compares the same layouts on two tasks",
                             args.table_b, f"space.{key}")
    if table_a["settings"].get("model") != table_b["settings"].get("model"):
        raise InputError("the tables trained different models", args.table_b, "settings.model")
    rows_a, rows_b = shared_layouts(rows_a, rows_b)
    if len(rows_a) < 3:
        raise InputError(f"only {len(rows_a)} layout(s) trained on both tables; a contrast needs at least 3",
                         args.table_b, "runs")
    scores = []
    for table, task, rows in ((table_a, task_a, rows_a), (table_b, task_b, rows_b)):
        data = _peer_data(table, space, args) if any(p in PEERS for p in args.predictors) else None
        scores.append(predictor_scores(rows, task, space, data, table["settings"]["model"], args.seed,
                                       args.predictors))
    acc_a = np.array([r["val_accuracy"] for r in rows_a])
    acc_b = np.array([r["val_accuracy"] for r in rows_b])
    channels = [r["channels"] for r in rows_a]
    result = contrast(acc_a, acc_b, scores[0], scores[1], channels, args.top, args.seed, prefer=args.prefer)
    for entry in (result["training"], *result["predictors"].values()):
        entry["top1_a"], entry["top1_b"] = channels[entry["top1_a"]], channels[entry["top1_b"]]
    report = {"table_a": str(args.table_a), "table_b": str(args.table_b), "task_a": task_a.name,
              "task_b": task_b.name, "layouts": len(rows_a), "top": args.top, "prefer": args.prefer,
              "change_ceiling": change_ceiling(table_a, table_b, seed=args.seed), **result}
    if args.plot:
        from archsearch.evidence.plots import plot_contrast

        plot_contrast(report, acc_a, acc_b, scores[0], scores[1], args.plot)
    if args.json:
        from archsearch.evidence.outputs import json_text

        print(json_text(report))
        return 0
    ceiling, train = report["change_ceiling"], report["training"]
    print(f"{task_a.name} ({args.table_a}) against {task_b.name} ({args.table_b}): {len(rows_a)} layouts on both")
    print(f"training reorders: Kendall tau {train['between_tau']:+.3f} between the two; keeps {train['top_kept']} of "
          f"its top {args.top}; best {train['top1_a']} -> {train['top1_b']}")
    print(f"noise ceiling of the change (seed 0 against seed 1 on {ceiling['layouts']} layouts): Kendall tau "
          f"{ceiling['kendall_tau']:+.3f} [{ceiling['tau_ci'][0]:+.3f}, {ceiling['tau_ci'][1]:+.3f}]")
    print(f"{'predictor':15} {'its change vs training [95% CI]':>33} {'reorders':>9} {'top kept':>9}  top pick")
    for name, st in sorted(report["predictors"].items(), key=lambda kv: -np.nan_to_num(kv[1]["change_tau"], nan=-9)):
        moved = (f"{st['change_tau']:+8.3f} [{st['change_ci'][0]:+.3f}, {st['change_ci'][1]:+.3f}]"
                 if np.isfinite(st["change_tau"]) else f"{'unchanged (same scores)':>24}")
        top = f"{st['top1_a']} -> {st['top1_b']}" if st["top1_a"] != st["top1_b"] else f"{st['top1_a']} on both"
        print(f"{name:15} {moved:>33} {st['between_tau']:>+9.3f} {st['top_kept']:>6}/{args.top:<2}  {top}")
    if train["preferred_shift"] is not None:
        k = preferred_count(len(rows_a), args.prefer)
        print(f"how the preferred layouts move (the top {k} by each one's values): mean log2 width per layer on B "
              f"minus on A; r against training's across the layers [95% CI]")
        print(f"{'':15} " + " ".join(f"{'layer ' + str(i + 1):>8}" for i in range(len(channels[0]))) + "  r")
        for name, st in (("training", train), *report["predictors"].items()):
            r = (f"{st['preferred_r']:+.3f}" + (f" [{st['preferred_ci'][0]:+.3f}, {st['preferred_ci'][1]:+.3f}]"
                                                 if name != "training" else "")
                 if np.isfinite(st["preferred_r"]) else "none (its group does not move, or moves alike everywhere)")
            print(f"{name:15} " + " ".join(f"{v:>+8.2f}" for v in st["preferred_shift"]) + f"  {r}")
    if report["layer_shift"] is not None:
        print("how each shifts what it asks of each layer: Spearman's rho of the width on B minus on A")
        print(f"{'':15} " + " ".join(f"{'layer ' + str(i + 1):>8}" for i in range(len(channels[0]))))
        for name, row in report["layer_shift"].items():
            print(f"{name:15} " + " ".join(f"{v:>+8.2f}" for v in row))
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    from archsearch.evidence.bench import BenchSettings

    d = BenchSettings()
    bench = sub.add_parser("bench", help="benchmark tables of trained layouts: build, show, eval",
                           description="Tables of size-matched layouts trained on a task, and every predictor "
                                       "judged against them.")
    cmds = bench.add_subparsers(dest="bench_command", required=True, metavar="ACTION",
                                help="build a table, show one, or evaluate the predictors against one")
    b = cmds.add_parser("build", help="train a table (resumable; several workers)",
                        description="Train the size-matched layouts of a space on a task into a table: the "
                                    "complete grid when the space is small, else a seeded sample. The same "
                                    "command resumes, training only what is missing.")
    b.add_argument("task", help="task spec (YAML) with a data section")
    b.add_argument("space", help="search space (YAML)")
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

    from archsearch.evidence.evaluate import PREDICTORS

    e = cmds.add_parser("eval", help="every predictor against a table: tau, rho, regret, noise ceiling",
                        description="Score every layout of a table with every predictor and compare with the "
                                    "trained validation accuracies.")
    e.add_argument("table", help="the table file (.json)")
    e.add_argument("--task", help="score with this task's partitions (default: the table's task file)")
    e.add_argument("--space", help="the table's search space file (default: the one the table names)")
    e.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help="seed of the bootstrap, ties, random floor")
    e.add_argument("--predictors", nargs="+", choices=PREDICTORS, default=list(PREDICTORS), metavar="NAME",
                   help=f"which to score (default: all of {', '.join(PREDICTORS)}; the prior's alone take "
                        "seconds, the peers build and run a network per layout)")
    e.add_argument("--json", action="store_true", help="one JSON object on stdout")
    e.add_argument("--plot", type=plot_path, metavar="FILE", help="a scatter per predictor (.png, .pdf, .svg)")
    e.add_argument("--force", action="store_true", help="overwrite an existing --plot file")
    e.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help="where the data cache is")
    e.set_defaults(func=cmd_eval)

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
    c.add_argument("--space", help="the tables' search space file (default: the one table A names)")
    c.add_argument("--predictors", nargs="+", choices=PREDICTORS, default=list(PREDICTORS), metavar="NAME",
                   help=f"score only these (default all: {', '.join(PREDICTORS)}); the priors alone take seconds")
    c.add_argument("--top", type=int_in(1, 10_000), default=10, help="how many top picks are compared")
    c.add_argument("--prefer", type=float_above_zero(1.0), default=0.1,
                   help="the share of layouts counted as each one's preferred group")
    c.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help="seed of the bootstrap, ties, random floor")
    c.add_argument("--json", action="store_true", help="one JSON object on stdout")
    c.add_argument("--plot", type=plot_path, metavar="FILE", help="each one's change against training's")
    c.add_argument("--force", action="store_true", help="overwrite an existing --plot file")
    c.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help="where the data cache is")
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
    r.add_argument("--space", help="the table's search space file (default: the one the table names)")
    add_prior_option(r)
    r.add_argument("--invert-prior", action="store_true",
                   help="the prior upside down, its worst layouts first: a deliberately wrong prior")
    r.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help="seed of the first repeat")
    r.add_argument("--workers", type=int_in(1, 256), default=1,
                   help="processes sharing the repeats (the figures do not depend on it)")
    r.add_argument("--json", action="store_true", help="one JSON object on stdout")
    r.add_argument("--plot", type=plot_path, metavar="FILE", help="regret against trials (.png, .pdf, .svg)")
    r.add_argument("--force", action="store_true", help="overwrite an existing --plot file")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_replay)

