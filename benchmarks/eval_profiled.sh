#!/usr/bin/env bash
# Every table of "Where it stands" (docs/evidence/tables.md) evaluated with its task's needs profiled from
# the data (the share profiles in benchmarks/evals/profiled/, written by `archsearch profile --out` on
# 2026-12-03 and 2026-12-06, before these evaluations), the tables as committed (the 3-seed copies where
# they exist): `bench eval --task PROFILED --json` with the predictors of benchmarks/evals/soft-leximin/ into
# benchmarks/evals/soft-leximin/profiled-all/, then one line per table. No training; a few minutes (more
# beside training). Names (`bash benchmarks/eval_profiled.sh digits-local-48`) re-score only those tables.
set -euo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/evals/soft-leximin/profiled-all
pr=benchmarks/evals/profiled
mkdir -p "$out"
source benchmarks/eval_lib.sh
all=(seeds3/digits-local-32 seeds3/digits-global-32 seeds3/mnist1d-32 seeds3/digits-mid-32 seeds3/mnist1d-32-s1
     seeds3/mnist1d-32-scrambled seeds3/mnist1d-32-s1-scrambled seeds3/mnist1d-64 seeds3/mnist1d-64-scrambled
     heldout/mnist1d-48 heldout/digits-local-48 heldout/mnist1d-32-s3 heldout/mnist1d-32-s3-scrambled
     heldout/mnist1d-32-s4 heldout/mnist1d-32-s4-scrambled)
for t in "${all[@]}"; do
  n=$(basename "$t")
  wanted "$n" "$@" || continue
  archsearch bench eval "benchmarks/tables/$t.json" --task "$pr/$n-share.yaml" "${EVAL_ARGS[@]}" > "$out/$n.json"
done
python benchmarks/summarize_evals.py "$out"/{digits-local-32,digits-global-32,mnist1d-32,digits-mid-32}.json \
  "$out"/{mnist1d-32-s1,mnist1d-32-scrambled,mnist1d-32-s1-scrambled,mnist1d-64,mnist1d-64-scrambled}.json \
  "$out"/{mnist1d-48,digits-local-48,mnist1d-32-s3,mnist1d-32-s3-scrambled,mnist1d-32-s4,mnist1d-32-s4-scrambled}.json
