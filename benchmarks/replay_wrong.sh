#!/usr/bin/env bash
# Wrong priors replayed as the guided sampler now is (spread 1, TPE within the band): each digits table with
# the other digits task's prior (misled), the three design tables with their prior upside down (inverted),
# and the two digits tables with the first prior design (ratio). 200 repeats, 50 counted trainings;
# resumable. TPE reads no prior: its figures are those of benchmarks/replays/band/TABLE.json.
set -euo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/replays/band/spread1
mkdir -p "$out"
run() {  # run NAME TABLE ARGS...
  local name=$1 table=$2; shift 2
  [ -f "$out/$name.json" ] && return 0
  archsearch bench replay "benchmarks/tables/$table.json" --strategies guided prior-top --repeats 200 \
    --budget-trials 50 --workers "${WORKERS:-1}" --no-progress --json "$@" > "$out/$name.json.part"
  mv "$out/$name.json.part" "$out/$name.json"
}
run digits-local-32-misled digits-local-32 --task tasks/digits-global-32.yaml
run digits-global-32-misled digits-global-32 --task tasks/digits-local-32.yaml
for t in digits-local-32 digits-global-32 mnist1d-32; do
  run "$t-inverted" "$t" --invert-prior
done
run digits-local-32-ratio digits-local-32 --prior ratio
run digits-global-32-ratio digits-global-32 --prior ratio
