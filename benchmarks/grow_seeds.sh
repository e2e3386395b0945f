#!/usr/bin/env bash
# Issue 23's seeds: the shipped tables grown to 3 seeds per layout, in benchmarks/tables/seeds3/ (copies of
# the shipped tables, grown in place; the shipped tables themselves stay as they were scored). Resumable:
# run it again and only the missing runs train. One single-threaded training process (the machine's other
# core stays free); the order is issue 23's: the design tables first.
#   every layout of the MNIST-1D tables to 3 seeds (30 epochs, 4,000 / 1,000 / 1,000 images, as built);
#   the digits tables to 3 seeds on a seeded subset of 100 layouts holding the 40 noise layouts (12 epochs,
#   8,000 / 2,000 / 2,000 images, as built);
#   the mnist1d-64 pair to 3 seeds on a seeded subset of 200 of its 1,266 layouts holding the 40 noise
#   layouts (added 2026-12-07, stated in docs/evidence/designs.md before any of its runs).
# With table names as arguments, only those grow (two processes can grow the two tables of a pair at once).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p benchmarks/tables/seeds3
ONLY=" $* "
grow() {  # TABLE SPACE EXTRA...
  local t=$1 space=$2; shift 2
  [ "$ONLY" = "  " ] || [[ "$ONLY" == *" $t "* ]] || return 0
  [ -f "benchmarks/tables/seeds3/$t.json" ] || cp "benchmarks/tables/$t.json" "benchmarks/tables/seeds3/$t.json"
  archsearch bench build "tasks/$t.yaml" "search_spaces/$space.yaml" --out "benchmarks/tables/seeds3/$t.json" \
    --seeds 3 --band 0.85 --workers 1 --threads 1 --device cpu --no-progress "$@"
}
MN=(--epochs 30 --train 4000 --val 1000 --test 1000)
DG=(--epochs 12 --train 8000 --val 2000 --test 2000 --seed-layouts 100)
M64=(--epochs 30 --train 4000 --val 1000 --test 1000 --layouts 250 --seed-layouts 200)
grow mnist1d-32 mnist1d-32-grid "${MN[@]}"
grow digits-local-32 cpu-32x32-grid "${DG[@]}"
grow digits-global-32 cpu-32x32-grid "${DG[@]}"
grow mnist1d-32-scrambled mnist1d-32-grid "${MN[@]}"
grow digits-mid-32 cpu-32x32-grid "${DG[@]}"
grow mnist1d-32-s1 mnist1d-32-grid "${MN[@]}"
grow mnist1d-32-s1-scrambled mnist1d-32-grid "${MN[@]}"
grow mnist1d-64 mnist1d-64 "${M64[@]}"
grow mnist1d-64-scrambled mnist1d-64 "${M64[@]}"
