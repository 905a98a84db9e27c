#!/usr/bin/env bash
# Regenerates traces/replica/ET1..ET9: traces like the reference study's
# experiments, made by `demandsim generate` from the open models with the
# published parameters (X_CL, demand per container, 12 servers per container,
# 30 s utilization intervals), 100,000 requests each, gzip. Deterministic:
# each experiment has a fixed seed, so rerunning gives the same files.
#
# Usage: scripts/make-replicas.sh   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/demandsim
# name containers X_CL demand
while read -r name k x d; do
  out=traces/replica/$name
  "$bin" -q generate "models/qpn$k-open.yaml" \
    --set "arrival_rate=$x" --set "demand=$d" --set servers=12 \
    --requests 100000 --interval 30 --gzip --seed "$((2023 + ${name#ET}))" --out "$out"
  echo "$out: $(du -sh "$out" | cut -f1)"
done <<'TABLE'
ET1 1 6.242 0.997588333
ET2 5 4.849 0.727264667
ET3 10 3.826 0.3652765
ET4 1 6.732 0.905941667
ET5 5 5.064 0.532029333
ET6 10 2.975 0.457546
ET7 1 6.366 0.849838333
ET8 5 3.152 0.397753
ET9 10 1.644 0.736487259
TABLE
