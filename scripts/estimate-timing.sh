#!/usr/bin/env bash
# estimate's time and memory against the trace's length (issue 34: 10^7
# requests with the default bootstrap in ≤ 3 s and ≤ 100 MiB on 2 cores,
# CPU time ×≤ 11 from 10^6 to 10^7): traces of 10^5, 10^6 and 10^7
# requests generated from qpn1-open (8 servers, seed 1; not committed,
# about 100 MB of gzip for the largest), each estimated RUNS times with
# /usr/bin/time; prints the medians of wall and CPU seconds and of peak
# RSS, and the CPU ratios between sizes. The load of the machine is
# printed with them: other work on the cores moves wall time first.
# Usage: scripts/estimate-timing.sh [RUNS] [SIZES...]   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
sizes=${*:-100000 1000000 10000000}
cargo build --release --quiet
bin=$PWD/target/release/demandsim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
prev=""
for n in $sizes; do
  "$bin" -q generate models/qpn1-open.yaml --set servers=8 --requests "$n" \
    --gzip --seed 1 --out "$tmp/t$n" > /dev/null
  : > "$tmp/times"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %U %S %M' -a -o "$tmp/times" "$bin" -q estimate \
      --requests "$tmp/t$n/requests.csv.gz" --utilization "$tmp/t$n/utilization.csv.gz" \
      --servers 8 --seed 1 > /dev/null
  done
  wall=$(awk '{print $1}' "$tmp/times" | median)
  cpu=$(awk '{print $2 + $3}' "$tmp/times" | median)
  rss=$(awk '{print $4 / 1024}' "$tmp/times" | median)
  ratio=""
  [ -n "$prev" ] && ratio=$(awk -v a="$cpu" -v b="$prev" 'BEGIN {printf ", CPU x%.1f from the previous size", a / b}')
  printf '%9d requests: wall %.2f s, CPU %.2f s, peak %.0f MiB (medians of %d)%s\n' \
    "$n" "$wall" "$cpu" "$rss" "$runs" "$ratio"
  prev=$cpu
  rm -rf "$tmp/t$n"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
