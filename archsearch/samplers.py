"""The samplers archsearch adds to Optuna's, under one public name: the prior-guided sampler (the trained
search's default), the warm-start wrapper, and :func:`make_sampler`, which builds any search strategy's
sampler by name (``random``, ``tpe``, ``warm-floor``, ``guided``, ``prior-top``)."""

from archsearch.search.prior_sampler import PriorGuidedSampler
from archsearch.search.strategies import STRATEGIES, make_sampler
from archsearch.search.warm_start import WarmStartSampler

__all__ = ["STRATEGIES", "PriorGuidedSampler", "WarmStartSampler", "make_sampler"]
