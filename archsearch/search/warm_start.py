"""A wrapper that makes the first trials the prior's picks, around any Optuna sampler.

:class:`WarmStartSampler` composes with any sampler (as Optuna's ``PartialFixedSampler`` does): trial
number ``k < len(picks)`` takes ``picks[k]``, every other trial is the base sampler's. It keeps no state
of its own and enqueues nothing, so any number of workers starting together on one study agree on the
picks without a race (the picks come from a seeded, deterministic prior-only search). A pick whose trial
was interrupted is retried through the study's queue like any other trial.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial, TrialState

__all__ = ["WarmStartSampler"]


class WarmStartSampler(BaseSampler):
    """Trial ``k`` (by number) takes ``picks[k]`` while ``k < len(picks)``; otherwise ``base`` decides.

    Lifecycle: Optuna calls ``before_trial``, then ``infer_relative_search_space`` and
    ``sample_relative`` once per trial, ``sample_independent`` for each parameter the relative sample
    lacks, and ``after_trial``. Each is delegated to ``base`` except for a pick's parameters.
    """

    def __init__(self, base: BaseSampler, picks: Sequence[dict[str, Any]]) -> None:
        self.base = base
        self.picks = [dict(p) for p in picks]

    def _pick(self, trial: FrozenTrial) -> dict[str, Any] | None:
        return self.picks[trial.number] if trial.number < len(self.picks) else None

    def reseed_rng(self) -> None:
        self.base.reseed_rng()

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.base.before_trial(study, trial)

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self.base.infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        pick = self._pick(trial)
        if pick is None:
            return self.base.sample_relative(study, trial, search_space)
        return {k: pick[k] for k in search_space if k in pick}

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        pick = self._pick(trial)
        if pick is not None and param_name in pick:
            return pick[param_name]
        return self.base.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self.base.after_trial(study, trial, state, values)
