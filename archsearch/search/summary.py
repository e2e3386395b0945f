"""What ``archsearch studies`` and ``show`` print: studies at a glance, and a study's best layouts with
where their cuts run."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import TrialState

from archsearch.search import study as search

__all__ = ["best_layouts", "study_rows"]


def study_rows(storage: str) -> list[dict[str, Any]]:
    """One row per study in ``storage``: task, mode, trial counts by state, the recipe's target, and the
    best feasible value (single-objective studies)."""
    from archsearch.search.recipe import RECIPE_KEY

    st = search._storage(storage, "read")
    rows = []
    for summary in optuna.get_all_study_summaries(st, include_best_trial=False):
        study = optuna.load_study(study_name=summary.study_name, storage=st)
        trials = study.get_trials(deepcopy=False)
        count = {s: sum(t.state == s for t in trials) for s in TrialState}
        attrs = study.user_attrs
        target = _target(attrs.get(RECIPE_KEY), summary.study_name)
        best = None
        if len(study.directions) == 1:
            feasible = search.feasible_trials(study)
            if feasible:
                best = max(t.value for t in feasible) if study.direction.name == "MAXIMIZE" else \
                    min(t.value for t in feasible)
        rows.append({"study": summary.study_name, "task": attrs.get("task"), "mode": attrs.get("mode"),
                     "complete": count[TrialState.COMPLETE], "target": target, "running": count[TrialState.RUNNING],
                     "waiting": count[TrialState.WAITING], "pruned": count[TrialState.PRUNED],
                     "failed": count[TrialState.FAIL], "best_value": best, "storage": storage})
    return rows


def _target(text: object, name: str) -> int | None:
    """The recipe's trial count; None for a study without a recipe, or with one that is not valid (the
    listing still shows the study; ``worker`` and ``show`` say what is wrong with it)."""
    from archsearch.errors import InputError
    from archsearch.search.recipe import Recipe

    if not isinstance(text, str):
        return None
    try:
        return Recipe.from_json(text, f"study '{name}'").trials
    except InputError:
        return None


def best_layouts(study: optuna.Study, k: int = 3) -> dict[str, Any]:
    """The ``k`` best distinct feasible layouts of ``study``, each with its figures and, per partition of
    the study's task (from its recipe), the min cut and the layers it runs through."""
    from archsearch.core.mincut import explain_mincut
    from archsearch.formats.layout_file import layout_from_dict
    from archsearch.search.recipe import RECIPE_KEY, Recipe

    task = Recipe.of_search(study).load()[0] if isinstance(study.user_attrs.get(RECIPE_KEY), str) else None
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    out = []
    for t in search.distinct_ranked(study)[:k]:
        u = t.user_attrs
        layout = layout_from_dict(u["layout"], f"trial {t.number}")
        parts = []
        if task is not None:
            ex = explain_mincut(layout, task.masks)
            parts = [{"name": p.name, "log2_mincut": float(ex.log2_mincut[i]), "explanation": ex.describe(i)}
                     for i, p in enumerate(task.partitions)]
        else:  # a study made before recipes: the stored cuts, without where they run
            parts = [{"name": n, "log2_mincut": float(v), "explanation": "(not stored)"}
                     for n, v in u.get("log2_mincut", {}).items()]
        out.append({"trial": t.number, "value": t.value if len(study.directions) == 1 else list(t.values),
                    "test_accuracy": u.get("test_accuracy"), "prior_score": u.get("prior_score"),
                    "params": u.get("params"), "channels": u.get("channels"), "layout": layout.describe(),
                    "partitions": parts})
    return {"study": study.study_name, "task": study.user_attrs.get("task"), "mode": study.user_attrs.get("mode"),
            "complete": len(done), "feasible": len(search.feasible_trials(study)), "layouts": out}
