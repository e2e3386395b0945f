"""A prior-only search run in memory and stored in batches: the same records as trial-by-trial writes, the
exact count when another process takes places meanwhile, and resume after an interrupt."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from archsearch.search import study as search
from archsearch.search.batched import run_batched
from archsearch.search.study import Interrupted, run_study


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_int("x", 0, 1000)
    y = trial.suggest_categorical("y", [4, 8, 16])
    trial.set_user_attr("layout", {"x": x, "y": y})
    return float(x * y % 97)


def _study(path, name="s", seed=0):
    return optuna.create_study(study_name=name, storage=f"sqlite:///{path}", sampler=optuna.samplers.TPESampler(
        seed=seed, n_startup_trials=5), load_if_exists=True)


def _record(t: optuna.trial.FrozenTrial) -> tuple:
    return (t.number, t.state, t.params, t.values, t.user_attrs,
            {k: v for k, v in t.system_attrs.items() if not k.startswith("archsearch:")})


def test_the_same_records_as_writing_each_trial(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    direct, batch = _study(tmp_path / "a.db"), _study(tmp_path / "b.db")
    run_study(direct, _objective, 25, progress=False)
    out = run_batched(batch, _objective, 25, progress=False, flush_s=0.0)
    assert out.completed == 25 and out.mine == 25
    assert [_record(t) for t in batch.trials] == [_record(t) for t in direct.trials]
    assert all(t.system_attrs.get("archsearch:pid") for t in batch.trials)  # each trial tagged, as before
    # what the command reads its summary and pictures from holds exactly what the storage holds
    assert [_record(t) for t in out.view.trials] == [_record(t) for t in _study(tmp_path / "b.db").trials]
    # resumed to a larger count from the stored trials (a fresh process: a fresh sampler), as the direct one is
    run_study(_study(tmp_path / "a.db"), _objective, 40, progress=False)
    run_batched(_study(tmp_path / "b.db"), _objective, 40, progress=False, flush_s=1e9)  # one batch, at the end
    assert [_record(t) for t in _study(tmp_path / "b.db").trials] == [_record(t) for t in
                                                                       _study(tmp_path / "a.db").trials]


@pytest.mark.parametrize("url", ["sqlite", "journal"])
@pytest.mark.parametrize("directions", [["maximize"], ["maximize", "minimize"]])
def test_a_batch_stores_what_add_trials_stores(tmp_path, url, directions):
    """The bulk insert on an RDB storage writes the rows Optuna's own add_trials writes (read back through
    a fresh handle); a journal file takes add_trials itself."""
    from archsearch.search.batched import store_trials

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    source = optuna.create_study(directions=directions)
    for x in range(6):
        t = source.ask()
        t.suggest_int("x", 0, 9)
        t.suggest_float("lr", 1e-4, 1.0, log=True)
        t.suggest_categorical("c", ["a", "b", None])
        t.set_user_attr("layout", {"channels": [4, 8], "n": x})
        t.storage.set_trial_system_attr(t._trial_id, "archsearch:pid", 123)
        if len(directions) == 1:
            t.report(0.5 * x, step=1)  # intermediate values: single-objective studies only
        source.tell(t, [float("inf") if x == 3 else float(x), -x][:len(directions)])
    source.tell(source.ask(), state=TrialState.FAIL)
    trials = source.get_trials(deepcopy=False)

    def fresh(name):
        storage = (f"sqlite:///{tmp_path / name}.db" if url == "sqlite" else
                   optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(tmp_path / name))))
        return optuna.create_study(study_name="s", storage=storage, directions=directions, load_if_exists=True)

    a, b = fresh("a"), fresh("b")
    a.add_trials(trials)
    store_trials(b, trials[:3])
    store_trials(b, trials[3:])  # two batches: numbers go on from the first
    keep = lambda t: (t.number, t.state, t.params, t.distributions, t.values, t.user_attrs, t.system_attrs,  # noqa: E731
                      t.intermediate_values, t.datetime_start, t.datetime_complete)
    assert [keep(t) for t in fresh("b").trials] == [keep(t) for t in fresh("a").trials]


def test_the_count_stays_exact_when_another_process_takes_places(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = _study(tmp_path / "c.db")
    other = _study(tmp_path / "c.db", seed=1)  # another process's handle on the same study
    calls = []

    def objective(trial):
        calls.append(trial.number)
        if len(calls) == 3:  # meanwhile another process stores four trials of its own
            for _ in range(4):
                other.optimize(_objective, n_trials=1)
        return _objective(trial)

    out = run_batched(study, objective, 10, progress=False, flush_s=0.0)
    done = [t for t in _study(tmp_path / "c.db").trials if t.state == TrialState.COMPLETE]
    assert len(done) == 10 and out.completed == 10 and out.mine == 6  # its own six; exactly ten in all
    assert out.view is None  # another process wrote: the storage is what is read


@pytest.mark.parametrize("journal", [False, True])
def test_a_running_trial_of_another_process_holds_its_place(tmp_path, journal):
    """A trial another process runs was created first and may have passed its own final count already: a
    batch leaves its place free (four workers on PostgreSQL once stored 301 of 300 without this)."""
    from archsearch.search.batched import store_trials

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if journal:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(str(tmp_path / "j.log")))
    else:
        storage = f"sqlite:///{tmp_path / 'r.db'}"
    study = optuna.create_study(study_name="r", storage=storage)
    mem = optuna.create_study()
    mem.optimize(_objective, n_trials=3)
    study.optimize(_objective, n_trials=1)  # one place taken
    study.ask()  # another process's trial, RUNNING: a second place held
    stored, held = store_trials(study, mem.get_trials(deepcopy=False), limit=3)
    assert (stored, held) == (1, 2)
    assert sum(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)) == 2


def test_an_interrupt_stores_what_ran_and_the_same_command_resumes(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = _study(tmp_path / "d.db")
    calls = []

    def objective(trial):
        calls.append(1)
        if len(calls) == 8:
            raise KeyboardInterrupt
        return _objective(trial)

    with pytest.raises(Interrupted):
        run_batched(study, objective, 20, progress=False, flush_s=1e9)  # nothing stored until the interrupt
    held = _study(tmp_path / "d.db").trials
    assert sum(t.state == TrialState.COMPLETE for t in held) == 7
    out = run_batched(_study(tmp_path / "d.db"), _objective, 20, progress=False)
    assert out.completed == 13
    assert sum(t.state == TrialState.COMPLETE for t in _study(tmp_path / "d.db").trials) == 20


def test_a_study_with_a_queued_trial_is_written_trial_by_trial(tmp_path, monkeypatch):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = _study(tmp_path / "e.db")
    study.enqueue_trial({"x": 1, "y": 4})  # a queued trial (a retry, say): taken trial by trial, as before
    seen = []
    real = search.run_study
    monkeypatch.setattr(search, "run_study", lambda s, *a, **k: seen.append(type(s._storage).__name__) or
                        real(s, *a, **k))
    run_batched(study, _objective, 5, progress=False)
    assert seen and "InMemoryStorage" not in seen
    assert study.trials[0].params == {"x": 1, "y": 4} and len(study.trials) == 5
