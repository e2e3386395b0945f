# Sourced by benchmarks/eval_grown.sh, eval_profiled.sh and eval_pair.sh: the predictors every design statement
# since `soft-leximin` names for `bench eval`, and those its contrasts read.
# shellcheck shell=bash

#: `bench eval --json` with the stated predictors
EVAL_ARGS=(--predictors prior prior-narrowest prior-soft-leximin params min-width balance balanced bottleneck leximin
           flops --json)
#: `bench contrast --json` with the three designs
CONTRAST_ARGS=(--predictors prior prior-narrowest prior-soft-leximin --json)

#: `wanted NAME "$@"`: true when the script was given no names, or NAME among them (scripts that take names
#: re-score only those tables)
wanted() {
  local n=$1; shift
  [ $# -eq 0 ] || [[ " $* " == *" $n "* ]]
}
