"""Layouts scored per second: the per-layout prior (one DP per layout) against ``Prior.score_many`` (one DP
per batch on the schedule's shared structure), side by side in one run, on the same layouts; then the
exhaustive ranking of a whole space. Target (issue 9): at least 100x.

    python benchmarks/bench_score_many.py [--layouts 3000] [--batch 1000000] [--task ...] [--space ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from archsearch.formats.space import load_space
from archsearch.formats.task import load_task
from archsearch.prior.exhaustive import exhaustive_top, grid_size
from archsearch.prior.score import PRIORS, Prior


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layouts", type=int, default=3000, help="layouts the per-layout scorer scores")
    ap.add_argument("--batch", type=int, default=1_000_000, help="layouts score_many scores")
    ap.add_argument("--task", default="tasks/digits-local-32.yaml")
    ap.add_argument("--space", default="search_spaces/cpu-32x32-grid.yaml")
    ap.add_argument("--prior", default="needs", choices=PRIORS)
    args = ap.parse_args()
    task, space = load_task(args.task), load_space(args.space)
    prior = Prior.for_task(task, space, args.prior)
    choices = np.array(space.channel_choices or range(space.channel_range[0], space.channel_range[1] + 1))
    depth = len(space.schedules[0])
    template = space.layout(0, space.M[0], [int(choices[0])] * depth)
    rng = np.random.default_rng(0)
    big = rng.choice(choices, size=(args.batch, depth))
    small = big[: args.layouts]
    prior.score_many(template, small[:10])  # the shared structure is built once, outside the timing
    prior(template)

    t0 = time.perf_counter()
    one = np.array([prior(template.with_channels([int(c) for c in ch])).score for ch in small])
    t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    many = prior.score_many(template, big)
    t_many = time.perf_counter() - t0
    assert np.allclose(many[: args.layouts], one, rtol=0, atol=1e-12), "score_many disagrees with the prior"
    rate_one, rate_many = len(small) / t_one, len(big) / t_many
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}; task {task.name}, space {space.name}, prior {args.prior}")
    print(f"per-layout prior : {len(small):>9} layouts in {t_one:7.2f} s = {rate_one:>12,.0f} layouts/s")
    print(f"score_many       : {len(big):>9} layouts in {t_many:7.2f} s = {rate_many:>12,.0f} layouts/s")
    print(f"ratio            : {rate_many / rate_one:,.0f}x (target >= 100x): "
          f"{'met' if rate_many / rate_one >= 100 else 'NOT met'}")
    t0 = time.perf_counter()
    top = exhaustive_top(space, prior, 5)
    t_ex = time.perf_counter() - t0
    print(f"exhaustive ranking of {space.name} ({grid_size(space):,} layouts before the budget): {t_ex:.2f} s; "
          f"best {list(top[0].channels)} score {top[0].score:.4f}, {top[0].params} params")


if __name__ == "__main__":
    main()
