"""A GPU kept busy: runs per hour and GPU utilisation with 1, 2, 4 and 8 training processes sharing one
CUDA device (the way `bench build --workers W --device cuda` and `search --workers W` run), the same
layouts and settings for every count, measured side by side in one run. Utilisation is sampled from
nvidia-smi every half second while the runs train.

    python benchmarks/bench_gpu.py [--runs 16] [--epochs 12] [--train 8000] [--concurrent 1 2 4 8]

Needs a CUDA device; elsewhere it says so and exits with status 2 (nothing measured).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from archsearch.evidence.bench import BenchSettings, build_table, candidate_layouts
from archsearch.formats.space import load_space
from archsearch.formats.task import load_task

ROOT = Path(__file__).resolve().parent.parent


class Utilisation:
    """Samples ``nvidia-smi``'s GPU utilisation (percent) in a thread until stopped; the mean."""

    def __init__(self, index: int = 0, every: float = 0.5) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._cmd = [shutil.which("nvidia-smi") or "nvidia-smi", f"--id={index}",
                     "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"]
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                out = subprocess.run(self._cmd, capture_output=True, text=True, timeout=5).stdout.strip()
                self.samples.append(float(out.splitlines()[0]))
            except (OSError, ValueError, IndexError, subprocess.SubprocessError):
                pass

    def __enter__(self) -> Utilisation:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default=str(ROOT / "tasks" / "digits-local-32.yaml"))
    ap.add_argument("--space", default=str(ROOT / "search_spaces" / "cpu-32x32-grid.yaml"))
    ap.add_argument("--runs", type=int, default=16, help="runs per configuration")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--train", type=int, default=8000)
    ap.add_argument("--concurrent", type=int, nargs="+", default=[1, 2, 4, 8])
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device here: nothing measured (this benchmark needs a GPU)", file=sys.stderr)
        return 2
    task, space = load_task(args.task), load_space(args.space)
    chosen = candidate_layouts(space, 0.85, 1)[0][: args.runs]
    settings = BenchSettings(epochs=args.epochs, seeds=1, noise_layouts=0, train=args.train, val=2000, test=2000,
                             model=space.model)
    print(f"device: {torch.cuda.get_device_name(0)}; torch {torch.__version__}; {len(chosen)} runs of {task.name} "
          f"per configuration, {args.epochs} epochs on {args.train} images each, bf16 autocast")
    print(f"{'concurrent':>10} {'wall s':>8} {'runs/hour':>10} {'GPU util %':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        # build (and cache) the data once, outside the timings
        build_table(task, space, settings, Path(tmp) / "warm.json", workers=1, device="cuda", chosen=chosen[:1],
                    cache_dir=Path(tmp) / "cache")
        for k in args.concurrent:
            with Utilisation() as util:
                t0 = time.perf_counter()
                build_table(task, space, settings, Path(tmp) / f"{k}.json", workers=k, device="cuda", chosen=chosen,
                            cache_dir=Path(tmp) / "cache")
                wall = time.perf_counter() - t0
            print(f"{k:>10} {wall:8.1f} {len(chosen) / wall * 3600:10.0f} {util.mean:11.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
