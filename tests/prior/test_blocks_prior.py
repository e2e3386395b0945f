"""The prior over block layouts: the block rule's cuts against needs, the same variants as for layer layouts."""

from __future__ import annotations

import numpy as np
import pytest

from archsearch.core.blockcut import block_cuts, block_output_cut
from archsearch.formats.blocks_file import load_block_space
from archsearch.formats.task import load_task
from archsearch.prior.blocks import BlockPrior, uniform_block_reference
from archsearch.prior.score import PRIORS
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def mobilenet():
    return (load_task(ROOT / "tasks" / "natural-images-32.yaml"),
            load_block_space(ROOT / "search_spaces" / "cbm-mobilenet.yaml"))


def test_the_reference_of_a_whole_space_is_its_widest_layout(mobilenet):
    _, space = mobilenet
    assert uniform_block_reference(space) == space.layout([max(c) for c in space.slots.values()])
    # a smaller budget: every slot one rank lower (the slots' choices are 1/4 .. 4/4 of their largest)
    third = space.layout([sorted(c)[2] for c in space.slots.values()])
    assert uniform_block_reference(space, third.param_count()) == third
    assert uniform_block_reference(space, third.param_count() - 1) != third


def test_the_score_is_the_geometric_mean_of_met_fractions(mobilenet):
    task, space = mobilenet
    prior = BlockPrior.for_task(task, space)
    lay = space.layout([min(c) for c in space.slots.values()])
    cuts, out = block_cuts(lay, task.masks), block_output_cut(lay)
    met = np.minimum(cuts, prior.needs) / prior.needs
    o_met = min(out, prior.output_need) / prior.output_need
    expected = 2 ** ((np.log2(met) @ task.weights + np.log2(o_met)) / (task.weights.sum() + 1))
    res = prior(lay)
    assert res.score == pytest.approx(expected) and np.allclose(res.log2_mincut, cuts)
    assert prior(prior.reference).score == pytest.approx(1.0)  # the reference meets every need it sets
    assert res.score < 1.0


def test_scores_of_many_equal_one_at_a_time_and_variants_differ(mobilenet):
    task, space = mobilenet
    choices = list(space.all_widths())
    lays = [space.layout(choices[i]) for i in np.random.default_rng(1).choice(len(choices), 12, replace=False)]
    for kind in PRIORS:
        prior = BlockPrior.for_task(task, space, kind)
        many, _ = prior.score_many(lays)
        assert np.allclose(many, [prior(lay).score for lay in lays])
    needs = BlockPrior.for_task(task, space).score_many(lays)[0]
    ratio = BlockPrior.for_task(task, space, "ratio").score_many(lays)[0]
    assert not np.allclose(needs, ratio)


def test_bad_weights_needs_or_variants_are_refused_as_for_layer_layouts(mobilenet):
    task, space = mobilenet
    ref = space.layout([max(c) for c in space.slots.values()])
    n = len(task.masks)
    with pytest.raises(ValueError, match="one non-negative weight per partition"):
        BlockPrior(task.masks, np.ones(n + 1), ref)
    with pytest.raises(ValueError, match="one need"):
        BlockPrior(task.masks, task.weights, ref, needs=np.full(n, -1.0))
    with pytest.raises(ValueError, match="unknown prior 'best'"):
        BlockPrior(task.masks, task.weights, ref, kind="best")
