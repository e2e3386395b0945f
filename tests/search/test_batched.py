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
    # resumed to a larger count from the stored trials (a fresh process: a fresh sampler), as the direct one is
    run_study(_study(tmp_path / "a.db"), _objective, 40, progress=False)
    run_batched(_study(tmp_path / "b.db"), _objective, 40, progress=False, flush_s=1e9)  # one batch, at the end
    assert [_record(t) for t in _study(tmp_path / "b.db").trials] == [_record(t) for t in
                                                                       _study(tmp_path / "a.db").trials]


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
