"""``archsearch search`` and ``archsearch export``: Optuna studies from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archsearch.cli.args import add_prior_option, add_training_options, int_in, study_name, writable_dir
from archsearch.formats.yamlio import InputError

EXIT_STOPPED = 3


def load_task_space(task_path: str, space_path: str):
    """A task and a search space that belong together (same input grid)."""
    from archsearch.formats.space import load_space
    from archsearch.formats.task import load_task

    task, space = load_task(task_path), load_space(space_path)
    if task.input_shape != space.input_shape:
        raise InputError(f"input_shape {list(space.input_shape)} does not match the task's "
                         f"{list(task.input_shape)} ({task_path})", space_path, "input_shape")
    return task, space


def device_or_error(name: str) -> str:
    """The training device ``--device`` names, or a one-line error when torch cannot use it here."""
    from archsearch.train.loop import pick_device

    try:
        return str(pick_device(name))
    except ValueError as exc:
        raise InputError(str(exc), field="--device") from None


def cmd_search(args: argparse.Namespace) -> int:
    # everything is validated, and the data built, before any storage is opened or folder made
    task, space = load_task_space(args.task, args.space)
    if args.prior_only:
        mode = "pareto" if args.pareto else "prior-only"
    else:
        if args.pareto:
            raise InputError("--pareto goes with --prior-only", field="--pareto")
        mode = "trained"
        if task.data is None:
            raise InputError("a trained search needs a 'data' section in the task", args.task, "data")
    from archsearch.prior.score import Prior
    from archsearch.search import study as search
    from archsearch.search.samplers import WarmStartSampler, make_sampler

    fp = search.fingerprint(task, space, mode, args.prior)
    from archsearch.prior.exhaustive import MAX_EXHAUSTIVE, exhaustive_size_ok

    kind = args.sampler
    if kind == "auto":
        kind = "exhaustive" if mode == "prior-only" and exhaustive_size_ok(space) else "tpe"
    elif kind == "exhaustive":
        if mode != "prior-only":
            raise InputError("--sampler exhaustive ranks by the prior alone: it goes with --prior-only "
                             "(without --pareto)", field="--sampler")
        if not exhaustive_size_ok(space):
            raise InputError(f"the space holds more than {MAX_EXHAUSTIVE} layouts: too many to enumerate; "
                             "use --sampler tpe", args.space, "channels")
    prior = Prior.for_task(task, space, args.prior)
    bar = None
    if mode == "trained":
        from archsearch.search.guided import WARM_START, prior_floor, prior_picks
        from archsearch.search.objectives import TrainedSettings, trained_objective
        from archsearch.train.data import load_task_data

        device = device_or_error(args.device)
        data = load_task_data(task, space.classes, space.in_channels, args.train, args.test,
                              cache_dir=args.runs_dir / ".cache", val=args.val)
        guide = "none" if args.no_prior else args.guide
        warm = guide == "warm-floor"
        settings = TrainedSettings(
            epochs=args.epochs, seed=args.seed, device=device,
            floor=prior_floor(space, prior, seed=args.seed) if warm else float("-inf"),
            metrics_dir=args.runs_dir / args.study_name / "trials", warm_start=WARM_START if warm else 0)
        if not args.no_progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=args.trials, desc=f"{task.name} [{args.study_name}]", unit="trial", dynamic_ncols=True)

        def on_epoch(trial, row) -> None:
            if bar is not None:
                bar.set_postfix_str(f"trial {trial.number} {trial.user_attrs.get('channels')} seed "
                                    f"{settings.seed + trial.number} epoch {row['epoch'] + 1}/{settings.epochs} "
                                    f"val {row['val_accuracy']:.3f}", refresh=True)

        objective, catch = trained_objective(task, space, prior, data, settings, on_epoch=on_epoch)
    else:
        warm, guide = False, "none"
        from archsearch.search.objectives import prior_objective

        objective, catch = prior_objective(task, space, prior, pareto=args.pareto), ()
    storage = args.storage or search.default_storage(args.study_name, args.runs_dir)
    directions = ["maximize"] * (len(task.partitions) if args.pareto else 1)
    probe = search.open_study(args.study_name, storage, fp=fp, directions=directions, create=True)
    base = "random" if kind == "exhaustive" else kind
    sampler = make_sampler(base, args.seed + len(probe.trials))  # resumed runs draw fresh proposals
    if kind == "exhaustive":  # trial k is the prior's k-th best layout: the same in every worker
        from archsearch.prior.exhaustive import exhaustive_top
        from archsearch.search.objectives import layout_params

        sampler = WarmStartSampler(sampler, [layout_params(space, r.schedule, r.M, r.channels)
                                             for r in exhaustive_top(space, prior, args.trials)])
    elif warm:  # the prior's picks are the first trials, the same in every worker
        sampler = WarmStartSampler(sampler, prior_picks(task, space, prior, seed=args.seed))
    elif guide == "guided":  # the prior inside the sampler: its draws decay and adapt with the evidence
        from archsearch.search.prior_sampler import PriorGuidedSampler

        sampler = PriorGuidedSampler(space, prior, sampler, seed=args.seed)
    study = search.open_study(args.study_name, storage, fp=fp, sampler=sampler)
    for key, value in {"fingerprint": fp, "task": task.name, "space": space.name or args.space,
                       "mode": mode, "partitions": task.names, "model": space.model}.items():
        study.set_user_attr(key, value)
    reaped = search.reap_dead_trials(study)
    if reaped:
        print(f"{reaped} trial(s) left RUNNING by a dead process: marked FAIL and queued again", file=sys.stderr)
    try:
        outcome = search.run_study(study, objective, args.trials, progress=not args.no_progress, catch=catch,
                                   max_failures=args.max_failures, bar=bar)
    finally:
        if bar is not None:
            bar.close()
    ranked = search.distinct_ranked(study)
    print(f"study {args.study_name}: {outcome.completed} trial(s) completed now, "
          f"{len(search.feasible_trials(study))} feasible of {len(study.trials)} stored ({storage})")
    for t in ranked[:5]:
        u = t.user_attrs
        value = f"{t.value:.4f}" if len(study.directions) == 1 else ", ".join(f"{v:.3f}" for v in t.values)
        test = f"  (test {u['test_accuracy']:.4f})" if u.get("test_accuracy") is not None else ""
        print(f"  trial {t.number:4d}  {'val accuracy' if mode == 'trained' else 'value'} {value}{test}  "
              f"prior {u['prior_score']:.4f}  params {u['params']}  channels {u['channels']}")
    if outcome.stopped:
        print(f"archsearch: search stopped: {outcome.stopped}", file=sys.stderr)
        return EXIT_STOPPED
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from archsearch.formats.export import export_trials, prepare_out
    from archsearch.search import study as search

    out = prepare_out(args.out, args.force)  # refuses before the storage is opened
    storage = args.storage
    if not storage:
        db = search.default_db(args.study_name, args.runs_dir)
        if not db.is_file():  # opening it would create an empty database
            raise InputError(f"no study '{args.study_name}' under {args.runs_dir}/ (give --storage?)",
                             field="--study-name")
        storage = f"sqlite:///{db}"
    study = search.open_study(args.study_name, storage, create=False)
    ranked = search.distinct_ranked(study)[: args.top]
    if not ranked:
        raise InputError(f"study '{args.study_name}' has no finished layout within its budget yet",
                         field="--study-name")
    paths = export_trials(ranked, out, args.study_name, args.format, study.user_attrs.get("model", "convnet"))
    for p in paths:
        print(p)
    print(f"wrote {len(paths)} distinct layout(s) to {out}", file=sys.stderr)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    from archsearch.search import DEFAULT_MAX_FAILURES, SAMPLERS

    s = sub.add_parser(
        "search", help="Optuna search over a space, guided by the prior",
        description="Search a space for the channel layouts a task needs: by the prior alone (--prior-only, "
                    "no training), or training each proposal (the prior warm-starts and filters).")
    s.add_argument("task", help="task spec (YAML): partitions, weights, and data for a trained search")
    s.add_argument("space", help="search space (YAML): schedules, channel choices, budget")
    s.add_argument("--prior-only", action="store_true", help="maximise the prior score, train nothing")
    s.add_argument("--pareto", action="store_true", help="with --prior-only: one objective per partition")
    s.add_argument("--trials", type=int_in(1, 10**7), default=100,
                   help="COMPLETE trials the study should hold (exactly, with any number of workers)")
    s.add_argument("--study-name", type=study_name, required=True,
                   help="the study (letters, digits, '-', '_', '.'); the same name resumes it")
    s.add_argument("--storage", help="Optuna storage URL (default: sqlite:///RUNS_DIR/NAME/study.db); "
                   "postgresql+psycopg://... for workers on many machines")
    s.add_argument("--sampler", default="auto", choices=SAMPLERS,
                   help="auto (the default): exhaustive for a prior-only search over a space of at most 2,000,000 "
                        "layouts, else tpe; exhaustive: trial k is the prior's exact k-th best layout")
    add_prior_option(s)
    s.add_argument("--max-failures", type=int_in(1, 10**6), default=DEFAULT_MAX_FAILURES,
                   help="stop after this many FAIL or PRUNED trials in a row")
    s.add_argument("--guide", choices=["guided", "warm-floor"], default="guided",
                   help="how the prior guides a trained search: guided (PriorGuidedSampler around the sampler, the "
                        "default) or warm-floor (its 3 best layouts first, proposals below the median prior "
                        "score skipped)")
    s.add_argument("--no-prior", action="store_true", help="trained search without the prior (the baseline)")
    add_training_options(s, epochs=5)
    s.set_defaults(func=cmd_search)

    e = sub.add_parser("export", help="write the best distinct layouts of a study",
                       description="Write the K best distinct feasible layouts of a study, best first.")
    e.add_argument("--study-name", type=study_name, required=True, help="the study to export from")
    e.add_argument("--storage", help="Optuna storage URL (default: sqlite:///RUNS_DIR/NAME/study.db)")
    e.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help="where the default storage lives")
    e.add_argument("--top", type=int_in(1, 10_000), default=5, help="how many layouts")
    e.add_argument("--out", type=writable_dir, required=True, help="folder to write into (new or empty)")
    e.add_argument("--format", default="yaml", choices=["yaml", "json", "torch"],
                   help="layout YAML (what `score` reads), JSON, or a Python file that builds the torch module")
    e.add_argument("--force", action="store_true", help="replace an earlier export in --out")
    e.set_defaults(func=cmd_export)
