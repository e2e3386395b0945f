"""Optuna studies that end, count exactly, survive their workers, and resume.

* **Storage**: SQLite under ``runs/NAME/`` by default, any RDB URL (PostgreSQL for many machines).
  RDB storages get Optuna's heartbeat, so a trial whose worker died on any machine is failed and retried.
* **Exact counts**: ``--trials N`` means N COMPLETE trials, with any number of workers. A trial reserves a
  place the moment it exists: it may run only while the COMPLETE trials plus the RUNNING ones created
  before it are fewer than N; otherwise it is pruned at once, untrained, marked ``surplus``. The check
  runs again before the result is stored.
* **The stop rule**: after ``max_failures`` consecutive FAIL or PRUNED trials a search stops and says why,
  so no input can make it loop for ever. The run is the study's, across every worker, counted from when
  this process began: W workers stop after ``max_failures`` failures plus the W - 1 then running.
* **Interruptions**: Ctrl-C or SIGTERM stops after the running trial (a training trial at its next epoch);
  an interrupted trial, or one whose process was killed, is enqueued again so the next run retries it.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, Trial, TrialState

from archsearch.errors import InputError
from archsearch.formats.space import Space
from archsearch.formats.task import Task
from archsearch.search import DEFAULT_MAX_FAILURES

__all__ = [
    "DEFAULT_MAX_FAILURES", "Interrupted", "RunOutcome", "default_db", "default_storage", "distinct_ranked",
    "feasible_trials", "fingerprint", "interrupt_requested", "no_study", "open_study", "ranked_trials",
    "reap_dead_trials", "run_study", "StopRequest", "stop_on_signals",
]

#: an interrupted or killed trial is retried at most this many times
MAX_RETRIES = 3
#: a RUNNING trial not yet tagged with its host and pid this long after its start died before its objective
#: began (its process was killed in between) and is failed and retried by any worker; long enough for a slow
#: sampler on a loaded machine, and for clocks a little apart
UNTAGGED_GRACE_S = 30.0
#: a trial failed as dead this recently, not yet queued again, keeps its place from fresh trials: failing a
#: trial and queueing its retry are two writes (Optuna's heartbeat callback likewise), and a fresh trial
#: started between them would otherwise take the retry's place
RETRY_HOLD_S = 5.0
#: storages without Optuna's heartbeat (journal files): a running trial's worker beats this often, and a
#: trial whose last beat is older than ``STALE_S`` is failed and retried by any worker, on any host
BEAT_S = 10.0
STALE_S = 60.0
BEAT_KEY = "archsearch:beat"


def default_db(study_name: str, runs_dir: str | Path = "runs") -> Path:
    """``runs/NAME/study.db``: one folder per run."""
    return Path(runs_dir) / study_name / "study.db"


def default_storage(study_name: str, runs_dir: str | Path = "runs") -> str:
    """The SQLite URL of :func:`default_db`, its folder created."""
    db = default_db(study_name, runs_dir)
    db.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{db}"


def fingerprint(task: Task, space: Space, mode: str, prior: str = "needs") -> str:
    """What must not change between runs that share a study: partitions, weights, needs, space, mode and
    the prior's variant. (The ratio variant without declared needs hashes as 0.2.0 did, so a study made
    then resumes with ``--prior ratio``.)"""
    h = hashlib.sha256()
    h.update(task.masks.tobytes())
    h.update(task.weights.tobytes())
    if prior != "ratio" or not np.isnan(task.needs).all():
        h.update(task.needs.tobytes())
        h.update(prior.encode())
    fields = {k: v for k, v in vars(space).items() if k not in ("source", "description", "name")}
    h.update(json.dumps(fields, sort_keys=True, default=str).encode())
    h.update(mode.encode())
    return h.hexdigest()[:16]


def _quiet_optuna() -> None:
    """Optuna's per-trial log lines (a traceback for every failed trial) stay out of the terminal:
    archsearch prints one line per failed trial and stores the reason on the trial."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    logging.getLogger("sqlalchemy").setLevel(logging.ERROR)


def _storage(url: str, mode: str = "create") -> optuna.storages.BaseStorage:
    """Optuna's storage for ``url``, the file it names checked first (:func:`~archsearch.search.storages.
    check_storage`: ``mode`` create, write or read)."""
    from archsearch.search.storages import check_storage

    check_storage(url, mode)
    _quiet_optuna()
    try:
        if url.startswith(("sqlite", "postgresql", "mysql")):
            if mode == "create" and url.startswith("sqlite:///"):
                Path(url[len("sqlite:///"):].split("?", 1)[0]).parent.mkdir(parents=True, exist_ok=True)
            engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
            for attempt in range(3):  # workers starting together may race to create the tables
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                        # heartbeats let a worker on any machine fail trials whose process died; the
                        # callback enqueues such a trial again
                        return optuna.storages.RDBStorage(
                            url, engine_kwargs=engine, heartbeat_interval=10, grace_period=30,
                            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                                max_retry=MAX_RETRIES))
                except Exception:  # noqa: BLE001
                    if attempt == 2:
                        raise
                    time.sleep(0.5 + attempt)
        if url.startswith("journal:"):
            from optuna.storages.journal import JournalFileBackend

            path = Path(url[len("journal:"):])
            if mode == "create":
                path.parent.mkdir(parents=True, exist_ok=True)
            return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
        return optuna.storages.get_storage(url)
    except Exception as exc:  # noqa: BLE001 - any driver error becomes one line
        raise InputError(f"cannot open storage '{url}': {type(exc).__name__}: {exc}".splitlines()[0],
                         field="--storage") from None


def open_study(
    study_name: str, storage: str, *, fp: str | None = None, directions: list[str] | None = None,
    sampler: optuna.samplers.BaseSampler | None = None, create: bool = True, read_only: bool = False,
) -> optuna.Study:
    """Open (or create) a study, refusing one made by another task, space or mode. ``read_only``: for a
    command that only looks (nothing is created; ``create`` is then ignored)."""
    st = _storage(storage, "read" if read_only else "create" if create else "write")
    if read_only:
        create = False
    try:
        names = [s.study_name for s in optuna.get_all_study_summaries(st, include_best_trial=False)]
    except Exception as exc:  # noqa: BLE001
        hint = " (`archsearch studies --storage URL --repair` keeps a journal's complete records)" \
            if storage.startswith("journal:") else ""
        raise InputError(f"cannot read storage '{storage}': {type(exc).__name__}: {exc}".splitlines()[0] + hint,
                         field="--storage") from None
    if study_name in names:
        study = optuna.load_study(study_name=study_name, storage=st, sampler=sampler)
        if fp is not None and study.user_attrs.get("fingerprint") not in (None, fp):
            from archsearch.formats.escape import for_terminal

            made = " / ".join(for_terminal(study.user_attrs.get(k))[:100] for k in ("task", "space", "mode"))
            raise InputError(f"study '{study_name}' was made by another task, search space or mode ({made}); use "
                             "another --study-name", field="--study-name")
        return study
    if not create:
        raise no_study(study_name, storage, names)
    try:
        return optuna.create_study(study_name=study_name, storage=st, sampler=sampler,
                                   directions=directions or ["maximize"])
    except optuna.exceptions.DuplicatedStudyError:  # another worker created it a moment ago
        return open_study(study_name, storage, fp=fp, sampler=sampler, create=False)


def no_study(study_name: str, storage: str, names: Sequence[str]) -> InputError:
    """The one-line refusal for a study the storage lacks, naming the studies it holds."""
    return InputError(f"no study '{study_name}' in {storage}" + (
        f" (studies there: {', '.join(names[:10])})" if names else ""), field="--study-name")


def retry_trial(study: optuna.Study, trial: FrozenTrial) -> bool:
    """Enqueue ``trial``'s parameters again (an interrupted or killed trial), at most ``MAX_RETRIES``
    times along one chain of retries; returns whether it was enqueued."""
    retries = int(trial.user_attrs.get("retries", 0))
    params = _intended_params(trial)
    if retries >= MAX_RETRIES or not params:
        return False
    attrs = {"retry_of": trial.number, "retries": retries + 1}
    if trial.user_attrs.get("warm_start"):
        attrs["warm_start"] = True
    study.enqueue_trial(params, user_attrs=attrs, skip_if_exists=False)
    return True


def _intended_params(trial: FrozenTrial) -> dict[str, Any]:
    """The parameters ``trial`` was to run with: those it suggested, and for a trial taken from the queue
    every queued one (a trial killed between two suggestions has suggested only some: a planned run of a
    table must be retried whole, not with a seed drawn afresh)."""
    return {**trial.system_attrs.get("fixed_params", {}), **trial.params}


def _fail(study: optuna.Study, trial_id: int) -> bool:
    """Mark a RUNNING trial FAIL; False when another process finished or failed it first."""
    try:
        study._storage.set_trial_state_values(trial_id, TrialState.FAIL)
    except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError):
        return False
    return True


def reap_dead_trials(study: optuna.Study) -> int:
    """Fail RUNNING trials that this host started from a process that no longer exists, and enqueue
    them again.

    Trials are tagged with host and pid as their objective starts, moments after Optuna creates them (the
    sampler's ``before_trial`` runs in between); a RUNNING trial still untagged ``UNTAGGED_GRACE_S`` after
    its start died in between (a kill at exactly that moment) and is failed too, from any host; a younger
    one is left for the next call. Only the process that flips a trial to FAIL retries it.
    """
    host, n = socket.gethostname(), 0
    beats = not _optuna_heartbeat(study)
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        attrs = t.system_attrs
        if beats and _stale(t):
            if _fail(study, t._trial_id):  # its worker, on whatever host, stopped beating
                retry_trial(study, study._storage.get_trial(t._trial_id))
                n += 1
            continue
        if "archsearch:pid" not in attrs and t.datetime_start is not None:
            if (datetime.datetime.now() - t.datetime_start).total_seconds() < UNTAGGED_GRACE_S:
                continue  # starting, most likely: looked at again at the next poll
            now = study._storage.get_trial(t._trial_id)
            if now.state != TrialState.RUNNING:
                continue
            attrs = now.system_attrs
            if "archsearch:pid" not in attrs:
                if _fail(study, t._trial_id):
                    retry_trial(study, now)
                    n += 1
                continue
        if attrs.get("archsearch:host") != host or _alive(int(attrs["archsearch:pid"])):
            continue
        if _fail(study, t._trial_id):
            retry_trial(study, study._storage.get_trial(t._trial_id))
            n += 1
    return n


def _stale(t: FrozenTrial) -> bool:
    """No beat for ``STALE_S`` seconds: the last beat, or the start when it never beat, is that old (the
    workers' clocks must agree to within a few seconds, as NTP keeps them)."""
    beat = t.system_attrs.get(BEAT_KEY)
    if beat is not None:
        return time.time() - float(beat) > STALE_S
    return t.datetime_start is not None and (datetime.datetime.now() - t.datetime_start).total_seconds() > STALE_S


def _optuna_heartbeat(study: optuna.Study) -> bool:
    """Whether the storage runs Optuna's own heartbeat (RDB storages opened here)."""
    st = study._storage
    return isinstance(st, optuna.storages.RDBStorage) and st.get_heartbeat_interval() is not None


class _Beat:
    """While a trial runs, stamp it every ``BEAT_S`` seconds, the first time ``BEAT_S`` after its start
    (storages without Optuna's heartbeat; a trial of milliseconds writes nothing)."""

    def __init__(self, study: optuna.Study, trial_id: int) -> None:
        self._stop = threading.Event()
        self._study, self._id = study, trial_id
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(BEAT_S):
            try:
                self._study._storage.set_trial_system_attr(self._id, BEAT_KEY, time.time())
            except Exception:  # noqa: BLE001 - a finished trial, a storage hiccup: the next beat decides
                try:
                    if self._study._storage.get_trial(self._id).state.is_finished():
                        return
                except Exception:  # noqa: BLE001
                    pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _fail_stale(study: optuna.Study) -> int:
    """Optuna's heartbeat check (RDB storages): fail, and through the storage's callback retry, RUNNING
    trials whose worker on any host stopped beating. ``optimize`` does this before each trial; a worker
    waiting for the last places does it while it waits."""
    if not _optuna_heartbeat(study):
        return 0
    before = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    return before - len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM stopped a search; ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT, announced: bool = False) -> None:
        super().__init__(signum)
        self.signum = signum
        self.announced = announced  # its one line was printed when the signal arrived


class StopRequest:
    """What a signal asked for while a study runs: set by the first Ctrl-C or SIGTERM (``signum`` says
    which), read by the loop between trials and by long objectives between epochs."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum = int(signal.SIGINT)

    def is_set(self) -> bool:
        return self.event.is_set()


_ACTIVE: list[StopRequest] = []  # the stop requests of the run_study calls under way in this process


def interrupt_requested() -> bool:
    """True once Ctrl-C or SIGTERM arrived during :func:`run_study` (long objectives poll it)."""
    return any(r.is_set() for r in _ACTIVE)


@contextlib.contextmanager
def stop_on_signals(say: Callable[[str], None]) -> Iterator[StopRequest]:
    """Within the block, the first SIGINT or SIGTERM sets the :class:`StopRequest` it yields (and says so in
    one line); a second raises :class:`Interrupted` at once. Handlers are restored at the end (and only the
    main thread installs them; elsewhere the request is never set by a signal)."""
    request = StopRequest()

    def on_signal(signum: int, frame: Any) -> None:
        if request.is_set():
            raise Interrupted(signum, announced=True)
        request.signum = signum
        request.event.set()
        name = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
        say(f"archsearch: interrupted ({name}): stopping after the running trial; run the same command again "
            "to resume (Ctrl-C again aborts at once)")

    main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)} if main_thread else {}
    _ACTIVE.append(request)
    try:
        yield request
    finally:
        _ACTIVE.remove(request)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass(frozen=True)
class RunOutcome:
    """What one :func:`run_study` call did: trials completed now, and why it stopped early if it did."""

    completed: int
    stopped: str | None = None
    mine: int = 0  #: of those, the trials this process ran
    #: a study that holds exactly the trials the storage holds, to read them from without loading them back
    #: (a batched prior-only search's in-memory copy, when no other process wrote); None: read the storage
    view: Any = None


def _is_surplus(study: optuna.Study, trial: Trial, n: int, starting: bool = False) -> bool:
    """Would this trial make the study exceed ``n`` COMPLETE trials? RUNNING trials created before it
    hold their places; later ones yield to it. A fresh trial ``starting`` also yields to queued (WAITING)
    ones, such as the retry of a trial whose worker died, so that the retry, not a new proposal, gets the
    place; a finished trial yields to none that has not run."""
    mine = trial._trial_id
    states = (TrialState.COMPLETE, TrialState.RUNNING) + ((TrialState.WAITING, TrialState.FAIL) if starting else ())
    trials = study._storage.get_all_trials(study._study_id, deepcopy=False, states=states)
    fresh = starting and "fixed_params" not in study._storage.get_trial(mine).system_attrs  # not from the queue
    ahead = sum(1 for t in trials if t.state == TrialState.COMPLETE
                or (t.state == TrialState.WAITING and fresh)
                or (t.state == TrialState.RUNNING and t._trial_id < mine and not t.user_attrs.get("surplus")))
    if fresh and ahead < n:
        ahead += _retries_pending(trials)
    return ahead >= n


def _retries_pending(trials: Sequence[FrozenTrial]) -> int:
    """FAIL trials failed as dead in the last ``RETRY_HOLD_S`` seconds whose retry is not queued yet."""
    queued = {t.user_attrs.get("retry_of") for t in trials}
    for t in trials:
        queued.update(t.system_attrs.get("retry_history") or ())  # Optuna's heartbeat retries
    now = datetime.datetime.now()
    return sum(1 for t in trials if t.state == TrialState.FAIL and _intended_params(t) and t.number not in queued
               and not t.user_attrs.get("fail_reason") and t.datetime_complete is not None
               and (now - t.datetime_complete).total_seconds() < RETRY_HOLD_S)


class _Taken(RuntimeError):
    """The running trial was finished by another process (failed as stale) while its objective ran."""


def _taken(study: optuna.Study, trial: Trial) -> bool:
    return study._storage.get_trial(trial._trial_id).state.is_finished()


def _counts(study: optuna.Study, trials: Sequence[FrozenTrial] | None = None) -> tuple[int, int]:
    """The study's COMPLETE and RUNNING trials, counted (from ``trials`` when the caller has read them all)."""
    if trials is None:
        trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))
    complete = sum(t.state == TrialState.COMPLETE for t in trials)
    return complete, sum(t.state == TrialState.RUNNING for t in trials)


def failed_in_a_row(trials: Sequence[FrozenTrial], since: datetime.datetime) -> tuple[int, FrozenTrial | None]:
    """The study's FAIL or PRUNED trials in a row, whichever worker ran them, among those finished at or
    after ``since``, and the latest of them (the stop rule's count).

    In the order they finished: those after the latest COMPLETE one. A trial stood down untrained (``surplus``)
    and one failed because its worker died or was interrupted (FAIL with no ``fail_reason``: it is retried)
    neither count nor break the run. One pass, no sort: the run loop calls it before each trial that does not
    follow a COMPLETE one of its own (a run of failures must begin after that).
    """
    ok: tuple[datetime.datetime, int] | None = None  # when the latest COMPLETE one finished
    failed: list[tuple[tuple[datetime.datetime, int], FrozenTrial]] = []
    for t in trials:
        done = t.datetime_complete
        if done is None or done < since:
            continue
        if t.state == TrialState.COMPLETE:
            if ok is None or (done, t.number) > ok:
                ok = (done, t.number)
        elif (t.state == TrialState.PRUNED and not t.user_attrs.get("surplus")) or (
                t.state == TrialState.FAIL and t.user_attrs.get("fail_reason")):
            failed.append(((done, t.number), t))
    run = [(key, t) for key, t in failed if ok is None or key > ok]
    return len(run), max(run, key=lambda kt: kt[0])[1] if run else None


def _wrong_values(value: Any, n: int) -> str:
    """Why Optuna would fail a trial whose objective returned ``value``, in a study of ``n`` objectives
    ("" when it would not): the wrong number of values, or one that is NaN or no number."""
    values = list(value) if isinstance(value, list | tuple) else [value]
    if len(values) != n:
        return f"the objective returned {len(values)} value(s) for a study of {n} objective(s)"
    try:
        if not any(np.isnan(float(v)) for v in values):
            return ""
    except (TypeError, ValueError):
        pass
    return f"the objective returned a value that is NaN or no number: {str(values)[:100]}"


def _reason(t: FrozenTrial) -> str:
    u = t.user_attrs
    return str(u.get("fail_reason") or u.get("skipped") or ("interrupted" if u.get("interrupted") else "") or
               "no reason stored")


class _TrialRun:
    """One process's trials of a study: each reserved (tagged, and stood down when its place is taken),
    run (a heartbeat, the reason of a failure kept, the values checked), then accounted for."""

    def __init__(self, study: optuna.Study, objective: Callable[[Trial], Any], trials: int,
                 catch: tuple[type[BaseException], ...], say: Callable[[str], None]) -> None:
        self.study, self.objective, self.trials, self.catch, self.say = study, objective, trials, catch, say
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.own_heartbeat = _optuna_heartbeat(study)
        self.last: list[Trial] = []  # the trial of the latest optimize call, once its objective began
        self.gone: list[int] = []  # trials another process finished (failed as stale) while this one ran them

    def reserve(self, trial: Trial) -> None:
        """Tag the trial with this process; stand it down untrained when the study's trials are all placed."""
        self.study._storage.set_trial_system_attr(trial._trial_id, "archsearch:host", self.host)
        self.study._storage.set_trial_system_attr(trial._trial_id, "archsearch:pid", self.pid)
        if _is_surplus(self.study, trial, self.trials, starting=True):
            trial.set_user_attr("surplus", True)
            raise optuna.TrialPruned(f"the study already holds {self.trials} trials")

    def attempt(self, trial: Trial) -> Any:
        """The objective, with a heartbeat; its value, checked (a wrong one fails the trial with a reason;
        one that arrives after the study's last place was taken is kept as surplus)."""
        study = self.study
        self.reserve(trial)
        beat = None if self.own_heartbeat else _Beat(study, trial._trial_id)
        try:
            value = self.objective(trial)
        except self.catch as exc:  # the trial FAILs and the search goes on: keep the reason on the trial
            if not trial.user_attrs.get("fail_reason") and not _taken(study, trial):
                trial.set_user_attr("fail_reason", " ".join(f"{type(exc).__name__}: {exc}".split())[:300])
            raise
        finally:
            if beat is not None:
                beat.stop()
        if _taken(study, trial):  # failed as stale meanwhile: Optuna's tell would raise
            raise _Taken()
        wrong = _wrong_values(value, len(study.directions))
        if wrong:  # Optuna would fail the trial without a reason, as if its worker had died: say why
            trial.set_user_attr("fail_reason", wrong)
            return float("nan")
        if _is_surplus(study, trial, self.trials):  # the final check: another worker got there first
            trial.set_user_attr("surplus", True)
            trial.set_user_attr("surplus_value", value)
            raise optuna.TrialPruned(f"the study already holds {self.trials} trials")
        return value

    def guarded(self, trial: Trial) -> Any:
        """What Optuna calls: :meth:`attempt`, any error of a trial another process took turned into _Taken."""
        self.last.append(trial)
        try:
            return self.attempt(trial)
        except Exception as exc:
            if _taken(self.study, trial):  # another process failed it as stale (its own writes may be what raised)
                self.gone.append(trial.number)
                if not isinstance(exc, _Taken):
                    raise _Taken() from exc
            raise

    def one(self, stop: StopRequest) -> FrozenTrial | None:
        """Run one trial through Optuna; the stored trial, or None when there is nothing to account for (a
        trial another process took: its result is dropped, the retry stands)."""
        self.last.clear()
        try:
            self.study.optimize(self.guarded, n_trials=1, catch=self.catch)
        except Exception as exc:
            # another worker failed this trial as stale while it ran (this process stopped beating beyond the
            # grace period: suspended, or cut off from the storage) and retried it; Optuna's tell then raises
            # (ValueError, or UpdateFinishedTrialError when it lost the race by a hair)
            finished = isinstance(exc, optuna.exceptions.UpdateFinishedTrialError)
            if not self.last and finished:
                # before its objective began: the trial this process had just created or taken from the queue
                # was failed by another process (untagged beyond UNTAGGED_GRACE_S, or no heartbeat), and the
                # sampler's first write to it raised; that process retries it, this one goes on
                self.say("a trial this process had just started was finished by another process before its "
                         "objective began (failed as dead: was this process suspended?); starting another")
                return None
            last = self.last[-1] if self.last else None
            if last is None or not (last.number in self.gone or (finished and _taken(self.study, last))):
                raise
            self.say(f"trial {last.number} was finished by another process while this one ran it (failed as "
                     "stale: no heartbeat beyond the grace period; was this process suspended?); its result is "
                     "dropped, and the process that failed it retries it")
            return None
        except KeyboardInterrupt:
            if self.last:
                t = self.study._storage.get_trial(self.last[-1]._trial_id)
                if t.state == TrialState.FAIL:  # an objective stopped between epochs: train it again later
                    retry_trial(self.study, t)
            raise Interrupted(stop.signum, announced=stop.is_set()) from None
        return self.study._storage.get_trial(self.last[-1]._trial_id) if self.last else None


def run_study(
    study: optuna.Study, objective: Callable[[Trial], Any], trials: int, *,
    progress: bool = True, catch: tuple[type[BaseException], ...] = (),
    max_failures: int = DEFAULT_MAX_FAILURES, poll_s: float = 1.0, bar: Any = None,
    after_trial: Callable[[], bool] | None = None,
) -> RunOutcome:
    """Run until the study holds exactly ``trials`` COMPLETE trials (with any number of workers).

    Stops early, with the reason in the outcome, after ``max_failures`` FAIL or PRUNED trials in a row in the
    study, whichever workers ran them, since this call began (:func:`failed_in_a_row`).
    The first Ctrl-C or SIGTERM stops cleanly after the running trial (or at the next epoch of a training
    trial, which is enqueued again), so no storage write is cut in half; a second one aborts at once.
    Either way :class:`Interrupted` is raised at the end, and the same search run again resumes.
    ``bar``: a tqdm bar of the caller's (its objective may write to it); with ``progress`` and none
    given, one is made here. ``after_trial()`` is called after each trial this process ran; True stops the
    run there (:mod:`~archsearch.search.batched` stores its trials so).
    """
    before = _counts(study)[0]
    if before >= trials:
        return RunOutcome(0)
    since = datetime.datetime.now()
    own_bar = bar is None and progress
    if own_bar:
        from tqdm.auto import tqdm

        bar = tqdm(total=trials, initial=before, desc=f"study {study.study_name}", unit="trial",
                   dynamic_ncols=True)

    def say(line: str) -> None:  # above the progress bar, if there is one; on stderr
        (bar.write if bar is not None else print)(line, file=sys.stderr)

    _quiet_optuna()
    run = _TrialRun(study, objective, trials, catch, say)
    stopped, mine, ok = None, 0, False  # ok: this process's latest trial COMPLETE, so no run of failures yet
    try:
        with stop_on_signals(say) as stop:
            while not stop.is_set():
                every = None if ok else study.get_trials(deepcopy=False)  # read once, for both counts
                complete, running = _counts(study, every)
                if bar is not None:
                    bar.n = min(complete, trials)
                    bar.refresh()
                if complete >= trials:
                    break
                in_a_row, latest = (0, None) if every is None else failed_in_a_row(every, since)
                if in_a_row >= max_failures:
                    stopped = (f"stopped after {in_a_row} failed or pruned trials in a row (last: trial "
                               f"{latest.number}, {_reason(latest)}); see --max-failures")
                    break
                if complete + running >= trials:  # the rest is being run elsewhere; a worker may yet fail
                    if reap_dead_trials(study) + _fail_stale(study) <= 0:
                        time.sleep(poll_s)
                    continue
                t = run.one(stop)
                if after_trial is not None and after_trial():
                    break
                if t is None:
                    continue
                if t.user_attrs.get("surplus"):
                    if "surplus_value" not in t.user_attrs:  # stood down untrained: the place is taken for now
                        time.sleep(poll_s)
                    continue
                ok = t.state == TrialState.COMPLETE
                mine += int(ok)
                if t.state == TrialState.FAIL:
                    say(f"trial {t.number} failed: {_reason(t)}")
    finally:
        if own_bar:
            bar.close()
    if stop.is_set():
        raise Interrupted(stop.signum, announced=True)
    return RunOutcome(_counts(study)[0] - before, stopped, mine)


def feasible_trials(study: optuna.Study) -> list[FrozenTrial]:
    """COMPLETE trials within the budget."""
    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.user_attrs.get("feasible", True)]


def ranked_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Feasible trials, best first: by value, or for a multi-objective study the Pareto front
    (ordered by mean objective) followed by the rest."""
    trials = feasible_trials(study)
    if len(study.directions) == 1:
        return sorted(trials, key=lambda t: (-t.value, t.number))
    front = {t.number for t in study.best_trials if t.user_attrs.get("feasible", True)}
    return sorted(trials, key=lambda t: (t.number not in front, -float(np.mean(t.values)), t.number))


def distinct_ranked(study: optuna.Study) -> list[FrozenTrial]:
    """:func:`ranked_trials` with each layout once (its best trial): a layout proposed again, or a
    duplicate that reused an earlier result, is not a second answer."""
    seen, out = set(), []
    for t in ranked_trials(study):
        key = json.dumps(t.user_attrs.get("layout"), sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out
