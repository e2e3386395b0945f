"""Print one line per table from `bench eval --json` files: each predictor's tau with ties broken, and a
named variant's difference from the best task-blind rule with its paired bootstrap interval; ``--plot``
also draws each table's taus of the leximin rule, the default prior and the variant as dots.

    python benchmarks/summarize_evals.py benchmarks/evals/soft-leximin/*.json --variant prior-soft-leximin

``--position`` prints instead which widths against where they sit (`bench eval`'s ``position``): the
multisets' fitted tau beside the leximin rule's, the share of variance within multisets, how reproducible
it is, and each predictor's tau within multisets. ``--contrast`` reads `bench contrast --json` files: each
pair's change ceiling, the prior's change tau, and its held-out seed.
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
    ap.add_argument("--plot", type=Path, help="draw the taus per table into this PNG")
    ap.add_argument("--label", nargs="*", default=[], help="a name per file for the plot (default: its stem)")
    ap.add_argument("--position", action="store_true", help="which widths against where they sit, per table")
    ap.add_argument("--contrast", action="store_true", help="the files are `bench contrast --json`: one line a pair")
    args = ap.parse_args()
    if args.contrast:
        return contrasts(args.files)
    if args.position:
        return position(args.files, args.plot, args.label)
    rows = []
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
        rows.append({n: p[n]["kendall_tau_ties_broken"] for n in ("leximin", "prior", args.variant) if n in p})
    if args.plot:
        labels = args.label or [f.stem for f in args.files]
        plot(rows, labels, args.variant, args.plot)


def position(files: list[Path], out: Path | None = None, labels: list[str] | None = None) -> None:
    """One line per table of `bench eval`'s ``position``; ``out``: the held-out seed's figures drawn, for
    the tables that have them."""
    within = ("prior", "prior-soft-leximin", "leximin")
    print("| table | layouts (multisets) | multisets' own means, fitted | leximin rule | variance within multisets"
          " | its seed-to-seed rho (layouts) | reliability of a k-seed mean (k) | tau within multisets: "
          + " / ".join(within) + " | a held-out seed: the other seeds' means / their multisets' / leximin / prior /"
          " soft-leximin (layouts) |")
    print("|" + " --- |" * 9)
    label = dict(zip(files, labels or [], strict=False))
    held_rows: list[tuple[dict[str, float], str]] = []
    for f in files:
        d = json.loads(f.read_text())
        p, r = d["position"], d["position"]["residual"]
        lex = d["predictors"]["leximin"]["kendall_tau_ties_broken"]
        rep = (f"{r['rho']:+.3f} ({r['layouts']})", f"{r['reliability']:+.3f} ({r['seeds']})") if r["seed_pairs"] \
            else ("-", "-")
        taus = " / ".join(f"{p['within_multiset_tau'].get(n, float('nan')):+.3f}" for n in within)
        h = p["held_out_seed"]
        held = (f"{h['training']:.3f} / {h['multisets']:.3f} / " + " / ".join(
            f"{h['predictors'][n]:.3f}" for n in ("leximin", "prior", "prior-soft-leximin")) + f" ({h['layouts']})"
                if h is not None else "-")
        print(f"| {f.stem} | {p['layouts']} ({p['multisets']}) | {p['multiset_tau']:.3f} | {lex:.3f} | "
              f"{p['within_share']:.0%} | {rep[0]} | {rep[1]} | {taus} | {held} |")
        if h is not None:
            held_rows.append(({"training": h["training"], **h["predictors"]}, label.get(f, f.stem)))
    if out is not None:
        marks = {"training": ("the other two seeds' means (training)", "X", "black"),
                 "leximin": ("leximin rule (task-blind)", "s", "0.35"), "prior": ("default prior", "o", "tab:blue"),
                 "prior-soft-leximin": ("soft-leximin", "D", "tab:orange")}
        dots([r for r, _ in held_rows], [n for _, n in held_rows], marks,
             "Kendall tau against the seed left out (ties broken; mean over the seeds)", out)


def contrasts(files: list[Path]) -> None:
    """One line per pair of `bench contrast --json`: the change's ceiling, the prior's change tau, and the
    held-out seed's figures (training, then the priors)."""
    priors = ("prior", "prior-soft-leximin", "prior-narrowest")
    print("| pair | layouts | change's noise ceiling (seed 0 vs 1) | prior's change tau | a held-out seed: training / "
          + " / ".join(p.removeprefix("prior-") for p in priors) + " |")
    print("|" + " --- |" * 5)
    for f in files:
        d = json.loads(f.read_text())
        h = d.get("held_out_seed")
        held = "-" if h is None else f"{h['training']:.3f} / " + " / ".join(
            f"{h['predictors'][n]:.3f}" for n in priors) + f" ({h['layouts']})"
        ceiling, prior = d["change_ceiling"], d["predictors"]["prior"]
        print(f"| {d['task_a']} -> {d['task_b']} | {d['layouts']} | {ceiling['kendall_tau']:.3f} "
              f"[{ceiling['tau_ci'][0]:.3f}, {ceiling['tau_ci'][1]:.3f}] | {prior['change_tau']:.3f} "
              f"[{prior['change_ci'][0]:.3f}, {prior['change_ci'][1]:.3f}] | {held} |")


def plot(rows: list[dict[str, float]], labels: list[str], variant: str, out: Path) -> None:
    """One row per table: the leximin rule's, the default prior's and ``variant``'s tau as dots."""
    marks = {"leximin": ("leximin rule (task-blind)", "s", "0.35"), "prior": ("default prior", "o", "tab:blue"),
             variant: (variant.removeprefix("prior-"), "D", "tab:orange")}
    dots(rows, labels, marks, "Kendall tau against mean validation accuracy (ties broken)", out)


def dots(rows: list[dict[str, float]], labels: list[str], marks: dict[str, tuple[str, str, str]], xlabel: str,
         out: Path) -> None:
    """One row per table, one dot per name in ``marks`` (name -> legend text, marker, colour)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(rows) + 1.2))
    y = list(range(len(rows)))[::-1]
    for name, (text, marker, colour) in marks.items():
        ax.scatter([r.get(name, float("nan")) for r in rows], y, marker=marker, color=colour, label=text, zorder=3)
    for yi, r in zip(y, rows, strict=True):
        vals = [r[n] for n in marks if n in r]
        ax.plot([min(vals), max(vals)], [yi, yi], color="0.85", zorder=1)
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="0.92")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(len(marks), 3), fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(out, dpi=110, bbox_inches="tight")  # the legend above the axes and long labels stay in

if __name__ == "__main__":
    main()
