"""CPU training with freed memory kept (archsearch's default, ``archsearch.train.memory``) against glibc's
malloc as it comes (``ARCHSEARCH_MALLOC=system``), side by side in one run: the same layouts, data, seed
and settings, each run in a fresh single-threaded process, the two settings interleaved. Reports wall time,
CPU time in user space and in the kernel, minor page faults, peak memory, and the accuracies, which must be
equal to the last digit (the allocator changes no number).

    python benchmarks/bench_malloc.py [--epochs 1] [--train 2000] [--repeats 2]

Layouts: four of the held-out digits-local-48 table (48x48 inputs; from narrow first layers to a 64-wide
one) and the paper experiment's wide-base and wide-tip at its CPU scale (digits-local-32).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "benchmarks" / "tables" / "heldout" / "digits-local-48.json"
LAYOUTS = (0, 75, 150, 225)  # [4,4,16,16,64], [8,64,8,64,8], [32,4,8,32,32], [64,8,4,64,8]

CHILD = r"""
import dataclasses, json, resource, sys, time
import torch
torch.set_num_threads(1)
from archsearch.train.loop import TrainConfig, train
from archsearch.train.memory import keep_freed_memory
from archsearch.train.models import build_model
which, epochs, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if which.startswith("table:"):
    from archsearch.evidence import Table
    table = Table.load(sys.argv[4])
    task, space = table.task_space()
    data = table.data(space)
    e = table.layouts[int(which[6:])]
    layout, label = space.layout(e.schedule, e.M, e.channels), f"digits-local-48 {list(e.channels)}"
else:
    from archsearch.core.layout import paper_pair
    from archsearch.formats.task import load_task
    from archsearch.train.data import load_data
    task = load_task(sys.argv[4])
    data = load_data(task.data, task.input_shape)
    layout = paper_pair(task.input_shape, 10, 8, [2] * 5)[0 if which == "wide-base" else 1]
    label = f"paper {which} {list(layout.channels)}"
cut = lambda s, k: dataclasses.replace(s, x=s.x[:k], y=s.y[:k])
data = dataclasses.replace(data, train=cut(data.train, n), val=cut(data.val, 500), test=cut(data.test, 500))
r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
out = train(build_model(layout, "convnet", seed=0), data, TrainConfig(epochs=epochs, seed=0, device="cpu"))
w, r1 = time.perf_counter() - w0, resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"label": label, "kept": keep_freed_memory(), "wall": w, "user": r1.ru_utime - r0.ru_utime,
                  "sys": r1.ru_stime - r0.ru_stime, "faults": r1.ru_minflt - r0.ru_minflt,
                  "peak_mb": r1.ru_maxrss / 1024, "val": out["val_accuracy"], "test": out["test_accuracy"]}))
"""


def run(which: str, kept: bool, args: argparse.Namespace) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "ARCHSEARCH_MALLOC"}
    if not kept:
        env["ARCHSEARCH_MALLOC"] = "system"
    src = str(TABLE) if which.startswith("table:") else str(ROOT / "tasks" / "digits-local-32.yaml")
    done = subprocess.run([sys.executable, "-c", CHILD, which, str(args.epochs), str(args.train), src],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--train", type=int, default=2000, help="training images (validation and test: 500 each)")
    ap.add_argument("--repeats", type=int, default=2, help="runs of each setting per layout; the best is kept")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; one "
          f"thread a process; {args.train} images x {args.epochs} epoch(s); best of {args.repeats}")
    print("| layout | wall: kept / system | ratio | CPU user+sys: kept / system | sys: kept / system | "
          "page faults: kept / system | peak MB: kept / system | accuracies equal |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    ratios = []
    for which in [*(f"table:{i}" for i in LAYOUTS), "wide-base", "wide-tip"]:
        best: dict[bool, dict] = {}
        for _ in range(args.repeats):
            for kept in (True, False):  # interleaved: the machine's noise hits both alike
                r = run(which, kept, args)
                assert r["kept"] == kept, f"malloc kept={r['kept']}, asked {kept}: see why_not_kept()"
                if kept not in best or r["wall"] < best[kept]["wall"]:
                    best[kept] = r
        k, s = best[True], best[False]
        same = (k["val"], k["test"]) == (s["val"], s["test"])
        ratios.append(s["wall"] / k["wall"])
        print(f"| {k['label']} | {k['wall']:.2f} / {s['wall']:.2f} s | **{s['wall'] / k['wall']:.2f}x** | "
              f"{k['user'] + k['sys']:.2f} / {s['user'] + s['sys']:.2f} s | {k['sys']:.2f} / {s['sys']:.2f} s | "
              f"{k['faults']:,} / {s['faults']:,} | {k['peak_mb']:.0f} / {s['peak_mb']:.0f} | "
              f"{'yes' if same else 'NO'} ({k['test']:.4f}) |")
    print(f"wall time, glibc's malloc as it comes over freed memory kept: {min(ratios):.2f}x to {max(ratios):.2f}x")


if __name__ == "__main__":
    main()
