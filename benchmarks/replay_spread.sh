#!/usr/bin/env bash
# Issue 23: the check stated in docs/evidence/replays.md ("The guided sampler's spread"): guided at
# spread 1 (the default since that statement) on the seven tables the choice never saw, with the default
# prior and with --prior narrowest; and, on three of them, with the prior inverted at spread 1 and 8. The
# spread-8 replays with the default and narrowest priors are benchmarks/replays/band/ (replay_band.sh).
# 200 repeats, 50 counted trainings, repeat r seeded r; resumable (a JSON that exists is kept).
set -euo pipefail
source "$(dirname "$0")/replay_lib.sh"
out=benchmarks/replays/band/spread1
for t in "${REPLAY_TABLES[@]}"; do
  case $t in digits-local-32 | digits-global-32 | mnist1d-32) continue ;; esac  # the spread was chosen on these
  name=$(basename "$t")
  replay "$out" "$name" "$t" --strategies guided --spread 1
  replay "$out" "$name-narrowest" "$t" --strategies guided --spread 1 --prior narrowest
done
for t in digits-mid-32 mnist1d-32-scrambled heldout/mnist1d-48; do
  name=$(basename "$t")
  replay "$out" "$name-inverted" "$t" --strategies guided --spread 1 --invert-prior
  replay "$out" "$name-inverted-spread8" "$t" --strategies guided --spread 8 --invert-prior
done
