"""What the prior buys a real trained search: the prior-guided sampler (the default), the warm-floor
strategy, plain TPE and random search, several seeds each, on a CPU task, selecting on validation
accuracy. For every run, the number of trained trials until the best validation accuracy found is within
one point of the best layout known (the best any run reached), and the test accuracy of what it selects.

    python benchmarks/bench_guided.py [--task tasks/digits-local-32.yaml] [--space search_spaces/cpu-32x32.yaml]
        [--methods guided warm-floor tpe random] [--seeds 3] [--trials 10] [--epochs 12] [--train 8000]
        [--val 2000] [--test 2000] [--threads T]
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import replace

import numpy as np
import optuna

from archsearch.formats.space import load_space
from archsearch.formats.task import load_task
from archsearch.prior.score import Prior
from archsearch.search.objectives import TrainedSettings, trained_objective
from archsearch.search.strategies import make_sampler
from archsearch.search.study import run_study
from archsearch.search.warm_floor import WARM_START, prior_floor
from archsearch.search.worker import set_cpu_threads
from archsearch.train.data import load_data
from archsearch.train.loop import TrainConfig, pick_device


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="tasks/digits-local-32.yaml")
    ap.add_argument("--space", default="search_spaces/cpu-32x32.yaml")
    ap.add_argument("--methods", nargs="+", default=["guided", "warm-floor", "tpe", "random"],
                    choices=["guided", "warm-floor", "tpe", "random"])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--train", type=int, default=8000)
    ap.add_argument("--val", type=int, default=2000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--threads", type=int, help="torch threads on CPU (default 1, as archsearch's commands)")
    args = ap.parse_args()
    set_cpu_threads(str(pick_device("auto")), args.threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    task, space = load_task(args.task), load_space(args.space)
    task = replace(task, data=replace(task.data, train=args.train, val=args.val, test=args.test))
    prior = Prior.for_task(task, space)
    data = load_data(task.data, task.input_shape)
    curves: dict[str, list[list[float]]] = {}
    t0 = time.perf_counter()
    for method in args.methods:
        for seed in range(args.seeds):
            warm = method == "warm-floor"
            settings = TrainedSettings(TrainConfig(epochs=args.epochs, seed=seed, device="auto"),
                                       floor=prior_floor(space, prior, seed=seed) if warm else float("-inf"),
                                       warm_start=WARM_START if warm else 0)
            objective, catch = trained_objective(task, space, prior, data, settings)
            sampler = make_sampler(method, space, prior, seed, args.trials, task=task)
            study = optuna.create_study(direction="maximize", sampler=sampler)
            run_study(study, objective, args.trials, progress=False, catch=catch)
            done = [t for t in study.trials
                    if t.state == optuna.trial.TrialState.COMPLETE and "duplicate_of" not in t.user_attrs]
            trained = [t.value for t in done]
            curves.setdefault(method, []).append(trained)
            chosen = max(done, key=lambda t: t.value)
            test = chosen.user_attrs["test_accuracy"]
            print(f"{method:10} seed {seed}: best validation {chosen.value:.4f} (test {test:.4f}) after "
                  f"{len(trained)} trained trials, channels {chosen.user_attrs['channels']}", flush=True)
    best_known = max(max(c) for runs in curves.values() for c in runs)
    print(f"\nmachine: {platform.machine()}, task {task.name}, space {space.name}, {args.epochs} epochs, "
          f"{args.train} training images, {args.trials} trials per run, {time.perf_counter() - t0:.0f} s in all")
    print(f"best accuracy known (any run): {best_known:.4f}; target: within 0.01 of it")
    print(f"{'method':10} {'trials to target, per seed':32} {'mean':>6} {'best per seed':>30}")
    for method, runs in curves.items():
        hits = []
        for c in runs:
            best = np.maximum.accumulate(c)
            ok = np.nonzero(best >= best_known - 0.01)[0]
            hits.append(int(ok[0]) + 1 if ok.size else None)
        shown = ", ".join("never" if h is None else str(h) for h in hits)
        found = [h if h is not None else args.trials + 1 for h in hits]
        print(f"{method:10} {shown:32} {np.mean(found):6.1f} "
              f"{', '.join(f'{max(c):.3f}' for c in runs):>30}")
    print("('never' counts as trials + 1 in the mean)")


if __name__ == "__main__":
    main()
