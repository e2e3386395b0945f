"""A prior-guided Optuna sampler: the prior as a belief about where good layouts are, trusted less as
evidence accumulates.

It mixes two proposal sources, in the manner of PriorBand (Mallik et al., NeurIPS 2023): a draw from the
prior's distribution over layouts, or a proposal of a base sampler (multivariate TPE by default), which
sees every finished trial, prior draws included. The prior's share of proposals decays with the number n
of finished trials, as piBO (Hvarfner et al., ICLR 2022) lets the prior's weight decay as beta / n, and is
scaled by how prior draws have done so far:

    share(n) = min(1, beta / (beta + n) * 2 q),   q = (1 + prior draws in the top quarter) / (2 + top quarter)

so a prior whose draws keep reaching the top keeps its share, and a wrong prior's share falls towards
zero and TPE takes over. The prior's distribution is over its ``candidates`` best layouts (the exact
ranking on a space small enough to enumerate, else the best of a large random pool), the k-th best drawn
with probability proportional to exp(-k / spread), never a layout the study already holds.

Lifecycle: ``before_trial`` decides the trial's source from the study (its finished trials and their
``archsearch:source`` system attribute, set here for every trial) and a generator seeded by (seed, trial
number), so any number of workers on one storage agree and nothing lives only in one process but the
current trial's draw. ``infer_relative_search_space``, ``sample_relative`` and ``sample_independent``
return the draw's parameters for a prior trial and delegate to the base sampler otherwise; ``after_trial``
delegates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from archsearch.formats.space import Space
    from archsearch.prior.score import Prior

__all__ = ["SOURCE_KEY", "PriorGuidedSampler"]

#: the trial system attribute naming where a trial's layout came from: "prior" or "base"
SOURCE_KEY = "archsearch:source"


class PriorGuidedSampler(BaseSampler):
    """Draws from the prior's distribution with a share that decays and adapts (module docstring), else
    from ``base``. ``beta``: how many trials the prior is worth (the share is 1/2 after ``beta`` trials,
    before adaptation); ``spread``: the mean rank of a prior draw; ``candidates``: how many of the prior's
    best layouts it draws from."""

    def __init__(self, space: Space, prior: Prior, base: BaseSampler | None = None, *, beta: float = 10.0,
                 spread: float = 8.0, candidates: int = 256, seed: int = 0) -> None:
        from archsearch.prior.exhaustive import ranked_candidates
        from archsearch.search.objectives import layout_params

        if beta <= 0 or spread <= 0 or candidates < 1:
            raise ValueError("beta and spread must be > 0 and candidates >= 1")
        self.base = base if base is not None else optuna.samplers.TPESampler(seed=seed, multivariate=True)
        self.beta, self.spread, self.seed = float(beta), float(spread), int(seed)
        ranked = ranked_candidates(space, prior, candidates, seed=seed)
        self.candidates = [layout_params(space, r.schedule, r.M, r.channels) for r in ranked]
        self._draws: dict[int, dict[str, Any] | None] = {}  # this process's trials in flight: their draw

    # -- the decision, from the study alone -----------------------------------------------------------
    def share(self, finished: Sequence[FrozenTrial], maximize: bool = True) -> float:
        """The prior's share of the next proposal, given the study's finished (COMPLETE) trials."""
        n = len(finished)
        if n == 0:
            return 1.0
        ranked = sorted(finished, key=lambda t: t.value if maximize else -t.value, reverse=True)
        top = ranked[: max(1, n // 4)]
        q = (1 + sum(t.system_attrs.get(SOURCE_KEY) == "prior" for t in top)) / (2 + len(top))
        return min(1.0, self.beta / (self.beta + n) * 2 * q)

    def _draw(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, Any] | None:
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        rng = np.random.default_rng([self.seed, trial.number])
        maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
        if rng.random() >= self.share(done, maximize):
            return None
        held = [t.params for t in study.get_trials(deepcopy=False) if t.number != trial.number]
        free = [i for i, p in enumerate(self.candidates) if p not in held]
        if not free:
            return None
        weights = np.exp(-np.arange(len(free)) / self.spread)
        return dict(self.candidates[free[int(rng.choice(len(free), p=weights / weights.sum()))]])

    # -- the sampler's lifecycle ----------------------------------------------------------------------
    def reseed_rng(self) -> None:
        self.base.reseed_rng()

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        draw = self._draw(study, trial)
        self._draws[trial._trial_id] = draw
        study._storage.set_trial_system_attr(trial._trial_id, SOURCE_KEY, "prior" if draw else "base")
        self.base.before_trial(study, trial)

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self.base.infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        draw = self._draws.get(trial._trial_id)
        if draw is None:
            return self.base.sample_relative(study, trial, search_space)
        return {k: draw[k] for k in search_space if k in draw}

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        draw = self._draws.get(trial._trial_id)
        if draw is not None and param_name in draw:
            return draw[param_name]
        return self.base.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._draws.pop(trial._trial_id, None)
        self.base.after_trial(study, trial, state, values)
