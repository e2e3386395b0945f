"""TPE within the size band: proposals after the random start lie in the band and are new to the study;
plain TPE on the same objective does not; exhausted, it falls back to plain TPE's choice."""

from __future__ import annotations

import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.formats.space import load_space
from archsearch.samplers import make_sampler
from archsearch.search.band_tpe import BandTPESampler
from archsearch.search.objectives import suggest_layout
from tests.conftest import TINY_1D_SPACE, grid_layouts

STARTUP = 10  # TPE's random start (n_startup_trials)


@pytest.fixture
def space(tiny_1d_files):
    return load_space(tiny_1d_files / "space.yaml")


def _narrow(space):
    """An objective that pulls TPE towards narrow layouts, most of which lie under the band."""
    return lambda t: -float(sum(suggest_layout(t, space).channels))


def _keys(study, space):
    return [tuple(t.params[f"r{l}"] for l in range(4)) for t in study.trials]


def _in_band(space, key):
    return space.fits(space.layout(0, 4, list(key)).param_count())


def test_plain_tpe_leaves_the_band_on_this_objective(space):
    """The case the band sampler is for: plain multivariate TPE, pulled towards narrow layouts, proposes
    layouts under the band and layouts it proposed before."""
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=0, multivariate=True))
    study.optimize(_narrow(space), n_trials=40)
    late = _keys(study, space)[STARTUP:]
    assert sum(not _in_band(space, k) for k in late) > 5
    assert len(set(late)) < len(late)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_every_proposal_after_the_start_is_in_the_band_and_new(seed):
    space = load_space("space.yaml", text=TINY_1D_SPACE)
    n_band = sum(1 for _ in grid_layouts(space))
    n = min(40, n_band)  # fewer trials than layouts in the band: a new one is always there to take
    study = optuna.create_study(direction="maximize", sampler=BandTPESampler(space, seed=seed))
    study.optimize(_narrow(space), n_trials=n)
    keys = _keys(study, space)
    late = keys[STARTUP:]
    assert all(_in_band(space, k) for k in late)
    assert all(k not in keys[:i + STARTUP] for i, k in enumerate(late))


def test_the_same_seed_proposes_the_same_layouts(space):
    runs = []
    for _ in range(2):
        study = optuna.create_study(direction="maximize", sampler=BandTPESampler(space, seed=3))
        study.optimize(_narrow(space), n_trials=25)
        runs.append(_keys(study, space))
    assert runs[0] == runs[1]


def test_an_exhausted_band_falls_back_to_plain_tpe(space):
    """Once the study holds every layout of the band, no candidate is admissible: with no redraws (which
    would use the generator) the sampler proposes exactly what plain TPE proposes from the same history and
    seed; with redraws it still proposes, without failing or hanging."""
    n_band = sum(1 for _ in grid_layouts(space))

    def run(sampler):
        study = optuna.create_study(direction="maximize", sampler=sampler)
        for ch, _ in grid_layouts(space):
            study.enqueue_trial({f"r{l}": c for l, c in enumerate(ch)})
        study.optimize(_narrow(space), n_trials=n_band + 5)
        return _keys(study, space)

    plain = run(optuna.samplers.TPESampler(seed=0, multivariate=True))
    assert len(set(plain[:n_band])) == n_band
    assert run(BandTPESampler(space, seed=0, redraws=0)) == plain
    assert len(run(BandTPESampler(space, seed=0, redraws=2))) == n_band + 5


def test_schedules_of_different_depths_set_nothing_aside(tmp_path):
    """A layout needs parameters TPE samples one by one here: nothing is set aside, TPE runs as plain TPE."""
    (tmp_path / "s.yaml").write_text("name: s\ninput_shape: [16]\nM: 4\nschedules:\n  - [2, 2, 2, 2]\n"
                                     "  - [4, 4]\nchannels: {choices: [2, 4, 8]}\nbudget: {max_params: 900}\n")
    space = load_space(tmp_path / "s.yaml")
    sampler = BandTPESampler(space, seed=0)
    assert sampler._layout_names({"schedule": None, "r0": None, "r1": None}) is None
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: float(sum(suggest_layout(t, space).channels)), n_trials=15)
    assert len(study.trials) == 15


def test_strategies_build_tpe_within_the_band(space, tiny_1d_files):
    from archsearch.formats.task import load_task
    from archsearch.prior.score import Prior

    task = load_task(tiny_1d_files / "task.yaml")
    prior = Prior.for_task(task, space)
    assert isinstance(make_sampler("tpe", space, prior, seed=0), BandTPESampler)
    assert isinstance(make_sampler("guided", space, prior, seed=0, task=task).base, BandTPESampler)
    assert type(make_sampler("tpe", seed=0)) is optuna.samplers.TPESampler  # no space: Optuna's own


def test_a_sampler_moved_to_another_study_forgets_the_first(space):
    """The keys of COMPLETE trials are kept per study (by trial number): the same sampler, a copy of it (as
    a batched search makes) or a pickled one, on another study, sets aside what that study holds."""
    import copy
    import pickle

    sampler = BandTPESampler(space, seed=0)
    first = optuna.create_study(direction="maximize", sampler=sampler)
    first.optimize(_narrow(space), n_trials=20)
    names = [f"r{l}" for l in range(4)]
    for other in (sampler, copy.deepcopy(sampler), pickle.loads(pickle.dumps(sampler))):
        second = optuna.create_study(direction="maximize")
        second.add_trials(first.trials[12:15])  # numbered 0, 1, 2 here: first's 0, 1, 2 are other layouts
        trial = second._storage.get_trial(second.ask()._trial_id)
        held = other._held(second, trial, names)
        assert held == {tuple((n, t.params[n]) for n in names) for t in first.trials[12:15]}


def test_a_log_int_range_and_several_m_are_sampled_within_the_band():
    """Channels as a log-scaled integer range, M a choice: the same guarantee after the random start."""
    space = load_space("s.yaml", text="name: s\ninput_shape: [16]\nM: [4, 8]\npool: 2\n"
                                      "channels: {low: 2, high: 16, log: true}\n"
                                      "budget: {max_params: 900, min_params: 500}\n")
    study = optuna.create_study(direction="maximize", sampler=BandTPESampler(space, seed=0))
    study.optimize(_narrow(space), n_trials=40)
    keys = [(t.params["M"], tuple(t.params[f"r{l}"] for l in range(4))) for t in study.trials][STARTUP:]
    assert all(space.fits(space.layout(0, m, list(ch)).param_count()) for m, ch in keys)
    assert len(set(keys)) == len(keys)
