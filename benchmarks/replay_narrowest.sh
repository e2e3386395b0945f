#!/usr/bin/env bash
# Issue 23: the searches the 'narrowest' design guides, replayed on the shipped tables (the tables the
# committed replays of benchmarks/replays/ used, so 'tpe' and 'balanced' there compare: they read no
# prior, and repeat r is seeded r for every strategy), and on the held-out mnist1d-48. 200 repeats, 50
# counted trainings each; resumable table by table (a table whose JSON exists is skipped).
set -euo pipefail
source "$(dirname "$0")/replay_lib.sh"
for t in "${REPLAY_TABLES[@]}"; do
  replay benchmarks/replays/narrowest "$(basename "$t")" "$t" --prior narrowest \
    --strategies guided prior-top bottleneck balanced
done
