"""``archsearch search`` and ``archsearch export``: Optuna studies from the command line."""

from __future__ import annotations

import argparse
import sys

from archsearch.formats.yamlio import InputError


def _task_space(args: argparse.Namespace):
    from archsearch.formats.space import load_space
    from archsearch.formats.task import load_task

    task, space = load_task(args.task), load_space(args.space)
    if task.input_shape != space.input_shape:
        raise InputError(f"input_shape {list(space.input_shape)} does not match the task's "
                         f"{list(task.input_shape)} ({args.task})", args.space, "input_shape")
    return task, space


def _check_name(name: str) -> None:
    if not name or "/" in name or name.startswith("."):
        raise InputError(f"a study name must be a plain folder name, got '{name}'", field="--study-name")


def cmd_search(args: argparse.Namespace) -> int:
    _check_name(args.study_name)
    if args.trials < 1:
        raise InputError(f"--trials must be >= 1, got {args.trials}", field="--trials")
    task, space = _task_space(args)  # all input validated before any storage is touched
    if args.prior_only:
        mode = "pareto" if args.pareto else "prior-only"
    else:
        if args.pareto:
            raise InputError("--pareto goes with --prior-only", field="--pareto")
        mode = "trained"
        if task.data is None:
            raise InputError("a trained search needs a 'data' section in the task", args.task, "data")
    from archsearch.search import study as search

    fp = search.fingerprint(task, space, mode)
    prior = search.make_prior(task, space)
    if mode == "trained":  # builds the data set too: a bad data section fails before any storage exists
        from archsearch.search.guided import trained_objective, warm_start

        objective, catch = trained_objective(task, space, prior, args)
    else:
        objective, catch = search.prior_objective(task, space, prior, pareto=args.pareto), ()
    storage = args.storage or search.default_storage(args.study_name, args.runs_dir)
    directions = ["maximize"] * (len(task.partitions) if args.pareto else 1)
    probe = search.open_study(args.study_name, storage, fp=fp, directions=directions, create=True)
    seed = args.seed + len(probe.trials)  # resumed runs and extra workers draw fresh proposals
    sampler = search.make_sampler(args.sampler, seed)
    study = search.open_study(args.study_name, storage, fp=fp, sampler=sampler)
    for key, value in {"fingerprint": fp, "task": task.name, "space": space.name or args.space,
                       "mode": mode, "partitions": task.names, "model": space.model}.items():
        study.set_user_attr(key, value)
    reaped = search.reap_dead_trials(study)
    if reaped:
        print(f"marked {reaped} trial(s) left RUNNING by a dead process as FAIL", file=sys.stderr)
    if mode == "trained" and not args.no_prior and not study.trials:
        picks = warm_start(study, task, space, prior, seed=args.seed)
        print(f"warm start: {len(picks)} layout(s) the prior likes best are trained first", file=sys.stderr)
    done = search.run_study(study, objective, args.trials, progress=not args.no_progress, catch=catch)
    ranked = search.ranked_trials(study)
    print(f"study {args.study_name}: {done} trial(s) run now, "
          f"{len(search.feasible_trials(study))} feasible of {len(study.trials)} stored ({storage})")
    for t in ranked[:5]:
        u = t.user_attrs
        value = f"{t.value:.4f}" if len(study.directions) == 1 else ", ".join(f"{v:.3f}" for v in t.values)
        print(f"  trial {t.number:4d}  {'accuracy' if mode == 'trained' else 'value'} {value}  "
              f"prior {u['prior_score']:.4f}  "
              f"params {u['params']}  channels {u['channels']}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    _check_name(args.study_name)
    if args.top < 1:
        raise InputError(f"--top must be >= 1, got {args.top}", field="--top")
    from archsearch.formats.export import export_trials
    from archsearch.search import study as search

    storage = args.storage
    if not storage:
        db = search.default_db(args.study_name, args.runs_dir)
        if not db.is_file():  # opening it would create an empty database
            raise InputError(f"no study '{args.study_name}' under {args.runs_dir}/ (give --storage?)",
                             field="--study-name")
        storage = f"sqlite:///{db}"
    study = search.open_study(args.study_name, storage, create=False)
    ranked = search.ranked_trials(study)[: args.top]
    if not ranked:
        raise InputError(f"study '{args.study_name}' has no finished layout within its budget yet",
                         field="--study-name")
    paths = export_trials(ranked, args.out, args.study_name, args.format, study.user_attrs.get("model", "convnet"))
    for p in paths:
        print(p)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("search", help="Optuna search over a space, guided by the prior")
    s.add_argument("task")
    s.add_argument("space")
    s.add_argument("--prior-only", action="store_true", help="maximise the prior score, train nothing")
    s.add_argument("--pareto", action="store_true", help="with --prior-only: one objective per partition")
    s.add_argument("--trials", type=int, default=100, help="COMPLETE trials the study should reach")
    s.add_argument("--study-name", required=True)
    s.add_argument("--storage", help="Optuna storage URL (default sqlite:///RUNS/NAME/study.db)")
    s.add_argument("--runs-dir", default="runs")
    s.add_argument("--sampler", default="tpe", choices=["tpe", "random"])
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.add_argument("--epochs", type=int, default=5, help="training epochs per trial (trained search)")
    s.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps (trained search)")
    s.add_argument("--no-prior", action="store_true", help="trained search without the prior (baseline)")
    s.set_defaults(func=cmd_search)

    e = sub.add_parser("export", help="write the best layouts of a study")
    e.add_argument("--study-name", required=True)
    e.add_argument("--storage")
    e.add_argument("--runs-dir", default="runs")
    e.add_argument("--top", type=int, default=5)
    e.add_argument("--out", required=True)
    e.add_argument("--format", default="yaml", choices=["yaml", "json", "torch"])
    e.set_defaults(func=cmd_export)
