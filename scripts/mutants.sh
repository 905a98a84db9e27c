#!/usr/bin/env bash
# Mutation testing (issue 19): installs cargo-mutants if missing and runs it
# on the files whose numbers and refusals the tests must pin down, each with
# the tests that cover it (unit tests for the statistics and the estimation
# back end, the solver's unit and integration tests for its refusals).
#   scripts/mutants.sh                 all three groups
#   scripts/mutants.sh batch           one group: batch | validate | solve
# Results: mutants.out/<group>/ (caught.txt, missed.txt, timeout.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-mutants > /dev/null; then
  cargo install cargo-mutants --locked
fi
run() {
  local group=$1 file=$2
  shift 2
  cargo mutants --file "$file" --output "mutants.out/$group" --timeout 300 -- "$@" || true
  echo "$group: $(wc -l < "mutants.out/$group/mutants.out/caught.txt") caught," \
    "$(wc -l < "mutants.out/$group/mutants.out/missed.txt") missed"
}
groups=("${@:-batch validate solve}")
for g in ${groups[@]}; do
  case $g in
    batch) run batch src/stats/batch.rs --lib stats:: ;;
    validate) run validate src/estimate/validate.rs --lib estimate:: ;;
    solve) run solve src/solve/mod.rs --lib solve:: ;;
    *) echo "unknown group $g (batch, validate, solve)" >&2; exit 2 ;;
  esac
done
