#!/usr/bin/env bash
# Wrong priors replayed as the guided sampler now is (spread 1, TPE within the band): each digits table with
# the other digits task's prior (misled), the three design tables with their prior upside down (inverted),
# and the two digits tables with the first prior design (ratio). 200 repeats, 50 counted trainings;
# resumable. TPE reads no prior: its figures are those of benchmarks/replays/band/TABLE.json.
set -euo pipefail
source "$(dirname "$0")/replay_lib.sh"
out=benchmarks/replays/band/spread1
wrong() {  # wrong NAME TABLE ARGS...: the guided search and the prior's own order
  replay "$out" "$1" "$2" --strategies guided prior-top "${@:3}"
}
wrong digits-local-32-misled digits-local-32 --task tasks/digits-global-32.yaml
wrong digits-global-32-misled digits-global-32 --task tasks/digits-local-32.yaml
for t in digits-local-32 digits-global-32 mnist1d-32; do
  wrong "$t-inverted" "$t" --invert-prior
done
wrong digits-local-32-ratio digits-local-32 --prior ratio
wrong digits-global-32-ratio digits-global-32 --prior ratio
