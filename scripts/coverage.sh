#!/usr/bin/env bash
# The prediction band's coverage on generated mis-specified systems (issue
# 31), the slow tier of tests/integration/coverage.rs: for each kind of
# model error the method does not model (a demand that differs by ±10 %
# from run to run, unmodelled background work at 15 % of the CPU, a demand
# that falls with load), SEEDS systems (default 200), each validated like a
# user's study (five estimation runs, four held out), and the share of runs
# whose measured mean the prediction band covers against the level it
# states, with the binomial standard error. Fails when the coverage of a
# kind is more than three standard errors below its stated level.
#   scripts/coverage.sh          200 seeds of each kind
#   scripts/coverage.sh 500      500
set -euo pipefail
cd "$(dirname "$0")/.."
COVERAGE_SEEDS=${1:-200} cargo test --locked --test integration \
  coverage::coverage_over_many_seeds -- --ignored --nocapture
