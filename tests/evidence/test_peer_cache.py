"""The peers' scores of a table are cached (a table's layouts never change; NASWOT, SynFlow and MeCo take
minutes): the second evaluation reads them back unchanged without building a network, and a change of
what they depend on computes them again."""

from __future__ import annotations

import numpy as np
import pytest

from archsearch.evidence import predictors
from archsearch.evidence.evaluate import evaluate_table
from tests.conftest import grid_table


def test_the_second_evaluation_reads_the_peers_back(tiny_1d_files, monkeypatch):
    table = grid_table(tiny_1d_files, lambda ch: 0.5 + 0.01 * ch.sum() / 4)
    runs = tiny_1d_files / "runs"
    first = evaluate_table(table, predictors=["synflow", "params"], runs_dir=runs)
    assert len(list((runs / ".cache" / "peers").glob("synflow-*.npy"))) == 1

    def never(_inputs):
        raise AssertionError("a cached peer was computed again")

    monkeypatch.setitem(predictors.PREDICTORS, "synflow", predictors.PREDICTORS["synflow"].__class__(
        "synflow", "", False, True, never))
    again = evaluate_table(table, predictors=["synflow", "params"], runs_dir=runs)
    assert np.array_equal(again.scores["synflow"], first.scores["synflow"])
    assert again.to_dict()["predictors"] == first.to_dict()["predictors"]
    # other layouts (a table with one layout fewer): not the cached scores
    table.layouts = table.layouts[:-1]
    table.runs = [r for r in table.runs if r.layout < len(table.layouts)]
    with pytest.raises(AssertionError, match="computed again"):  # the cache does not answer for them
        evaluate_table(table, predictors=["synflow"], runs_dir=runs)
