#!/usr/bin/env bash
# A held-out MNIST-1D pair of issue 23 on search_spaces/mnist1d-32-grid6.yaml (widths {6, 12, 24, 48}; 104
# layouts), with the settings of mnist1d-48 (benchmarks/heldout.sh): 30 epochs, 4,000 / 1,000 / 1,000
# images, band 0.85. Every layout to one seed first, then to three. Resumable.
#   bash benchmarks/heldout_pair.sh PAIR [ordered|scrambled|both]
# PAIR names tasks/PAIR.yaml and tasks/PAIR-scrambled.yaml (mnist1d-32-s3, mnist1d-32-s4); ordered or
# scrambled builds one of the two (two single-threaded processes side by side), both (default) the two in turn.
set -euo pipefail
cd "$(dirname "$0")/.."
pair=${1:?name the pair, e.g. mnist1d-32-s4}
build() {  # TASK SEEDS
  archsearch bench build "tasks/$1.yaml" search_spaces/mnist1d-32-grid6.yaml --out "benchmarks/tables/heldout/$1.json" \
    --seeds "$2" --epochs 30 --train 4000 --val 1000 --test 1000 --band 0.85 --workers 1 --threads 1 --device cpu \
    --no-progress
}
case "${2:-both}" in
  ordered) build "$pair" 1; build "$pair" 3 ;;
  scrambled) build "$pair-scrambled" 1; build "$pair-scrambled" 3 ;;
  both) for s in 1 3; do build "$pair" "$s"; build "$pair-scrambled" "$s"; done ;;
  *) echo "heldout_pair.sh: the second argument is ordered, scrambled or both" >&2; exit 2 ;;
esac
