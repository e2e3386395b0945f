"""The block rule's speed (issue 25): every layout of a Channel-Bench-Macro space (16,384) scored by the prior
of ``natural-images-32`` in one pass (target: under a minute), against one layout at a time on a seeded
sample, in one run, with the same cuts from both.

    python benchmarks/bench_blockcut.py [--space cbm-mobilenet] [--sample 200]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from archsearch.core.blockcut import block_cuts, block_output_cut
from archsearch.formats.blocks_file import load_block_space
from archsearch.formats.task import load_task
from archsearch.prior.blocks import BlockPrior

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", default="cbm-mobilenet")
    ap.add_argument("--sample", type=int, default=200, help="layouts scored one at a time")
    args = ap.parse_args()
    task = load_task(ROOT / "tasks" / "natural-images-32.yaml")
    space = load_block_space(ROOT / "search_spaces" / f"{args.space}.yaml")
    t = time.perf_counter()
    layouts = [space.layout(w) for w in space.all_widths()]
    built = time.perf_counter() - t
    t = time.perf_counter()
    prior = BlockPrior.for_task(task, space)
    scores, cuts = prior.score_many(layouts)
    once = time.perf_counter() - t
    pick = np.random.default_rng(0).choice(len(layouts), args.sample, replace=False)
    t = time.perf_counter()
    single = np.array([[*block_cuts(layouts[i], task.masks), block_output_cut(layouts[i])] for i in pick])
    each = (time.perf_counter() - t) / args.sample
    print(f"machine: {platform.machine()}; space {space.name}: {len(layouts)} layouts x {len(task.masks)} "
          f"partitions + the output")
    print(f"build the layouts       {built:7.2f} s")
    print(f"score all in one pass   {once:7.2f} s  ({once / len(layouts) * 1e6:.0f} us a layout)")
    print(f"one layout at a time    {each * 1e3:7.2f} ms a layout (mean of {args.sample}); all would take "
          f"{each * len(layouts):.0f} s")
    print(f"speed-up {each * len(layouts) / once:.1f}x; largest difference in a cut "
          f"{np.abs(single - cuts[pick]).max():.1e} bits; scores {scores.min():.4f} .. {scores.max():.4f}")


if __name__ == "__main__":
    main()
