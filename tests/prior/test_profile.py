"""Profiles: the estimators on synthetic data whose correlation structure is known by construction, and
the ``profile`` command end to end."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.core.partitions import canonical_levels, tiles, tree_windows
from archsearch.formats.task import load_task
from archsearch.prior.profile import (
    canonical_windows,
    entanglement_entropies,
    log_gram,
    measure_profile,
    meet_entropies,
    meet_levels,
    meet_needs,
    meet_sides,
    meet_split,
    meet_surrogate,
    meet_weights,
    surrogate_correlations,
)
from tests.conftest import ROOT, run_cli


def test_log_gram_is_the_product_of_cosines():
    x = np.random.default_rng(0).random((40, 30))
    for theta in (0.05, 0.085, 0.1):
        direct = np.log(np.cos(np.pi * theta * (x[:, None, :] - x[None, :, :]))).sum(axis=2)
        np.testing.assert_allclose(log_gram(x, theta), direct, atol=1e-8)


def test_a_side_that_never_varies_carries_no_entanglement():
    """Side B constant over the sample: its Gram matrix is all ones (rank 1), the data tensor a product
    across the cut, the entropy exactly zero, whatever side A and the labels do."""
    rng = np.random.default_rng(1)
    x = rng.random((60, 16))
    x[:, 8:] = 0.3
    y = rng.integers(0, 3, 60)
    mask = np.arange(16) < 8
    assert entanglement_entropies(x, y, mask[None])[0] == pytest.approx(0.0, abs=1e-6)


def _pairs(n: int, seed: int = 0, across: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """16 inputs in 8 neighbouring pairs: the two inputs of a pair are equal, pairs independent. The label
    reads the first pair alone (z0 > 0.5), or with ``across`` the first two pairs together (z0 + z1 > 1)."""
    rng = np.random.default_rng(seed)
    z = rng.random((n, 8))
    return np.repeat(z, 2, axis=1), ((z[:, 0] + z[:, 1] > 1) if across else (z[:, 0] > 0.5)).astype(int)


def test_correlation_inside_the_windows_is_seen_across_the_split_not_around_it():
    x, y = _pairs(4000)
    odd_even = (np.arange(16) % 2 == 0)[None]  # splits every pair
    window = tree_windows((16,), [(2,)] * 4)[:1]  # one pair against the rest
    sur = surrogate_correlations(x, np.concatenate([odd_even, window]))
    noise = np.sqrt(2 / (np.pi * 4000))  # E|r| of two independent inputs over 4000 samples
    assert sur[0] == pytest.approx(8.0 + 56 * noise, abs=0.5)  # 8 pairs with |corr| = 1 cross, 56 of noise
    assert sur[1] == pytest.approx(28 * noise, abs=0.4)  # nothing but noise crosses the pair's boundary
    x, y = x[:200], y[:200]
    ent = entanglement_entropies(x, y, np.concatenate([odd_even, window]))
    assert ent[0] > 3 * ent[1]


def test_a_label_that_reads_across_a_boundary_makes_it_entangled():
    """The same inputs, with a label that needs pairs 0 and 1 together: now the task correlates the first
    pair with the rest, and the estimator sees it (the surrogate, blind to labels, cannot)."""
    window = tree_windows((16,), [(2,)] * 4)[:1]
    alone = entanglement_entropies(*_pairs(200), window)[0]
    across = entanglement_entropies(*_pairs(200, across=True), window)[0]
    assert across > 3 * alone


def test_independent_inputs_profile_flat_and_low():
    rng = np.random.default_rng(2)
    x, y = rng.random((200, 16)), rng.integers(0, 2, 200)
    x2, y2 = _pairs(200)
    odd_even = (np.arange(16) % 2 == 0)[None]
    assert entanglement_entropies(x, y, odd_even)[0] < entanglement_entropies(x2, y2, odd_even)[0]


def test_measure_profile_covers_every_level_and_partition():
    x, y = _pairs(120)
    prof = measure_profile(x, y, (16,), (np.arange(16) % 2 == 0)[None], ["odd-even"], pool=2, samples=100,
                           windows=3, seed=0)
    assert [r.level for r in prof.rows] == [1, 2, 3, None]
    assert [r.windows for r in prof.rows] == [3, 3, 2, 1]  # level 3 has only two windows of 8
    assert prof.samples == 100 and prof.rows[-1].name == "odd-even"
    assert all(r.need_bits == pytest.approx(r.entropy / np.log(2)) for r in prof.rows)
    assert len(canonical_windows((16,), 2)) == 4 and canonical_levels((16,)) == [1, 2, 3]
    assert [r.level for r in prof.meets] == [1, 2, 3, 4] and [r.windows for r in prof.meets] == [3, 3, 2, 1]
    assert prof.meets[0].surrogate == pytest.approx(1.0)  # the equal pairs meet at level 1


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([((16,), 2), ((27,), 3), ((8, 8), 2), ((4, 8), (2, 2)), ((9, 27), 3), ((12,), 2)]),
       st.data())
def test_every_pair_of_inputs_meets_at_exactly_one_level(grid, data):
    """The pairs meeting at each level partition all pairs: same window there, different children, and
    never in one child; each window is split by the parity sides, each child on one side only."""
    shape, pool = grid
    levels = meet_levels(shape, pool)
    n = int(np.prod(shape))
    i, j = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    splits = [meet_split(shape, k, pool) for k in levels]
    meets = [k for k, (w, c, _) in zip(levels, splits, strict=True) if w[i] == w[j] and c[i] != c[j]]
    whole = all(len(np.unique(w)) == 1 for w, _, _ in splits[-1:])
    if i != j and whole:
        assert len(meets) == 1  # the top window holds every input: each pair meets somewhere, once
    assert len(meets) <= 1 and (i != j or not meets)
    for w, c, side in splits:
        for win in np.unique(w):
            assert side[w == win].any() and not side[w == win].all()
        for ch in np.unique(c):
            assert len(np.unique(side[c == ch])) == 1 and len(np.unique(w[c == ch])) == 1


def test_meet_levels_include_the_whole_grid():
    assert meet_levels((32,)) == [1, 2, 3, 4, 5] and meet_levels((32, 32)) == [1, 2, 3, 4, 5]
    assert meet_levels((12,)) == [1, 2] and meet_levels((27,), 3) == [1, 2, 3]
    with pytest.raises(ValueError, match="level 3"):
        meet_split((12,), 3)


def test_neighbouring_pairs_meet_at_the_first_level_and_scrambled_ones_higher():
    """Inputs 2i and 2i+1 equal, pairs independent: every pair meeting at level 1 has |corr| = 1, every
    other pair only sampling noise. With the partners placed 8 apart the strong pairs meet at the top."""
    x, _ = _pairs(4000)
    noise = np.sqrt(2 / (np.pi * 4000))
    per_level = [meet_surrogate(x, (16,), k) for k in meet_levels((16,))]
    assert per_level[0] == pytest.approx(1.0, abs=1e-9)
    assert all(v == pytest.approx(noise, abs=0.02) for v in per_level[1:])
    apart = x[:, np.r_[np.arange(0, 16, 2), np.arange(1, 16, 2)]]  # partner of input i: i + 8
    np.testing.assert_allclose(apart[:, :8], apart[:, 8:])
    per_level = [meet_surrogate(apart, (16,), k) for k in meet_levels((16,))]
    assert per_level[-1] == pytest.approx((8 + 56 * noise) / 64, abs=0.02)  # 8 of its 64 pairs are partners
    assert all(v == pytest.approx(noise, abs=0.02) for v in per_level[:-1])


def test_a_child_that_never_varies_meets_nothing():
    """Odd inputs constant: each first-level window is a product across its children (entropy 0), while
    at level 2 two varying, label-bearing inputs meet (input 2 copies input 0, which the label reads)."""
    rng = np.random.default_rng(3)
    x = rng.random((150, 8))
    x[:, 1::2] = 0.4
    x[:, 2] = x[:, 0]
    y = (x[:, 0] > 0.5).astype(int)
    first = meet_entropies(x, y, (8,), 1)
    assert first.shape == (4,) and np.abs(first).max() < 1e-6
    assert meet_entropies(x, y, (8,), 2, windows=[0])[0] > 0.05


@pytest.mark.parametrize("shape,pool", [((32,), 2), ((16, 16), 2), ((27,), 3), ((9, 9), 3)])
def test_a_meet_level_is_the_tiles_partition_of_its_children(shape, pool):
    """What ``profile --out`` writes (``kind: tiles``, size pool^(k-1)) is the split the meet measures."""
    for k in meet_levels(shape, pool):
        _, _, side = meet_split(shape, k, pool)
        np.testing.assert_array_equal(tiles(shape, pool ** (k - 1)).ravel(), side)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.just(0.0) | st.floats(1e-6, 1e4), st.floats(0.1, 1e3)), min_size=1, max_size=8))
def test_meet_needs_follow_the_correlation_and_the_reference_meets_them_on_average(levels):
    totals, reference = np.array(levels).T
    needs = meet_needs(totals, reference)
    if totals.sum() == 0:
        assert (needs == 0).all()
        return
    assert np.mean(needs / reference) == pytest.approx(1.0)
    np.testing.assert_allclose(needs * totals.sum(), totals * needs.sum(), rtol=1e-9, atol=1e-9)


def test_meet_needs_refuse_bad_input():
    for totals, ref in (([1.0], [1.0, 2.0]), ([], []), ([1.0], [0.0]), ([-1.0], [1.0])):
        with pytest.raises(ValueError):
            meet_needs(totals, ref)


def test_profile_command_writes_meets_with_needs_for_a_budget(tmp_path, capsys):
    from archsearch.formats.space import load_space
    from archsearch.prior.score import Prior

    out, task = tmp_path / "local-profiled.yaml", ROOT / "tasks" / "digits-local-32.yaml"
    space = ROOT / "search_spaces" / "cpu-32x32-grid.yaml"
    argv = ["profile", str(task), "--samples", "64", "--windows", "2", "--space", str(space), "--out", str(out),
            "--runs-dir", str(tmp_path), "--json", "--needs", "meets"]
    assert run_cli(argv) == 0
    report = json.loads(capsys.readouterr().out)
    original, profiled = load_task(task), load_task(out)
    assert profiled.names == original.names + [f"meet-{k}" for k in range(1, 6)]
    mine = profiled.partitions[: len(original.partitions)]
    assert all(p.need is None for p in mine) and [p.weight for p in mine] == list(original.weights)
    meets = profiled.partitions[len(original.partitions):]
    assert [p.need for p in meets] == pytest.approx([r["need_bits"] for r in report["meets"]], abs=1e-3)
    assert all(p.weight == 1.0 and p.kind == "tiles" for p in meets)
    reference = Prior.for_space(np.stack([p.mask for p in meets]), np.ones(5), load_space(space)).reference_log2
    assert np.mean([p.need for p in meets] / reference) == pytest.approx(1.0, abs=1e-3)
    totals = [r["surrogate_total"] for r in report["meets"]]
    # windows x 6 pairs of children x (inputs per child)^2; every pair of the 1024 inputs meets once
    assert [r["pairs"] for r in report["meets"]] == [4 ** (5 - k) * 6 * 16 ** (k - 1) for k in range(1, 6)]
    assert sum(r["pairs"] for r in report["meets"]) == 1024 * 1023 // 2
    needs = np.array([p.need for p in meets])
    np.testing.assert_allclose(needs / totals, needs[-1] / totals[-1], rtol=1e-2)  # in proportion to C_k


@settings(max_examples=80, deadline=None)
@given(st.lists(st.just(0.0) | st.floats(1e-6, 1e4), min_size=1, max_size=8))
def test_meet_weights_are_each_levels_share_with_mean_one(totals):
    w = meet_weights(totals)
    totals = np.array(totals)
    if totals.sum() == 0:
        assert (w == 0).all()
        return
    assert w.mean() == pytest.approx(1.0)
    np.testing.assert_allclose(w * totals.sum(), totals * w.sum(), rtol=1e-9, atol=1e-12)


def test_meet_weights_closed_form_and_bad_input():
    np.testing.assert_allclose(meet_weights([1.0, 2.0, 3.0]), [0.5, 1.0, 1.5])
    for bad in ([], [-1.0, 2.0], [np.nan]):
        with pytest.raises(ValueError):
            meet_weights(bad)


def test_profile_command_writes_meets_weighted_by_their_share(tmp_path, capsys):
    """``--needs share``, the default: the meet partitions carry each level's share of the summed |corr| as
    weight and state no need (the prior's is the reference's capacity); no space is needed, the task's own
    partitions are as written."""
    out, task = tmp_path / "local-share.yaml", ROOT / "tasks" / "digits-local-32.yaml"
    argv = ["profile", str(task), "--samples", "64", "--windows", "2", "--out", str(out),
            "--runs-dir", str(tmp_path), "--json"]
    assert run_cli(argv) == 0
    report = json.loads(capsys.readouterr().out)
    original, profiled = load_task(task), load_task(out)
    assert profiled.names == original.names + [f"meet-{k}" for k in range(1, 6)]
    meets = profiled.partitions[len(original.partitions):]
    assert all(p.need is None for p in profiled.partitions) and all(p.kind == "tiles" for p in meets)
    assert [p.weight for p in profiled.partitions[: len(original.partitions)]] == list(original.weights)
    totals = np.array([r["surrogate_total"] for r in report["meets"]])
    weights = np.array([p.weight for p in meets])
    np.testing.assert_allclose(weights, totals / totals.mean(), atol=1e-3)
    assert [r["weight"] for r in report["meets"]] == pytest.approx(weights, abs=1e-3)
    assert "C_k the summed |correlation|" in out.read_text()


@pytest.mark.parametrize("needs, shipped_name",
                         [(None, "digits-local-32-share.yaml"), ("meets", "digits-local-32.yaml")])
def test_the_shipped_profiled_task_is_what_profile_writes(needs, shipped_name, tmp_path):
    """benchmarks/evals/profiled/ holds what `profile --space --out` wrote (at its defaults: the share design;
    and with --needs meets): regenerated here, every partition, weight and need is the same (the evaluations
    beside them were made with these files)."""
    import yaml

    out = tmp_path / "p.yaml"
    argv = ["profile", str(ROOT / "tasks" / "digits-local-32.yaml"), "--space",
            str(ROOT / "search_spaces" / "cpu-32x32-grid.yaml"), "--out", str(out), "--runs-dir", str(tmp_path)]
    assert run_cli(argv + ([] if needs is None else ["--needs", needs])) == 0
    shipped = yaml.safe_load((ROOT / "benchmarks" / "evals" / "profiled" / shipped_name).read_text())
    again = yaml.safe_load(out.read_text())
    assert [p["name"] for p in again["partitions"]] == [p["name"] for p in shipped["partitions"]]
    for mine, theirs in zip(again["partitions"], shipped["partitions"], strict=True):
        assert mine.get("need") == pytest.approx(theirs.get("need"), abs=2e-3)
        assert mine["weight"] == pytest.approx(theirs["weight"], abs=2e-3)
        rest = ("need", "weight")
        assert {k: v for k, v in mine.items() if k not in rest} == {k: v for k, v in theirs.items() if k not in rest}
    assert ("need" in again["partitions"][-1]) == (needs == "meets")


def test_profile_out_needs_a_space_that_pools_as_it_does(tmp_path, capsys):
    task = str(ROOT / "tasks" / "digits-local-32.yaml")
    assert run_cli(["profile", task, "--out", str(tmp_path / "p.yaml"), "--needs", "meets"]) == 2
    assert "--space" in capsys.readouterr().err
    other = tmp_path / "space.yaml"
    other.write_text((ROOT / "search_spaces" / "cpu-32x32-grid.yaml").read_text()  # its top pools 16 x 16, not 32
                     .replace("pool: [2, 2]", "schedules: [[[2, 2], [2, 2], [2, 2], [2, 2]]]"))
    argv = ["profile", task, "--samples", "16", "--windows", "1", "--runs-dir", str(tmp_path), "--space", str(other)]
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "schedules" in err and "space.yaml" in err
    assert run_cli([*argv[:-1], str(ROOT / "search_spaces" / "mnist1d-32-grid.yaml")]) == 2
    assert "input_shape" in capsys.readouterr().err
    oblong = tmp_path / "oblong.yaml"  # pools 4 x 2 then 8 x 16: a meet's children would not be square tiles
    oblong.write_text((ROOT / "search_spaces" / "cpu-32x32-grid.yaml").read_text()
                      .replace("pool: [2, 2]", "schedules: [[[4, 2], [8, 16]]]"))
    assert run_cli([*argv[:-1], str(oblong)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "one pooling window for every axis" in err and "oblong.yaml" in err
    assert not (tmp_path / "p.yaml").exists()


def test_meets_follow_a_schedule_that_changes_its_pooling():
    """With a schedule (2, 2, 2, 2, then 3 on length 48) the meet levels are its running products, the whole
    grid included: the top window of 48 splits into its three children of 16 by parity (0 and 2 against 1);
    without one, pooling by 2 stops at 16 and the top level would be left out."""
    schedule = [[2], [2], [2], [2], [3]]
    assert meet_sides((48,), schedule=schedule) == [(2,), (4,), (8,), (16,), (48,)]
    assert meet_levels((48,), schedule=schedule) == [1, 2, 3, 4, 5] and meet_levels((48,)) == [1, 2, 3, 4]
    window, child, side = meet_split((48,), 5, schedule=schedule)
    assert (window == 0).all() and child.tolist() == [i // 16 for i in range(48)]
    assert side.tolist() == [i // 16 != 1 for i in range(48)]
    window, child, side = meet_split((48,), 2, schedule=schedule)  # the levels below are pooling by 2's
    w2, c2, s2 = meet_split((48,), 2)
    assert (window == w2).all() and (child == c2).all() and (side == s2).all()
    with pytest.raises(ValueError, match="do not tile"):
        meet_sides((48,), schedule=[[2], [5]])
    # a layer that does not pool joins no inputs: it adds no meet level (its children would be itself)
    assert meet_sides((32,), schedule=[[2], [1], [2], [2], [2], [2]]) == meet_sides((32,))


def test_profile_with_a_space_whose_pooling_changes(tmp_path, capsys):
    """`profile --space` on a space pooling by 2, 2, 2, 2 then 3 (length 48) writes one meet partition per
    level of that schedule, the top one included, tiles of the children's side; without the space it refuses
    in one line, as before, and says --space would do."""
    task = str(ROOT / "tasks" / "mnist1d-48.yaml")
    out = tmp_path / "p.yaml"
    argv = ["profile", task, "--samples", "32", "--windows", "2", "--runs-dir", str(tmp_path), "--out", str(out)]
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--space" in err and not out.exists()
    assert run_cli([*argv, "--space", str(ROOT / "search_spaces" / "mnist1d-48-grid.yaml"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["level"] for r in report["meets"]] == [1, 2, 3, 4, 5]
    meets = [p for p in load_task(out).partitions if p.name.startswith("meet-")]
    assert [p.name for p in meets] == [f"meet-{k}" for k in range(1, 6)]
    assert [int(p.mask.ravel().tolist().index(False)) for p in meets] == [1, 2, 4, 8, 16]  # tiles of 1, 2, 4, 8, 16


def test_profile_command_writes_a_task_with_needs(tmp_path, capsys):
    out, plot = tmp_path / "local-profiled.yaml", tmp_path / "profile.png"
    task = ROOT / "tasks" / "digits-local-32.yaml"
    argv = ["profile", str(task), "--samples", "64", "--windows", "2", "--out", str(out), "--plot", str(plot),
            "--needs", "entropy", "--runs-dir", str(tmp_path), "--json"]
    assert run_cli(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["level"] for r in report["levels"]] == [1, 2, 3, 4]
    assert [p["name"] for p in report["partitions"]] == load_task(task).names
    assert [r["level"] for r in report["meets"]] == [1, 2, 3, 4, 5]
    assert all(0 <= r["surrogate_per_pair"] <= 1 and r["bits"] >= 0 for r in report["meets"])
    profiled = load_task(out)
    assert profiled.name == "digits-local-32-profiled"  # a task of its own: the original's studies keep theirs
    assert profiled.states_canonical and not np.isnan(profiled.needs).any()
    by_name = {p.name: p for p in profiled.partitions}
    for r in report["levels"]:
        assert by_name[f"level-{r['level']}"].need == pytest.approx(r["need_bits"], abs=1e-3)
    assert plot.stat().st_size > 1000
    assert run_cli(argv) == 2  # no overwrite without --force
    assert "--force" in capsys.readouterr().err


@pytest.mark.parametrize("extra,field", [(["--pool", "3"], "--pool"), (["--pool", "2,2,2"], "--pool"),
                                         (["--samples", "4"], "--samples"), (["--theta", "0"], "--theta"),
                                         (["--theta", "0.6"], "--theta"), (["--theta", "nan"], "--theta"),
                                         (["--theta", "x"], "--theta")])
def test_profile_refuses_bad_options(extra, field, tmp_path, capsys):
    assert run_cli(["profile", str(ROOT / "tasks" / "digits-local-32.yaml"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and field.strip("-") in err


def test_profile_needs_data(tmp_path, capsys):
    task = tmp_path / "t.yaml"
    task.write_text("name: t\ninput_shape: [16]\npartitions:\n  - {name: lr, kind: left-right}\n")
    assert run_cli(["profile", str(task)]) == 2
    assert "data" in capsys.readouterr().err


def _profiled_variants():
    import importlib.util

    spec = importlib.util.spec_from_file_location("profiled_variants", ROOT / "benchmarks" / "profiled_variants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_variants_knobs_at_their_shipped_settings_are_the_shipped_prior():
    """benchmarks/profiled_variants.py (README's table of knobs): alpha 0 with the prior's own floor is the
    shipped share prior, and its explicit floor with every level's weight 1 is that same floor."""
    from archsearch.formats.space import load_space
    from archsearch.prior.score import Prior

    variants = _profiled_variants()
    space = load_space(ROOT / "search_spaces" / "mnist1d-32-grid.yaml")
    task = load_task(ROOT / "benchmarks" / "evals" / "profiled" / "mnist1d-32-scrambled-share.yaml")
    rng = np.random.default_rng(0)
    layouts = [space.layout(0, space.M[0], list(rng.choice([4, 8, 16, 32, 64], 5))) for _ in range(40)]
    shipped = np.array([Prior.for_task(task, space)(lay).score for lay in layouts])
    same = np.array([variants.variant_prior(task, space, 0.0, "1")(lay).score for lay in layouts])
    np.testing.assert_allclose(same, shipped, rtol=1e-12)
    flat = replace(task, partitions=tuple(replace(p, weight=1.0) for p in task.partitions))
    ones = np.array([variants.variant_prior(flat, space, 0.0, "share")(lay).score for lay in layouts])
    own = np.array([Prior.for_task(flat, space)(lay).score for lay in layouts])
    np.testing.assert_allclose(ones, own, rtol=1e-12)
    assert not np.allclose(ones, shipped)  # the weights mattered
    # alpha scales each meet level's need by its share: n_k = c_ref_k * w_k ** alpha; the rest keep the reference's
    meet = np.array([p.name.startswith("meet-") for p in task.partitions])
    base = Prior.for_task(task, space).needs
    for alpha in (0.5, 1.0):
        needs = variants.variant_prior(task, space, alpha, "1").needs
        np.testing.assert_allclose(needs[meet], base[meet] * task.weights[meet] ** alpha, rtol=1e-12)
        np.testing.assert_allclose(needs[~meet], base[~meet], rtol=1e-12)
