#!/usr/bin/env bash
# Issue 26: every shipped complete-grid table replayed again once TPE proposes within the size band
# (archsearch/search/band_tpe.py; before, its out-of-band proposals were trials: benchmarks/replays/*.json).
# All strategies with the default prior, then 'guided' with --prior narrowest (issue 23's design). 200
# repeats, 50 counted trainings, repeat r seeded r; resumable table by table (a JSON that exists is kept).
set -euo pipefail
source "$(dirname "$0")/replay_lib.sh"
out=benchmarks/replays/band
for t in "${REPLAY_TABLES[@]}"; do
  name=$(basename "$t")
  replay "$out" "$name" "$t" --strategies random tpe warm-floor guided prior-top balanced bottleneck \
    --plot "$out/$name.png"
  replay "$out" "$name-narrowest" "$t" --prior narrowest --strategies guided
done
