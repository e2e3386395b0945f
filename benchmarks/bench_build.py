"""CPU that holds up when shared: training throughput of `bench build`, in runs per hour, for one process
with torch's default threads (all cores), one single-threaded process, and W single-threaded processes
(W = the cores: archsearch's choice, `--threads` unset), each on an idle machine and beside one busy
process (a pure-Python loop, standing in for any other job); and for each, throughput beside the busy
process as a fraction of its idle throughput. Measured side by side in one run; the same layouts and
settings for every configuration.

    python benchmarks/bench_build.py [--runs 12] [--epochs 3] [--train 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import tempfile
import time
from pathlib import Path

from archsearch.evidence.bench import BenchSettings, build_table, candidate_layouts
from archsearch.formats.space import load_space
from archsearch.formats.task import load_task

ROOT = Path(__file__).resolve().parent.parent


def _busy(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default=str(ROOT / "tasks" / "digits-local-32.yaml"))
    ap.add_argument("--space", default=str(ROOT / "search_spaces" / "cpu-32x32-grid.yaml"))
    ap.add_argument("--runs", type=int, default=12)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--train", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    task, space = load_task(args.task), load_space(args.space)
    chosen = candidate_layouts(space, 0.85, 1)[0][: args.runs]
    settings = BenchSettings(epochs=args.epochs, seeds=1, noise_layouts=0, train=args.train, val=500, test=500,
                             model=space.model)
    configs = [(f"1 process, torch default threads ({os.cpu_count()} cores)", 1, None),
               ("1 process, 1 thread", 1, 1),
               (f"{args.workers} processes, 1 thread each", args.workers, 1)]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {len(chosen)} runs of {task.name}, "
          f"{args.epochs} epochs on {args.train} images each")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        # the data set is built and cached once, outside the timings
        build_table(task, space, settings, Path(tmp) / "warm.json", workers=1, device="cpu", chosen=chosen[:1],
                    threads=1, cache_dir=Path(tmp) / "cache")
        for load in ("idle", "beside one busy process"):
            stop = mp.Event()
            burner = mp.Process(target=_busy, args=(stop,)) if load != "idle" else None
            if burner:
                burner.start()
            for name, workers, threads in configs:
                out = Path(tmp) / f"{len(results)}.json"
                t0 = time.perf_counter()
                build_table(task, space, settings, out, workers=workers, device="cpu", chosen=chosen,
                            threads=threads, cache_dir=Path(tmp) / "cache")
                wall = time.perf_counter() - t0
                results[(load, name)] = len(chosen) / wall * 3600
                print(f"{load:24} {name:44} {wall:7.1f} s   {results[(load, name)]:7.0f} runs/hour", flush=True)
            if burner:
                stop.set()
                burner.join()
    busy = "beside one busy process"
    for name, _, _ in configs:
        print(f"{name:44} beside a busy process / idle = {results[(busy, name)] / results[('idle', name)]:.2f}x")


if __name__ == "__main__":
    main()
