"""What TPE within the size band adds to a prior-only search in memory: 600 trials of the 64x64 local
task over the paper space, plain multivariate TPE against ``BandTPESampler``, the same seed, one after
the other in one run; the band sampler's own steps profiled (cProfile).

    python benchmarks/profile_band_tpe.py [--trials 600]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import optuna

from archsearch.formats.space import load_space
from archsearch.formats.task import load_task
from archsearch.prior.score import Prior
from archsearch.search.objectives import prior_objective
from archsearch.search.strategies import base_sampler


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=600)
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    task, space = load_task("tasks/digits-local.yaml"), load_space("search_spaces/paper-64x64.yaml")
    prior = Prior.for_task(task, space)
    for band in (False, True):
        study = optuna.create_study(direction="maximize", sampler=base_sampler("tpe", 0, space if band else None))
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        study.optimize(prior_objective(task, space, prior), n_trials=args.trials)
        prof.disable()
        print(f"{'TPE within the band' if band else 'plain TPE'}: {time.perf_counter() - t0:.1f} s")
        if band:
            pstats.Stats(prof).sort_stats("cumulative").print_stats("band_tpe", 8)


if __name__ == "__main__":
    main()
