"""Did the prior predict training? Benchmark tables, every predictor against them, contrasts between tasks,
replayed searches, verification, the paper's experiment, reports and pictures.

The public face, for a notebook (imported on first use)::

    from archsearch.evidence import Table, evaluate_table
    table = Table.load("benchmarks/tables/digits-local-32.json")
    ev = evaluate_table(table, predictors=["prior", "min-width"])
    ev.predictors["prior"].kendall_tau, ev.added_value
"""

from __future__ import annotations

from typing import Any

#: public name -> the module that holds it
_PUBLIC = {
    "Table": "table", "Row": "table", "BenchSettings": "table", "locate_file": "table",
    "evaluate_table": "evaluate", "TableEvaluation": "evaluate", "evaluate": "evaluate",
    "noise_ceiling": "evaluate", "PredictorStats": "evaluate",
    "contrast_tables": "contrast", "Contrast": "contrast",
    "replay_table": "replay", "replay": "replay",
    "PREDICTORS": "predictors", "predictor_scores": "predictors", "register_predictor": "predictors",
    "build_table": "bench", "candidate_layouts": "bench",
    "balanced_order": "baselines", "bottleneck_order": "baselines",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(f"archsearch.evidence.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module 'archsearch.evidence' has no attribute {name!r}")
