"""Print one line per table from `bench eval --json` files: each predictor's tau with ties broken (and
tau-b), and a named variant's difference from the best task-blind rule with its paired bootstrap interval.

    python benchmarks/summarize_evals.py benchmarks/evals/soft-leximin/*.json --variant prior-soft-leximin
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SHOWN = ("prior-soft-leximin", "prior-narrowest", "prior", "leximin", "bottleneck", "balanced", "min-width")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--variant", default="prior-soft-leximin", help="the design whose added value is shown")
    args = ap.parse_args()
    print("| table | layouts | " + " | ".join(SHOWN) + " | variant minus best rule [95% CI] | top-1 regret: variant"
          " / leximin / balanced |")
    print("|" + " --- |" * (len(SHOWN) + 4))
    for f in args.files:
        d = json.loads(f.read_text())
        p = d["predictors"]
        cells = [f"{p[n]['kendall_tau_ties_broken']:.3f}" if n in p else "-" for n in SHOWN]
        av = d["added_value"] if args.variant == "prior" else d["added_value_variants"][args.variant]
        lo, hi = av["tau_ties_broken_difference_ci"]
        diff = f"{av['tau_ties_broken_difference']:+.3f} [{lo:+.3f}, {hi:+.3f}] ({av['best_task_blind_ties_broken']})"
        regret = " / ".join(f"{p[n]['top1_regret']:.4f}" for n in (args.variant, "leximin", "balanced"))
        print(f"| {f.stem} | {d['layouts']} | " + " | ".join(cells) + f" | {diff} | {regret} |")


if __name__ == "__main__":
    main()
