#!/usr/bin/env bash
# The held-out digits-local-48 brought in as it grows: copy the table from where it builds (the first
# argument; default: the worktree /work/jobs of benchmarks/heldout.sh), then every evaluation that reads it
# (eval_grown.sh, where_it_stands.sh, position.sh and eval_profiled.sh, each for this table alone) and the
# fresh layouts' evaluations of designs.md's P4/P5 (benchmarks/evals/fresh-dl48/: the layouts not in the
# seen list, as written and share-profiled; then those of them trained with three seeds alone, `--full-seeds`,
# the *-3seeds.json files). No training; a few minutes. Then `pytest
# tests/evidence/test_docs_figures.py` names every figure in the docs to update.
#   bash benchmarks/refresh_dl48.sh [/work/jobs/benchmarks/tables/heldout/digits-local-48.json]
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/eval_lib.sh
table=benchmarks/tables/heldout/digits-local-48.json
src=${1:-/work/jobs/$table}
if [ -e "$src" ] && ! [ "$src" -ef "$table" ]; then
  cp "$src" "$table"
fi
bash benchmarks/eval_grown.sh digits-local-48
bash benchmarks/where_it_stands.sh
bash benchmarks/position.sh digits-local-48
bash benchmarks/eval_profiled.sh digits-local-48
fresh=/tmp/digits-local-48-fresh.json  # a fixed name: the evaluations record the table's path
pr=benchmarks/evals/profiled
out=benchmarks/evals/fresh-dl48
python benchmarks/fresh_layouts.py "$table" --seen "$pr/digits-local-48-seen.json" --out "$fresh"
for full in "" --full-seeds; do
  suffix=${full:+-3seeds}
  archsearch bench eval "$fresh" --task tasks/digits-local-48.yaml --space search_spaces/cpu-48x48-grid.yaml \
    ${full:+"$full"} "${EVAL_ARGS[@]}" > "$out/digits-local-48-fresh$suffix.json"
  archsearch bench eval "$fresh" --task "$pr/digits-local-48-share.yaml" --space search_spaces/cpu-48x48-grid.yaml \
    ${full:+"$full"} "${EVAL_ARGS[@]}" > "$out/digits-local-48-fresh-share$suffix.json"
done
python benchmarks/summarize_evals.py "$out"/digits-local-48-fresh*.json
