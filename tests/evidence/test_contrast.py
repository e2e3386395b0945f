"""Two tables on one space: each predictor's change of ordering against training's, on closed cases,
synthetic tables and the shipped MNIST-1D pair."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.evidence.contrast import (
    change,
    change_ceiling,
    contrast,
    held_out_change,
    percentiles,
    preferred_agreement,
    preferred_shift,
    resampled_shifts,
    shared_layouts,
)
from archsearch.evidence.table import Row
from tests.conftest import ROOT, run_cli

TABLES = ROOT / "benchmarks" / "tables"


def test_percentiles_closed_cases():
    np.testing.assert_allclose(percentiles(np.array([3.0, 1.0, 2.0])), [1.0, 0.0, 0.5])
    np.testing.assert_allclose(percentiles(np.array([1.0, 1.0, 2.0])), [0.25, 0.25, 1.0])  # ties share
    np.testing.assert_allclose(change(np.array([1.0, 2.0, 3.0]), np.array([30.0, 20.0, 10.0])), [1.0, 0.0, -1.0])
    assert (change(np.arange(5.0), np.arange(5.0) * 7 + 100) == 0).all()  # a monotone rescale moves nothing


distinct = st.lists(st.floats(0.01, 1, allow_nan=False), min_size=6, max_size=30, unique=True)


@settings(max_examples=60, deadline=None)
@given(distinct, st.randoms(use_true_random=False))
def test_an_oracle_follows_the_change_and_a_fixed_score_does_not_move(acc_a, rnd):
    acc_a = np.array(acc_a)
    acc_b = acc_a.copy()
    rnd.shuffle(acc_b)
    if (acc_b == acc_a).all():
        return
    channels = [[4, 8]] * len(acc_a)
    out = contrast(acc_a, acc_b, {"oracle": acc_a * 3, "fixed": acc_a, "against": -acc_a},
                   {"oracle": acc_b * 2, "fixed": acc_a, "against": -acc_b}, channels, k=3, resamples=20)
    oracle, fixed, against = (out["predictors"][n] for n in ("oracle", "fixed", "against"))
    assert oracle["change_tau"] == pytest.approx(1.0) and against["change_tau"] == pytest.approx(-1.0)
    assert oracle["between_tau"] == pytest.approx(out["training"]["between_tau"])
    assert oracle["top_kept"] == out["training"]["top_kept"] and oracle["top1_b"] == out["training"]["top1_b"]
    assert np.isnan(fixed["change_tau"]) and fixed["between_tau"] == pytest.approx(1.0)
    assert fixed["top_kept"] == 3 and fixed["top1_a"] == fixed["top1_b"]


def test_the_layer_shift_on_a_full_grid():
    """Training follows the first layer's width on A and the last one's on B: on a full grid its shift is
    exactly -1, 0, +1; a predictor that scores the same on both sides shifts by nothing."""
    grid = np.array(list(itertools.product([4, 8, 16], repeat=3)))
    acc_a, acc_b = np.log2(grid[:, 0]) * 1.0, np.log2(grid[:, 2]) * 1.0
    out = contrast(acc_a, acc_b, {"same": grid[:, 1] * 1.0}, {"same": grid[:, 1] * 1.0}, grid, resamples=10)
    assert out["layer_shift"]["trained"] == pytest.approx([-1.0, 0.0, 1.0], abs=1e-12)
    assert out["layer_shift"]["same"] == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)


def test_the_preferred_shift_on_closed_cases():
    """The top third by A are the layouts wide at the first layer, by B those wide at the last: the group's
    mean log2 width moves by exactly -1 and +1 there; a predictor that swaps A and B moves the other way."""
    chans = np.array([[8, 4, 4], [8, 4, 4], [4, 4, 8], [4, 4, 8], [4, 4, 4], [4, 4, 4]])
    logs = np.log2(chans.astype(float))
    acc_a = np.array([0.9, 0.8, 0.1, 0.2, 0.3, 0.4])
    acc_b = np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.4])
    np.testing.assert_allclose(preferred_shift(acc_a, acc_b, logs, 1 / 3), [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(preferred_shift(acc_a, acc_a, logs, 1 / 3), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(preferred_shift(acc_a, acc_b, logs, 0.01), [-1.0, 0.0, 1.0])  # at least one
    np.testing.assert_allclose(preferred_shift(acc_a, acc_b, logs, 1.0), [0.0, 0.0, 0.0])  # everyone on both
    shift, r, ci = preferred_agreement(acc_b, acc_a, acc_a, acc_b, logs, 1 / 3, resamples=50)
    assert shift.tolist() == [1.0, 0.0, -1.0] and r == pytest.approx(-1.0) and ci[0] <= ci[1] <= 1.0
    shift, r, ci = preferred_agreement(acc_a, acc_a, acc_a, acc_b, logs, 1 / 3, resamples=50)
    assert np.isnan(r) and all(np.isnan(ci))  # a group that does not move agrees with nothing


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([4, 8, 16]), st.sampled_from([4, 8, 16]), st.sampled_from([4, 8, 16]),
                          st.floats(0, 1), st.floats(0, 1)), min_size=8, max_size=40),
       st.floats(0.05, 0.5))
def test_an_oracle_prefers_as_training_does_and_the_swapped_one_the_other_way(rows, share):
    chans = np.array([r[:3] for r in rows])
    acc_a, acc_b = np.array([r[3] for r in rows]), np.array([r[4] for r in rows])
    logs = np.log2(chans.astype(float))
    trained = preferred_shift(acc_a, acc_b, logs, share)
    if np.ptp(trained) == 0:
        return
    _, r, ci = preferred_agreement(acc_a * 2, acc_b * 4, acc_a, acc_b, logs, share, resamples=10)
    assert r == pytest.approx(1.0)  # an exact rescale picks the same groups
    _, r, _ = preferred_agreement(acc_b, acc_a, acc_a, acc_b, logs, share, resamples=10)
    assert r == pytest.approx(-1.0)
    out = contrast(acc_a, acc_b, {"o": acc_a}, {"o": acc_b}, chans.tolist(), resamples=5, prefer=share)
    assert out["training"]["preferred_r"] == pytest.approx(1.0)
    assert out["predictors"]["o"]["preferred_shift"] == pytest.approx(trained.tolist())


def test_training_resampled_once_serves_every_predictor_as_if_drawn_for_each():
    """contrast() computes training's bootstrap shifts once and hands them to each predictor: its interval
    is the one preferred_agreement draws on its own, and the resamples pair up with the predictor's."""
    rng = np.random.default_rng(3)
    chans = rng.choice([4, 8, 16, 32], size=(60, 4))
    logs = np.log2(chans.astype(float))
    acc_a, acc_b = rng.random(60), rng.random(60)
    scores = {"p": rng.random(60), "q": acc_b + rng.random(60)}, {"p": rng.random(60), "q": acc_a + rng.random(60)}
    out = contrast(acc_a, acc_b, scores[0], scores[1], chans.tolist(), seed=5, resamples=300, prefer=0.2)
    drawn = resampled_shifts(acc_a, acc_b, logs, 0.2, 5, 300)
    for name in ("p", "q"):
        alone = preferred_agreement(scores[0][name], scores[1][name], acc_a, acc_b, logs, 0.2, 5, 300)
        shared = preferred_agreement(scores[0][name], scores[1][name], acc_a, acc_b, logs, 0.2, 5, 300, drawn)
        assert alone[1:] == shared[1:] and out["predictors"][name]["preferred_ci"] == list(alone[2])
        assert np.isfinite(alone[2]).all() and alone[2][0] < alone[2][1]
    # resample j of the predictor and of training use the same layouts: training against itself is r = 1
    _, r, ci = preferred_agreement(acc_a, acc_b, acc_a, acc_b, logs, 0.2, 5, 300, drawn)
    assert r == pytest.approx(1.0) and ci[0] == pytest.approx(1.0)


def test_no_preferred_shift_across_depths():
    out = contrast(np.arange(4.0), np.arange(4.0)[::-1], {"p": np.arange(4.0)}, {"p": np.arange(4.0)},
                   [[4, 8], [8, 4], [4, 8, 8], [8, 8, 4]], resamples=5)
    assert out["training"]["preferred_shift"] is None and out["predictors"]["p"]["preferred_r"] is None


def _table(channels, runs):
    from archsearch.formats.table import LayoutEntry
    from tests.conftest import table_of_runs

    table = table_of_runs(runs)
    table.layouts = [LayoutEntry(id=i, label="grid", schedule=0, M=10, channels=list(c), params=1)
                     for i, c in enumerate(channels)]
    return table


def test_shared_layouts_and_the_ceiling_of_the_change():
    rng = np.random.default_rng(0)
    chans = [[a, b] for a in (4, 8, 16) for b in (4, 8, 16)]
    acc_a, acc_b = rng.random(9), rng.random(9)
    # B lists its layouts in another order and lacks one; seed 1 repeats seed 0 a little higher
    order = [8, 7, 6, 5, 4, 3, 2, 1]
    a = _table(chans, [(i, s, acc_a[i] + 0.01 * s) for i in range(9) for s in (0, 1)])
    b = _table([chans[i] for i in order], [(j, s, acc_b[i] + 0.01 * s) for j, i in enumerate(order) for s in (0, 1)])
    rows_a = [Row(e.id, e.label, e.schedule, e.M, e.channels, e.params, acc_a[e.id], 0.0, [0]) for e in a.layouts]
    rows_b = [Row(e.id, e.label, e.schedule, e.M, e.channels, e.params, acc_b[order[e.id]], 0.0, [0])
              for e in b.layouts]
    sa, sb = shared_layouts(rows_a, rows_b)
    assert [r.channels for r in sa] == [r.channels for r in sb] == chans[1:]
    assert [r.val_accuracy for r in sb] == list(acc_b[1:])
    ceiling = change_ceiling(a, b, resamples=20)
    assert ceiling["layouts"] == 8 and ceiling["kendall_tau"] == pytest.approx(1.0)  # seeds agree exactly
    b.runs = [r for r in b.runs if r.seed == 0]
    assert change_ceiling(a, b)["layouts"] == 0 and np.isnan(change_ceiling(a, b)["kendall_tau"])


def test_contrast_command_on_the_mnist1d_pair(tmp_path, capsys):
    """As written, the two tasks differ only in their data: a prior that reads the task file does not move
    (reported as unchanged, null in JSON); a task that weights other partitions moves it."""
    a, b = str(TABLES / "mnist1d-32.json"), str(TABLES / "mnist1d-32-scrambled.json")
    assert run_cli(["bench", "contrast", a, b, "--predictors", "prior", "random", "--json", "--top", "5"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["layouts"] == 257 and rep["task_b"] == "mnist1d-32-scrambled"
    assert rep["predictors"]["prior"]["change_tau"] is None and rep["predictors"]["prior"]["top_kept"] == 5
    assert rep["training"]["change_tau"] == pytest.approx(1.0) and -1 < rep["training"]["between_tau"] < 1
    assert len(rep["training"]["top1_a"]) == 5 and set(rep["layer_shift"]) == {"trained", "prior", "random"}
    assert rep["change_ceiling"]["layouts"] == 40 and rep["prefer"] == 0.1
    assert rep["training"]["preferred_r"] == pytest.approx(1.0) and len(rep["training"]["preferred_shift"]) == 5
    assert rep["predictors"]["prior"]["preferred_r"] is None  # the same scores: its group does not move
    other = tmp_path / "global.yaml"
    other.write_text((ROOT / "tasks" / "mnist1d-32-scrambled.yaml").read_text()
                     .replace("{name: left-right, kind: left-right, weight: 0.25}",
                              "{name: left-right, kind: left-right, weight: 8.0}"))
    plot = tmp_path / "c.png"
    assert run_cli(["bench", "contrast", a, b, "--task-b", str(other), "--predictors", "prior", "--plot",
                    str(plot)]) == 0
    out = capsys.readouterr().out
    assert "unchanged" not in out and plot.stat().st_size > 0 and "noise ceiling of the change" in out
    assert "how the preferred layouts move (the top 26" in out


def test_contrast_refuses_tables_of_different_spaces(capsys):
    a, b = str(TABLES / "mnist1d-32.json"), str(TABLES / "digits-local-32.json")
    assert run_cli(["bench", "contrast", a, b, "--predictors", "prior"]) == 2
    err = capsys.readouterr().err.strip()
    assert "different spaces" in err and "digits-local-32.json" in err and len(err.splitlines()) == 1
    assert run_cli(["bench", "contrast", a, str(TABLES / "none.json")]) == 2
    assert "no such table" in capsys.readouterr().err
    b = str(TABLES / "mnist1d-32-scrambled.json")
    assert run_cli(["bench", "contrast", a, b, "--task-b", str(ROOT / "tasks" / "digits-local-32.yaml")]) == 2
    assert "does not match the task's [32, 32]" in capsys.readouterr().err
    assert run_cli(["bench", "contrast", a, b, "--task-a", str(ROOT / "tasks" / "missing.yaml")]) == 2
    assert "missing.yaml: no such file" in capsys.readouterr().err


def test_a_held_out_seed_of_the_change():
    """A is flat on every seed, so a layout's change is its rank on B. B's seeds 0 and 1 agree and seed 2
    reverses them: held out 2, the other two's change orders it exactly wrong (-1); held out 0 or 1, the
    others' mean is flat (0): training's figure is -1/3. A predictor moving in seeds 0 and 1's order gets
    (1 + 1 - 1) / 3; one that does not move has no change to judge (NaN)."""
    x = [0.1, 0.2, 0.3, 0.4]
    seeds_a = [{s: 0.5 for s in range(3)} for _ in x]
    seeds_b = [{0: v, 1: v, 2: r} for v, r in zip(x, x[::-1], strict=True)]
    flat = np.zeros(4)
    h = held_out_change(seeds_a, seeds_b, {"follows": flat, "still": np.arange(4.0)},
                        {"follows": np.array(x), "still": np.arange(4.0)}, min_layouts=3)
    assert h["seeds"] == 3 and h["layouts"] == 4
    assert h["training"] == pytest.approx(-1 / 3)
    assert h["predictors"]["follows"] == pytest.approx(1 / 3)
    assert np.isnan(h["predictors"]["still"])
    shifted = [[{s + 5: v for s, v in d.items()} for d in side] for side in (seeds_a, seeds_b)]  # seeds 5, 6, 7
    assert held_out_change(*shifted, {"follows": flat}, {"follows": np.array(x)}, min_layouts=3)["training"] == \
        pytest.approx(-1 / 3)  # the seeds the layouts share, whatever their numbers
    assert held_out_change(seeds_a, seeds_b, {}, {}) is None  # 4 layouts: under the 20 it needs
    two = [{0: v, 1: v} for v in x]
    assert held_out_change(two, two, {}, {}, min_layouts=3) is None  # two seeds: the noise ceiling's case


def test_contrast_reads_a_held_out_seed_on_tables_with_three(capsys):
    a, b = (ROOT / "benchmarks" / "tables" / "seeds3" / f"{n}.json" for n in ("digits-local-32", "digits-global-32"))
    assert run_cli(["bench", "contrast", str(a), str(b), "--predictors", "prior", "params", "--json"]) == 0
    h = json.loads(capsys.readouterr().out)["held_out_seed"]
    assert h["seeds"] == 3 and h["layouts"] == 100  # the seeded subset trained three times on both
    assert 0 < h["training"] < 1 and h["predictors"]["prior"] > 0
    assert h["predictors"]["params"] is None  # NaN, as JSON's null: parameter counts do not move


def test_full_seeds_judges_the_layouts_trained_with_every_seed(capsys):
    """``--full-seeds`` keeps the layouts of both tables trained with the most seeds (the digits pair: the
    seeded 100 trained three times), and the contrast on them is the one on tables holding only those runs."""
    from archsearch.evidence.table import Table

    a, b = (TABLES / "seeds3" / f"{n}.json" for n in ("digits-local-32", "digits-global-32"))
    args = ["bench", "contrast", str(a), str(b), "--predictors", "prior", "--json"]
    assert run_cli([*args, "--full-seeds"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["layouts"] == 100 and rep["held_out_seed"]["layouts"] == 100
    assert run_cli(args) == 0
    assert json.loads(capsys.readouterr().out)["layouts"] == 263
    full = Table.load(a).with_full_seeds()
    assert len(full.rows()) == 100 and all(r.seeds == [0, 1, 2] for r in full.rows())
