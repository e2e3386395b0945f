"""A prior-guided Optuna sampler: the prior as a belief about where good layouts are, trusted less as
evidence accumulates.

It mixes two proposal sources, in the manner of PriorBand (Mallik et al., NeurIPS 2023): a draw from the
prior's distribution over layouts, or a proposal of a base sampler (multivariate TPE by default), which
sees every finished trial, prior draws included. The prior's share of the *trained* trials decays with
their number n, as piBO (Hvarfner et al., ICLR 2022) lets the prior's weight decay as beta / n, and is
scaled by how well the prior's ranking agrees with what training measured:

    share(n) = min(1, beta / (beta + n) * 2 q),   q = 1 - p,

p the one-sided p-value of Kendall's tau between the prior's score and the value over the n trained,
finished trials (every source; q = 1/2 below 3 trials). A prior whose ranking is no better than chance
gets piBO's share beta / (beta + n) on average; one that agrees gets up to twice that; one that disagrees
loses its share. The trials judge the prior on what it claims, the order of layouts, with every trained
trial as evidence; a rule counting which source filled the top trials could not tell a bad prior from
a busy one while nearly every trial was a prior draw.

The share is kept over *trained* trials: a trial takes the prior's distribution when the prior's draws
among the trained and running trials fall short of share x (their number + 1), else the base sampler's.
A base proposal that is never trained (over the budget, proposed again) leaves the count as it was, so
the next trial asks the base sampler again. (Decided per proposal, the prior's draws, all trained, had
crowded out the base sampler's, many untrained, and a wrong prior kept its share.) A trial counts as
trained when it is COMPLETE and not a repeat (user attribute ``duplicate_of``), or RUNNING.

The prior's distribution is over its ``candidates`` best layouts (the exact ranking on a space small
enough to enumerate, else the best of a large random pool), the k-th best drawn with probability
proportional to exp(-k / spread), never a layout the study already holds (a running trial holds its draw
from the moment it is drawn: system attribute ``archsearch:draw``).

Lifecycle: ``before_trial`` decides the trial's source from the study (its trials and their
``archsearch:source`` system attribute, set here for every trial) and draws with a generator seeded by
(seed, trial number), so any number of workers on one storage agree and nothing lives only in one process
but the current trial's draw and caches (prior scores; q until another trial finishes).
``infer_relative_search_space``, ``sample_relative`` and ``sample_independent`` return the draw's
parameters for a prior trial and delegate to the base sampler otherwise; ``after_trial`` delegates.
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

__all__ = ["DRAW_KEY", "SOURCE_KEY", "PriorGuidedSampler"]

#: the trial system attribute naming where a trial's layout came from: "prior" or "base"
SOURCE_KEY = "archsearch:source"
#: the trial system attribute holding a prior draw's parameters from the moment it is drawn, so that trials
#: asked together (ask-and-tell, workers starting at once) draw different layouts before any has suggested
DRAW_KEY = "archsearch:draw"


class PriorGuidedSampler(BaseSampler):
    """Draws from the prior's distribution with a share that decays and adapts (module docstring), else
    from ``base``. ``beta``: how many trials the prior is worth (the share is 1/2 after ``beta`` trials
    for a prior no better than chance); ``spread``: how far down the prior's ranking its draws reach
    (1, chosen on the design tables' replays: docs/evidence/replays.md); ``candidates``: how
    many of the prior's best layouts it draws from."""

    def __init__(self, space: Space, prior: Prior, base: BaseSampler | None = None, *, beta: float = 20.0,
                 spread: float = 1.0, candidates: int = 256, seed: int = 0) -> None:
        from archsearch.prior.exhaustive import ranked_candidates
        from archsearch.search.objectives import layout_params

        if beta <= 0 or spread <= 0 or candidates < 1:
            raise ValueError("beta and spread must be > 0 and candidates >= 1")
        if base is None:
            from archsearch.search.strategies import base_sampler

            base = base_sampler("tpe", seed, space)
        self.base = base
        self.beta, self.spread, self.seed = float(beta), float(spread), int(seed)
        ranked = ranked_candidates(space, prior, candidates, seed=seed)
        self.candidates = [layout_params(space, r.schedule, r.M, r.channels) for r in ranked]
        self._draws: dict[int, dict[str, Any] | None] = {}  # this process's trials in flight: their draw
        self._space, self._prior = space, prior
        self._scores: dict[tuple, float] = {}  # the prior's score of each layout seen (this process)
        self._agreement: tuple[tuple, float] | None = None  # q for the last set of trained trials

    def _score(self, params: dict[str, Any]) -> float:
        from archsearch.search.objectives import params_layout

        key = tuple(sorted(params.items()))
        if key not in self._scores:
            self._scores[key] = float(self._prior(params_layout(self._space, params)).score)
        return self._scores[key]

    def agreement(self, finished: Sequence[FrozenTrial], maximize: bool = True) -> float:
        """q: one minus the one-sided p-value of Kendall's tau between prior score and value over the
        trained, finished trials (1/2 below 3 trials, or when either side is constant)."""
        from scipy.stats import kendalltau

        if len(finished) < 3:
            return 0.5
        scores = [self._score(t.params) for t in finished]
        values = [t.value if maximize else -t.value for t in finished]
        key = (tuple(scores), tuple(values))  # unchanged while no trial finishes: proposals pruned, repeats
        if self._agreement is not None and self._agreement[0] == key:
            return self._agreement[1]
        p = kendalltau(scores, values, alternative="greater").pvalue
        q = 0.5 if np.isnan(p) else 1.0 - float(p)
        self._agreement = (key, q)
        return q

    # -- the decision, from the study alone -----------------------------------------------------------
    def share(self, finished: Sequence[FrozenTrial], maximize: bool = True) -> float:
        """The prior's share of the trained trials, given the study's trained, finished ones."""
        n = len(finished)
        if n == 0:
            return 1.0
        return min(1.0, self.beta / (self.beta + n) * 2 * self.agreement(finished, maximize))

    def _draw(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, Any] | None:
        trials = study.get_trials(deepcopy=False)
        done = [t for t in trials if t.state == TrialState.COMPLETE and "duplicate_of" not in t.user_attrs]
        counted = done + [t for t in trials if t.state == TrialState.RUNNING and t.number != trial.number]
        maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
        drawn = sum(t.system_attrs.get(SOURCE_KEY) == "prior" for t in counted)
        if drawn >= self.share(done, maximize) * (len(counted) + 1):
            return None
        held = [t.params for t in trials if t.number != trial.number]
        held += [t.system_attrs[DRAW_KEY] for t in trials
                 if t.state == TrialState.RUNNING and t.number != trial.number and DRAW_KEY in t.system_attrs]
        free = [i for i, p in enumerate(self.candidates) if p not in held]
        if not free:
            return None
        rng = np.random.default_rng([self.seed, trial.number])
        weights = np.exp(-np.arange(len(free)) / self.spread)
        return dict(self.candidates[free[int(rng.choice(len(free), p=weights / weights.sum()))]])

    # -- the sampler's lifecycle ----------------------------------------------------------------------
    def reseed_rng(self) -> None:
        self.base.reseed_rng()

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        draw = self._draw(study, trial)
        self._draws[trial._trial_id] = draw
        study._storage.set_trial_system_attr(trial._trial_id, SOURCE_KEY, "prior" if draw else "base")
        if draw:
            study._storage.set_trial_system_attr(trial._trial_id, DRAW_KEY, draw)
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
