#!/usr/bin/env bash
# Issue 26: every shipped complete-grid table replayed again once TPE proposes within the size band
# (archsearch/search/band_tpe.py; before, its out-of-band proposals were trials: benchmarks/replays/*.json).
# All strategies with the default prior, then 'guided' with --prior narrowest (issue 23's design). 200
# repeats, 50 counted trainings, repeat r seeded r; resumable table by table (a JSON that exists is kept).
set -euo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/replays/band
mkdir -p "$out"
for t in digits-local-32 digits-global-32 mnist1d-32 mnist1d-32-scrambled digits-mid-32 mnist1d-32-s1 \
         mnist1d-32-s1-scrambled heldout/mnist1d-48 mnist1d-64 mnist1d-64-scrambled; do
  name=$(basename "$t")
  if [ ! -f "$out/$name.json" ]; then
    archsearch bench replay "benchmarks/tables/$t.json" --strategies random tpe warm-floor guided prior-top \
      balanced bottleneck --repeats 200 --budget-trials 50 --workers "${WORKERS:-1}" --no-progress \
      --plot "$out/$name.png" --json > "$out/$name.json.part"
    mv "$out/$name.json.part" "$out/$name.json"
  fi
  if [ ! -f "$out/$name-narrowest.json" ]; then
    archsearch bench replay "benchmarks/tables/$t.json" --prior narrowest --strategies guided \
      --repeats 200 --budget-trials 50 --workers "${WORKERS:-1}" --no-progress --json > "$out/$name-narrowest.json.part"
    mv "$out/$name-narrowest.json.part" "$out/$name-narrowest.json"
  fi
done
