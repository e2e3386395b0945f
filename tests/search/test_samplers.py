"""Every sampler archsearch adds, against one contract (as Optuna tests its samplers): the prior-guided
sampler, the warm-start wrapper, and the strategy registry that builds them by name."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from archsearch.errors import InputError
from archsearch.formats.task import load_task
from archsearch.prior.exhaustive import exhaustive_top
from archsearch.samplers import STRATEGIES, PriorGuidedSampler, WarmStartSampler, make_sampler
from archsearch.search.objectives import layout_params, suggest_layout
from archsearch.search.prior_sampler import SOURCE_KEY
from tests.conftest import grid_layouts, tiny_prior

optuna.logging.set_verbosity(optuna.logging.ERROR)
_prior = tiny_prior


@pytest.fixture
def files(tiny_1d_files):
    return tiny_1d_files


# -- the prior-guided sampler ----------------------------------------------------------------------------------------
def test_proposals_lie_in_the_space_and_record_their_source(files):
    space, prior = _prior(files)
    study = optuna.create_study(direction="maximize", sampler=PriorGuidedSampler(space, prior, seed=1))
    study.optimize(lambda t: float(sum(suggest_layout(t, space).channels)), n_trials=30)
    for t in study.trials:
        assert set(t.params) == {"r0", "r1", "r2", "r3"}
        assert all(v in space.channel_choices for v in t.params.values())
        assert t.system_attrs[SOURCE_KEY] in ("prior", "base")
    assert study.trials[0].system_attrs[SOURCE_KEY] == "prior"  # with no evidence the prior decides
    drawn = [tuple(t.params.values()) for t in study.trials if t.system_attrs[SOURCE_KEY] == "prior"]
    assert len(drawn) == len(set(drawn))  # a prior draw never repeats a layout the study holds


def _distinct(space, prior, n: int) -> list[dict]:
    """The parameters of ``n`` layouts of the space with distinct prior scores, lowest score first."""
    from archsearch.search.objectives import layout_params

    by_score = {}
    for ch, lay in grid_layouts(space):
        by_score.setdefault(prior(lay).score, layout_params(space, 0, 4, ch))
    assert len(by_score) >= n
    return [by_score[k] for k in sorted(by_score)[:n]]


def _frozen(number: int, value: float, source: str, params: dict) -> FrozenTrial:
    return FrozenTrial(number=number, state=TrialState.COMPLETE, value=value, datetime_start=None,
                       datetime_complete=None, params=params, distributions={}, user_attrs={},
                       system_attrs={SOURCE_KEY: source}, intermediate_values={}, trial_id=number)


def test_the_share_follows_how_the_prior_ranks_the_trained_trials(files):
    """Closed forms: share = min(1, beta / (beta + n) * 2 q), q = 1 - p of the one-sided Kendall tau between
    prior score and value. Below 3 trials q = 1/2 (piBO's decay); n trials in the prior's order have
    p = 1 / n! exactly; in its reverse order p = 1 and the prior loses its share, whichever source they
    came from; values all equal say nothing (q = 1/2)."""
    from math import factorial

    space, prior = _prior(files)
    s = PriorGuidedSampler(space, prior, beta=4)
    params = _distinct(space, prior, 12)
    assert s.share([]) == 1.0
    assert s.share([_frozen(i, float(i), "prior", params[i]) for i in range(2)]) == pytest.approx(4 / 6)
    agree = [_frozen(i, float(i), "base" if i % 3 else "prior", params[i]) for i in range(12)]
    assert s.share(agree) == pytest.approx(4 / 16 * 2 * (1 - 1 / factorial(12)))
    disagree = [_frozen(i, -float(i), "prior", params[i]) for i in range(12)]
    assert s.share(disagree) == pytest.approx(0.0, abs=1e-12)
    flat = [_frozen(i, 0.5, "prior", params[i]) for i in range(12)]
    assert s.share(flat) == pytest.approx(4 / 16)
    assert s.share(agree[:6]) > s.share(agree)  # even a right prior is trusted less as evidence grows
    minimise = [_frozen(i, -float(i), "prior", params[i]) for i in range(12)]  # lower is better: agrees
    assert s.share(minimise, maximize=False) == pytest.approx(s.share(agree))


def _study_of(trials: list[tuple], params: list[dict]) -> optuna.Study:
    """(source, state, value[, user attributes]) per trial, trial i with ``params[i]``."""
    study = optuna.create_study(direction="maximize")
    dist = {k: optuna.distributions.CategoricalDistribution([2, 4, 8, 16]) for k in params[0]}
    for i, (source, state, value, *attrs) in enumerate(trials):
        study.add_trial(optuna.trial.create_trial(
            params=params[i], distributions=dist, state=state,
            value=value if state == TrialState.COMPLETE else None,
            system_attrs={SOURCE_KEY: source}, user_attrs=attrs[0] if attrs else None))
    return study


def test_the_share_is_kept_over_trained_trials(files):
    """The next trial is a prior draw when the prior's draws among trained and running trials fall short of
    share x (their number + 1); here share = 1/2 (beta = n = 2). Untrained (pruned) base proposals do
    not count, so a base sampler whose proposals are pruned is asked again, not replaced by the prior;
    repeats answered from the study do not count; running trials do."""
    space, prior = _prior(files)
    s = PriorGuidedSampler(space, prior, beta=2, seed=0)
    params = _distinct(space, prior, 20)
    C, P, R = TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING

    def source(trials):
        study = _study_of(trials, params)
        trial = study.ask()
        s.before_trial(study, study._storage.get_trial(trial._trial_id))
        return study._storage.get_trial(trial._trial_id).system_attrs[SOURCE_KEY]

    one_each = [("prior", C, 1.0), ("base", C, 0.0)]
    assert s.share(_study_of(one_each, params).trials) == pytest.approx(0.5)
    pruned = [("base", P, 0.0)] * 12
    assert source(one_each) == "prior" and source(one_each + pruned) == "prior"  # 1 < 1/2 x 3
    two_prior = [("prior", C, 1.0), ("prior", C, 0.0)]
    assert source(two_prior) == "base" and source(two_prior + pruned) == "base"  # 2 >= 1/2 x 3
    repeats = [("prior", C, 1.0, {"duplicate_of": 0})] * 3
    assert source(one_each + repeats) == "prior"  # proposed again, not trained: not counted
    assert source(one_each + [("prior", R, 0.0)]) == "base"  # a prior draw in training holds its place: 2 >= 2


def test_trials_asked_together_draw_different_layouts(files):
    """Ask-and-tell with several trials in flight (or workers starting at once): each prior draw is held
    from the moment it is drawn, before its trial suggests anything, so the next draw is another layout."""
    space, prior = _prior(files)
    study = optuna.create_study(direction="maximize", sampler=PriorGuidedSampler(space, prior, seed=0))
    trials = [study.ask() for _ in range(4)]  # nothing suggested yet
    layouts = [tuple(suggest_layout(t, space).channels) for t in trials]
    assert all(study._storage.get_trial(t._trial_id).system_attrs[SOURCE_KEY] == "prior" for t in trials)
    assert len(set(layouts)) == 4


def test_a_wrong_prior_is_overcome(files):
    """The prior favours wide layouts; the objective rewards narrow ones. After the first trials, the base
    sampler takes over, and the search finds the narrow optimum within the band (its TPE proposes only
    layouts within the size band)."""
    space, prior = _prior(files)
    study = optuna.create_study(direction="maximize", sampler=PriorGuidedSampler(space, prior, seed=0))
    study.optimize(lambda t: -float(sum(suggest_layout(t, space).channels)), n_trials=60)
    late = [t.system_attrs[SOURCE_KEY] for t in study.trials[-20:]]
    assert late.count("prior") <= 4
    narrowest = max(-sum(ch) for ch, _ in grid_layouts(space))
    assert study.best_value >= narrowest - 2  # within one step of the narrowest layout in the band


def test_workers_on_one_storage_agree(files, tmp_path):
    """Two samplers (two workers) on one SQLite study: the decisions are read from the study, so the prior's
    draws are never repeated across workers."""
    space, prior = _prior(files)
    url = f"sqlite:///{tmp_path}/s.db"
    optuna.create_study(study_name="w", storage=url, direction="maximize")
    workers = [optuna.load_study(study_name="w", storage=url, sampler=PriorGuidedSampler(space, prior, seed=3))
               for _ in range(2)]
    for _ in range(8):
        for w in workers:
            w.optimize(lambda t: float(sum(suggest_layout(t, space).channels)), n_trials=1)
    trials = optuna.load_study(study_name="w", storage=url).trials
    drawn = [tuple(t.params.values()) for t in trials if t.system_attrs[SOURCE_KEY] == "prior"]
    assert len(trials) == 16 and len(drawn) == len(set(drawn)) >= 4


# -- every strategy, one contract ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(STRATEGIES))
def test_every_strategy_proposes_layouts_of_the_space_and_is_seeded(files, name):
    """Each strategy's sampler proposes only layouts the space holds, and the same seed proposes the same."""
    space, prior = _prior(files)
    task = load_task(files / "task.yaml")
    runs = []
    for _ in range(2):
        study = optuna.create_study(direction="maximize",
                                    sampler=make_sampler(name, space, prior, seed=7, budget=12, task=task))
        study.optimize(lambda t: float(sum(suggest_layout(t, space).channels)), n_trials=12)
        runs.append([tuple(t.params.items()) for t in study.trials])
        for t in study.trials:
            lay = suggest_layout(optuna.trial.FixedTrial(t.params), space)
            assert set(lay.channels) <= set(space.channel_choices)
    assert runs[0] == runs[1]


def test_prior_top_and_warm_floor_put_the_priors_picks_first(files):
    space, prior = _prior(files)
    task = load_task(files / "task.yaml")
    best = [layout_params(space, r.schedule, r.M, r.channels) for r in exhaustive_top(space, prior, 3)]
    for name in ("prior-top", "warm-floor"):
        study = optuna.create_study(direction="maximize",
                                    sampler=make_sampler(name, space, prior, seed=1, budget=3, task=task))
        study.optimize(lambda t: float(sum(suggest_layout(t, space).channels)), n_trials=3)
        assert [t.params for t in study.trials] == best, name


def test_an_unknown_strategy_is_one_line_naming_the_known_ones():
    with pytest.raises(InputError, match="unknown strategy 'tpf'.*random, tpe, warm-floor, guided, prior-top"):
        make_sampler("tpf")
    with pytest.raises(ValueError, match="needs a space and a prior"):
        make_sampler("guided")


def test_warm_start_takes_its_picks_then_the_base_sampler(files):
    space, _ = _prior(files)
    picks = [{"r0": 16, "r1": 2, "r2": 2, "r3": 2}, {"r0": 2, "r1": 16, "r2": 2, "r3": 2}]
    sampler = WarmStartSampler(optuna.samplers.RandomSampler(seed=0), picks)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: float(sum(suggest_layout(t, space).channels)), n_trials=4)
    assert [t.params for t in study.trials[:2]] == picks
    assert all(set(t.params) == set(picks[0]) for t in study.trials)
