"""Optuna searches: storage and studies (resume, reaping, exact trial counts, the stop rule),
objectives (prior-only, trained), samplers, and the prior's guidance of a trained search."""

# constants the command line needs without importing optuna
#: a search stops after this many FAIL or PRUNED trials in a row (``--max-failures``)
DEFAULT_MAX_FAILURES = 100
#: the samplers ``--sampler`` offers: ``auto`` is ``exhaustive`` for a prior-only search over a space small
#: enough to enumerate (the prior's true best layouts, in order), else ``tpe``
SAMPLERS = ("auto", "tpe", "random", "exhaustive")
