"""What the prior costs inside Optuna: 2,000 prior-only trials against the same sampler with a constant
objective, side by side in one run (in-memory storage, so the sampler and the prior are what is timed).

TPE's own cost depends on the values it sees (a constant objective is not free for it), so the run
also reports the time spent inside the prior itself, and ``--sampler random`` gives a sampler whose
cost does not depend on the values.

    python benchmarks/bench_prior_search.py [--trials 2000] [--sampler tpe|random]
"""

from __future__ import annotations

import argparse
import platform
import time

import optuna

from archsearch.formats.space import load_space
from archsearch.formats.task import load_task
from archsearch.prior.score import Prior
from archsearch.search.objectives import prior_objective, suggest_layout
from archsearch.search.strategies import make_sampler


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--sampler", default="tpe", choices=["tpe", "random"])
    ap.add_argument("--task", default="tasks/digits-local.yaml")
    ap.add_argument("--space", default="search_spaces/paper-64x64.yaml")
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    task, space = load_task(args.task), load_space(args.space)
    prior = Prior.for_space(task.masks, task.weights, space)

    def constant(trial: optuna.Trial) -> float:
        # same suggestions and the same stored attributes as the prior objective, but no scoring
        layout = suggest_layout(trial, space)
        trial.set_user_attr("layout", layout.to_dict())
        trial.set_user_attr("params", layout.param_count())
        trial.set_constraint("max_params", float(layout.param_count() - space.max_params))
        return 0.0

    spent = [0.0]

    def timed_prior(layout):
        t = time.perf_counter()
        out = base_prior(layout)
        spent[0] += time.perf_counter() - t
        return out

    base_prior = prior
    timings = {}
    for name, objective in (("constant", constant), ("prior", prior_objective(task, space, timed_prior))):
        study = optuna.create_study(direction="maximize", sampler=make_sampler(args.sampler, 0))
        t0 = time.perf_counter()
        study.optimize(objective, n_trials=args.trials)
        timings[name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    n = 200
    for _ in range(n):
        prior(space.layout(0, 10, [16] * len(space.schedules[0])))
    per_score = (time.perf_counter() - t0) / n
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, optuna {optuna.__version__}")
    print(f"task {task.name} ({len(task.partitions)} partitions), space {space.name}, sampler {args.sampler}")
    print(f"{args.trials} trials, constant objective: {timings['constant']:8.2f} s")
    print(f"{args.trials} trials, prior objective:    {timings['prior']:8.2f} s")
    print(f"one prior score alone: {per_score * 1e3:.2f} ms; inside the prior run the prior took "
          f"{spent[0]:.2f} s ({100 * spent[0] / timings['prior']:.1f}% of it)")
    print(f"ratio prior / constant: {timings['prior'] / timings['constant']:.3f}x   (target <= 1.5x)")


if __name__ == "__main__":
    main()
