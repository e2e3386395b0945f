"""How a search proposes layouts: a registry of strategies, each a function that builds an Optuna sampler
(in the manner of Optuna's own samplers and timm's model registry). ``archsearch search``, its workers and
``bench replay`` all build their sampler with :func:`make_sampler`, so a strategy means the same wherever it
runs.

``random`` and ``tpe`` are Optuna's (TPE multivariate: channel counts interact through the budget; over a
space it proposes only layouts within the size band that no trial holds yet, :mod:`~archsearch.search.band_tpe`);
``warm-floor`` makes the prior's picks the first trials (:mod:`~archsearch.search.warm_floor`);
``guided`` mixes prior draws into the base sampler's (:class:`~archsearch.search.prior_sampler.PriorGuidedSampler`);
``prior-top`` trains the prior's exact ranking, best first (a space small enough to score whole).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archsearch.errors import InputError

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler

    from archsearch.formats.space import Space
    from archsearch.formats.task import Task
    from archsearch.prior.score import Prior

__all__ = ["BASE_SAMPLERS", "STRATEGIES", "Strategy", "base_sampler", "make_sampler", "register_strategy"]

#: the samplers a strategy is built on
BASE_SAMPLERS = ("tpe", "random")


@dataclass(frozen=True)
class Strategy:
    """A named way of proposing layouts: ``build(space, prior, seed, budget, base, task, guide_seed, options)``
    returns the sampler; ``uses_prior``: whether the prior decides anything."""

    name: str
    help: str
    uses_prior: bool
    build: Callable[..., BaseSampler]


STRATEGIES: dict[str, Strategy] = {}


def register_strategy(name: str, help: str, uses_prior: bool) -> Callable[[Callable[..., BaseSampler]], Callable]:
    """Decorator: add a strategy to :data:`STRATEGIES` under ``name``."""
    def add(build: Callable[..., BaseSampler]) -> Callable[..., BaseSampler]:
        STRATEGIES[name] = Strategy(name, help, uses_prior, build)
        return build
    return add


def base_sampler(name: str, seed: int, space: Space | None = None) -> BaseSampler:
    """Optuna's TPE (multivariate) or random sampler, seeded. Given the ``space``, TPE proposes only layouts
    within its size band that the study does not hold yet (:class:`~archsearch.search.band_tpe.BandTPESampler`)."""
    import optuna

    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        if space is not None:
            from archsearch.search.band_tpe import BandTPESampler

            return BandTPESampler(space, seed=seed)
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    raise InputError(f"unknown sampler '{name}' (choose {' or '.join(BASE_SAMPLERS)})", field="--sampler")


def make_sampler(strategy: str, space: Space | None = None, prior: Prior | None = None, seed: int = 0,
                 budget: int = 0, *, base: str = "tpe", task: Task | None = None, guide_seed: int | None = None,
                 options: dict[str, Any] | None = None) -> BaseSampler:
    """The sampler of ``strategy`` over ``space``, guided by ``prior`` where it uses one. ``seed`` seeds the
    base sampler; ``guide_seed`` (default ``seed``) seeds the prior's guidance, so that workers with
    different seeds agree on it; ``budget``: the trials a ``prior-top`` search ranks; ``options``: the
    strategy's own settings (``guided``: PriorGuidedSampler's keywords)."""
    found = STRATEGIES.get(strategy)
    if found is None:
        raise InputError(f"unknown strategy '{strategy}' (choose from {', '.join(STRATEGIES)})", field="strategy")
    if found.uses_prior and (space is None or prior is None):
        raise ValueError(f"strategy '{strategy}' needs a space and a prior")
    return found.build(space=space, prior=prior, seed=seed, budget=budget, base=base, task=task,
                       guide_seed=seed if guide_seed is None else guide_seed, options=options or {})


@register_strategy("random", "Optuna's random sampler", uses_prior=False)
def _random(*, seed: int, **_: Any) -> BaseSampler:
    return base_sampler("random", seed)


@register_strategy("tpe", "Optuna's TPE, multivariate, proposing within the size band", uses_prior=False)
def _tpe(*, space: Space | None, seed: int, **_: Any) -> BaseSampler:
    return base_sampler("tpe", seed, space)


@register_strategy("warm-floor", "the prior's picks first, then the base sampler (proposals below the prior's "
                   "floor are skipped by the objective)", uses_prior=True)
def _warm_floor(*, space: Space, prior: Prior, seed: int, base: str, task: Task | None, guide_seed: int,
                **_: Any) -> BaseSampler:
    from archsearch.search.warm_floor import prior_picks
    from archsearch.search.warm_start import WarmStartSampler

    return WarmStartSampler(base_sampler(base, seed, space), prior_picks(task, space, prior, seed=guide_seed))


@register_strategy("guided", "prior draws mixed with the base sampler's, a decaying, adapting share",
                   uses_prior=True)
def _guided(*, space: Space, prior: Prior, seed: int, base: str, guide_seed: int, options: dict[str, Any],
            **_: Any) -> BaseSampler:
    from archsearch.search.prior_sampler import PriorGuidedSampler

    return PriorGuidedSampler(space, prior, base_sampler(base, seed, space), seed=guide_seed, **options)


@register_strategy("prior-top", "the prior's exact ranking, best first (the same in every worker and repeat)",
                   uses_prior=True)
def _prior_top(*, space: Space, prior: Prior, seed: int, budget: int, **_: Any) -> BaseSampler:
    from archsearch.prior.exhaustive import exhaustive_top
    from archsearch.search.objectives import layout_params
    from archsearch.search.warm_start import WarmStartSampler

    ranked = exhaustive_top(space, prior, budget)
    return WarmStartSampler(base_sampler("random", seed),
                            [layout_params(space, r.schedule, r.M, r.channels) for r in ranked])
