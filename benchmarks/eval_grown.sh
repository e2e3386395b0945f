#!/usr/bin/env bash
# The tables grown after `soft-leximin` was scored (digits-mid-32's 100-layout subset and the mnist1d-32-s1
# pair completed at three seeds, the mnist1d-64 pair's 200-layout subset at three seeds; the held-out
# digits-local-48 as it stands), evaluated as "Where it stands" reads them: `bench eval --json` with the
# predictors of benchmarks/evals/soft-leximin/ into benchmarks/evals/soft-leximin/grown/ (the mnist1d-64 pair
# also with its share-profiled tasks, *-share.json), and the two pairs' contrasts with their share-profiled
# tasks. The scored originals in benchmarks/evals/soft-leximin/ stay as they were. Names (`bash
# benchmarks/eval_grown.sh digits-local-48`) re-score only those tables, and a pair's contrast only when both
# of its tables are named.
set -euo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/evals/soft-leximin/grown
mkdir -p "$out/contrasts"
source benchmarks/eval_lib.sh
for t in seeds3/digits-mid-32 seeds3/mnist1d-32-s1 seeds3/mnist1d-32-s1-scrambled seeds3/mnist1d-64 \
         seeds3/mnist1d-64-scrambled heldout/digits-local-48; do
  wanted "$(basename "$t")" "$@" || continue
  archsearch bench eval "benchmarks/tables/$t.json" "${EVAL_ARGS[@]}" > "$out/$(basename "$t").json"
done
pr=benchmarks/evals/profiled
for t in mnist1d-64 mnist1d-64-scrambled; do  # the grown pair with its share-profiled tasks
  wanted "$t" "$@" || continue
  archsearch bench eval "benchmarks/tables/seeds3/$t.json" --task "$pr/$t-share.yaml" "${EVAL_ARGS[@]}" > "$out/$t-share.json"
done
for n in mnist1d-32-s1 mnist1d-64; do
  { wanted "$n" "$@" && wanted "$n-scrambled" "$@"; } || continue
  archsearch bench contrast "benchmarks/tables/seeds3/$n.json" "benchmarks/tables/seeds3/$n-scrambled.json" \
    --task-a "$pr/$n-share.yaml" --task-b "$pr/$n-scrambled-share.yaml" \
    "${CONTRAST_ARGS[@]}" \
    > "$out/contrasts/$n--$n-scrambled-profiled-share.json"
done
