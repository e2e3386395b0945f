"""A prior-only search bound by its work, not by its storage's bookkeeping.

A prior-only trial takes milliseconds, but on SQLite each of its writes (every parameter and attribute)
is a commit of its own: about 20 commits a trial, and the storage's time dwarfs the search's. Here the
trials run on an in-memory copy of the study (the stored trials first, so the sampler sees the same
history), and are stored every ``FLUSH_S`` seconds, at the end, and on Ctrl-C, a batch in one transaction
(:func:`store_trials`): the same records (parameters, values, attributes, tags, times), in the same order.
What it keeps of the guarantees:

* **exact count**: a batch is cut to the study's free places (COMPLETE and other processes' RUNNING
  trials hold theirs), read from the storage just before it is stored, so the study never holds more
  COMPLETE trials than asked, whoever else writes to it; a RUNNING trial that ends without completing
  leaves its place to the trial-by-trial rest of the search;
* **resume**: what was stored stays; a kill -9 loses at most the last ``FLUSH_S`` seconds of trials (each
  milliseconds of work), and the same command goes on from the stored ones;
* **other processes**: when the storage holds a RUNNING or WAITING trial at the start, or gains trials
  another process wrote, the search goes on writing each trial as it runs (:func:`run_study` on the
  storage itself), as before.
"""

from __future__ import annotations

import copy
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import TrialState

from archsearch.search import DEFAULT_MAX_FAILURES
from archsearch.search import study as search
from archsearch.search.study import RunOutcome

__all__ = ["FLUSH_S", "run_batched", "store_trials"]

#: seconds between two batches stored
FLUSH_S = 2.0


def _cut(trials: list[optuna.trial.FrozenTrial], room: int) -> list[optuna.trial.FrozenTrial]:
    """``trials`` without the COMPLETE ones beyond ``room`` free places (the count stays exact)."""
    keep = []
    for t in trials:
        if t.state == TrialState.COMPLETE:
            if room <= 0:
                continue  # a place another process took meanwhile: not stored
            room -= 1
        keep.append(t)
    return keep


def store_trials(study: optuna.Study, trials: list[optuna.trial.FrozenTrial], limit: int | None = None
                 ) -> tuple[int, int]:
    """Add finished ``trials`` to ``study``, the COMPLETE ones cut to ``limit`` COMPLETE trials in all, a
    RUNNING trial of another process holding its place (it was created first, and may already have passed
    its own final count: :func:`~archsearch.search.study.run_study`'s rule); returns (trials stored, trials
    the study held before). On an RDB storage (SQLite, PostgreSQL, MySQL)
    the counts and the inserts are one transaction, under the study's row lock: bulk inserts into Optuna's
    own tables (its table models, so the rows are those its ``add_trials`` writes; tested), where Optuna's
    ``add_trial`` looks up each attribute before writing it (about 35 ms a trial on SQLite here).
    Elsewhere (a journal file, memory): the counts, then ``add_trials``."""
    from optuna.storages import RDBStorage
    from optuna.storages._cached_storage import _CachedStorage

    backend = study._storage._backend if isinstance(study._storage, _CachedStorage) else study._storage
    sid = study._study_id
    if not isinstance(backend, RDBStorage):
        held = study._storage.get_all_trials(sid, deepcopy=False)
        placed = sum(t.state in (TrialState.COMPLETE, TrialState.RUNNING) for t in held)
        keep = trials if limit is None else _cut(trials, limit - placed)
        study.add_trials(keep)
        return len(keep), len(held)
    import json

    from optuna.distributions import distribution_to_json
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session
    from sqlalchemy import func, insert, select

    T = models.TrialModel
    with _create_scoped_session(backend.scoped_session) as session:
        models.StudyModel.find_or_raise_by_id(sid, session, for_update=True)  # counted and numbered under a lock
        held = session.execute(select(func.count(T.trial_id)).where(T.study_id == sid)).scalar_one()
        placed = session.execute(select(func.count(T.trial_id)).where(
            T.study_id == sid, T.state.in_((TrialState.COMPLETE, TrialState.RUNNING)))).scalar_one()
        keep = trials if limit is None else _cut(trials, limit - placed)
        if not keep:
            return 0, held
        session.execute(insert(T.__table__), [{"study_id": sid, "number": held + k, "state": t.state,
                                     "datetime_start": t.datetime_start, "datetime_complete": t.datetime_complete}
                                    for k, t in enumerate(keep)])
        ids = dict(session.execute(select(T.number, T.trial_id).where(T.study_id == sid, T.number >= held)).all())
        rows: dict[type, list[dict[str, Any]]] = {m: [] for m in (
            models.TrialValueModel, models.TrialParamModel, models.TrialUserAttributeModel,
            models.TrialSystemAttributeModel, models.TrialIntermediateValueModel)}
        for k, t in enumerate(keep):
            tid = ids[held + k]
            for objective, value in enumerate(t.values or []):
                stored, kind = models.TrialValueModel.value_to_stored_repr(value)
                rows[models.TrialValueModel].append({"trial_id": tid, "objective": objective, "value": stored,
                                                     "value_type": kind})
            for name, value in t.params.items():
                dist = t.distributions[name]
                rows[models.TrialParamModel].append({"trial_id": tid, "param_name": name,
                                                     "param_value": dist.to_internal_repr(value),
                                                     "distribution_json": distribution_to_json(dist)})
            for model, attrs in ((models.TrialUserAttributeModel, t.user_attrs),
                                 (models.TrialSystemAttributeModel, t.system_attrs)):
                rows[model] += [{"trial_id": tid, "key": key, "value_json": json.dumps(v)} for key, v in attrs.items()]
            for step, value in t.intermediate_values.items():
                stored, kind = models.TrialIntermediateValueModel.intermediate_value_to_stored_repr(value)
                rows[models.TrialIntermediateValueModel].append({"trial_id": tid, "step": step,
                                                                 "intermediate_value": stored,
                                                                 "intermediate_value_type": kind})
        for model, batch in rows.items():
            if batch:
                session.execute(insert(model.__table__), batch)
    return len(keep), held


def _complete(study: optuna.Study, mine: bool = False) -> int:
    """The study's COMPLETE trials (``mine``: those this process ran, by its host and pid tags)."""
    done = study._storage.get_all_trials(study._study_id, deepcopy=False, states=(TrialState.COMPLETE,))
    if mine:
        me = (socket.gethostname(), os.getpid())
        done = [t for t in done if (t.system_attrs.get("archsearch:host"), t.system_attrs.get("archsearch:pid")) == me]
    return len(done)


def run_batched(study: optuna.Study, objective: Callable[[optuna.Trial], Any], trials: int, *,
                progress: bool = True, catch: tuple[type[BaseException], ...] = (),
                max_failures: int = DEFAULT_MAX_FAILURES, bar: Any = None,
                flush_s: float = FLUSH_S) -> RunOutcome:
    """Run ``study`` (on any storage) until it holds ``trials`` COMPLETE trials, its trials run in memory and
    stored in batches (module docstring); as :func:`~archsearch.search.study.run_study` (called through its
    module) where another process is at work on it."""
    stored = study._storage.get_all_trials(study._study_id, deepcopy=False)
    if any(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in stored):
        return search.run_study(study, objective, trials, progress=progress, catch=catch, max_failures=max_failures,
                                bar=bar)
    before = sum(t.state == TrialState.COMPLETE for t in stored)
    mine = _complete(study, mine=True)
    # a copy of the sampler (its state as it stands): a sampler may hold on to the study it first saw (TPE
    # does), and the storage's own keeps it for the trial-by-trial rest when another process shows up
    mem = optuna.create_study(storage=optuna.storages.InMemoryStorage(), sampler=copy.deepcopy(study.sampler),
                              directions=study.directions, study_name=study.study_name)
    mem.add_trials(stored)
    pushed = len(stored)  # the trials of ``mem`` the storage holds
    state = {"last": time.monotonic(), "shared": False}

    def flush(force: bool = False) -> bool:
        """Store the trials run since the last batch (cut to the free places); True once another process
        has written to the study (the rest of the search then writes each trial itself)."""
        nonlocal pushed
        if not force and time.monotonic() - state["last"] < flush_s:
            return False
        new = []
        for t in mem.get_trials(deepcopy=False)[pushed:]:  # the finished ones, up to the first that is not
            if not t.state.is_finished():  # (the retry an interrupted trial queues: not stored)
                break
            new.append(t)
        _, held = store_trials(study, new, limit=trials)
        if held != pushed:
            state["shared"] = True  # another process added trials: no more batches after this one
        pushed += len(new)
        state["last"] = time.monotonic()
        return state["shared"]

    try:
        outcome = search.run_study(mem, objective, trials, progress=progress, catch=catch,
                                   max_failures=max_failures, bar=bar, after_trial=flush)
    finally:
        flush(force=True)
    if not state["shared"]:  # the storage holds what ``mem`` holds, in the same order: read nothing back
        done = sum(t.state == TrialState.COMPLETE for t in mem.get_trials(deepcopy=False)) - before
        return RunOutcome(done, outcome.stopped, done, view=mem)
    if outcome.stopped is None and _complete(study) < trials:
        rest = search.run_study(study, objective, trials, progress=progress, catch=catch,
                                max_failures=max_failures, bar=bar)
        outcome = RunOutcome(outcome.completed + rest.completed, rest.stopped)
    return RunOutcome(_complete(study) - before, outcome.stopped, _complete(study, mine=True) - mine)
