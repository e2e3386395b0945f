"""Optuna searches: storage and studies (resume, reaping, exact trial counts, the stop rule),
objectives (prior-only, trained), samplers, and the prior's guidance of a trained search.

The public face, for a notebook (imported on first use, so that the command line's constants cost no
import of Optuna)::

    from archsearch.search import make_sampler, prior_objective
    study = optuna.create_study(direction="maximize", sampler=make_sampler("guided", space, prior, seed=0))
    study.optimize(prior_objective(task, space, prior), n_trials=50)
"""

from __future__ import annotations

from typing import Any

# constants the command line needs without importing optuna
#: a search stops after this many FAIL or PRUNED trials in a row (``--max-failures``)
DEFAULT_MAX_FAILURES = 100
#: the samplers ``--sampler`` offers: ``auto`` is ``exhaustive`` for a prior-only search over a space small
#: enough to enumerate (the prior's true best layouts, in order), else ``tpe``
SAMPLERS = ("auto", "tpe", "random", "exhaustive")

#: public name -> the module that holds it
_PUBLIC = {
    "STRATEGIES": "strategies", "make_sampler": "strategies", "register_strategy": "strategies",
    "prior_objective": "objectives", "trained_objective": "objectives", "TrainedSettings": "objectives",
    "suggest_layout": "objectives", "layout_params": "objectives",
    "open_study": "study", "run_study": "study", "default_storage": "study", "ranked_trials": "study",
    "distinct_ranked": "study", "Recipe": "recipe", "prepare": "worker", "sampler_for": "worker",
}

__all__ = ["DEFAULT_MAX_FAILURES", "SAMPLERS", *sorted(_PUBLIC)]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(f"archsearch.search.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module 'archsearch.search' has no attribute {name!r}")
