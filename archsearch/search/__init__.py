"""Optuna searches: storage and studies (resume, reaping, exact trial counts, the stop rule),
objectives (prior-only, trained), samplers, and the prior's guidance of a trained search."""
