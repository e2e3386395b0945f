"""Optuna searches: storage and studies (resume, reaping, exact trial counts, the stop rule),
objectives (prior-only, trained), samplers, and the prior's guidance of a trained search."""

# constants the command line needs without importing optuna
#: a search stops after this many FAIL or PRUNED trials in a row (``--max-failures``)
DEFAULT_MAX_FAILURES = 100
#: the samplers ``--sampler`` offers
SAMPLERS = ("tpe", "random")
