# Sourced by benchmarks/replay_*.sh: the ten replayed tables, and one resumable replay.
# shellcheck shell=bash
cd "$(dirname "${BASH_SOURCE[0]}")/.."

#: the tables every replay script runs over, as paths under benchmarks/tables/ without .json
REPLAY_TABLES=(digits-local-32 digits-global-32 mnist1d-32 mnist1d-32-scrambled digits-mid-32 mnist1d-32-s1
               mnist1d-32-s1-scrambled heldout/mnist1d-48 mnist1d-64 mnist1d-64-scrambled)

# replay OUT NAME TABLE ARGS...: `bench replay` of benchmarks/tables/TABLE.json (200 searches of 50 counted
# trainings, WORKERS processes, default 1) into OUT/NAME.json, unless that file is there (resumable: a
# stopped replay leaves only a .part file behind).
replay() {
  local out=$1 name=$2 table=$3
  shift 3
  [ -f "$out/$name.json" ] && return 0
  mkdir -p "$out"
  archsearch bench replay "benchmarks/tables/$table.json" --repeats 200 --budget-trials 50 \
    --workers "${WORKERS:-1}" --no-progress --json "$@" > "$out/$name.json.part"
  mv "$out/$name.json.part" "$out/$name.json"
}
