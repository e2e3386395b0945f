"""Many layouts at once: the shared-structure DP equals the per-layout DP, the batched prior equals the
prior, and the exhaustive ranking equals brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.core.batched import log2_widths, mincut_many, shared_tree
from archsearch.core.layout import Layout, param_count
from archsearch.core.mincut import log2_mincut
from archsearch.formats.space import load_space
from archsearch.formats.task import load_task
from archsearch.prior.exhaustive import MAX_EXHAUSTIVE, exhaustive_top, grid_size, param_counts
from archsearch.prior.score import PRIORS, Prior
from tests.conftest import ROOT, layouts_and_masks


@settings(max_examples=60, deadline=None)
@given(layouts_and_masks(n_masks=4, max_window=4), st.integers(0, 2**32 - 1))
def test_shared_tree_dp_equals_the_per_layout_dp(case, seed):
    lay, masks = case
    rng = np.random.default_rng(seed)
    channels = rng.integers(1, 40, size=(12, lay.depth))
    Ms = rng.integers(1, 12, size=12)
    got = mincut_many(shared_tree(lay, masks), log2_widths(Ms, channels))
    want = np.array([log2_mincut(Layout(lay.input_shape, int(m), lay.layers).with_channels(
        [int(c) for c in ch]), masks) for m, ch in zip(Ms, channels, strict=True)])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_equal_subtrees_are_one_type():
    """A checkerboard has one node type per level, whatever the grid."""
    lay = Layout.uniform((32, 32), 10, 8, [2] * 5)
    checker = (np.indices((32, 32)).sum(axis=0) % 2 == 0)[None]
    tree = shared_tree(lay, checker)
    assert [len(k) for k in tree.kids] == [1] * 5


@pytest.mark.parametrize("kind", PRIORS)
@pytest.mark.parametrize("task", ["digits-local-32", "digits-global-32"])
def test_score_many_equals_the_prior(task, kind):
    space = load_space(ROOT / "search_spaces" / "cpu-32x32-grid.yaml")
    prior = Prior.for_task(load_task(ROOT / "tasks" / f"{task}.yaml"), space, kind)
    template = space.layout(0, 10, [8] * 5)
    channels = np.random.default_rng(0).choice([4, 8, 16, 32, 64], size=(200, 5))
    many = prior.score_many(template, channels, chunk=64)  # several chunks
    one = [prior(template.with_channels([int(c) for c in ch])).score for ch in channels]
    np.testing.assert_allclose(many, one, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", PRIORS)
def test_score_many_with_an_m_per_layout_equals_the_prior(tmp_path, kind):
    """The canonical levels' and the output's needs come from a reference drawn per M; a batch mixing Ms
    scores each layout with its own."""
    path = tmp_path / "space.yaml"  # a budget wide enough that the reference's widths exceed log2(classes)
    path.write_text("name: wide\ninput_shape: [16]\nM: [1, 3, 4, 9]\npool: 2\nchannels: {choices: [2, 8, 32, 64]}\n"
                    "budget: {max_params: 9000}\n")
    space = load_space(path)
    task_path = tmp_path / "task.yaml"
    task_path.write_text("name: t\ninput_shape: [16]\npartitions:\n  - {name: lr, kind: left-right}\n")
    prior = Prior.for_task(load_task(task_path), space, kind)
    template = space.layout(0, 3, [2] * 4)
    rng = np.random.default_rng(3)
    channels, Ms = rng.choice([2, 8, 32, 64], size=(40, 4)), rng.choice([1, 3, 4, 9], size=40)
    many = prior.score_many(template, channels, Ms, chunk=16)
    one = [prior(space.layout(0, int(m), [int(c) for c in ch])).score for m, ch in zip(Ms, channels, strict=True)]
    np.testing.assert_allclose(many, one, rtol=0, atol=1e-12)


def test_param_counts_match_the_layouts():
    space = load_space(ROOT / "search_spaces" / "cpu-32x32-grid.yaml")
    channels = np.random.default_rng(1).choice([4, 8, 16, 32, 64], size=(50, 5))
    want = [param_count(space.layout(0, 10, [int(c) for c in ch])) for ch in channels]
    assert param_counts(space, 10, channels).tolist() == want


def _small_space(tmp_path, choices="[2, 3, 5, 8]", extra=""):
    path = tmp_path / "space.yaml"
    path.write_text(f"name: small\ninput_shape: [16]\nM: [3, 4]\npool: 2\nchannels: {{choices: {choices}}}\n"
                    f"budget: {{max_params: 400, min_params: 150}}\n{extra}")
    return load_space(path)


@pytest.mark.parametrize("kind", PRIORS)
def test_exhaustive_top_is_brute_force(tmp_path, kind):
    space = _small_space(tmp_path)
    task_path = tmp_path / "task.yaml"
    task_path.write_text("name: t\ninput_shape: [16]\npartitions:\n  - {name: oe, kind: odd-even}\n"
                         "  - {name: lr, kind: left-right, weight: 0.5, need: 2}\n")
    prior = Prior.for_task(load_task(task_path), space, kind)
    brute = []
    for m in space.M:
        for ch in itertools.product(space.channel_choices, repeat=4):
            lay = space.layout(0, m, list(ch))
            if space.fits(lay.param_count()):
                brute.append((prior(lay).score, lay.param_count(), tuple(-c for c in ch), -m, m, ch))
    brute.sort(reverse=True)
    top = exhaustive_top(space, prior, 10)
    assert [(r.M, r.channels) for r in top] == [(m, ch) for *_, m, ch in brute[:10]]
    assert [r.score for r in top] == pytest.approx([b[0] for b in brute[:10]], abs=1e-12)
    assert grid_size(space) == 2 * 4 ** 4


def test_exhaustive_refuses_a_space_too_large(tmp_path):
    space = _small_space(tmp_path, choices="[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, "
                                           "21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38]")
    assert grid_size(space) > MAX_EXHAUSTIVE
    prior = Prior.for_space(np.array([[True] * 8 + [False] * 8]), np.ones(1), space)
    with pytest.raises(ValueError, match="too many|over the"):
        exhaustive_top(space, prior, 3)


def test_prior_only_search_takes_the_exact_ranking(tmp_path):
    """``--sampler auto`` on a small space: trial k is the prior's k-th best layout, stored in a real study."""
    import optuna

    from tests.conftest import run_cli

    task_path, space_path = ROOT / "tasks" / "digits-local-32.yaml", ROOT / "search_spaces" / "cpu-32x32-grid.yaml"
    assert run_cli(["search", str(task_path), str(space_path), "--prior-only", "--trials", "4", "--study-name", "ex",
                    "--runs-dir", str(tmp_path), "--no-progress"]) == 0
    study = optuna.load_study(study_name="ex", storage=f"sqlite:///{tmp_path}/ex/study.db")
    space = load_space(space_path)
    top = exhaustive_top(space, Prior.for_task(load_task(task_path), space), 4)
    got = sorted(study.trials, key=lambda t: t.number)
    assert [tuple(t.params[f"r{l}"] for l in range(5)) for t in got] == [r.channels for r in top]
    assert [t.value for t in got] == pytest.approx([r.score for r in top])
    # exhaustive is refused where it cannot run: with training, and on a space too large to enumerate
    big = ROOT / "search_spaces" / "cpu-32x32.yaml"
    assert run_cli(["search", str(task_path), str(big), "--prior-only", "--sampler", "exhaustive", "--trials", "2",
                    "--study-name", "ex2", "--runs-dir", str(tmp_path), "--no-progress"]) == 2
    assert run_cli(["search", str(task_path), str(space_path), "--sampler", "exhaustive", "--trials", "2",
                    "--study-name", "ex3", "--runs-dir", str(tmp_path), "--no-progress"]) == 2
    assert not (tmp_path / "ex2").exists() and not (tmp_path / "ex3").exists()


def test_a_study_remembers_the_prior_variant():
    """The needs variant makes another fingerprint; the ratio variant without needs keeps 0.2.0's (so an
    old study resumes with ``--prior ratio``), recomputed here the way 0.2.0 did."""
    import hashlib
    import json

    from archsearch.search.study import fingerprint

    task = load_task(ROOT / "tasks" / "digits-local-32.yaml")
    space = load_space(ROOT / "search_spaces" / "cpu-32x32-grid.yaml")
    h = hashlib.sha256()
    h.update(task.masks.tobytes())
    h.update(task.weights.tobytes())
    fields = {k: v for k, v in vars(space).items() if k not in ("source", "description", "name")}
    h.update(json.dumps(fields, sort_keys=True, default=str).encode())
    h.update(b"prior-only")
    assert fingerprint(task, space, "prior-only", "ratio") == h.hexdigest()[:16]
    assert fingerprint(task, space, "prior-only", "needs") != h.hexdigest()[:16]
