"""The prior reproduces the paper's predictions on the shipped tasks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from archsearch.core.layout import paper_pair
from archsearch.formats.task import load_task
from archsearch.prior.score import Prior, uniform_at_budget
from tests.conftest import ROOT, layouts_and_masks

CASES = [("digits-local", (64, 64), 6), ("digits-local-32", (32, 32), 5),
         ("digits-global", (64, 64), 6), ("digits-global-32", (32, 32), 5)]


@pytest.mark.parametrize("name,shape,depth", CASES)
@pytest.mark.parametrize("r", [4, 8, 16, 32])
def test_paper_prediction(name, shape, depth, r):
    """Wide-base above wide-tip on the local tasks, below it on the global ones, at every r."""
    task = load_task(ROOT / "tasks" / f"{name}.yaml")
    wb, wt = paper_pair(shape, 10, r, [2] * depth)
    prior = Prior.for_budget(task.masks, task.weights, wb, wb.param_count())
    if "local" in name:
        assert prior(wb).score > prior(wt).score
    else:
        assert prior(wb).score < prior(wt).score


@settings(max_examples=40, deadline=None)
@given(layouts_and_masks(max_window=4))
def test_reference_scores_one(case):
    lay, masks = case
    ref = uniform_at_budget(lay, lay.param_count())
    prior = Prior(masks, np.ones(len(masks)), ref)
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
    prior = Prior.for_budget(task.masks, only_first, wb, wb.param_count())
    res = prior(wt)
    assert res.score == pytest.approx(res.ratios[0])


def test_bad_weights_are_refused():
    wb, _ = paper_pair((32, 32), 10, 8, [2] * 5)
    with pytest.raises(ValueError, match="non-negative weight"):
        Prior(np.ones((2, 32, 32), bool), np.array([-1.0, 1.0]), wb)
