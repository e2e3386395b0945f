"""Which widths against where they sit (``bench eval``'s ``position``): closed cases and invariants."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.evidence.position import multiset_groups, position_signal, residual_reliability
from tests.conftest import ROOT, run_cli

# every arrangement of three multisets of three widths: 6 + 3 + 1 layouts
WIDTHS = sorted({p for m in ((4, 8, 16), (4, 4, 16), (8, 8, 8)) for p in itertools.permutations(m)})
KEYS = [((0, 10), w) for w in WIDTHS]


def _which(w) -> float:
    return float(np.sum(np.log2(np.sort(w)) * [4, 2, 1]))  # a function of the multiset alone


def _where(w) -> float:
    return float(np.dot(np.log2(w), [0.3, -0.1, 0.05]))  # depends on the order of the widths


def test_groups_are_multisets_within_one_schedule():
    g = multiset_groups(KEYS + [((1, 10), (4, 8, 16))])
    assert len(set(g[:-1].tolist())) == 3
    assert len(set(g.tolist())) == 4  # another schedule: another group, though the widths match
    assert all((g[i] == g[j]) == (sorted(WIDTHS[i]) == sorted(WIDTHS[j]))
               for i in range(len(WIDTHS)) for j in range(len(WIDTHS)))


def test_accuracy_that_only_the_multiset_decides():
    """No variance within multisets; the multisets' means order every pair they can (tau-b 1), and with
    their ties broken at random the tau is sqrt(1 - tied pairs / all pairs) = sqrt(1 - (15 + 3) / 45);
    a score of the multiset alone orders nothing within one."""
    acc = np.array([_which(w) for w in WIDTHS])
    seeds = [{0: a, 1: a + 0.01} for a in acc]
    p = position_signal(KEYS, acc, seeds, {"which": acc, "where": np.array([_where(w) for w in WIDTHS])}, 3)
    assert p["multisets"] == 3 and p["layouts"] == 10 and p["layouts_shared"] == 9
    assert p["within_share"] == pytest.approx(0, abs=1e-12)
    assert p["multiset_tau"] == pytest.approx(np.sqrt(1 - 18 / 45))
    assert np.isnan(p["within_multiset_tau"]["which"])  # no multiset has an order to find


def test_accuracy_that_position_decides_reproducibly():
    """Every seed gives the same arrangement effect on top of the multiset: residuals agree exactly (rho 1,
    reliability 1); the score that knows the effect orders every multiset's arrangements (tau 1 within),
    the multiset's score none (0)."""
    acc = np.array([_which(w) + _where(w) for w in WIDTHS])
    seeds = [{s: a + 0.5 * s for s in range(3)} for a in acc]  # a seed shifts all layouts alike
    p = position_signal(KEYS, acc, seeds, {"where": np.array([_where(w) for w in WIDTHS]),
                                           "which": np.array([_which(w) for w in WIDTHS])}, 3)
    r = p["residual"]
    assert r["seeds"] == 3 and r["seed_pairs"] == 3 and r["layouts"] == 9
    assert r["rho"] == pytest.approx(1) and r["reliability"] == pytest.approx(1)
    assert p["within_multiset_tau"]["where"] == pytest.approx(1)
    assert p["within_multiset_tau"]["which"] == 0
    assert 0 < p["within_share"] < 1


def test_residuals_that_one_seed_reverses():
    """Seed 1's arrangement effect is seed 0's reversed: the residuals' rho is -1, whatever the multisets'
    own effects (which the residuals remove)."""
    seeds = [{0: _which(w) + _where(w), 1: 3 * _which(w) - _where(w)} for w in WIDTHS]
    r = residual_reliability(seeds, multiset_groups(KEYS), 3)
    assert r["rho"] == pytest.approx(-1) and r["seeds"] == 2 and r["seed_pairs"] == 1
    assert np.isnan(r["reliability"])  # Spearman-Brown's 2 r / (1 + r) has no value at r = -1
    few = residual_reliability(seeds, multiset_groups(KEYS))  # 9 layouts share a multiset: under the 20 it needs
    assert few["seed_pairs"] == 0 and np.isnan(few["rho"])


def test_one_seed_gives_no_reproducibility():
    r = residual_reliability([{0: float(i)} for i in range(len(WIDTHS))], multiset_groups(KEYS))
    assert r["seed_pairs"] == 0 and np.isnan(r["rho"]) and np.isnan(r["reliability"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=len(WIDTHS), max_size=len(WIDTHS)),
       st.integers(0, 2**31 - 1))
def test_a_score_of_the_multiset_orders_nothing_within_one(noise, seed):
    """Any score that is a function of the multiset of widths (a position-blind rule without tie-breaks)
    has tau 0 within multisets, whatever the accuracies; and the within share lies in [0, 1]."""
    acc = np.array([_which(w) + n for w, n in zip(WIDTHS, noise, strict=True)])
    values = np.random.default_rng(seed).normal(size=3)
    score = np.array([values[g] for g in multiset_groups(KEYS)])
    p = position_signal(KEYS, acc, [{0: a} for a in acc], {"blind": score}, 3)
    t = p["within_multiset_tau"]["blind"]
    assert t == 0 or np.isnan(t)
    assert 0 <= p["within_share"] <= 1 + 1e-12 or np.isnan(p["within_share"])


def test_bench_eval_reports_it(capsys):
    """On a shipped table: the JSON's ``position`` holds the figures, the text says them; the seeded
    subset of 40 layouts with two seeds is where reproducibility is read."""
    table = ROOT / "benchmarks" / "tables" / "digits-global-32.json"
    assert run_cli(["bench", "eval", str(table), "--predictors", "prior", "leximin", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)["position"]
    assert p["layouts"] == 263 and p["multisets"] == 31
    assert p["residual"]["seeds"] == 2 and 0 < p["residual"]["layouts"] <= 40
    assert set(p["within_multiset_tau"]) == {"prior", "leximin"}
    assert p["within_multiset_tau"]["prior"] > p["within_multiset_tau"]["leximin"]  # the global task's arrangement
    assert run_cli(["bench", "eval", str(table), "--predictors", "prior", "leximin"]) == 0
    out = capsys.readouterr().out
    assert "31 multisets of widths" in out and "within multisets" in out
    assert p["held_out_seed"] is None  # two seeds at most here
    grown = ROOT / "benchmarks" / "tables" / "seeds3" / "mnist1d-32.json"  # every layout at 3 seeds
    assert run_cli(["bench", "eval", str(grown), "--predictors", "leximin", "--json"]) == 0
    h = json.loads(capsys.readouterr().out)["position"]["held_out_seed"]
    assert h["seeds"] == 3 and h["layouts"] == 257 and set(h["predictors"]) == {"leximin"}
    assert 0 < h["training"] < 1 and 0 < h["multisets"] < 1


def test_held_out_seed_puts_training_among_the_predictors():
    """Seeds 0 and 1 agree, seed 2 reverses them. Held out 2, the other two's mean orders it exactly wrong
    (-1); held out 0 or 1, the others' mean is flat (0). Training's figure is the mean, -1/3; a score in
    seeds 0 and 1's order gets (1 + 1 - 1) / 3. Every layout its own multiset: their means are training's."""
    s0 = [0.1, 0.2, 0.3, 0.4]
    s2 = s0[::-1]
    seeds = [{0: a, 1: a, 2: b} for a, b in zip(s0, s2, strict=True)]
    keys = [((0, 1), (w,)) for w in (4, 8, 16, 32)]
    h = position_signal(keys, np.mean([s0, s0, s2], 0), seeds, {"seed order": np.array(s0)}, 3)["held_out_seed"]
    assert h["seeds"] == 3 and h["layouts"] == 4
    assert h["training"] == pytest.approx(-1 / 3) and h["multisets"] == pytest.approx(-1 / 3)
    assert h["predictors"]["seed order"] == pytest.approx(1 / 3)


def test_held_out_seed_uses_only_layouts_with_every_seed():
    seeds = [{0: a, 1: a + 0.1, 2: a + 0.2} for a in (0.1, 0.3, 0.2, 0.5)] + [{0: 0.9}]
    keys = [((0, 1), (w,)) for w in (4, 8, 16, 32, 64)]
    h = position_signal(keys, np.array([0.2, 0.4, 0.3, 0.6, 0.9]), seeds, {}, 3)["held_out_seed"]
    assert h["layouts"] == 4 and h["training"] == pytest.approx(1)
    assert position_signal(keys, np.array([0.2, 0.4, 0.3, 0.6, 0.9]), seeds, {}, 5)["held_out_seed"] is None
    assert position_signal(keys[:2], np.array([0.1, 0.2]), [{0: 0.1, 1: 0.1}, {0: 0.2, 1: 0.2}],
                           {}, 2)["held_out_seed"] is None  # two seeds: the noise ceiling's case


def test_the_table_report_says_it(tiny_1d_files, tmp_path):
    """``report --table`` shows the same sentences as ``bench eval`` under its evaluation."""
    from archsearch.evidence.position import describe
    from tests.conftest import grid_table

    grid_table(tiny_1d_files, lambda ch: 0.5 + 0.01 * ch.sum() / 4 + 0.003 * ch[0])
    out = tmp_path / "report"
    assert run_cli(["report", "--table", str(tiny_1d_files / "t.json"), "--out", str(out), "--runs-dir",
                    str(tmp_path / "runs")]) == 0
    text = next(out.glob("*.md")).read_text()
    assert "Which widths:" in text and "Where they sit:" in text and "Tau within multisets" in text
    assert describe({"layouts": 3, "multisets": 2, "multiset_tau": 0.5, "within_share": 0.25,
                     "residual": {"seed_pairs": 0}, "within_multiset_tau": {"a": 0.1, "b": float("nan")},
                     "held_out_seed": None})[2].endswith("a +0.100")  # a NaN tau is left out
