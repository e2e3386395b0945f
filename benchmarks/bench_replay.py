"""Replays that stay linear (issue 26): the time of each proposal in replayed searches of a complete-grid
table, TPE within the size band (what ``bench replay`` and every search now use) against plain
multivariate TPE (before), for the ``tpe`` and ``guided`` strategies, side by side in one run.

A proposal's time is from one trial's start to the next's (TPE's fit, the draw, the table's answer). Plain
TPE proposes about nine layouts outside the band for each one inside; every proposal is a trial that the
next one's fit reads, so its cost grows with the proposals made. The band sampler sets out-of-band and
repeated candidates aside before a trial exists.

    python benchmarks/bench_replay.py [--table benchmarks/tables/digits-local-32.json] [--repeats 20]
        [--budget 50] [--tpe both|plain|band]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import optuna
from optuna.samplers import BaseSampler

from archsearch.evidence.replay import _lookup, _one_search
from archsearch.evidence.table import Table
from archsearch.prior.score import Prior
from archsearch.search.prior_sampler import PriorGuidedSampler
from archsearch.search.strategies import make_sampler


class Clock(BaseSampler):
    """Delegates to ``inner`` and stamps the start of every trial."""

    def __init__(self, inner: BaseSampler) -> None:
        self.inner, self.stamps = inner, [time.perf_counter()]

    def infer_relative_search_space(self, study, trial):
        return self.inner.infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self.inner.sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, name, dist):
        return self.inner.sample_independent(study, trial, name, dist)

    def before_trial(self, study, trial):
        self.stamps.append(time.perf_counter())
        self.inner.before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        self.inner.after_trial(study, trial, state, values)


def sampler(strategy: str, band: bool, space, prior, task, seed: int) -> BaseSampler:
    if band:
        return make_sampler(strategy, space, prior, seed, task=task, guide_seed=seed)
    plain = optuna.samplers.TPESampler(seed=seed, multivariate=True)
    return plain if strategy == "tpe" else PriorGuidedSampler(space, prior, plain, seed=seed)


def window(times: list[np.ndarray], k: int, half: int = 10) -> float:
    """Median over the repeats that made k proposals of the mean time of proposals k-half .. k+half (ms;
    those that exist); NaN when none made k."""
    got = [1e3 * t[k - half - 1: k + half].mean() for t in times if len(t) >= k]
    return float(np.median(got)) if got else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", default="benchmarks/tables/digits-local-32.json")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--tpe", choices=["both", "plain", "band"], default="both",
                    help="which TPE to time (plain TPE's searches grow with the square of their proposals)")
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    table = Table.load(args.table)
    task, space = table.task_space(None, None)
    prior, lookup = Prior.for_task(task, space), _lookup(table)
    print(f"{platform.machine()}, {platform.python_version()}, optuna {optuna.__version__}; {args.table}, "
          f"{args.repeats} repeats of {args.budget} counted trainings")
    print("| strategy | TPE | proposals per search (median) | ms per proposal at 50 | at 800 | at the last 20 | "
          "s per search (median) | trainings to within 1 point (median) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    top = max(v for v, _ in lookup.values())
    for strategy in ("tpe", "guided"):
        for band in [b for b in (False, True) if args.tpe == "both" or args.tpe == ("band" if b else "plain")]:
            times, secs, reached = [], [], []
            for r in range(args.repeats):
                clock = Clock(sampler(strategy, band, space, prior, task, r))
                t0 = time.perf_counter()
                val, _ = _one_search(space, prior, lookup, clock, args.budget, -np.inf)
                clock.stamps.append(time.perf_counter())  # the last trial's end
                secs.append(time.perf_counter() - t0)
                times.append(np.diff(clock.stamps[1:]))
                hit = [i + 1 for i, v in enumerate(np.maximum.accumulate(val)) if v >= top - 0.01 - 1e-12]
                reached.append(hit[0] if hit else args.budget + 1)
            last = float(np.median([1e3 * t[-20:].mean() for t in times]))
            print(f"| {strategy} | {'within the band' if band else 'plain'} | "
                  f"{np.median([len(t) for t in times]):.0f} | {window(times, 50):.1f} | "
                  f"{window(times, 800):.1f} | {last:.1f} | {np.median(secs):.2f} | {np.median(reached):.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
