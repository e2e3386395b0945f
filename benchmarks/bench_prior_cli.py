"""A prior-only search on the command line (SQLite, pictures at the end, the whole process) against the same
search in memory (the same recipe, sampler, seed and objective, through the same run loop), side by side in
one run: what the storage and the rest of the command cost per trial (issue 26; target at most 1.5x).

Two ratios: of the whole runs at ``--trials``, and of the time a trial adds (the runs at ``--trials`` minus
the runs at ``--base`` trials, per trial): the command's fixed cost (starting Python, creating the SQLite
schema, drawing the five best layouts) is a few seconds whatever the number of trials.

    python benchmarks/bench_prior_cli.py [--trials 1500] [--base 100] [--sampler tpe random]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

ROOT = Path(__file__).resolve().parents[1]


def in_memory(task: str, space: str, sampler: str, trials: int) -> float:
    """Seconds for the search the command runs, on an in-memory study."""
    from archsearch.search.recipe import Recipe
    from archsearch.search.study import run_study
    from archsearch.search.worker import prepare, sampler_for, worker_seed

    recipe = Recipe.from_files(task, space, kind="search", mode="prior-only", trials=trials, prior="needs",
                               epochs=1, train=None, val=None, test=None, seed=0, max_failures=100)
    recipe = dataclasses.replace(recipe, sampler=sampler, guide="none")
    work = prepare(recipe, "bench")
    t0 = time.perf_counter()
    study = optuna.create_study(direction="maximize", sampler=sampler_for(work, worker_seed(recipe, 0, False)))
    run_study(study, work.objective, trials, progress=False, catch=work.catch)
    return time.perf_counter() - t0


def command_line(task: str, space: str, sampler: str, trials: int) -> float:
    """Seconds for ``archsearch search ... --prior-only`` in a fresh process on a fresh SQLite study."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "archsearch", "search", task, space, "--prior-only", "--trials", str(trials),
               "--sampler", sampler, "--study-name", "bench", "--runs-dir", tmp, "--no-progress"]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        seconds = time.perf_counter() - t0
        if done.returncode:
            raise SystemExit(done.stderr)
        return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1500)
    ap.add_argument("--base", type=int, default=100)
    ap.add_argument("--sampler", nargs="+", default=["tpe", "random"], choices=["tpe", "random"])
    ap.add_argument("--task", default=str(ROOT / "tasks" / "digits-local.yaml"))
    ap.add_argument("--space", default=str(ROOT / "search_spaces" / "paper-64x64.yaml"))
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"optuna {optuna.__version__}; {args.trials} prior-only trials, {Path(args.task).stem} over "
          f"{Path(args.space).stem}")
    for sampler in args.sampler:
        mem = in_memory(args.task, args.space, sampler, args.trials)
        cli = command_line(args.task, args.space, sampler, args.trials)
        mem0 = in_memory(args.task, args.space, sampler, args.base)
        cli0 = command_line(args.task, args.space, sampler, args.base)
        n = args.trials - args.base
        print(f"{sampler:7} in memory {mem:7.1f} s, command line {cli:7.1f} s: ratio {cli / mem:.2f}x   a trial adds "
              f"{1e3 * (mem - mem0) / n:6.1f} ms in memory, {1e3 * (cli - cli0) / n:6.1f} ms on the command line: "
              f"ratio {(cli - cli0) / (mem - mem0):.2f}x (target <= 1.5x)   ({args.base} trials: {mem0:.1f} s / "
              f"{cli0:.1f} s)")


if __name__ == "__main__":
    main()
