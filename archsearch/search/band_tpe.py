"""Optuna's multivariate TPE, proposing only layouts a search would train: within the space's size band
and not already in the study.

Plain TPE proposes a channel layout without knowing the parameter budget. On a table's grid about nine
proposals in ten fall outside the band (``min_params`` to ``max_params``); each became a PRUNED trial, and
each trial makes the next proposal refit TPE's two Parzen estimators over every trial so far, so a search
of 50 trainings made about 900 proposals whose cost grew with their number. Here TPE fits once per
proposal as before, draws its expected-improvement candidates from the good trials' estimator as before,
and sets aside the candidates over or under the budget, or equal to a layout a COMPLETE or RUNNING trial
already holds, before it picks the best; when none of its candidates is left it draws more from the same
fit (up to ``redraws`` batches) and falls back to plain TPE's choice only when all of those are set aside
too. A proposal outside the band therefore costs no trial and no refit.

The first ``n_startup_trials`` proposals are TPE's random ones, as in plain TPE. Where a candidate does
not fix a whole layout (TPE sampling one parameter at a time, or a space whose schedules differ in depth),
nothing is set aside. The hook is TPE's acquisition step (``_compute_acquisition_func``), the one place
where the candidates and their scores meet; the tests hold it to the installed Optuna.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.samplers import TPESampler
from optuna.trial import TrialState

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.study import Study
    from optuna.trial import FrozenTrial

    from archsearch.formats.space import Space

__all__ = ["BandTPESampler"]


class BandTPESampler(TPESampler):
    """Multivariate TPE over ``space`` whose proposals lie within its size band and are new to the study
    (module docstring). ``redraws``: further candidate batches drawn when a batch holds none."""

    def __init__(self, space: Space, *, seed: int | None = None, redraws: int = 20, **kwargs: Any) -> None:
        kwargs.setdefault("multivariate", True)
        super().__init__(seed=seed, **kwargs)
        self.space, self.redraws = space, int(redraws)
        self._context: tuple[Study, FrozenTrial, dict[str, BaseDistribution]] | None = None
        self._fits: dict[tuple, bool] = {}  # parameters -> within the band (a pure function of the space)
        # the study whose COMPLETE trials' keys _done holds: a weak reference to its storage (never another
        # storage at the same address) and its id
        self._done_for: tuple[weakref.ref, int] | None = None
        self._done: dict[int, tuple | None] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_done_for": None, "_done": {}}  # a weak reference does not pickle

    def _sample(self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        self._context = (study, trial, search_space)
        try:
            return super()._sample(study, trial, search_space)
        finally:
            self._context = None

    def _layout_names(self, search_space: dict[str, Any]) -> list[str] | None:
        """The parameter names that fix a layout, when ``search_space`` holds all of them, else None."""
        space = self.space
        if len({len(s) for s in space.schedules}) > 1:
            return None
        names = (["schedule"] if len(space.schedules) > 1 else []) + (["M"] if len(space.M) > 1 else [])
        names += [f"r{l}" for l in range(len(space.schedules[0]))]
        return names if set(names) <= set(search_space) else None

    def _within(self, key: tuple) -> bool:
        got = self._fits.get(key)
        if got is None:
            from archsearch.search.objectives import params_layout

            got = self._fits[key] = self.space.fits(params_layout(self.space, dict(key)).param_count())
        return got

    def _admissible(self, samples: dict[str, np.ndarray], names: list[str], search_space: dict[str, Any],
                    held: set[tuple]) -> np.ndarray:
        dists = [search_space[n] for n in names]
        columns = [[d.to_external_repr(v) for v in samples[n]] for n, d in zip(names, dists, strict=True)]
        keys = [tuple(zip(names, vals, strict=True)) for vals in zip(*columns, strict=True)]
        return np.array([key not in held and self._within(key) for key in keys], dtype=bool)

    def _key(self, t: FrozenTrial, names: list[str]) -> tuple | None:
        return tuple((n, t.params[n]) for n in names) if set(names) <= t.params.keys() else None

    def _held(self, study: Study, trial: FrozenTrial, names: list[str]) -> set[tuple]:
        """The layouts of the study's COMPLETE and RUNNING trials but ``trial`` (a COMPLETE trial's key is
        read once per study: it never changes)."""
        ref = self._done_for
        if ref is None or ref[0]() is not study._storage or ref[1] != study._study_id:
            self._done_for, self._done = (weakref.ref(study._storage), study._study_id), {}
        held = set()
        for t in study._get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING),
                                   use_cache=True):  # the snapshot TPE fits on
            if t.number == trial.number:
                continue
            if t.state == TrialState.COMPLETE:
                if t.number not in self._done:
                    self._done[t.number] = self._key(t, names)
                key = self._done[t.number]
            else:
                key = self._key(t, names)
            if key is not None:
                held.add(key)
        return held

    def _compute_acquisition_func(self, samples: dict[str, np.ndarray], mpe_below: Any, mpe_above: Any) -> np.ndarray:
        acq = super()._compute_acquisition_func(samples, mpe_below, mpe_above)
        if self._context is None:
            return acq
        study, trial, search_space = self._context
        names = self._layout_names(search_space)
        if names is None:
            return acq
        held = self._held(study, trial, names)
        ok = self._admissible(samples, names, search_space, held)
        for _ in range(self.redraws):
            if ok.any():
                break
            more = mpe_below.sample(self._rng.rng, self._n_ei_candidates)
            more_ok = self._admissible(more, names, search_space, held)
            if more_ok.any():  # the batch TPE compares becomes this one (the same dict object)
                for k in samples:
                    samples[k] = more[k]
                acq, ok = super()._compute_acquisition_func(samples, mpe_below, mpe_above), more_ok
        if not ok.any():
            return acq  # nothing admissible: plain TPE's choice (the objective prunes or repeats it)
        return np.where(ok, acq, -np.inf)
