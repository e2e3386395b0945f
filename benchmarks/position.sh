#!/usr/bin/env bash
# Which widths against where they sit, on every layer table of "Where it stands" (docs/evidence/tables.md):
# one `bench eval --json` per table into benchmarks/evals/position/, then one line per table; and the
# contrasts of the pairs with three seeds on both tables, each with its held-out seed, into
# benchmarks/evals/position/contrasts/ (the MNIST-1D pairs with their share-profiled tasks, as in "Where it
# stands"). No training; about two minutes. The tables as committed: the 3-seed copies where they exist.
# Names (`bash benchmarks/position.sh digits-local-48`) re-score only those tables (a pair's contrast only
# when both are named); the summary lines and picture are always made anew from every file.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/eval_lib.sh
out=benchmarks/evals/position
mkdir -p "$out"
T=benchmarks/tables
P=(--predictors prior prior-soft-leximin leximin balanced --json)
for t in digits-local-32 digits-global-32 mnist1d-32 digits-mid-32 mnist1d-32-s1 mnist1d-32-scrambled \
         mnist1d-32-s1-scrambled mnist1d-64 mnist1d-64-scrambled; do
  wanted "$t" "$@" || continue
  archsearch bench eval "$T/seeds3/$t.json" "${P[@]}" > "$out/$t.json"
done
for t in mnist1d-48 digits-local-48 mnist1d-32-s3 mnist1d-32-s3-scrambled mnist1d-32-s4 mnist1d-32-s4-scrambled; do
  wanted "$t" "$@" || continue
  archsearch bench eval "$T/heldout/$t.json" "${P[@]}" > "$out/$t.json"
done
python benchmarks/summarize_evals.py --position "$out"/{digits-local-32,digits-global-32,mnist1d-32,digits-mid-32}.json \
  "$out"/{mnist1d-32-s1,mnist1d-32-scrambled,mnist1d-32-s1-scrambled,mnist1d-64,mnist1d-64-scrambled}.json \
  "$out"/{mnist1d-48,digits-local-48,mnist1d-32-s3,mnist1d-32-s3-scrambled,mnist1d-32-s4,mnist1d-32-s4-scrambled}.json \
  --plot "$out/held-out-seed.png" \
  --label "digits-local-32 (design)" "digits-global-32 (design)" "mnist1d-32 (design)" digits-mid-32 \
  mnist1d-32-s1 mnist1d-32-scrambled mnist1d-32-s1-scrambled mnist1d-64 mnist1d-64-scrambled \
  "mnist1d-48 (held out)" "digits-local-48 (held out)" "mnist1d-32-s3 (held out)" "mnist1d-32-s3-scrambled (held out)" \
  "mnist1d-32-s4 (held out)" "mnist1d-32-s4-scrambled (held out)"

mkdir -p "$out/contrasts"
C=(--predictors prior prior-soft-leximin prior-narrowest --json)
if wanted digits-local-32 "$@" && wanted digits-global-32 "$@"; then
archsearch bench contrast "$T/seeds3/digits-local-32.json" "$T/seeds3/digits-global-32.json" "${C[@]}" \
  > "$out/contrasts/digits-local-32--digits-global-32.json"
fi
pr=benchmarks/evals/profiled
for pair in seeds3/mnist1d-32 seeds3/mnist1d-32-s1 seeds3/mnist1d-64 heldout/mnist1d-32-s3 heldout/mnist1d-32-s4; do
  n=$(basename "$pair")
  { wanted "$n" "$@" && wanted "$n-scrambled" "$@"; } || continue
  archsearch bench contrast "$T/$pair.json" "$T/$pair-scrambled.json" --task-a "$pr/$n-share.yaml" \
    --task-b "$pr/$n-scrambled-share.yaml" "${C[@]}" > "$out/contrasts/$n--$n-scrambled-profiled-share.json"
done
python benchmarks/summarize_evals.py --contrast "$out"/contrasts/*.json
