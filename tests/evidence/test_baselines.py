"""The task-blind rivals of the prior: their scores, the balanced rule's order, the tau within groups of
equal narrowest width, and what the prior adds over them, against closed cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.core.layout import Layout
from archsearch.evidence.baselines import (
    SCORES,
    TASK_BLIND,
    balance,
    balanced_order,
    bottleneck,
    bottleneck_order,
    flops,
    leximin_order,
    min_width,
    narrowest_count,
)
from archsearch.evidence.evaluate import added_value, evaluate, within_group_tau


def _lays(*widths):
    return [Layout.uniform((16,), 4, 4, [2, 2, 2, 2]).with_channels(list(w)) for w in widths]


def test_the_scores_in_closed_form():
    lays = _lays([2, 4, 8, 16], [4, 4, 4, 4], [16, 8, 4, 2])
    assert min_width(lays).tolist() == [1.0, 2.0, 1.0]
    assert balance(lays)[1] == 0.0 and balance(lays)[0] == balance(lays)[2] == pytest.approx(-np.std([1, 2, 3, 4]))
    assert flops(lays).tolist() == [float(lay.mac_count()) for lay in lays]
    assert set(SCORES) == set(TASK_BLIND)


def _spread(w):
    return round(-float(np.std(np.log2(w))), 9)


RULES = {  # each rule's order, and its key as the rule states it (larger first)
    "balanced": (balanced_order, lambda w, lay: (min(w), _spread(w), lay.param_count())),
    "bottleneck": (bottleneck_order, lambda w, lay: (min(w), -w.count(min(w)), _spread(w), lay.param_count())),
    "leximin": (leximin_order, lambda w, lay: (tuple(sorted(w)), lay.param_count())),
}


@pytest.mark.parametrize("rule", RULES)
@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.sampled_from([2, 4, 8, 16, 32]), min_size=4, max_size=4), min_size=2, max_size=30))
def test_each_order_is_its_rule(rule, widths):
    """balanced: narrowest widest, then least spread, then most parameters; bottleneck: the fewest layers at
    the narrowest width before the spread. Both complete rankings, their scores minus the place."""
    order_of, key = RULES[rule]
    lays = _lays(*widths)
    order = order_of(lays)
    assert sorted(order.tolist()) == list(range(len(lays)))
    keys = [key(w, lay) for w, lay in zip(widths, lays, strict=True)]
    assert [keys[i] for i in order] == sorted(keys, reverse=True)
    assert (np.diff(SCORES[rule](lays)[order]) < 0).all()
    assert narrowest_count(lays).tolist() == [w.count(min(w)) for w in widths]


def test_the_bottleneck_rule_parts_from_the_balanced_rule_where_starved_layers_differ_in_number():
    """[4, 4, 8, 8] has less spread than [4, 32, 32, 32] (the balanced rule puts it first) but two starved
    layers to one (the bottleneck rule puts it second); a table that falls with the starved layers is
    ordered right by the bottleneck rule alone."""
    lays = _lays([4, 4, 8, 8], [4, 32, 32, 32], [8, 8, 8, 8])
    assert balanced_order(lays).tolist() == [2, 0, 1]
    assert bottleneck_order(lays).tolist() == [2, 1, 0]
    acc = np.array([0.70, 0.75, 0.80])
    out = evaluate(acc, {"bottleneck": bottleneck(lays), "balanced": SCORES["balanced"](lays)}, resamples=0)
    assert out["bottleneck"].kendall_tau == pytest.approx(1.0) and out["balanced"].kendall_tau < 1.0


def test_the_leximin_rule_parts_from_the_bottleneck_rule_where_the_second_narrowest_differs():
    """[4, 8, 8, 8] and [4, 16, 32, 32] share the narrowest width and its count; the bottleneck rule puts
    the first first (less spread), the leximin rule the second (its second-narrowest layer is wider)."""
    lays = _lays([4, 8, 8, 8], [4, 16, 32, 32])
    assert bottleneck_order(lays).tolist() == [0, 1]
    assert leximin_order(lays).tolist() == [1, 0]


def test_a_predictor_equal_to_min_width_has_within_group_tau_zero():
    rng = np.random.default_rng(0)
    lays = _lays(*[rng.choice([2, 4, 8, 16], 4) for _ in range(60)])
    acc = rng.random(60)
    lo = min_width(lays)
    assert within_group_tau(lo, acc, lo) == 0.0
    # within every group, a score that is the accuracy itself orders perfectly
    assert within_group_tau(acc, acc, lo) == pytest.approx(1.0)
    assert np.isnan(within_group_tau(acc, np.ones(60), lo))  # nothing to order anywhere


def test_within_group_tau_weights_groups_by_pairs():
    groups = np.array([0, 0, 0, 1, 1])  # 3 pairs in group 0, 1 in group 1
    acc = np.array([0.1, 0.2, 0.3, 0.1, 0.2])
    score = np.array([1.0, 2.0, 3.0, 2.0, 1.0])  # +1 in group 0, -1 in group 1
    assert within_group_tau(score, acc, groups) == pytest.approx((3 * 1 - 1) / 4)


def test_added_value_in_closed_cases():
    rng = np.random.default_rng(1)
    lays = _lays(*[rng.choice([2, 4, 8, 16, 32], 4) for _ in range(80)])
    scores = {name: f(lays) for name, f in SCORES.items()}
    acc = scores["min-width"] + 0.01 * rng.random(80)  # the bottleneck decides, a little noise breaks ties
    scores["prior"] = scores["min-width"].copy()  # a prior that is min-width and nothing more
    stats = evaluate(acc, scores, resamples=200, groups=min_width(lays))
    out = added_value(acc, scores, balanced_order(lays), stats, resamples=200)
    assert out["best_task_blind"] == "min-width"
    assert out["tau_difference"] == 0.0 and out["tau_difference_ci"] == [0.0, 0.0]
    assert out["top1_regret_minus_balanced"] == pytest.approx(stats["prior"].top1_regret - out["balanced_top1_regret"])
    scores["prior"] = acc.copy()  # an oracle: beats every rule, within groups too
    stats = evaluate(acc, scores, resamples=200, groups=min_width(lays))
    out = added_value(acc, scores, balanced_order(lays), stats, resamples=200)
    assert out["tau_difference"] > 0 and out["tau_difference_ci"][0] > 0
    assert out["within_group_tau_difference"] > 0.5 and out["top1_regret_minus_balanced"] <= 0
    assert added_value(acc, {"prior": acc}, balanced_order(lays), stats) is None  # no rival given


def _seeded_table(acc_by_seed: list[list[float]]):
    from tests.conftest import table_of_runs

    return table_of_runs([(i, s, a) for s, accs in enumerate(acc_by_seed) for i, a in enumerate(accs)])


def test_the_reliability_of_a_mean_of_seeds_in_closed_cases():
    from archsearch.evidence.evaluate import mean_of_seeds_reliability, spearman_brown

    same = [0.1, 0.5, 0.3, 0.9, 0.7]
    out = mean_of_seeds_reliability(_seeded_table([same, same, same]))
    assert out["seeds"] == 3 and out["layouts"] == 5
    assert out["pair_rho"] == pytest.approx(1.0) and out["reliability"] == pytest.approx(1.0)
    assert out["tau_equivalent"] == pytest.approx(1.0)
    # two seeds whose orders agree at rho 0.5: the mean of both is reliable at 2 * 0.5 / 1.5
    a, b = [1, 2, 3, 4, 5, 6], [2, 1, 4, 6, 3, 5]
    from scipy import stats

    rho = stats.spearmanr(a, b).statistic
    out = mean_of_seeds_reliability(_seeded_table([[x / 10 for x in a], [x / 10 for x in b]]))
    assert out["pair_rho"] == pytest.approx(rho) and out["reliability"] == pytest.approx(spearman_brown(rho, 2))
    assert out["tau_equivalent"] == pytest.approx(2 / np.pi * np.arcsin(spearman_brown(rho, 2)))
    assert mean_of_seeds_reliability(_seeded_table([same]))["layouts"] == 0  # one seed: nothing to compare


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 4)), min_size=3, max_size=6))
def test_the_tau_with_ties_broken_is_the_mean_over_every_tie_break(pairs):
    """Exact: over every order of the tied scores (each tie group permuted in every way), the mean tau-b
    equals the closed form."""
    import itertools

    from scipy import stats

    from archsearch.evidence.evaluate import tau_ties_broken

    score = np.array([p[0] for p in pairs], float)
    acc = np.array([p[1] for p in pairs], float)
    if np.ptp(acc) == 0:
        assert np.isnan(tau_ties_broken(score, acc))
        return
    groups = [np.flatnonzero(score == v) for v in np.unique(score)]
    taus = []
    for perms in itertools.product(*[list(itertools.permutations(range(len(g)))) for g in groups]):
        broken = np.empty(len(score))
        for g, perm, base in zip(groups, perms, np.cumsum([0] + [len(g) for g in groups[:-1]]), strict=True):
            broken[g] = base + np.array(perm)
        taus.append(stats.kendalltau(broken, acc).statistic)
    assert tau_ties_broken(score, acc) == pytest.approx(np.mean(taus), abs=1e-12)


def test_the_balanced_score_is_the_rule_order():
    from archsearch.evidence.baselines import balanced

    lays = _lays([2, 4, 8, 16], [4, 4, 4, 4], [16, 8, 4, 2], [4, 8, 8, 4])
    order = balanced_order(lays)
    assert np.argsort(-balanced(lays), kind="stable").tolist() == order.tolist()


@settings(max_examples=25, deadline=None)
@given(st.integers(5, 60), st.integers(1, 8), st.integers(0, 2**16))
def test_the_bootstrap_at_once_equals_one_scipy_call_per_resample(n, levels, seed):
    """Spearman's rho and the ties-broken tau of every resample computed together give what one scipy call
    per resample gives (scores with ties, like min-width's, included)."""
    from scipy import stats as sps

    from archsearch.evidence.evaluate import _boot_ties_broken, _indices, boot_spearman, tau_ties_broken

    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, levels, n).astype(float), rng.random(n)
    idx = _indices(n, 40, seed)
    idx = idx[(np.ptp(x[idx], axis=1) > 0) & (np.ptp(y[idx], axis=1) > 0)]
    want = [sps.spearmanr(x[i], y[i]).statistic for i in idx]
    assert np.allclose(boot_spearman(x, y, idx), want, atol=1e-12, equal_nan=True)
    want = [np.nan_to_num(tau_ties_broken(x[i], y[i])) for i in idx]
    assert np.allclose(_boot_ties_broken(x, y, idx), want, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 60), st.integers(1, 8), st.integers(0, 2**16), st.booleans())
def test_the_bootstrap_kendall_counts_pairs_as_scipy_does(n, levels, seed, fallback):
    """Kendall's tau-b of every resample counted at once (multiplicities times pair-sign matrices) equals
    scipy's call per resample, ties in both variables, a constant resample (NaN) and the share of x ties
    included; and so does the per-resample path larger tables take."""
    from scipy import stats as sps

    from archsearch.evidence import evaluate

    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, levels, n).astype(float), np.round(rng.random(n), 1)
    idx = evaluate._indices(n, 30, seed)
    if fallback:
        evaluate._PAIRWISE_MAX, old = 0, evaluate._PAIRWISE_MAX
    try:
        tau, tied = evaluate.boot_kendall(x, y, idx, ties=True)
    finally:
        if fallback:
            evaluate._PAIRWISE_MAX = old
    want = [sps.kendalltau(x[i], y[i]).statistic for i in idx]
    assert np.allclose(tau, want, atol=1e-12, equal_nan=True)
    pairs = n * (n - 1) / 2
    shares = [sum(c * (c - 1) / 2 for c in np.unique(x[i], return_counts=True)[1]) / pairs for i in idx]
    assert np.allclose(tied, shares, atol=1e-12)
