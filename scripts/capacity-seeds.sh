#!/usr/bin/env bash
# capacity --simulate on M/M/c over five seeds against the closed form
# (issue 34): qpn1-open with SERVERS servers (default 12), the largest
# arrival rate with p95 <= 3 s, simulated with seeds 1..5, beside the
# analytic (Erlang-C) answer. Prints each seed's answer and half-width
# from the JSON, their span, and each run's CPU and wall seconds (CPU
# over wall says whether both cores worked; other work on the machine
# moves wall time first, so the load is printed too).
# Usage: scripts/capacity-seeds.sh [SERVERS] [REQUESTS] [SLO]   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
servers=${1:-12}
requests=${2:-200000}
slo=${3:-p95<=3s}
cargo build --release --quiet
bin=$PWD/target/release/demandsim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(capacity models/qpn1-open.yaml --find arrival_rate --set "servers=$servers" --slo "$slo")
exact=$("$bin" -q "${args[@]}" --seed 1 --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["value"])')
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
echo "M/M/$servers, $slo, analytic answer: $exact req/s"
for seed in 1 2 3 4 5; do
  /usr/bin/time -f '%U %S %e' -o "$tmp/time" "$bin" -q "${args[@]}" --simulate \
    --requests "$requests" --seed "$seed" --format json > "$tmp/out.json"
  read -r user sys wall < "$tmp/time"
  python3 - "$tmp/out.json" "$seed" "$exact" "$user" "$sys" "$wall" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
seed, exact = sys.argv[2], float(sys.argv[3])
user, sys_, wall = map(float, sys.argv[4:7])
cpu = f"CPU {user + sys_:.1f} s, wall {wall:.1f} s, CPU/wall {(user + sys_) / wall:.2f}"
if a["value"] is None:
    print(f"seed {seed}: no answer ({a.get('verdict')}), {cpu}")
else:
    print(f"seed {seed}: {a['value']:.4f} req/s ({(a['value'] / exact - 1) * 100:+.2f} %), {cpu}")
PY
  python3 -c 'import json,sys; v = json.load(open(sys.argv[1]))["value"]; v is None or print(v)' \
    "$tmp/out.json" >> "$tmp/values"
done
sort -g "$tmp/values" | awk -v e="$exact" 'NR==1{lo=$1} {hi=$1} END {printf "span %.4f – %.4f req/s (%.4f wide) around %.4f exact\n", lo, hi, hi-lo, e}'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
