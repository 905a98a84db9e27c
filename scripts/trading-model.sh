#!/usr/bin/env bash
# Regenerates the shipped behaviour of the testbed's users and the trading
# model built from it, from the real traces in traces/real/:
#   traces/real/behavior.json  the Markov profiles of the three Locust user
#                              classes, from mixed-n21's sessions
#   traces/real/demands.csv    per-class CPU seconds of the request path
#                              (sdl on the three low-load runs, 4 digits)
#   models/trading.yaml        the closed model: 13 users per class
# A test (tests/integration/behavior.rs) checks that the model is what
# this script writes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
bin=target/release/demandsim
real=traces/real
"$bin" -q behavior learn --requests "$real/mixed-n21/requests.csv.gz" --by user_class \
  --format json -o "$real/behavior.json"
runs=()
for r in mixed-n21 readonly-n33 analytical-n27; do
  runs+=(--requests "$real/$r/requests.csv.gz" --utilization "$real/$r/utilization.csv.gz")
done
{
  echo "class,resource,demand_s"
  "$bin" -q estimate "${runs[@]}" --resource request-path --discipline ps --methods sdl \
    --bootstrap 100 --seed 2026 --format csv |
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
             $col["method"] == "sdl" { printf "%s,request-path,%.4g\n", $col["class"], $col["demand_s"] }' |
    sort
} > "$real/demands.csv"
"$bin" behavior model "$real/behavior.json" \
  --users-per-profile ActiveUser=13,ReadOnlyUser=13,AnalyticalUser=13 \
  --demands "$real/demands.csv" --name trading -o models/trading.yaml
