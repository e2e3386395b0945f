#!/usr/bin/env bash
# Issue 23, session 3: the leximin rule's order (task-blind; one search: a fixed order) and the guided
# sampler and prior-top reading --prior soft-leximin (200 repeats, 50 counted trainings, repeat r seeded r,
# spread 1, the default), on the tables of benchmarks/replay_band.sh. Resumable table by table.
set -euo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/replays/soft-leximin
mkdir -p "$out"
for t in digits-local-32 digits-global-32 mnist1d-32 mnist1d-32-scrambled digits-mid-32 mnist1d-32-s1 \
         mnist1d-32-s1-scrambled heldout/mnist1d-48 mnist1d-64 mnist1d-64-scrambled; do
  name=$(basename "$t")
  if [ ! -f "$out/$name.json" ]; then
    archsearch bench replay "benchmarks/tables/$t.json" --prior soft-leximin --strategies guided prior-top leximin \
      --repeats 200 --budget-trials 50 --workers "${WORKERS:-1}" --no-progress --json > "$out/$name.json.part"
    mv "$out/$name.json.part" "$out/$name.json"
  fi
done
