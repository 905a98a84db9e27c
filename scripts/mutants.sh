#!/usr/bin/env bash
# Mutation testing (issue 19): installs cargo-mutants if missing and runs it
# on the files whose numbers and refusals the tests must pin down, each with
# the tests that cover it (unit tests for the statistics and the estimation
# back end, the solver's unit and integration tests for its refusals).
#   scripts/mutants.sh                 all three groups
#   scripts/mutants.sh batch           one group: batch | validate | solve
#   ITERATE=1 scripts/mutants.sh ...   only the mutants not caught last time
# Results: mutants.out/<group>/ (caught.txt, missed.txt, timeout.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-mutants > /dev/null; then
  cargo install cargo-mutants --locked
fi
run() {
  local group=$1 files=$2
  shift 2
  mkdir -p "mutants.out/$group"
  local re=()
  [ "$group" = solve ] && re=(--re 'analyse|_reasons|visits')
  # A function replaced by a constant is tried with (None, None), (0, 0)
  # and (1, 1) only: the mixed and negative constants cargo-mutants adds
  # would cost a build each and are caught, or not, by the same tests.
  local same='-1\.0|\(None, Some|\), None\)|\(Some\(0\.0\), Some\(1|\(Some\(1\.0\), Some\(0'
  same+='|vec!\[Default::default\(\)\], \(Some|vec!\[\], \(Some|xyzzy|vec!\[1\]'
  [ "${ITERATE:-}" = 1 ] && re+=(--iterate)
  local file_args=()
  for f in $files; do file_args+=(--file "$f"); done
  # No debug info and -O1 for the mutants' builds (median 14 s each on two
  # cores shared with other jobs); the tests they run are small.
  CARGO_PROFILE_TEST_DEBUG=0 CARGO_PROFILE_TEST_OPT_LEVEL=1 \
    cargo mutants "${file_args[@]}" "${re[@]}" "--exclude-re=$same" \
    --output "mutants.out/$group" --timeout 300 -- "$@" || true
  echo "$group: $(wc -l < "mutants.out/$group/mutants.out/caught.txt") caught," \
    "$(wc -l < "mutants.out/$group/mutants.out/missed.txt") missed"
}
groups=("${@:-batch validate solve}")
for g in ${groups[@]}; do
  case $g in
    batch) run batch src/stats/batch.rs --lib stats:: ;;
    # The estimation back end: what validate.rs was before issue 29 split it.
    validate) run validate "src/estimate/validate.rs src/estimate/crossval.rs src/estimate/bootstrap.rs src/estimate/verdicts.rs src/estimate/outcome.rs" --lib estimate:: ;;
    # The product-form checks only (the refusals and the visit equations);
    # their tests are the solver's unit tests, tests/integration/solve.rs
    # and the simulator's tests that ask the solver (qpn::the_solver…).
    solve) run solve src/solve/mod.rs --lib --test integration -- solve:: qpn::the_solver ;;
    *) echo "unknown group $g (batch, validate, solve)" >&2; exit 2 ;;
  esac
done
