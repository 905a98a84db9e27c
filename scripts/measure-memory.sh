#!/usr/bin/env bash
# Peak memory (RSS) of the big jobs, measured with /usr/bin/time -v:
#   1. estimate on a 10-million-request trace (generated here, not
#      committed; about 160 MB of gzip in a temporary folder);
#   2. simulations of 10^7 and 10^9 events: constant memory means the two
#      peaks are the same.
# Usage: scripts/measure-memory.sh [REQUESTS] [EVENTS]   (from anywhere)
# Takes a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-10000000}
events=${2:-1000000000}
cargo build --release --quiet
bin=$PWD/target/release/demandsim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
peak() { # command... -> prints "peak_MB wall_s"
  /usr/bin/time -v "$@" 2>"$tmp/time" >/dev/null || { cat "$tmp/time" >&2; exit 1; }
  awk -F': ' '/Maximum resident/ {kb=$2} /Elapsed \(wall/ {w=$2} END {printf "%.1f MB peak RSS, %s wall\n", kb/1024, w}' "$tmp/time"
}
echo "generating $requests requests (qpn1-open, 8 servers)..."
"$bin" -q generate models/qpn1-open.yaml --set servers=8 --requests "$requests" \
  --gzip --seed 1 --out "$tmp/big"
echo "estimate, all methods, bootstrap 200: $(peak "$bin" -q estimate \
  --requests "$tmp/big/requests.csv.gz" --utilization "$tmp/big/utilization.csv.gz" \
  --servers 8 --seed 1)"
echo "inspect: $(peak "$bin" -q inspect --requests "$tmp/big/requests.csv.gz" \
  --utilization "$tmp/big/utilization.csv.gz")"
# qpn1-open takes about 3 events per request.
small=$((10000000 / 3))
large=$((events / 3))
echo "simulate ~10^7 events: $(peak "$bin" -q simulate models/qpn1-open.yaml --requests $small --seed 1)"
echo "simulate ~$events events: $(peak "$bin" -q simulate models/qpn1-open.yaml --requests $large --seed 1 --format json -o "$tmp/sim.json")"
grep -m1 '"events"' "$tmp/sim.json"
