#!/usr/bin/env bash
# The slow tier. `cargo test` (the fast tier) leaves out the tests marked
# #[ignore = "slow tier ..."]: the 200-seed coverage tables of the
# estimators' intervals (each about 30 s on two idle cores). This runs
# them, then the seed sweep (scripts/seeds.sh: the statistical tests on
# other seed sets), whose arguments it passes on.
#   scripts/slow-tests.sh             the ignored tests, then 20 seed sets
#   scripts/slow-tests.sh 0           the ignored tests only
#   scripts/slow-tests.sh 5 '^estimate::'   then 5 seed sets of those tests
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked -- --ignored
if [ "${1:-20}" != 0 ]; then
  scripts/seeds.sh "$@"
fi
