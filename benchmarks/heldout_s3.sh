#!/usr/bin/env bash
# Issue 23's third held-out pair, written down (task, space, settings) on 2026-12-06, session 3, before any
# of its runs: MNIST-1D at length 32 from data seed 3, ordered (tasks/mnist1d-32-s3.yaml) and scrambled
# (tasks/mnist1d-32-s3-scrambled.yaml, permutation seed 13), on search_spaces/mnist1d-32-grid6.yaml
# (widths {6, 12, 24, 48}; 104 layouts). The settings of mnist1d-48 (benchmarks/heldout.sh): 30 epochs,
# 4,000 / 1,000 / 1,000 images, band 0.85. Every layout to one seed first on both tables, then to three.
# Resumable; TABLE=ordered|scrambled runs one of the two (two single-threaded processes side by side).
set -euo pipefail
case "${TABLE:-both}" in ordered|scrambled|both) ;; *) echo "heldout_s3.sh: TABLE is ordered, scrambled or both" >&2; exit 2 ;; esac
exec bash "$(dirname "$0")/heldout_pair.sh" mnist1d-32-s3 "${TABLE:-both}"
