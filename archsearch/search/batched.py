"""A prior-only search bound by its work, not by its storage's bookkeeping.

A prior-only trial takes milliseconds, but on SQLite each of its writes (every parameter and attribute)
is a commit of its own: about 20 commits a trial, and the storage's time dwarfs the search's. Here the
trials run on an in-memory copy of the study (the stored trials first, so the sampler sees the same
history), and are stored every ``FLUSH_S`` seconds, at the end, and on Ctrl-C, one transaction per trial
(Optuna's ``add_trials``): the same records (parameters, values, attributes, tags, times), in the same
order. What it keeps of the guarantees:

* **exact count**: a batch is cut to the study's free places, read from the storage just before it is
  stored, so the study never holds more COMPLETE trials than asked, whoever else writes to it;
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

__all__ = ["FLUSH_S", "run_batched"]

#: seconds between two batches stored
FLUSH_S = 2.0


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
    before, mine = _complete(study), _complete(study, mine=True)
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
        if len(study._storage.get_all_trials(study._study_id, deepcopy=False)) != pushed:
            state["shared"] = True  # another process added trials: no more batches after this one
        room = trials - _complete(study)
        keep = []
        for t in new:
            if t.state == TrialState.COMPLETE:
                if room <= 0:
                    continue  # a place another process took meanwhile: not stored (the count stays exact)
                room -= 1
            keep.append(t)
        study.add_trials(keep)
        pushed += len(new)
        state["last"] = time.monotonic()
        return state["shared"]

    try:
        outcome = search.run_study(mem, objective, trials, progress=progress, catch=catch, max_failures=max_failures,
                            bar=bar, after_trial=flush)
    finally:
        flush(force=True)
    if state["shared"] and outcome.stopped is None and _complete(study) < trials:
        rest = search.run_study(study, objective, trials, progress=progress, catch=catch, max_failures=max_failures,
                         bar=bar)
        outcome = RunOutcome(outcome.completed + rest.completed, rest.stopped)
    return RunOutcome(_complete(study) - before, outcome.stopped, _complete(study, mine=True) - mine)
