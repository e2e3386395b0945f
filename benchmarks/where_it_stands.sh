#!/usr/bin/env bash
# The table and picture of docs/evidence/tables.md, "Where it stands", from the committed `bench eval --json`
# files (no training, no scoring: a few seconds). The tables completed at three seeds after `soft-leximin`
# was scored are read from soft-leximin/grown/ (benchmarks/eval_grown.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
E=benchmarks/evals
python benchmarks/summarize_evals.py \
  $E/soft-leximin/{digits-local-32,digits-global-32,mnist1d-32}.json $E/soft-leximin/grown/{digits-mid-32,mnist1d-32-s1}.json \
  $E/soft-leximin/mnist1d-32-scrambled.json $E/soft-leximin/grown/mnist1d-32-s1-scrambled.json \
  $E/soft-leximin/grown/{mnist1d-64,mnist1d-64-scrambled}.json \
  $E/soft-leximin/mnist1d-48.json $E/soft-leximin/grown/digits-local-48.json \
  $E/heldout-s3/{mnist1d-32-s3,mnist1d-32-s3-scrambled,mnist1d-32-s3-scrambled-share}.json \
  $E/heldout-s4/{mnist1d-32-s4,mnist1d-32-s4-scrambled,mnist1d-32-s4-scrambled-share}.json \
  --plot $E/soft-leximin/where-it-stands.png \
  --label "digits-local-32 (design)" "digits-global-32 (design)" "mnist1d-32 (design)" digits-mid-32 \
  mnist1d-32-s1 mnist1d-32-scrambled mnist1d-32-s1-scrambled mnist1d-64 mnist1d-64-scrambled \
  "mnist1d-48 (held out)" "digits-local-48 (held out)" "mnist1d-32-s3 (held out)" \
  "mnist1d-32-s3-scrambled (held out)" "  the same, profiled task" "mnist1d-32-s4 (held out)" \
  "mnist1d-32-s4-scrambled (held out)" "  the same, profiled task "
