#!/usr/bin/env bash
# Issue 23: the check stated in docs/evidence/replays.md ("The guided sampler's spread"): guided at
# spread 1 (the default since that statement) on the seven tables the choice never saw, with the default
# prior and with --prior narrowest; and, on three of them, with the prior inverted at spread 1 and 8. The
# spread-8 replays with the default and narrowest priors are benchmarks/replays/band/ (replay_band.sh).
# 200 repeats, 50 counted trainings, repeat r seeded r; resumable (a JSON that exists is kept).
set -euo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/replays/band/spread1
mkdir -p "$out"
run() {  # run NAME TABLE ARGS...: one replay into $out/NAME.json
  local name=$1 table=$2; shift 2
  [ -f "$out/$name.json" ] && return 0
  archsearch bench replay "benchmarks/tables/$table.json" --repeats 200 --budget-trials 50 \
    --workers "${WORKERS:-1}" --no-progress --json "$@" > "$out/$name.json.part"
  mv "$out/$name.json.part" "$out/$name.json"
}
for t in digits-mid-32 mnist1d-32-scrambled mnist1d-32-s1 mnist1d-32-s1-scrambled heldout/mnist1d-48 mnist1d-64 \
         mnist1d-64-scrambled; do
  name=$(basename "$t")
  run "$name" "$t" --strategies guided --spread 1
  run "$name-narrowest" "$t" --strategies guided --spread 1 --prior narrowest
done
for t in digits-mid-32 mnist1d-32-scrambled heldout/mnist1d-48; do
  name=$(basename "$t")
  run "$name-inverted" "$t" --strategies guided --spread 1 --invert-prior
  run "$name-inverted-spread8" "$t" --strategies guided --spread 8 --invert-prior
done
