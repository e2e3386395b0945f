#!/usr/bin/env bash
# Issue 23's two held-out tables, written down (task, space, settings) on 2026-12-06 before any of their
# runs: MNIST-1D at length 48 (pooling 2, 2, 2, 2, 3; widths {6, 12, 24, 48}; 104 layouts, three seeds
# each) and the digits-local task on a 48x48 canvas (2x2 four times then 3x3; widths {4, ..., 64}; 263
# layouts, three seeds on a seeded subset of 100). Resumable; single-threaded training processes (mnist1d-48
# one, digits-local-48 two, as it has run since 2026-12-07; the number of processes changes no result).
# A digits-local-48 built elsewhere (a worktree) is brought in with `bash benchmarks/refresh_dl48.sh SOURCE`.
set -euo pipefail
cd "$(dirname "$0")/.."
archsearch bench build tasks/mnist1d-48.yaml search_spaces/mnist1d-48-grid.yaml \
  --out benchmarks/tables/heldout/mnist1d-48.json --seeds 3 --epochs 30 --train 4000 --val 1000 --test 1000 \
  --band 0.85 --workers 1 --threads 1 --device cpu --no-progress
archsearch bench build tasks/digits-local-48.yaml search_spaces/cpu-48x48-grid.yaml \
  --out benchmarks/tables/heldout/digits-local-48.json --seeds 3 --seed-layouts 100 --epochs 12 --train 8000 \
  --val 2000 --test 2000 --band 0.85 --workers 2 --threads 1 --device cpu --no-progress
