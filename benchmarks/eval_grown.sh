#!/usr/bin/env bash
# The tables grown after `soft-leximin` was scored (digits-mid-32's 100-layout subset and the mnist1d-32-s1
# pair completed at three seeds; the held-out digits-local-48 as it stands), evaluated as "Where it stands"
# reads them: `bench eval --json` with the predictors of benchmarks/evals/soft-leximin/ into
# benchmarks/evals/soft-leximin/grown/, and the s1 pair's contrast with its share-profiled tasks. The
# scored originals in benchmarks/evals/soft-leximin/ stay as they were.
set -euo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/evals/soft-leximin/grown
mkdir -p "$out/contrasts"
for t in seeds3/digits-mid-32 seeds3/mnist1d-32-s1 seeds3/mnist1d-32-s1-scrambled heldout/digits-local-48; do
  archsearch bench eval "benchmarks/tables/$t.json" --predictors prior prior-narrowest prior-soft-leximin \
    params min-width balance balanced bottleneck leximin flops --json > "$out/$(basename "$t").json"
done
pr=benchmarks/evals/profiled
archsearch bench contrast benchmarks/tables/seeds3/mnist1d-32-s1.json benchmarks/tables/seeds3/mnist1d-32-s1-scrambled.json \
  --task-a "$pr/mnist1d-32-s1-share.yaml" --task-b "$pr/mnist1d-32-s1-scrambled-share.yaml" \
  --predictors prior prior-narrowest prior-soft-leximin --json \
  > "$out/contrasts/mnist1d-32-s1--mnist1d-32-s1-scrambled-profiled-share.json"
