#!/usr/bin/env bash
# Which widths against where they sit, on every layer table of "Where it stands" (docs/evidence/tables.md):
# one `bench eval --json` per table into benchmarks/evals/position/, then one line per table. No training;
# about a minute. The tables as committed: the 3-seed copies where they exist.
set -euo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/evals/position
mkdir -p "$out"
T=benchmarks/tables
P=(--predictors prior prior-soft-leximin leximin balanced --json)
for t in digits-local-32 digits-global-32 mnist1d-32 digits-mid-32 mnist1d-32-s1 mnist1d-32-scrambled \
         mnist1d-32-s1-scrambled; do
  archsearch bench eval "$T/seeds3/$t.json" "${P[@]}" > "$out/$t.json"
done
for t in mnist1d-64 mnist1d-64-scrambled; do archsearch bench eval "$T/$t.json" "${P[@]}" > "$out/$t.json"; done
for t in mnist1d-48 digits-local-48 mnist1d-32-s3 mnist1d-32-s3-scrambled; do
  archsearch bench eval "$T/heldout/$t.json" "${P[@]}" > "$out/$t.json"
done
python benchmarks/summarize_evals.py --position "$out"/{digits-local-32,digits-global-32,mnist1d-32,digits-mid-32}.json \
  "$out"/{mnist1d-32-s1,mnist1d-32-scrambled,mnist1d-32-s1-scrambled,mnist1d-64,mnist1d-64-scrambled}.json \
  "$out"/{mnist1d-48,digits-local-48,mnist1d-32-s3,mnist1d-32-s3-scrambled}.json --plot "$out/held-out-seed.png" \
  --label "digits-local-32 (design)" "digits-global-32 (design)" "mnist1d-32 (design)" digits-mid-32 \
  mnist1d-32-s1 mnist1d-32-scrambled mnist1d-32-s1-scrambled mnist1d-64 mnist1d-64-scrambled \
  "mnist1d-48 (held out)" "digits-local-48 (held out)" "mnist1d-32-s3 (held out)" "mnist1d-32-s3-scrambled (held out)"
