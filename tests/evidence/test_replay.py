"""Replays of whole searches on tiny tables (the samplers themselves: tests/search/test_samplers.py)."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest

from archsearch.evidence.replay import STRATEGIES, replay, summarise
from archsearch.formats.task import load_task
from archsearch.prior.exhaustive import exhaustive_top
from tests.conftest import grid_table, run_cli, tiny_prior

optuna.logging.set_verbosity(optuna.logging.ERROR)
_prior = tiny_prior


@pytest.fixture
def files(tiny_1d_files):
    return tiny_1d_files


# -- replays --------------------------------------------------------------------------------------------
def test_replay_figures_on_a_known_table(files):
    space, prior = _prior(files)
    table = grid_table(files, lambda ch: 0.5 + 0.01 * ch.sum() / 4)  # wider is better, smoothly
    results = replay(table, load_task(files / "task.yaml"), space, prior, STRATEGIES, repeats=4, budget=12)
    figures = summarise(results, table, 12)
    assert set(figures) == set(STRATEGIES)
    best = max(r.val_accuracy for r in table.runs)
    for f in figures.values():
        t = f["trials_to_within_1pt"]
        assert 1 <= t["q25"] <= t["median"] <= t["q75"] <= 13
        assert all(0 <= v <= best for v in f["regret_at"].values())
        assert f["regret_at"]["5"] >= f["regret_at"]["10"]  # the best so far never gets worse
    # prior-top proposes the exact ranking: its first trial is the prior's best layout's accuracy
    top = exhaustive_top(space, prior, 1)[0]
    lookup = {tuple(e.channels): r.val_accuracy for e, r in zip(table.layouts, table.runs, strict=True)}
    assert results[STRATEGIES.index("prior-top")].val[0][0] == lookup[top.channels]


def test_a_search_that_never_gets_there_counts_budget_plus_one(files):
    """One layout stands 30 points above the rest; random searches of 2 trials mostly miss it."""
    table = grid_table(files, lambda ch: 0.5)
    table.runs[-1] = table.runs[-1].model_copy(update={"val_accuracy": 0.8})
    space, prior = _prior(files)
    res = replay(table, load_task(files / "task.yaml"), space, prior, ["random"], repeats=9, budget=2)
    reached = [next((k + 1 for k, v in enumerate(vals) if v >= 0.79), 3) for vals in res[0].val]
    figures = summarise(res, table, 2)["random"]
    assert figures["trials_to_within_1pt"]["median"] == float(np.median(reached))
    assert figures["never_within"] == pytest.approx(np.mean([r == 3 for r in reached]))
    assert 3 in reached  # at least one search never got there (8 of every 9 layouts are misses)


def test_replay_command(files, capsys):
    grid_table(files, lambda ch: 0.5 + 0.01 * ch[-1])
    argv = ["bench", "replay", str(files / "t.json"), "--repeats", "3", "--budget-trials", "6", "--strategies",
            "random", "guided", "--json", "--no-progress", "--plot", str(files / "r.png")]
    assert run_cli(argv) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["repeats"] == 3 and set(rep["strategies"]) == {"random", "guided"}
    for f in rep["strategies"].values():
        assert set(f["trials_to_within_1pt"]) == {"median", "q25", "q75"} and set(f["regret_at"]) == {"5"}
    assert (files / "r.png").read_bytes()[:4] == b"\x89PNG"
    # a sampled (not complete) table cannot answer every proposal
    table = json.loads((files / "t.json").read_text())
    table["space"]["complete_grid"] = False
    (files / "t.json").write_text(json.dumps(table))
    assert run_cli(argv[:3] + ["--no-progress"]) == 2
    assert "complete-grid" in capsys.readouterr().err


def test_a_grid_with_an_untrained_layout_is_refused_before_any_search(files, capsys):
    """A layout without a run would read as one outside the band (never counted): the replay would be a search
    over the trained layouts only, so the table is refused in one line, before the progress bar. A failed run
    counts as tried (a real search would have paid for it too)."""
    grid_table(files, lambda ch: 0.5 + 0.01 * ch[-1])
    table = json.loads((files / "t.json").read_text())
    n = len(table["layouts"])
    table["runs"][0] = {"layout": table["runs"][0]["layout"], "seed": 0, "failed": "loss turned nan at epoch 0"}
    (files / "t.json").write_text(json.dumps(table))
    argv = ["bench", "replay", str(files / "t.json"), "--repeats", "2", "--budget-trials", "3", "--strategies",
            "random", "--json"]
    assert run_cli(argv) == 0
    assert json.loads(capsys.readouterr().out)["table_runs"] == n - 1  # the finished runs it read, not the failed
    del table["runs"][0]
    (files / "t.json").write_text(json.dumps(table))
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "replay:" not in err  # one line, no progress bar before it
    assert f"runs: replay needs every layout of the grid trained: {n - 1} of {n} have runs" in err


def test_workers_do_not_change_the_figures(files):
    table = grid_table(files, lambda ch: 0.5 + 0.01 * ch[0])
    space, prior = _prior(files)
    task = load_task(files / "task.yaml")
    one = replay(table, task, space, prior, ["random", "guided"], repeats=4, budget=5, seed=7)
    two = replay(table, task, space, prior, ["random", "guided"], repeats=4, budget=5, seed=7, workers=2)
    assert [(r.name, r.val, r.test) for r in one] == [(r.name, r.val, r.test) for r in two]


def test_an_inverted_prior_ranks_worst_first_and_replays(files, capsys):
    """`--invert-prior`: every score negated (per layout and in batches), so the exact ranking runs the
    other way; prior-top's first proposal is then the prior's worst layout, also across processes."""
    import pickle

    from archsearch.prior.score import InvertedPrior

    space, prior = _prior(files)
    inv = InvertedPrior(prior)
    lay = space.layout(0, 4, [2, 4, 8, 4])
    assert inv(lay).score == -prior(lay).score and inv(lay).params == prior(lay).params
    channels = np.array([[2, 4, 8, 4], [4, 4, 4, 4], [8, 2, 2, 8]])
    assert np.array_equal(inv.score_many(lay, channels), -prior.score_many(lay, channels))
    every = exhaustive_top(space, prior, 10_000)
    worst = exhaustive_top(space, inv, 1)[0]
    assert worst.score == -min(r.score for r in every)
    assert pickle.loads(pickle.dumps(inv))(lay).score == inv(lay).score  # replay workers get a copy
    table = grid_table(files, lambda ch: 0.5 + 0.01 * ch.sum() / 4)
    lookup = {tuple(e.channels): r.val_accuracy for e, r in zip(table.layouts, table.runs, strict=True)}
    argv = ["bench", "replay", str(files / "t.json"), "--repeats", "2", "--budget-trials", "4", "--strategies",
            "prior-top", "guided", "--json", "--no-progress", "--invert-prior", "--workers", "2"]
    assert run_cli(argv) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["prior_inverted"] is True
    assert rep["table_runs"] == len(table.runs)  # which state of a growing table was replayed
    best = max(r.val_accuracy for r in table.runs)
    first = rep["strategies"]["prior-top"]["regret_curve"][0]
    assert first == pytest.approx(best - lookup[worst.channels])


@pytest.mark.parametrize("rule", ["balanced", "bottleneck", "leximin"])
def test_each_task_blind_strategy_trains_in_its_rules_order(files, rule):
    """On a table where the narrowest layer decides, a task-blind rule's first trainings are the layouts
    it ranks first, in that order, and one search stands for every repeat."""
    from archsearch.evidence import baselines

    order_of = {"balanced": baselines.balanced_order, "bottleneck": baselines.bottleneck_order,
                "leximin": baselines.leximin_order}[rule]
    space, prior = _prior(files)
    table = grid_table(files, lambda ch: 0.5 + 0.01 * np.log2(ch).min() + 0.001 * np.log2(ch).sum())
    res = replay(table, load_task(files / "task.yaml"), space, prior, [rule], repeats=5, budget=6)[0]
    assert len(res.val) == 1
    lays = [space.layout(e.schedule, e.M, e.channels) for e in table.layouts]
    by_layout = {r.layout: r.val_accuracy for r in table.runs}
    keys = sorted(table.entry_key(e) for e in table.layouts)
    ids = {table.entry_key(e): e.id for e in table.layouts}
    order = order_of([space.layout(s, m, list(c)) for s, m, c in keys])
    assert res.val[0] == [by_layout[ids[keys[i]]] for i in order[:6]]
    widest_floor = max(min(lay.channels) for lay in lays)
    assert all(min(space.layout(*keys[i][:2], list(keys[i][2])).channels) == widest_floor for i in order[:1])
    figures = summarise([res], table, 6)
    assert figures[rule]["repeats"] == 1


def test_a_worker_that_cannot_start_says_why_instead_of_hanging():
    """A pool whose initializer raises replaces the dead worker for ever; the error is kept and raised by
    the worker's first job instead, so the parent sees it (here in-process: the same two functions)."""
    from archsearch.evidence import replay as rp

    rp._setup(None, None, None, None, {})  # no table: the lookup fails
    with pytest.raises(AttributeError):
        rp._job(("random", 0, 5))


def test_spread_reaches_the_guided_sampler(files, capsys):
    """`--spread`: a tiny spread makes every guided search's first training the prior's best layout (as
    prior-top's); a huge one scatters the first trainings over the prior's candidates."""
    grid_table(files, lambda ch: 0.5 + 0.01 * ch.sum() / 4 + 0.003 * ch[0])
    argv = ["bench", "replay", str(files / "t.json"), "--repeats", "12", "--budget-trials", "3", "--strategies",
            "prior-top", "guided", "--json", "--no-progress"]

    def first(spread):
        assert run_cli([*argv, "--spread", spread]) == 0
        rep = json.loads(capsys.readouterr().out)
        assert rep["guided"] == {"spread": float(spread)}
        g = rep["strategies"]["guided"]
        return rep["strategies"]["prior-top"]["regret_curve"][0], g["regret_q25"][0], g["regret_q75"][0]

    top, q25, q75 = first("0.01")
    assert q25 == q75 == pytest.approx(top)
    top, q25, q75 = first("1000")
    assert q25 < q75
    assert run_cli([*argv, "--spread", "0"]) == 2
    assert "--spread" in capsys.readouterr().err
