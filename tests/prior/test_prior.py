"""The prior: the paper's predictions on the shipped tasks, the ``needs`` score's saturation and bottleneck
behaviour in closed form on hand-made layouts, and the ``ratio`` variant kept as it was."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings

from archsearch.core.layout import Layout, paper_pair
from archsearch.core.mincut import log2_mincut
from archsearch.core.partitions import tree_windows
from archsearch.formats.task import load_task
from archsearch.prior.score import PRIORS, Prior, uniform_at_budget
from tests.conftest import ROOT, layouts_and_masks

CASES = [("digits-local", (64, 64), 6), ("digits-local-32", (32, 32), 5),
         ("digits-global", (64, 64), 6), ("digits-global-32", (32, 32), 5)]


@pytest.mark.parametrize("kind", PRIORS)
@pytest.mark.parametrize("name,shape,depth", CASES)
@pytest.mark.parametrize("r", [4, 8, 16, 32])
def test_paper_prediction(name, shape, depth, r, kind):
    """Wide-base above wide-tip on the local tasks, below it on the global ones, at every r, both variants."""
    task = load_task(ROOT / "tasks" / f"{name}.yaml")
    wb, wt = paper_pair(shape, 10, r, [2] * depth)
    prior = Prior.for_budget(task.masks, task.weights, wb, wb.param_count(), needs=task.needs, kind=kind)
    if "local" in name:
        assert prior(wb).score > prior(wt).score
    else:
        assert prior(wb).score < prior(wt).score


@settings(max_examples=40, deadline=None)
@given(layouts_and_masks(max_window=4))
def test_reference_scores_one(case):
    lay, masks = case
    ref = uniform_at_budget(lay, lay.param_count())
    prior = Prior(masks, np.ones(len(masks)), ref, kind="ratio")
    expect = np.mean(prior.reference_log2 / np.maximum(prior.reference_log2, 1.0))
    assert prior(ref).score == pytest.approx(expect)
    assert ref.param_count() <= lay.param_count()
    wider = ref.with_channels([ref.channels[0] + 1] * ref.depth)
    assert wider.param_count() > lay.param_count()  # the reference is the widest that fits


def test_weights_matter():
    task = load_task(ROOT / "tasks" / "digits-global.yaml")
    wb, wt = paper_pair((64, 64), 10, 8, [2] * 6)
    only_first = np.zeros(len(task.partitions))
    only_first[0] = 1
    prior = Prior.for_budget(task.masks, only_first, wb, wb.param_count(), kind="ratio")
    res = prior(wt)
    assert res.score == pytest.approx(res.ratios[0])


def test_bad_weights_are_refused():
    wb, _ = paper_pair((32, 32), 10, 8, [2] * 5)
    with pytest.raises(ValueError, match="non-negative weight"):
        Prior(np.ones((2, 32, 32), bool), np.array([-1.0, 1.0]), wb)


# -- the needs variant ------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(layouts_and_masks(max_window=4))
def test_reference_meets_every_need(case):
    """Needs default to the reference's capacities, on the task's partitions and the canonical levels:
    the reference scores exactly 1, and nothing scores above 1."""
    lay, masks = case
    lay = dataclasses.replace(lay, classes=1)  # no answer to carry: the windows' floor is 0 bits
    prior = Prior.for_budget(masks, np.ones(len(masks)), lay, lay.param_count())
    assert prior(prior.reference).score == pytest.approx(1.0)
    assert 0.0 < prior(lay).score <= 1.0 + 1e-12


def test_a_window_needs_at_least_the_answer():
    """A window's need is raised to log2(classes) bits; other partitions keep what they declare."""
    masks = tree_windows((16,), [(2,)] * 4)
    ref = _chain([16, 16, 16, 16])  # 10 classes: 3.32 bits
    prior = Prior(masks, np.ones(3), ref, needs=np.array([1.0, 1.0, 5.0]), canonical=False,
                  windows=np.array([True, False, True]))
    np.testing.assert_allclose(prior.needs, [np.log2(10), 1.0, 5.0])
    floor = Prior.for_budget(masks, np.ones(3), _chain([2, 2, 2, 2]), _chain([2, 2, 2, 2]).param_count())
    assert floor(floor.reference).canonical_needs == pytest.approx([np.log2(10)] * 3)


def _chain(channels, M=4):
    """A 1D binary tree on 16 inputs: every canonical window's cut is its own bond, log2 r."""
    return Layout.uniform((16,), M=M, channels=1, pools=[2] * 4).with_channels(list(channels))


def test_capacity_beyond_the_need_buys_nothing():
    masks = tree_windows((16,), [(2,)] * 4)  # levels 1..3: windows of 2, 4, 8
    needs = np.array([2.0, 2.0, 2.0])  # 4 channels at each level meet them
    base = _chain([4, 4, 4, 4])
    prior = Prior(masks, np.ones(3), base, needs=needs, canonical=False, output=False)
    assert prior(base).score == 1.0
    assert prior(_chain([64, 64, 64, 64])).score == 1.0  # 16x the channels: no more score
    np.testing.assert_allclose(log2_mincut(base, masks), [2.0, 2.0, 2.0])


def test_a_bottleneck_anywhere_costs_in_closed_form():
    """A layer of 2 channels (1 bit) under needs of 4 bits. On a binary tree the window of level k is cut
    off by its own pooling's hyperedge (r_(k-1)), by its parent's (r_k), or below its two children:
    cap_k = min(log2 r_(k-1), log2 r_k, 2 cap_(k-1)), cap_0 = log2 M. The score is the weighted geometric
    mean of the met fractions min(cap, need) / need."""
    masks = tree_windows((16,), [(2,)] * 4)
    needs, weights = np.array([4.0, 4.0, 4.0]), np.array([1.0, 2.0, 1.0])
    ref = _chain([16, 16, 16, 16])
    prior = Prior(masks, weights, ref, needs=needs, canonical=False, output=False)
    for level in range(3):
        channels = [16, 16, 16, 16]
        channels[level] = 2
        caps, below = [], 2.0  # log2 M, M = 4
        for k in range(3):
            below = min(np.log2(channels[k]), np.log2(channels[k + 1]), 2 * below)
            caps.append(below)
        expect = 2.0 ** (weights @ np.log2(np.minimum(caps, needs) / needs) / weights.sum())
        assert prior(_chain(channels)).score == pytest.approx(expect)
        assert expect < 1.0
    # the ratio variant rewards capacity without limit; the needs variant stops at the need
    ratio = Prior(masks, np.ones(3), ref, kind="ratio")
    needs_prior = Prior(masks, np.ones(3), ref, needs=needs, output=False)
    wide = _chain([64, 64, 64, 64])
    # level 1 is held to 4 bits by its two inputs (log2 M each); levels 2 and 3 reach log2 64 = 6
    assert ratio(wide).score == pytest.approx((4 + 6 + 6) / 4 / 3) and needs_prior(wide).score == 1.0


def test_the_output_needs_the_reference_and_the_answer():
    """The whole input against the output, in closed form on the chain: its capacity is the narrowest
    level of bonds, min(16 log2 M, 8 log2 r_0, 4 log2 r_1, 2 log2 r_2, log2 r_3); its need is the
    reference's (at least log2(classes)); it enters the geometric mean with weight 1."""
    masks = tree_windows((16,), [(2,)] * 4)[:2]  # windows of 2 and 4: their cuts never read r_3
    needs = np.array([2.0, 2.0])  # met by 4 channels
    ref = _chain([32, 32, 32, 32])  # output: log2 32 = 5 bits, above log2 10
    prior = Prior(masks, np.ones(2), ref, needs=needs, canonical=False)
    for last in [2, 4, 8, 16, 32, 64]:
        res = prior(_chain([8, 8, 8, last]))
        cap = min(16 * 2.0, 8 * 3.0, 4 * 3.0, 2 * 3.0, np.log2(last))
        assert res.ratios.tolist() == [1.0, 1.0]  # every partition of the inputs is met
        assert res.output_log2 == pytest.approx(cap) and res.output_need == pytest.approx(5.0)
        assert res.score == pytest.approx(2.0 ** (np.log2(min(cap, 5.0) / 5.0) / 3))
    # a layer of 2 channels low down starves the output too: 4 windows x 1 bit
    assert prior(_chain([8, 2, 8, 64])).output_log2 == pytest.approx(4.0)
    # a narrow reference still needs log2(classes) bits at the output
    narrow = Prior(masks, np.ones(2), _chain([4, 4, 4, 4]), canonical=False)
    assert narrow(ref).output_need == pytest.approx(np.log2(10))
    off = Prior(masks, np.ones(2), ref, needs=needs, canonical=False, output=False)
    assert off(_chain([8, 8, 8, 2])).score == 1.0 and np.isnan(off(ref).output_log2)
    assert np.isnan(Prior(masks, np.ones(2), ref, kind="ratio")(ref).output_need)


def test_canonical_floor_sees_an_upper_bottleneck():
    """The task's partitions alone cannot see a starved upper layer; the canonical floor does."""
    task = load_task(ROOT / "tasks" / "digits-local-32.yaml")
    template = Layout.uniform((32, 32), M=10, channels=1, pools=[2] * 5)
    starved = template.with_channels([21, 16, 51, 4, 4])
    plain = uniform_at_budget(template, 2638)
    with_floor = Prior.for_budget(task.masks, task.weights, template, 2638)
    without = Prior.for_budget(task.masks, task.weights, template, 2638, canonical=False)
    assert with_floor(starved).score < with_floor(plain).score
    assert without(starved).score == pytest.approx(without(plain).score, abs=0.05) or \
        without(starved).score > with_floor(starved).score
    res = with_floor(starved)
    assert len(res.canonical_log2) == 4 and res.canonical_log2[3] == 2.0  # log2 4 at the 16x16 windows


def test_declared_needs_are_used_and_zero_needs_are_met():
    masks = tree_windows((16,), [(2,)] * 4)
    ref = _chain([16, 16, 16, 16])
    prior = Prior(masks, np.ones(3), ref, needs=np.array([np.nan, 1.0, 0.0]), canonical=False, output=False)
    np.testing.assert_allclose(prior.needs, [4.0, 1.0, 0.0])
    # caps 4, 1 and 0 bits: the reference need, a declared 1 bit, and a need of 0 are all met
    assert prior(_chain([16, 16, 2, 1])).score == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one need"):
        Prior(masks, np.ones(3), ref, needs=np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="unknown prior"):
        Prior(masks, np.ones(3), ref, kind="bogus")


def _variant_against_needs(task_name: str, kind: str, n: int = 20):
    """The space, the needs and ``kind`` priors of a shipped 32x32 task, and for ``n`` seeded random layouts
    (widths, the needs variant's result, the ``kind`` variant's, the weakest met fraction over the task's
    partitions, the canonical levels and the output): what the closed forms below are built from."""
    from archsearch.formats.space import load_space
    from archsearch.prior.score import _met

    task = load_task(ROOT / "tasks" / f"{task_name}.yaml")
    space = load_space(ROOT / "search_spaces" / "cpu-32x32-grid.yaml")
    needs, variant = Prior.for_task(task, space, "needs"), Prior.for_task(task, space, kind)
    rng = np.random.default_rng(0)
    cases = []
    for _ in range(n):
        widths = rng.choice([4, 8, 16, 32, 64], 5).tolist()
        lay = space.layout(0, 10, widths)
        a = needs(lay)
        worst = min(a.ratios.min(), _met(a.canonical_log2, a.canonical_needs).min(),
                    float(_met(np.array(a.output_log2), np.array(a.output_need))))
        cases.append((widths, a, variant(lay), worst))
    return space, needs, variant, cases


def test_narrowest_is_the_weakest_scale_then_the_starved_layers_then_the_coverage():
    """The narrowest variant in closed form from the needs variant's parts: the weakest met fraction, then
    D minus the hidden layers as narrow as the narrowest, then the coverage; a second starved layer costs
    more than any coverage, and less than a narrower weakest layer; the batch equals one at a time."""
    from archsearch.prior.score import MAXIMIN_EPS

    space, needs, narrowest, cases = _variant_against_needs("digits-local-32", "narrowest")
    for widths, a, b, worst in cases:
        k = widths.count(min(widths))
        inner = (2 * (5 - k) + a.score) / (2 * 5 + 1)
        assert b.score == pytest.approx((worst + MAXIMIN_EPS * inner) / (1 + MAXIMIN_EPS), abs=1e-12)
        assert 0 < b.score <= 1
    one, two = space.layout(0, 10, [4, 8, 8, 8, 8]), space.layout(0, 10, [32, 32, 16, 4, 4])
    assert needs(one).score < needs(two).score  # the coverage alone prefers the second
    assert narrowest(two).score < narrowest(one).score  # two starved layers rank below one
    assert narrowest(one).score < narrowest(space.layout(0, 10, [8, 8, 8, 8, 8])).score  # the weakest first
    many = narrowest.score_many(space.layout(0, 10, [4] * 5), np.array([one.channels, two.channels]))
    assert many == pytest.approx([narrowest(one).score, narrowest(two).score], abs=1e-12)


def test_soft_leximin_is_the_weakest_scale_then_the_widths_soft_leximin_against_the_coverage():
    """The soft-leximin variant in closed form from the needs variant's parts; for one multiset of widths
    the coverage alone orders it; a wider second-narrowest layer at one coverage ranks higher; the weakest
    scale before all; the batch equals one at a time."""
    from archsearch.prior.score import MAXIMIN_EPS, SOFT_BETA, soft_leximin_widths

    space, needs, soft, cases = _variant_against_needs("digits-global-32", "soft-leximin")
    for widths, a, b, worst in cases:
        rest = sorted(np.log2(widths))[1:]
        t = sum(v * 0.5 ** i for i, v in enumerate(rest)) + SOFT_BETA * np.log2(a.score)
        assert b.score == pytest.approx((worst + MAXIMIN_EPS / (1 + 2.0 ** (-t / 8))) / (1 + MAXIMIN_EPS), abs=1e-12)
        assert 0 < b.score <= 1
    perms = [space.layout(0, 10, list(p)) for p in ([8, 16, 32, 32, 64], [64, 32, 32, 16, 8], [32, 8, 64, 16, 32])]
    assert len({float(soft_leximin_widths(np.array(lay.channels))) for lay in perms}) == 1
    by_needs = sorted(perms, key=lambda lay: needs(lay).score)
    assert sorted(perms, key=lambda lay: soft(lay).score) == by_needs  # one multiset: the task decides where
    assert needs(by_needs[0]).score < needs(by_needs[-1]).score
    # the weakest scale before everything: a narrower narrowest layer ranks below whatever else it has
    assert soft(space.layout(0, 10, [4, 64, 64, 64, 64])).score < soft(space.layout(0, 10, [8, 8, 8, 8, 8])).score
    lays = [space.layout(0, 10, w) for w in ([8, 8, 16, 16, 16], [8, 16, 16, 16, 16], [16, 8, 16, 16, 16])]
    many = soft.score_many(lays[0], np.array([lay.channels for lay in lays]))
    assert many == pytest.approx([soft(lay).score for lay in lays], abs=1e-12)


def test_maximin_is_the_weakest_scale_then_the_coverage():
    """The maximin variant: the smallest met fraction over the task's partitions, the canonical levels and
    the output, with the needs coverage breaking its ties; in closed form from the needs variant's parts."""
    from archsearch.prior.score import MAXIMIN_EPS

    space, _, maximin, cases = _variant_against_needs("digits-local-32", "maximin")
    for _, a, b, worst in cases:
        assert b.score == pytest.approx((worst + MAXIMIN_EPS * a.score) / (1 + MAXIMIN_EPS), abs=1e-12)
        assert 0 < b.score <= 1
    # the reference meets every need: both score 1
    assert maximin(maximin.reference).score == pytest.approx(1.0)
    # a starved layer decides before any coverage: a layout with a 4-wide layer ranks below one without
    starved, even = space.layout(0, 10, [64, 4, 16, 16, 16]), space.layout(0, 10, [16, 16, 16, 16, 8])
    assert maximin(starved).score < maximin(even).score


def test_a_recipe_accepts_every_variant_of_the_prior_and_no_other():
    """The recipe's schema names the variants by hand (a Literal): it must not drift from the registry."""
    import typing

    from archsearch.search.recipe import RecipeFile

    assert typing.get_args(RecipeFile.model_fields["prior"].annotation) == PRIORS
