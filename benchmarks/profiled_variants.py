"""Variants of the share-profiled prior that could let its top picks follow the data, on the shipped tables.

The share design saturates at the reference layout's capacity and keeps a floor of log2(classes) bits on
every canonical window at weight 1, so it cannot prefer more than the reference anywhere, nor forgive a
narrow first layer where little of the data's correlation meets. Two knobs loosen that:

* ``alpha``: each meet level's need is the reference's capacity times w_k ** alpha (w_k the level's share
  of the summed |correlation|, mean 1): above the reference where more of the correlation meets;
  alpha = 0 is the shipped design.
* ``floor``: the canonical windows of level k weigh 1 (shipped) or w_k, the share of the correlation that
  first meets inside them.

Prints, per table, Kendall's tau of each variant against validation accuracy and its top pick's regret,
and per ordered/scrambled pair each variant's top pick on both sides (training's best first); ``--json``
writes all of it. Reads the shipped tables and the share-profiled tasks beside them; no training.

    python benchmarks/profiled_variants.py [--tables NAME ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

from archsearch.core.partitions import canonical
from archsearch.evidence.table import Table
from archsearch.formats.space import load_space
from archsearch.formats.task import load_task
from archsearch.prior.score import Prior

ROOT = Path(__file__).resolve().parent
TABLES = ("digits-local-32", "digits-global-32", "digits-mid-32", "mnist1d-32", "mnist1d-32-scrambled",
          "mnist1d-64", "mnist1d-64-scrambled", "mnist1d-32-s1", "mnist1d-32-s1-scrambled")
VARIANTS = {f"alpha={a}, floor={f}": (a, f) for f in ("1", "share") for a in (0.0, 0.5, 1.0)}


def variant_prior(task, space, alpha: float, floor: str) -> Prior:
    """The share-profiled ``task``'s prior over ``space`` with meet needs scaled by w ** alpha and, with
    ``floor='share'``, its canonical windows stated explicitly at weight w_k (else the prior's own floor)."""
    meet = np.array([p.name.startswith("meet-") for p in task.partitions])
    w = task.weights.copy()
    reference = Prior.for_space(task.masks, np.ones(len(w)), space).reference_log2
    needs = np.where(meet, reference * w ** alpha, np.nan) if alpha else task.needs
    masks, windows = task.masks, np.zeros(len(w), bool)
    if floor == "share":
        share = {int(p.name.split("-")[1]): p.weight for p in task.partitions if p.name.startswith("meet-")}
        levels = range(1, max(share))
        pool = space.schedules[0][0]  # the first schedule's window: the tree the meets were measured in
        cmasks = np.stack([canonical(tuple(space.input_shape), level=k, pool=pool) for k in levels])
        cneeds = Prior.for_space(cmasks, np.ones(len(cmasks)), space).reference_log2
        masks = np.concatenate([masks, cmasks])
        w = np.concatenate([w, [share[k] for k in levels]])
        needs = np.concatenate([needs, cneeds])
        windows = np.concatenate([windows, np.ones(len(cmasks), bool)])  # raised to log2(classes)
    return Prior.for_space(masks, w, space, needs=needs, windows=windows, canonical=floor == "1")


def table_rows(name: str) -> tuple[list, object, object]:
    table = Table.load(ROOT / "tables" / f"{name}.json")
    space = load_space(table.space.file)
    return table.rows(), space, load_task(ROOT / "evals" / "profiled" / f"{name}-share.yaml")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", nargs="+", default=list(TABLES))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    out: dict = {"tables": {}, "pairs": {}}
    for name in args.tables:
        rows, space, task = table_rows(name)
        acc = np.array([r.val_accuracy for r in rows])
        layouts = [space.layout(r.schedule, r.M, r.channels) for r in rows]
        best = int(np.argmax(acc))
        entry = {"layouts": len(rows), "best": rows[best].channels, "best_accuracy": float(acc[best])}
        print(f"{name}: {len(rows)} layouts, training's best {rows[best]['channels']} {acc[best]:.3f}")
        for label, (alpha, floor) in VARIANTS.items():
            prior = variant_prior(task, space, alpha, floor)
            scores = np.array([prior(lay).score for lay in layouts])
            top = int(np.argmax(scores))  # first of the ties, in the table's order
            tau = float(kendalltau(scores, acc)[0])
            regret = float(acc[best] - acc[top])
            entry[label] = {"kendall_tau": tau, "top1": rows[top].channels, "top1_regret": regret}
            print(f"  {label:22} tau {tau:+.3f}  top pick {rows[top]['channels']} regret {regret:.3f}")
        out["tables"][name] = entry
    picks = out["tables"]
    for a in args.tables:
        b = f"{a}-scrambled"
        if b in picks:
            pair = {"training": [picks[a]["best"], picks[b]["best"]],
                    **{label: [picks[a][label]["top1"], picks[b][label]["top1"]] for label in VARIANTS}}
            out["pairs"][f"{a}--{b}"] = pair
            print(f"{a} -> {b}: " + "; ".join(f"{k}: {v[0]} -> {v[1]}" for k, v in pair.items()))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
