#!/usr/bin/env bash
# Issue 23, session 3: the leximin rule's order (task-blind; one search: a fixed order) and the guided
# sampler and prior-top reading --prior soft-leximin (200 repeats, 50 counted trainings, repeat r seeded r,
# spread 1, the default), on the tables of benchmarks/replay_band.sh. Resumable table by table.
set -euo pipefail
source "$(dirname "$0")/replay_lib.sh"
for t in "${REPLAY_TABLES[@]}"; do
  replay benchmarks/replays/soft-leximin "$(basename "$t")" "$t" --prior soft-leximin \
    --strategies guided prior-top leximin
done
