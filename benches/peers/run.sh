#!/usr/bin/env bash
# Side by side: demandsim against Ciw (open M/M/c) and LINE (closed model:
# stochastic simulation, and exact MVA for the true value), same models,
# same number of requests. Creates its own Python virtual environment.
#
#   bash benches/peers/run.sh [REQUESTS]      (default 200000)
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${PEERS_VENV:-${TMPDIR:-/tmp}/demandsim-peers-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet ciw==3.2.7 line-solver==3.0.8.0
fi
cargo build --release --quiet
"$venv/bin/python" benches/peers/peers.py target/release/demandsim "${1:-200000}"
