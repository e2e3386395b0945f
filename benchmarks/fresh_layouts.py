"""A copy of a table holding only the runs of layouts that a list of seen layouts leaves out: the layouts
trained after a statement was committed, for judging it on data it never saw.

    python benchmarks/fresh_layouts.py TABLE.json --seen SEEN.json --out FRESH.json

SEEN.json holds {"table": ..., "layouts": [ids]} (written with --write-seen from the table as it stands).
The copy keeps the table's layouts, settings and provenance; `bench eval FRESH.json` then judges the fresh
layouts alone (a layout without runs is not ranked).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("table", type=Path)
    ap.add_argument("--seen", type=Path, required=True, help="the seen layouts' ids (JSON)")
    ap.add_argument("--out", type=Path, help="the fresh copy to write (.json)")
    ap.add_argument("--write-seen", action="store_true", help="write --seen from the table's trained layouts")
    args = ap.parse_args()
    for path in [args.table] + ([] if args.write_seen else [args.seen]):
        if not path.is_file():
            ap.error(f"{path}: no such file")
    table = json.loads(args.table.read_text())
    if args.write_seen:
        ids = sorted({r["layout"] for r in table["runs"]})
        args.seen.write_text(json.dumps({"table": str(args.table), "runs": len(table["runs"]), "layouts": ids}) + "\n")
        print(f"{len(ids)} layouts seen ({len(table['runs'])} runs) -> {args.seen}")
        return
    if args.out is None:
        ap.error("--out is needed unless --write-seen")
    seen = set(json.loads(args.seen.read_text())["layouts"])
    table["runs"] = [r for r in table["runs"] if r["layout"] not in seen]
    args.out.write_text(json.dumps(table))
    print(f"{len({r['layout'] for r in table['runs']})} fresh layouts ({len(table['runs'])} runs) -> {args.out}")


if __name__ == "__main__":
    main()
