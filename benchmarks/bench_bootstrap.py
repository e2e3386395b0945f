"""The bootstrap of ``bench eval`` at once against one scipy call per resample, in one run (issue 26):
Spearman's rho and Kendall's tau-b of 2,000 resamples of a 263-layout table, with and without vectorising,
and the same values from both.

    python benchmarks/bench_bootstrap.py [--layouts 263] [--resamples 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from scipy import stats

from archsearch.evidence.evaluate import _indices, boot_kendall, boot_spearman


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layouts", type=int, default=263)
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 6, args.layouts).astype(float), rng.random(args.layouts)  # a score with ties
    idx = _indices(args.layouts, args.resamples, 0)
    print(f"machine: {platform.machine()}; {args.layouts} layouts, {args.resamples} resamples, best of {args.repeats}")
    for name, scipy_fn, ours in (("Spearman", stats.spearmanr, boot_spearman),
                                 ("Kendall tau-b", stats.kendalltau, boot_kendall)):
        best = {"one call per resample": np.inf, "all at once": np.inf}
        for _ in range(args.repeats):  # interleaved, best of each
            t = time.perf_counter()
            loop = np.array([scipy_fn(x[i], y[i]).statistic for i in idx])
            best["one call per resample"] = min(best["one call per resample"], time.perf_counter() - t)
            t = time.perf_counter()
            once = ours(x, y, idx)
            best["all at once"] = min(best["all at once"], time.perf_counter() - t)
        for k, v in best.items():
            print(f"{name:14} {k:22} {v:7.3f} s")
        print(f"{name:14} speed-up {best['one call per resample'] / best['all at once']:.1f}x; largest difference "
              f"{np.abs(loop - once).max():.1e}; 95% interval {np.percentile(once, [2.5, 97.5]).round(6).tolist()} "
              "both")


if __name__ == "__main__":
    main()
