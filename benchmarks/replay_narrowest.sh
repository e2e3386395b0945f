#!/usr/bin/env bash
# Issue 23: the searches the 'narrowest' design guides, replayed on the shipped tables (the tables the
# committed replays of benchmarks/replays/ used, so 'tpe' and 'balanced' there compare: they read no
# prior, and repeat r is seeded r for every strategy), and on the held-out mnist1d-48. 200 repeats, 50
# counted trainings each; resumable table by table (a table whose JSON exists is skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/replays/narrowest
mkdir -p "$out"
for t in digits-local-32 digits-global-32 mnist1d-32 mnist1d-32-scrambled digits-mid-32 mnist1d-32-s1 \
         mnist1d-32-s1-scrambled heldout/mnist1d-48 mnist1d-64 mnist1d-64-scrambled; do
  name=$(basename "$t")
  [ -f "$out/$name.json" ] && continue
  archsearch bench replay "benchmarks/tables/$t.json" --prior narrowest --strategies guided prior-top bottleneck \
    balanced --repeats 200 --budget-trials 50 --workers "${WORKERS:-1}" --no-progress --json > "$out/$name.json.part"
  mv "$out/$name.json.part" "$out/$name.json"
done
