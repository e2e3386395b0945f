"""``archsearch search`` and ``archsearch export``: Optuna studies from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archsearch.cli.args import (
    STORAGE_HELP,
    add_prior_option,
    add_threads_option,
    add_training_options,
    device,
    int_in,
    shipped_or_path,
    storage_url,
    study_name,
    writable_dir,
)
from archsearch.errors import InputError

EXIT_STOPPED = 3


def device_or_error(name: str) -> str:
    """The training device ``--device`` names, or a one-line error when torch cannot use it here."""
    from archsearch.train.loop import resolve_device

    return resolve_device(name)


def cmd_search(args: argparse.Namespace) -> int:
    from archsearch.search import study as search
    from archsearch.search.worker import cpu_threads, create_search_study, prepare, work_with_helpers

    recipe, task, space = _search_recipe(args)  # everything validated before a storage or folder is touched
    mode, threads = recipe.mode, cpu_threads(args.threads)
    box: list = [None]  # the progress bar, made once everything is validated
    work = prepare(recipe, args.study_name, device=args.device, runs_dir=args.runs_dir, threads=threads,
                   on_epoch=_epoch_line(box, args.epochs, args.seed), loaded=(task, space))
    storage = args.storage or search.default_storage(args.study_name, args.runs_dir)
    study = create_search_study(work, args.study_name, storage, space_label=space.name or args.space)
    bar = box[0] = _trial_bar(args, task.name, args.trials) if mode == "trained" else None
    outcome = work_with_helpers(study, work, storage, workers=args.workers, runs_dir=args.runs_dir, threads=threads,
                                progress=not args.no_progress, bar=bar, batched=True)
    view = getattr(outcome, "view", None) or study  # the stored trials, without loading them back if it can
    if mode != "trained":  # trained trials carry their pictures already; here the best few get theirs
        from archsearch.search.dashboard import picture_best

        picture_best(study, task, args.runs_dir / args.study_name / "artifacts", source=view)
    return _summary(view, args.study_name, storage, outcome, mode)


def _search_recipe(args: argparse.Namespace):
    """The search's recipe from the command line, and its task and space parsed once, from the text the
    recipe stores (what was validated is what is stored): the mode, the sampler (``auto`` resolved) and
    the prior's guidance, each checked against the others."""
    import dataclasses

    from archsearch.formats.task_space import load_task_space
    from archsearch.prior.exhaustive import MAX_EXHAUSTIVE, exhaustive_size_ok
    from archsearch.search.recipe import Recipe

    recipe = Recipe.from_files(args.task, args.space, kind="search", mode="prior-only", trials=args.trials,
                               prior=args.prior, epochs=args.epochs, train=args.train, val=args.val, test=args.test,
                               seed=args.seed, max_failures=args.max_failures)
    task, space = load_task_space(args.task, args.space, recipe.task_text, recipe.space_text)
    if args.prior_only:
        mode = "pareto" if args.pareto else "prior-only"
        if args.workers > 1:
            raise InputError("--workers goes with a trained search (a prior-only trial takes milliseconds)",
                             field="--workers")
    else:
        if args.pareto:
            raise InputError("--pareto goes with --prior-only", field="--pareto")
        mode = "trained"
        if task.data is None:
            raise InputError("a trained search needs a 'data' section in the task", args.task, "data")
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
    guide = "none" if args.no_prior or mode != "trained" else args.guide
    return dataclasses.replace(recipe, mode=mode, sampler=kind, guide=guide), task, space


def _trial_bar(args: argparse.Namespace, name: str, total: int):
    if args.no_progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"{name} [{args.study_name}]", unit="trial", dynamic_ncols=True)


def _epoch_line(box: list, epochs: int, seed: int):
    """What a training trial shows on the progress bar (``box[0]``, if any) after each epoch."""

    def on_epoch(trial, row) -> None:
        bar = box[0]
        if bar is None:
            return
        bar.set_postfix_str(f"trial {trial.number} {trial.user_attrs.get('channels')} seed {seed + trial.number} "
                            f"epoch {row['epoch'] + 1}/{epochs} val {row['val_accuracy']:.3f}", refresh=True)

    return on_epoch


def _summary(study, name: str, storage: str, outcome, mode: str) -> int:
    from archsearch.formats.escape import figure_for_terminal as num
    from archsearch.formats.escape import for_terminal as t_
    from archsearch.search import study as search

    ranked = search.distinct_ranked(study)
    done = outcome.completed if outcome is not None else 0
    mine = f" ({outcome.mine} by this process)" if outcome is not None and outcome.mine != done else ""
    print(f"study {name}: {done} trial(s) completed now{mine}, "
          f"{len(search.feasible_trials(study))} feasible of {len(study.trials)} stored ({storage})")
    for t in ranked[:5]:
        u = t.user_attrs
        value = f"{t.value:.4f}" if len(study.directions) == 1 else ", ".join(f"{v:.3f}" for v in t.values)
        test = f"  (test {num(u['test_accuracy'])})" if u.get("test_accuracy") is not None else ""
        print(f"  trial {t.number:4d}  {'val accuracy' if mode == 'trained' else 'value'} {value}{test}  "
              f"prior {num(u.get('prior_score'))}  params {t_(u.get('params'))}  channels {t_(u.get('channels'))}")
    if outcome is not None and outcome.stopped:
        print(f"archsearch: search stopped: {outcome.stopped}", file=sys.stderr)
        return EXIT_STOPPED
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Join a study made by `search ... --storage URL` (or `bench build --storage URL`) and work on it."""
    from archsearch.search import study as search
    from archsearch.search.recipe import Recipe
    from archsearch.search.worker import prepare, sampler_for, work_with_helpers, worker_seed

    storage = args.storage or _default_storage_of(args.study_name, args.runs_dir)
    probe = search.open_study(args.study_name, storage, create=False)
    recipe = Recipe.of(probe)
    box: list = [None]
    work = prepare(recipe, args.study_name, device=args.device, runs_dir=args.runs_dir, threads=args.threads,
                   on_epoch=_epoch_line(box, recipe.epochs, recipe.seed))
    if len(work.directions) != len(probe.directions):
        raise InputError(f"the recipe's mode '{recipe.mode}' needs {len(work.directions)} objective(s), but the "
                         f"study has {len(probe.directions)}; nothing was run", f"study '{args.study_name}': recipe",
                         "mode")
    bar = None
    if recipe.kind == "search" and recipe.mode == "trained":
        bar = box[0] = _trial_bar(args, work.task.name, recipe.trials)
    study = search.open_study(args.study_name, storage, fp=work.fingerprint,
                              sampler=sampler_for(work, worker_seed(recipe, len(probe.trials), joined=True)))
    outcome = work_with_helpers(study, work, storage, progress=not args.no_progress, bar=bar)
    if recipe.kind == "bench":  # the table file is `bench build`'s to write (it may be on another machine)
        print(f"study {args.study_name}: {outcome.mine} run(s) trained by this worker; `archsearch bench build` "
              "with the same --storage writes them into the table")
        return EXIT_STOPPED if outcome.stopped else 0
    return _summary(study, args.study_name, storage, outcome, recipe.mode)


def _default_storage_of(name: str, runs_dir: Path) -> str:
    """The SQLite file a study without --storage lives in; refused when it does not exist (opening it
    would create an empty database)."""
    from archsearch.search import study as search

    db = search.default_db(name, runs_dir)
    if not db.is_file():
        raise InputError(f"no study '{name}' under {runs_dir}/ (give --storage?)", field="--study-name")
    return f"sqlite:///{db}"


def cmd_export(args: argparse.Namespace) -> int:
    from archsearch.formats.export import export_trials, prepare_out
    from archsearch.search import study as search

    out = prepare_out(args.out, args.force)  # refuses before the storage is opened
    storage = args.storage or _default_storage_of(args.study_name, args.runs_dir)
    study = search.open_study(args.study_name, storage, read_only=True)
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
                    "no training), or training each proposal (the prior guides the sampler: --guide).")
    s.add_argument("task", type=shipped_or_path("tasks"),
                   help="task spec (YAML, or a shipped task's name): partitions, weights, data for a trained search")
    s.add_argument("space", type=shipped_or_path("search_spaces"),
                   help="search space (YAML, or a shipped one's name): schedules, channel choices, budget")
    s.add_argument("--prior-only", action="store_true", help="maximise the prior score, train nothing")
    s.add_argument("--pareto", action="store_true", help="with --prior-only: one objective per partition")
    s.add_argument("--trials", type=int_in(1, 10**7), default=100,
                   help="COMPLETE trials the study should hold (exactly, with any number of workers)")
    s.add_argument("--study-name", type=study_name, required=True,
                   help="the study (letters, digits, '-', '_', '.'); the same name resumes it")
    s.add_argument("--storage", type=storage_url, help=STORAGE_HELP)
    s.add_argument("--workers", type=int_in(1, 256), default=1,
                   help="training processes on this machine working on the study (this one and W - 1 "
                        "`archsearch worker` processes; on a GPU they share the device)")
    add_threads_option(s)
    s.add_argument("--sampler", default="auto", choices=SAMPLERS,
                   help="auto (the default): exhaustive for a prior-only search over a space of at most 2,000,000 "
                        "layouts, else tpe; exhaustive: trial k is the prior's exact k-th best layout")
    add_prior_option(s)
    s.add_argument("--max-failures", type=int_in(1, 10**6), default=DEFAULT_MAX_FAILURES,
                   help="stop after this many FAIL or PRUNED trials in a row, over every worker of the study")
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
    e.add_argument("--storage", type=storage_url, help=STORAGE_HELP)
    e.add_argument("--runs-dir", type=writable_dir, default=Path("runs"), help="where the default storage lives")
    e.add_argument("--top", type=int_in(1, 10_000), default=5, help="how many layouts")
    e.add_argument("--out", type=writable_dir, required=True, help="folder to write into (new or empty)")
    e.add_argument("--format", default="yaml", choices=["yaml", "json", "torch"],
                   help="layout YAML (what `score` reads), JSON, or a Python file that builds the torch module")
    e.add_argument("--force", action="store_true", help="replace an earlier export in --out")
    e.set_defaults(func=cmd_export)

    w = sub.add_parser(
        "worker", help="join a study on a shared storage and work on it until it holds its trials",
        description="Join a study made by `archsearch search ... --storage URL` (or `archsearch bench build ... "
                    "--storage URL`) and train its trials until the study holds the count it was made with. Any "
                    "number of workers, on any machines that reach the storage; the study carries the task, the "
                    "space and the settings, so a worker needs only the data the task names.")
    w.add_argument("--study-name", type=study_name, required=True, help="the study to join")
    w.add_argument("--storage", type=storage_url, help=STORAGE_HELP)
    w.add_argument("--device", type=device, default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, "
                   "cuda:N or mps")
    add_threads_option(w)
    w.add_argument("--runs-dir", type=writable_dir, default=Path("runs"),
                   help="this machine's folder for the data cache and per-trial metrics")
    w.add_argument("--no-progress", action="store_true", help="no progress bar")
    w.set_defaults(func=cmd_worker)
