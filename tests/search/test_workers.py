"""Workers: `archsearch worker` joins a study made by `search` (or `bench build`) on a shared storage, with
real processes; one is killed mid-trial and the study still ends with exactly N COMPLETE."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState

from archsearch.search import study as search
from tests.conftest import TINY_SPACE, run_cli
from tests.search.test_postgres import postgres_url  # noqa: F401 - the fixture: a real server on loopback

TASK = """name: tiny
input_shape: [16, 16]
partitions:
  - {name: cb, kind: checkerboard}
  - {name: lr, kind: left-right}
data: {source: digits, digit_size: 8, train: 300, val: 100, test: 100, seed: 0}
"""
SPACE = TINY_SPACE
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


@pytest.fixture
def files(tmp_path):
    (tmp_path / "task.yaml").write_text(TASK)
    (tmp_path / "space.yaml").write_text(SPACE)
    return tmp_path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "archsearch", *args]


def _load(name: str, storage: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=search._storage(storage))


def _wait(cond, timeout: float, what: str, procs=(), nudge=None) -> None:
    """Poll ``cond`` until true; ``nudge``: called every 10 s without it (see its use)."""
    t0 = last = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return
        for p in procs:
            assert p.poll() is None, (what, p.communicate())
        if nudge is not None and time.time() - last > 10:
            nudge()
            last = time.time()
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _study_exists(name: str, storage: str) -> bool:
    try:
        return "archsearch:recipe" in _load(name, storage).user_attrs
    except Exception:  # noqa: BLE001 - not created yet
        return False


def _running_of(name: str, storage: str, pid: int, begun: bool = False) -> bool:
    """Whether process ``pid`` holds a RUNNING trial; ``begun``: one that has suggested its layout (a trial
    killed before that has nothing to retry: a fresh one takes its place)."""
    return any(t.system_attrs.get("archsearch:pid") == pid and (t.params or not begun)
               for t in _load(name, storage).get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def _four_workers_one_killed(files, storage: str, n: int = 8) -> optuna.Study:
    """`search` on the storage, then three `worker`s; the first worker is killed (kill -9) in the middle of
    a trial of its own. Returns the study after all have finished.

    The order is held, not raced: `search` is paused (SIGSTOP) as soon as the study exists, so that on a
    fast machine it cannot finish every trial before the victim's torch has even loaded; the victim is
    frozen before it is killed, and killed only if it then holds a RUNNING trial that has suggested its layout
    (never between two, nor before its layout: such a trial has nothing to retry)."""
    tmp = files
    common = ["--no-progress", "--runs-dir", str(tmp / "runs")]
    first = subprocess.Popen(_cli("search", str(tmp / "task.yaml"), str(tmp / "space.yaml"), "--study-name", "w",
                                  "--storage", storage, "--trials", str(n), "--epochs", "4", *common),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    _wait(lambda: _study_exists("w", storage), 120, "the study", [first])
    # paused for the victim's start-up: seconds, mostly inside the heartbeats' grace (30 s PostgreSQL, 60 s
    # journal); when longer (a loaded machine), its running trial is failed and retried like a dead one's,
    # and `search` drops that result and goes on (test_a_trial_failed_under_a_live_worker_is_dropped_not_fatal)
    first.send_signal(signal.SIGSTOP)
    procs = [first]

    def worker() -> subprocess.Popen:
        return subprocess.Popen(_cli("worker", "--study-name", "w", "--storage", storage, "--device", "cpu",
                                     "--threads", "1", *common),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)

    def nudge() -> None:  # paused inside a storage transaction (PostgreSQL locks the study row while it
        # creates a trial), `search` would hold every other process back: let it finish that, then pause it
        first.send_signal(signal.SIGCONT)
        time.sleep(0.3)
        first.send_signal(signal.SIGSTOP)

    try:
        victim = worker()
        procs.append(victim)
        t0 = time.time()
        while True:
            _wait(lambda: _running_of("w", storage, victim.pid, begun=True), 120 - (time.time() - t0),
                  "a trial of the victim", [victim], nudge=nudge)
            victim.send_signal(signal.SIGSTOP)
            if _running_of("w", storage, victim.pid, begun=True):  # frozen in the middle of its own trial
                break
            victim.send_signal(signal.SIGCONT)  # it had just finished one: let it take the next
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=30)
        first.send_signal(signal.SIGCONT)
        workers = [worker() for _ in range(2)]
        procs += workers
        for p in [first, *workers]:
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err
    finally:  # a failed wait leaves no process behind, paused or not
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    return _load("w", storage)


def _check_exactly_n_with_a_retry(study: optuna.Study, n: int = 8) -> None:
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == n  # exactly N, with a worker dead in the middle
    assert not [t for t in trials if t.state == TrialState.RUNNING]  # nothing left hanging
    killed = [t for t in trials if t.state == TrialState.FAIL]
    assert killed, "the killed worker's trial should be marked FAIL"
    # retried by archsearch (`retry_of`) or by Optuna's heartbeat callback (`failed_trial`), whichever came first;
    # the retry runs under the same rules as any trial: archsearch has no pruner, so the only PRUNED retry is one
    # that stood down as surplus, the study already holding its N (seen once in CI on PostgreSQL)
    ran = [t for t in trials if t.state == TrialState.COMPLETE
           or (t.state == TrialState.PRUNED and t.user_attrs.get("surplus"))]
    retried = {t.user_attrs.get("retry_of") for t in ran} | {t.system_attrs.get("failed_trial") for t in ran}
    story = "\n".join(str((t.number, t.state.name, t.system_attrs.get("archsearch:pid"), t.user_attrs.get("retry_of"),
                            t.system_attrs.get("failed_trial"), t.user_attrs.get("surplus"),
                            t.user_attrs.get("duplicate_of"))) for t in trials)
    assert all(k.number in retried for k in killed), story  # ... and retried to completion: nothing lost
    for k in killed:
        for t in ran:
            if k.number in (t.user_attrs.get("retry_of"), t.system_attrs.get("failed_trial")):
                assert {key: t.params.get(key) for key in k.params} == k.params, story  # the same layout again
    for t in trials:
        assert t.state in (TrialState.COMPLETE, TrialState.FAIL) or t.user_attrs.get("surplus") or \
            t.user_attrs.get("skipped")
    assert len({t.system_attrs["archsearch:pid"] for t in complete}) >= 2  # the work was shared


@pytest.mark.slow
def test_workers_on_a_journal_file_one_killed(files):
    storage = f"journal:{files / 'studies.log'}"
    _check_exactly_n_with_a_retry(_four_workers_one_killed(files, storage))


@pytest.mark.slow
def test_workers_on_postgresql_one_killed(files, postgres_url):  # noqa: F811
    _check_exactly_n_with_a_retry(_four_workers_one_killed(files, postgres_url))


def test_a_stale_beat_on_a_journal_is_reaped_from_any_host(tmp_path, monkeypatch):
    """Journal storages have no Optuna heartbeat: a RUNNING trial whose last beat is older than STALE_S
    is failed and retried, whichever host ran it; a fresh beat keeps it."""
    st = search._storage(f"journal:{tmp_path / 'j.log'}")
    study = optuna.create_study(study_name="j", storage=st, direction="maximize")
    stale, fresh, young = (study.ask({"x": optuna.distributions.IntDistribution(0, 9)}) for _ in range(3))
    for t, age in ((stale, 3 * search.STALE_S), (fresh, 1.0), (young, None)):
        st.set_trial_system_attr(t._trial_id, "archsearch:host", "another-machine")
        st.set_trial_system_attr(t._trial_id, "archsearch:pid", 1)
        if age is not None:  # `young` started a moment ago and has not beaten yet: it is not stale
            st.set_trial_system_attr(t._trial_id, search.BEAT_KEY, time.time() - age)
    assert search.reap_dead_trials(study) == 1
    states = {t.number: t.state for t in study.get_trials(deepcopy=False)}
    assert states[stale.number] == TrialState.FAIL
    assert states[fresh.number] == states[young.number] == TrialState.RUNNING
    old = st.get_trial(young._trial_id)  # a trial that never beat, started long ago, is stale
    old.datetime_start = old.datetime_start - datetime.timedelta(seconds=3 * search.STALE_S)
    assert search._stale(old) and not search._stale(st.get_trial(fresh._trial_id))
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    assert len(waiting) == 1 and waiting[0].user_attrs["retry_of"] == stale.number


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
@pytest.mark.parametrize("writes", [False, True])
def test_a_trial_failed_under_a_live_worker_is_dropped_not_fatal(tmp_path, capsys, kind, writes):
    """A worker suspended beyond the heartbeat's grace finds, when it wakes, that another process failed its
    trial as stale and retried it: it says so, drops that result and goes on (it used to stop with
    Optuna's UpdateFinishedTrialError). ``writes``: the objective writes to its trial after that (as
    training does each epoch), and the write itself raises."""
    url = f"journal:{tmp_path / 'j.log'}" if kind == "journal" else f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(study_name="s", storage=search._storage(url), direction="maximize")
    taken: list[int] = []

    def objective(trial):
        x = trial.suggest_int("x", 0, 99)
        if not taken:  # the first trial: another process fails it and enqueues it again, as a reaper does
            taken.append(trial.number)
            assert search._fail(study, trial._trial_id)
            search.retry_trial(study, study._storage.get_trial(trial._trial_id))
            if writes:
                trial.set_user_attr("epoch", 1)
        return float(x)

    outcome = search.run_study(study, objective, 3, progress=False)
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials].count(TrialState.COMPLETE) == 3 and outcome.stopped is None
    assert trials[taken[0]].state == TrialState.FAIL
    retry = [t for t in trials if t.user_attrs.get("retry_of") == taken[0]]
    assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE
    assert retry[0].params == trials[taken[0]].params
    assert f"trial {taken[0]} was finished by another process" in capsys.readouterr().err


@pytest.mark.parametrize("guided", [True, False])
def test_a_trial_failed_before_its_objective_began_is_not_fatal(files, capsys, guided):
    """The trial a process has just created is failed by another process before its objective begins (the
    process was suspended in between: the reaper fails a trial still untagged after UNTAGGED_GRACE_S). The
    prior-guided sampler's ``before_trial`` writes to the trial, so the write raised inside Optuna's ``ask``,
    outside the objective, and ``search`` stopped with UpdateFinishedTrialError (CI, the PostgreSQL kill
    test); now it says so and starts another. Without that write (TPE) the objective's first write raises."""
    from archsearch.formats.space import load_space
    from archsearch.formats.task import load_task
    from archsearch.prior.score import Prior
    from archsearch.search.objectives import suggest_layout
    from archsearch.search.prior_sampler import PriorGuidedSampler

    space = load_space(files / "space.yaml")
    sampler = (PriorGuidedSampler(space, Prior.for_task(load_task(files / "task.yaml"), space), seed=0) if guided
               else optuna.samplers.TPESampler(seed=0))
    st = search._storage(f"journal:{files / 'j.log'}")
    study = optuna.create_study(study_name="s", storage=st, direction="maximize", sampler=sampler)
    create, taken = st.create_new_trial, []

    def create_then_lose(study_id, template_trial=None):  # as a reaper on another machine would, at once
        trial_id = create(study_id, template_trial)
        if not taken:
            taken.append(st.get_trial(trial_id).number)
            assert search._fail(study, trial_id)
        return trial_id

    st.create_new_trial = create_then_lose
    outcome = search.run_study(study, lambda t: float(sum(suggest_layout(t, space).channels)), 3, progress=False)
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials].count(TrialState.COMPLETE) == 3 and outcome.stopped is None
    assert trials[taken[0]].state == TrialState.FAIL and not trials[taken[0]].params
    err = capsys.readouterr().err
    assert ("finished by another process before its objective began" in err) == guided
    assert guided or f"trial {taken[0]} was finished by another process while this one ran it" in err


def test_an_untagged_trial_is_reaped_after_its_grace_only(tmp_path, monkeypatch):
    """A RUNNING trial never tagged with host and pid (its process died between Optuna creating it and the
    objective starting) is failed and retried once UNTAGGED_GRACE_S has passed, whichever host made it; a
    younger one is left for the next poll, without waiting for it."""
    st = search._storage(f"journal:{tmp_path / 'j.log'}")
    study = optuna.create_study(study_name="u", storage=st, direction="maximize")
    untagged = study.ask()
    untagged.suggest_int("x", 0, 9)
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail(f"reap_dead_trials slept {s} s"))
    assert search.reap_dead_trials(study) == 0  # young: left alone
    assert st.get_trial(untagged._trial_id).state == TrialState.RUNNING
    monkeypatch.setattr(search, "UNTAGGED_GRACE_S", 0.0)
    assert search.reap_dead_trials(study) == 1
    assert st.get_trial(untagged._trial_id).state == TrialState.FAIL
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    assert len(waiting) == 1 and waiting[0].user_attrs["retry_of"] == untagged.number
    assert waiting[0].system_attrs["fixed_params"] == untagged.params


def test_a_fresh_trial_yields_to_a_retry_about_to_be_queued(tmp_path, monkeypatch):
    """Failing a dead trial and queueing its retry are two writes: a fresh trial started between them
    yields (for RETRY_HOLD_S) as it yields to a queued retry, so the retry, not a new proposal, gets the
    last place. A trial that failed for a reason of its own, or long ago, holds nothing."""
    st = search._storage(f"journal:{tmp_path / 'j.log'}")
    study = optuna.create_study(study_name="h", storage=st, direction="maximize")
    dist = {"x": optuna.distributions.IntDistribution(0, 9)}
    study.add_trial(optuna.trial.create_trial(params={"x": 1}, distributions=dist, value=1.0))
    dead = study.ask(dist)
    assert search._fail(study, dead._trial_id)  # failed as dead; its retry not queued yet
    fresh = study.ask(dist)
    assert search._is_surplus(study, fresh, 2, starting=True)  # the last place is the retry's
    assert not search._is_surplus(study, fresh, 3, starting=True)  # a place to spare: no yielding
    assert not search._is_surplus(study, fresh, 2)  # the hold is for trials starting, not finishing
    search.retry_trial(study, st.get_trial(dead._trial_id))
    assert search._is_surplus(study, fresh, 2, starting=True)  # now queued: yields to it as before
    st.set_trial_user_attr(fresh._trial_id, "surplus", True)  # ... and stands down, as run_study does
    st.set_trial_state_values(fresh._trial_id, TrialState.PRUNED)
    queued = study.ask()  # the retry, from the queue: it holds the place itself
    queued.suggest_int("x", 0, 9)
    assert queued.user_attrs["retry_of"] == dead.number and not search._is_surplus(study, queued, 2, starting=True)
    st.set_trial_state_values(queued._trial_id, TrialState.FAIL)
    queued_again = study.ask(dist)
    assert search._is_surplus(study, queued_again, 2, starting=True)  # the retry died too: held again
    monkeypatch.setattr(search, "RETRY_HOLD_S", 0.0)
    assert not search._is_surplus(study, queued_again, 2, starting=True)  # ... for a while only
    monkeypatch.undo()
    own = study.ask(dist)  # failed for a reason of its own (the objective raised): not retried, holds nothing
    st.set_trial_user_attr(own._trial_id, "fail_reason", "ValueError: bad layout")
    assert search._fail(study, own._trial_id)
    assert search._retries_pending([st.get_trial(own._trial_id)]) == 0
    assert search._retries_pending([st.get_trial(queued._trial_id)]) == 1


@pytest.mark.parametrize("suggested", [(), ("layout",), ("layout", "seed")])
def test_a_queued_trial_killed_part_way_is_retried_whole(tmp_path, suggested):
    """A planned run killed before, between or after its suggestions is queued again with every planned
    parameter (it was once retried with only those it had suggested, and its seed drawn afresh: a table
    then held a run nobody planned)."""
    st = search._storage(f"journal:{tmp_path / 'j.log'}")
    study = optuna.create_study(study_name="q", storage=st, direction="maximize")
    study.enqueue_trial({"layout": 46, "seed": 0})
    trial = study.ask()
    for name in suggested:
        trial.suggest_int(name, 0, 10_000)
    assert search._fail(study, trial._trial_id)  # its worker was killed; a reaper fails it ...
    assert search._retries_pending([st.get_trial(trial._trial_id)]) == 1
    assert search.retry_trial(study, st.get_trial(trial._trial_id))  # ... and queues it again
    retry = study.ask()
    got = {n: retry.suggest_int(n, 0, 10_000) for n in ("layout", "seed")}
    assert got == {"layout": 46, "seed": 0} and retry.user_attrs["retry_of"] == trial.number
    fresh = study.ask()  # a fresh trial killed before suggesting anything has nothing to retry
    assert search._fail(study, fresh._trial_id) and not search.retry_trial(study, st.get_trial(fresh._trial_id))


def test_the_study_carries_its_recipe(files, capsys):
    """A worker needs only the study: the task and space travel in it as text, and are read from there
    (the files may be gone)."""
    storage = f"journal:{files / 's.log'}"
    assert run_cli(["search", str(files / "task.yaml"), str(files / "space.yaml"), "--study-name", "r",
                    "--prior-only", "--trials", "5", "--storage", storage, "--runs-dir", str(files / "runs"),
                    "--no-progress"]) == 0
    (files / "task.yaml").unlink()
    (files / "space.yaml").unlink()
    from archsearch.search.recipe import Recipe

    recipe = Recipe.of(_load("r", storage))
    task, space = recipe.load()
    assert task.name == "tiny" and recipe.task_text == TASK and recipe.mode == "prior-only" and recipe.trials == 5
    capsys.readouterr()
    assert run_cli(["worker", "--study-name", "r", "--storage", storage, "--runs-dir", str(files / "runs"),
                    "--no-progress"]) == 0  # nothing left to do: it says so and stops
    assert "study r: 0 trial(s) completed now" in capsys.readouterr().out


def test_worker_refuses_what_it_cannot_join(files, capsys):
    storage = f"journal:{files / 'x.log'}"
    assert run_cli(["worker", "--study-name", "nope", "--storage", storage, "--no-progress"]) == 2
    assert "no such journal file; nothing was created" in capsys.readouterr().err  # a worker joins, never creates
    assert not (files / "x.log").exists()
    optuna.create_study(study_name="plain", storage=search._storage(storage))  # made by hand, not by archsearch
    assert run_cli(["worker", "--study-name", "nope", "--storage", storage, "--no-progress"]) == 2
    assert "no study 'nope'" in capsys.readouterr().err
    assert run_cli(["worker", "--study-name", "plain", "--storage", storage, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds no archsearch recipe" in err
    assert run_cli(["worker", "--study-name", "x", "--storage", "redis://nowhere", "--no-progress"]) == 2
    assert "journal:FILE" in capsys.readouterr().err


@pytest.mark.slow
def test_bench_build_on_a_storage_with_a_worker_killed(files):
    """`bench build --storage`: the table's runs are trials; a worker joins, is killed mid-run, and the
    table still ends with every planned run exactly once."""
    from archsearch.evidence.bench import planned_runs
    from archsearch.evidence.table import Table

    storage = f"journal:{files / 'bench.log'}"
    table = files / "t.json"
    build = subprocess.Popen(
        _cli("bench", "build", str(files / "task.yaml"), str(files / "space.yaml"), "--out", str(table),
             "--storage", storage, "--study-name", "tb", "--epochs", "8", "--band", "0.6", "--noise-layouts", "3",
             "--runs-dir", str(files / "runs"), "--no-progress", "--threads", "1"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    _wait(lambda: _study_exists("tb", storage), 120, "the table's study", [build])
    worker = subprocess.Popen(_cli("worker", "--study-name", "tb", "--storage", storage, "--runs-dir",
                                   str(files / "runs"), "--no-progress", "--threads", "1"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    _wait(lambda: _running_of("tb", storage, worker.pid), 120, "a run of the worker", [worker])
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=30)
    out, err = build.communicate(timeout=600)
    assert build.returncode == 0, err
    t = Table.load(table)
    s = t.settings
    planned = planned_runs(len(t.layouts), s)
    got = sorted((r.layout, r.seed) for r in t.runs)
    assert got == sorted(planned)  # every planned run, once
    assert all(r.val_accuracy is not None and len(r.val_curve) == 8 for r in t.runs)
    study = _load("tb", storage)
    assert any(tr.state == TrialState.FAIL for tr in study.trials)  # the killed run ...
    assert len({r.layout for r in t.runs}) == len(t.layouts)  # ... was trained again by the build
    json.loads(table.read_text())  # plain JSON, whole
    for cmd in (["show"], ["report", "--out", str(files / "rep")]):  # a table's study points to its table
        got = subprocess.run(_cli(*cmd, "--study-name", "tb", "--storage", storage), capture_output=True, text=True,
                             env=ENV)
        assert got.returncode == 2 and "look at the table instead" in got.stderr and got.stderr.count("\n") == 1
