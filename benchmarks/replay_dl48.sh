#!/usr/bin/env bash
# The held-out digits-local-48 replayed once every layout of its grid is trained (`bench replay` refuses it
# before): 200 searches of 50 trainings per strategy, with its task as written (the seven strategies of the
# held-out pairs' replays) into benchmarks/replays/heldout/, and with its share-profiled task (guided and
# the prior's order) into benchmarks/replays/profiled/. Resumable: a finished file is kept; delete it to
# replay a grown table again. WORKERS=N: processes (default 1).
set -euo pipefail
source "$(dirname "$0")/replay_lib.sh"
t=heldout/digits-local-48
replay benchmarks/replays/heldout digits-local-48 "$t" \
  --strategies random tpe guided prior-top balanced bottleneck leximin
replay benchmarks/replays/profiled digits-local-48-share "$t" \
  --task benchmarks/evals/profiled/digits-local-48-share.yaml --strategies guided prior-top
for f in benchmarks/replays/heldout/digits-local-48.json benchmarks/replays/profiled/digits-local-48-share.json; do
  python - "$f" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
print(sys.argv[1], "(trainings to within 1 point: median [q25, q75])")
for name, f in rep["strategies"].items():
    t = f["trials_to_within_1pt"]
    print(f"  {name:11} {t['median']:g} [{t['q25']:g}, {t['q75']:g}]  never within {f['never_within']:.0%}")
PY
done
