"""The samplers archsearch adds to Optuna's, under one public name: the prior-guided sampler (the trained
search's default) and the warm-start wrapper."""

from archsearch.search.prior_sampler import PriorGuidedSampler
from archsearch.search.warm_start import WarmStartSampler

__all__ = ["PriorGuidedSampler", "WarmStartSampler"]
