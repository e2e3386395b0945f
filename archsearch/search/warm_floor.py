"""How the prior guides a trained search (``archsearch search`` without ``--prior-only``).

1. **Warm start.** A prior-only TPE search (300 trials, in memory, milliseconds each, seeded so every
   worker finds the same) ranks the layouts the prior likes best; the top ``WARM_START`` distinct ones are
   the first trials (:class:`~archsearch.search.warm_start.WarmStartSampler`), so they are trained first.
2. **Skipping.** A proposed layout whose prior score is below the median score of random layouts of the
   space within the budget is pruned without training (state PRUNED, reason stored): the trainer's time
   goes to the upper half of the space as the prior sees it. Layouts over budget are pruned too.

``--no-prior`` turns both off: plain TPE or random search, the baseline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna

from archsearch.formats.space import Space
from archsearch.formats.task import Task
from archsearch.prior.score import Prior
from archsearch.search.objectives import prior_objective
from archsearch.search.strategies import base_sampler

__all__ = ["WARM_START", "prior_floor", "prior_picks"]

WARM_START = 3


def prior_floor(space: Space, prior: Prior, n: int = 400, seed: int = 0) -> float:
    """Median prior score of random layouts within the budget."""
    scores = [prior(lay).score for lay in space.random_layouts(n, seed)]
    return float(np.median(scores)) if scores else -np.inf


def prior_picks(task: Task, space: Space, prior: Prior, k: int = WARM_START, trials: int = 300,
                seed: int = 0) -> list[dict[str, Any]]:
    """The parameters of the prior's ``k`` best distinct feasible layouts: exactly, by scoring every layout
    when the space is small enough, else by a seeded in-memory prior-only search (the same picks for the
    same seed, in every process)."""
    from archsearch.prior.exhaustive import exhaustive_size_ok, exhaustive_top
    from archsearch.search.objectives import layout_params

    if exhaustive_size_ok(space):
        return [layout_params(space, r.schedule, r.M, r.channels) for r in exhaustive_top(space, prior, k)]
    pre = optuna.create_study(direction="maximize", sampler=base_sampler("tpe", seed, space))
    pre.optimize(prior_objective(task, space, prior), n_trials=trials)
    seen, picks = set(), []
    for t in sorted((t for t in pre.trials if t.user_attrs["feasible"]), key=lambda t: (-t.value, t.number)):
        key = tuple(sorted(t.params.items()))
        if key not in seen:
            seen.add(key)
            picks.append(dict(t.params))
        if len(picks) == k:
            break
    return picks
