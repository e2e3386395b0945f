#!/usr/bin/env bash
# A held-out MNIST-1D pair scored as designs.md states (P1-P6 for mnist1d-32-s4; H1-H6 for -s3): `bench eval`
# of both tables with their tasks as written and share-profiled, and `bench contrast` of the pair with the
# share-profiled tasks, into benchmarks/evals/heldout-SUFFIX/ (SUFFIX: the pair's last part, s4), then one
# line per evaluation. No training; about a minute.
#   bash benchmarks/eval_pair.sh mnist1d-32-s4
set -euo pipefail
cd "$(dirname "$0")/.."
pair=${1:?name the pair, e.g. mnist1d-32-s4}
out=benchmarks/evals/heldout-${pair##*-}
pr=benchmarks/evals/profiled
T=benchmarks/tables/heldout
mkdir -p "$out/contrasts"
source benchmarks/eval_lib.sh
for t in "$pair" "$pair-scrambled"; do
  archsearch bench eval "$T/$t.json" "${EVAL_ARGS[@]}" > "$out/$t.json"
  archsearch bench eval "$T/$t.json" --task "$pr/$t-share.yaml" "${EVAL_ARGS[@]}" > "$out/$t-share.json"
done
archsearch bench contrast "$T/$pair.json" "$T/$pair-scrambled.json" --task-a "$pr/$pair-share.yaml" \
  --task-b "$pr/$pair-scrambled-share.yaml" "${CONTRAST_ARGS[@]}" \
  > "$out/contrasts/$pair--$pair-scrambled-profiled-share.json"
python benchmarks/summarize_evals.py "$out/$pair.json" "$out/$pair-share.json" "$out/$pair-scrambled.json" \
  "$out/$pair-scrambled-share.json"
python benchmarks/summarize_evals.py --contrast "$out/contrasts/$pair--$pair-scrambled-profiled-share.json"
