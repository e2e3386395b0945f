"""Optuna searches over a space: prior-only (cheap, no training) and, with a trainer, prior-guided.

The objective is thin: suggest a layout, call the pure scorer (or the trainer), store what was found as
user attributes (optuna-dashboard shows them). Layouts outside the budget are kept but marked
infeasible (``constraint`` > 0) and never exported. Studies live in a real Optuna storage (SQLite under
``runs/NAME/`` by default, any RDB URL such as PostgreSQL for many workers), so the same command resumes.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, Trial, TrialState

from archsearch.core.layout import Layout
from archsearch.formats.space import Space
from archsearch.formats.task import Task
from archsearch.formats.yamlio import InputError
from archsearch.prior.score import Prior

__all__ = [
    "default_db", "default_storage", "fingerprint", "make_prior", "open_study", "prior_objective", "reap_dead_trials",
    "run_study", "suggest_layout",
]


def default_db(study_name: str, runs_dir: str | Path = "runs") -> Path:
    """``runs/NAME/study.db``: one folder per run."""
    return Path(runs_dir) / study_name / "study.db"


def default_storage(study_name: str, runs_dir: str | Path = "runs") -> str:
    """The SQLite URL of :func:`default_db`, its folder created."""
    db = default_db(study_name, runs_dir)
    db.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{db}"


def fingerprint(task: Task, space: Space, mode: str) -> str:
    """What must not change between runs that share a study: partitions, weights, space, mode."""
    h = hashlib.sha256()
    h.update(task.masks.tobytes())
    h.update(task.weights.tobytes())
    fields = {k: v for k, v in vars(space).items() if k not in ("source", "description", "name")}
    h.update(json.dumps(fields, sort_keys=True, default=str).encode())
    h.update(mode.encode())
    return h.hexdigest()[:16]


def make_prior(task: Task, space: Space) -> Prior:
    """The prior for a search: reference = uniform layout at max_params on the first schedule and M."""
    template = space.layout(0, space.M[0], [1] * len(space.schedules[0]))
    return Prior.for_budget(task.masks, task.weights, template, space.max_params)


def suggest_layout(trial: Trial, space: Space) -> Layout:
    """Ask ``trial`` for a schedule, an M and one channel count per layer."""
    sched = trial.suggest_categorical("schedule", list(range(len(space.schedules)))) if len(space.schedules) > 1 else 0
    m = trial.suggest_categorical("M", list(space.M)) if len(space.M) > 1 else space.M[0]
    channels = []
    for l in range(len(space.schedules[sched])):
        if space.channel_choices is not None:
            channels.append(trial.suggest_categorical(f"r{l}", list(space.channel_choices)))
        else:
            low, high, log = space.channel_range
            channels.append(trial.suggest_int(f"r{l}", low, high, log=log))
    return space.layout(sched, m, channels)


def record_layout(trial: Trial, layout: Layout, space: Space, prior: Prior, task: Task) -> Any:
    """Score ``layout`` with the prior and store it, its size and its cuts on ``trial``."""
    res = prior(layout)
    params = res.params
    trial.set_user_attr("layout", layout.to_dict())
    trial.set_user_attr("channels", list(layout.channels))
    trial.set_user_attr("params", params)
    trial.set_user_attr("prior_score", res.score)
    trial.set_user_attr("log2_mincut", {n: float(v) for n, v in zip(task.names, res.log2_mincut, strict=True)})
    trial.set_user_attr("feasible", space.fits(params))
    # Optuna's constraint API: feasible when every value is <= 0 (TPE and NSGA-II read it)
    trial.set_constraint("max_params", float(params - space.max_params))
    trial.set_constraint("min_params", float(space.min_params - params))
    return res


def prior_objective(task: Task, space: Space, prior: Prior, pareto: bool = False) -> Callable[[Trial], Any]:
    """Objective maximising the prior score (or, with ``pareto``, each partition's ratio)."""

    def objective(trial: Trial) -> float | list[float]:
        res = record_layout(trial, suggest_layout(trial, space), space, prior, task)
        return [float(r) for r in res.ratios] if pareto else res.score

    return objective


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """TPE (multivariate: channel counts interact through the budget) or random, seeded."""
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    raise InputError(f"unknown sampler '{name}' (choose tpe or random)", field="--sampler")


def _storage(url: str) -> optuna.storages.BaseStorage:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        if url.startswith(("sqlite", "postgresql", "mysql")):
            # heartbeats let a worker on any machine fail trials whose process died (kill -9)
            for attempt in range(3):  # workers starting together may race to create the tables
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                        return optuna.storages.RDBStorage(url, heartbeat_interval=10, grace_period=30)
                except Exception:  # noqa: BLE001
                    if attempt == 2:
                        raise
                    time.sleep(0.5 + attempt)
        return optuna.storages.get_storage(url)
    except Exception as exc:  # noqa: BLE001 - any driver error becomes one line
        raise InputError(f"cannot open storage '{url}': {type(exc).__name__}: {exc}".splitlines()[0],
                         field="--storage") from None


def open_study(
    study_name: str, storage: str, *, mode: str | None = None, fp: str | None = None,
    directions: list[str] | None = None, sampler: optuna.samplers.BaseSampler | None = None,
    create: bool = True,
) -> optuna.Study:
    """Open (or create) a study, refusing one made by another task, space or mode."""
    st = _storage(storage)
    try:
        names = [s.study_name for s in optuna.get_all_study_summaries(st, include_best_trial=False)]
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot read storage '{storage}': {exc}".splitlines()[0], field="--storage") from None
    if study_name in names:
        study = optuna.load_study(study_name=study_name, storage=st, sampler=sampler)
        if fp is not None and study.user_attrs.get("fingerprint") not in (None, fp):
            raise InputError(
                f"study '{study_name}' was made by another task, search space or mode "
                f"({study.user_attrs.get('task')} / {study.user_attrs.get('space')} / "
                f"{study.user_attrs.get('mode')}); use another --study-name", field="--study-name")
        return study
    if not create:
        raise InputError(f"no study '{study_name}' in {storage}" + (
            f" (studies there: {', '.join(names)})" if names else ""), field="--study-name")
    try:
        return optuna.create_study(study_name=study_name, storage=st, sampler=sampler,
                                   directions=directions or ["maximize"])
    except optuna.exceptions.DuplicatedStudyError:  # another worker created it a moment ago
        return open_study(study_name, storage, fp=fp, sampler=sampler, create=False)


UNTAGGED_GRACE_S = 5.0


def reap_dead_trials(study: optuna.Study) -> int:
    """Fail RUNNING trials that this host started from a process that no longer exists.

    Trials are tagged with host and pid as their objective starts, milliseconds after Optuna creates
    them; a RUNNING trial still untagged ``UNTAGGED_GRACE_S`` after its start died in between (a kill
    at exactly that moment) and is failed too.
    """
    host, n = socket.gethostname(), 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        attrs = t.system_attrs
        if "archsearch:pid" not in attrs and t.datetime_start is not None:
            age = (datetime.datetime.now() - t.datetime_start).total_seconds()
            if age < UNTAGGED_GRACE_S:
                time.sleep(UNTAGGED_GRACE_S - age)
            attrs = study._storage.get_trial(t._trial_id).system_attrs
            if study._storage.get_trial(t._trial_id).state != TrialState.RUNNING:
                continue
            if "archsearch:pid" not in attrs:
                study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
                n += 1
                continue
        if attrs.get("archsearch:host") != host or _alive(int(attrs["archsearch:pid"])):
            continue
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        n += 1
    return n


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_STOP = threading.Event()


def interrupt_requested() -> bool:
    """True once Ctrl-C was pressed during :func:`run_study` (long objectives poll it)."""
    return _STOP.is_set()


def run_study(
    study: optuna.Study, objective: Callable[[Trial], Any], trials: int, *,
    progress: bool = True, catch: tuple[type[BaseException], ...] = (),
) -> int:
    """Run until the study holds ``trials`` COMPLETE trials; returns how many this call completed.

    The first Ctrl-C stops cleanly after the running trial (or at the next epoch of a training trial),
    so no storage write is cut in half; a second one aborts at once. Either way KeyboardInterrupt is
    raised at the end, and running the same search again resumes it.
    """
    host, pid = socket.gethostname(), os.getpid()

    def tagged(trial: Trial) -> Any:
        study._storage.set_trial_system_attr(trial._trial_id, "archsearch:host", host)
        study._storage.set_trial_system_attr(trial._trial_id, "archsearch:pid", pid)
        return objective(trial)

    def n_complete() -> int:
        return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))

    before = n_complete()
    if before >= trials:
        return 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=trials, initial=before, desc=study.study_name, unit="trial", leave=False)

    def tick(st: optuna.Study, t: FrozenTrial) -> None:
        if bar is not None and t.state == TrialState.COMPLETE:
            bar.update(1)
        if _STOP.is_set():
            st.stop()

    def on_sigint(signum: int, frame: Any) -> None:
        if _STOP.is_set():
            raise KeyboardInterrupt
        _STOP.set()
        print("\nstopping after the running trial (Ctrl-C again to abort)", file=sys.stderr)

    stop = optuna.study.MaxTrialsCallback(trials, states=(TrialState.COMPLETE,))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _STOP.clear()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if main_thread else None
    try:
        study.optimize(tagged, n_trials=None, callbacks=[stop, tick], catch=catch)
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, previous)
        if bar is not None:
            bar.close()
    if _STOP.is_set():
        raise KeyboardInterrupt
    return n_complete() - before


def feasible_trials(study: optuna.Study) -> list[FrozenTrial]:
    """COMPLETE trials within the budget."""
    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.user_attrs.get("feasible", True)]


def ranked_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Feasible trials, best first: by value, or for a multi-objective study the Pareto front
    (ordered by mean objective) followed by the rest."""
    trials = feasible_trials(study)
    if len(study.directions) == 1:
        return sorted(trials, key=lambda t: -t.value)
    front = {t.number for t in study.best_trials if t.user_attrs.get("feasible", True)}
    return sorted(trials, key=lambda t: (t.number not in front, -float(np.mean(t.values))))
