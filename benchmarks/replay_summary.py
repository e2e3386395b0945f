"""The replay tables of docs/evidence/replays.md, printed from the committed JSON of
benchmarks/replays/band/ (spread 8, every strategy), benchmarks/replays/band/spread1/ (guided at spread 1)
and benchmarks/replays/soft-leximin/ (the leximin order; guided and prior-top reading --prior
soft-leximin, spread 1): trainings until within 1 point of the table's best, median [q25, q75] (a replay of one search,
the fixed orders, shows its one figure).

    python benchmarks/replay_summary.py
"""

from __future__ import annotations

import json
from pathlib import Path

BAND = Path(__file__).parent / "replays" / "band"
SOFT = Path(__file__).parent / "replays" / "soft-leximin"
TABLES = ("digits-local-32", "digits-global-32", "mnist1d-32", "mnist1d-32-scrambled", "digits-mid-32",
          "mnist1d-32-s1", "mnist1d-32-s1-scrambled", "mnist1d-48", "mnist1d-64", "mnist1d-64-scrambled")


def figure(path: Path, strategy: str) -> str:
    if not path.exists():
        return "-"
    got = json.loads(path.read_text())["strategies"].get(strategy)
    if got is None:
        return "-"
    t = got["trials_to_within_1pt"]
    if got["repeats"] == 1:
        return f"{t['median']:g}"
    return f"{t['median']:g} [{t['q25']:g}, {t['q75']:g}]"


def main() -> None:
    cols = [("random", "", "random"), ("tpe", "", "tpe"), ("warm-floor", "", "warm-floor"),
            ("guided, spread 8", "", "guided"), ("guided, spread 1", "spread1/", "guided"),
            ("guided narrowest, spread 8", "-narrowest", "guided"),
            ("guided narrowest, spread 1", "spread1/-narrowest", "guided"),
            ("prior-top", "", "prior-top"), ("balanced", "", "balanced"), ("bottleneck", "", "bottleneck"),
            ("leximin", "soft/", "leximin"), ("guided soft-leximin, spread 1", "soft/", "guided"),
            ("prior-top soft-leximin", "soft/", "prior-top")]
    print("| table | " + " | ".join(c[0] for c in cols) + " |")
    print("| --- |" + " --- |" * len(cols))
    for name in TABLES:
        cells = []
        for _, where, strategy in cols:
            folder, suffix = BAND, where
            if "/" in where:
                head, suffix = where.split("/")
                folder = {"spread1": BAND / "spread1", "soft": SOFT}[head]
            cells.append(figure(folder / f"{name}{suffix}.json", strategy))
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    print("| table, prior inverted | guided, spread 8 | guided, spread 1 | never within: spread 8 / spread 1 |")
    print("| --- | --- | --- | --- |")
    for name in ("digits-mid-32", "mnist1d-32-scrambled", "mnist1d-48"):
        eight, one = BAND / "spread1" / f"{name}-inverted-spread8.json", BAND / "spread1" / f"{name}-inverted.json"
        nev = [json.loads(p.read_text())["strategies"]["guided"]["never_within"] if p.exists() else float("nan")
               for p in (eight, one)]
        print(f"| {name} | {figure(eight, 'guided')} | {figure(one, 'guided')} | {nev[0]:.3f} / {nev[1]:.3f} |")


if __name__ == "__main__":
    main()
