#!/usr/bin/env bash
# Issue 23's third held-out pair, written down (task, space, settings) on 2026-12-06, session 3, before any
# of its runs: MNIST-1D at length 32 from data seed 3, ordered (tasks/mnist1d-32-s3.yaml) and scrambled
# (tasks/mnist1d-32-s3-scrambled.yaml, permutation seed 13), on search_spaces/mnist1d-32-grid6.yaml
# (widths {6, 12, 24, 48}; 104 layouts). The settings of mnist1d-48 (benchmarks/heldout.sh): 30 epochs,
# 4,000 / 1,000 / 1,000 images, band 0.85. Every layout to one seed first on both tables, then to three.
# Resumable; TABLE=ordered|scrambled runs one of the two (two single-threaded processes side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
build() {  # TASK SEEDS
  archsearch bench build "tasks/$1.yaml" search_spaces/mnist1d-32-grid6.yaml --out "benchmarks/tables/heldout/$1.json" \
    --seeds "$2" --epochs 30 --train 4000 --val 1000 --test 1000 --band 0.85 --workers 1 --threads 1 --device cpu \
    --no-progress
}
case "${TABLE:-both}" in
  ordered) build mnist1d-32-s3 1; build mnist1d-32-s3 3 ;;
  scrambled) build mnist1d-32-s3-scrambled 1; build mnist1d-32-s3-scrambled 3 ;;
  *) for s in 1 3; do build mnist1d-32-s3 "$s"; build mnist1d-32-s3-scrambled "$s"; done ;;
esac
