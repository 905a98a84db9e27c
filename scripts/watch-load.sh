#!/usr/bin/env bash
# Measures `demandsim watch` following a file appended at RATE requests/s
# (default 2,000) for SECONDS (default 600): peak memory and CPU time from
# `/usr/bin/time -v`, with the appender (scripts/watch-appender.py) in the
# background. Needs a release build (`cargo build --release`).
#
#   scripts/watch-load.sh [RATE] [SECONDS]
#
# Prints time's report and the number of lines watch wrote; the run's
# folder (the trace, watch's JSON lines, time's report) is kept in
# $TMPDIR/demandsim-watch-load.
set -euo pipefail
rate=${1:-2000}
seconds=${2:-600}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/target/release/demandsim
dir=${TMPDIR:-/tmp}/demandsim-watch-load
rm -rf "$dir" && mkdir -p "$dir"
python3 "$here/scripts/watch-appender.py" "$dir" --rate "$rate" --seconds "$seconds" &
appender=$!
sleep 1
/usr/bin/time -v -o "$dir/time.txt" "$bin" watch --requests "$dir/requests.csv" \
    --utilization "$dir/utilization.csv" --format json >"$dir/watch.jsonl" 2>"$dir/watch.err" &
timer=$!
wait "$appender"
sleep 3
# Ctrl-C to watch itself (time waits for it and reports).
watch_pid=$(pgrep -P "$timer" -x demandsim)
kill -INT "$watch_pid"
wait "$timer" || true
cat "$dir/time.txt"
echo "lines: $(wc -l <"$dir/watch.jsonl"), requests: $(($(wc -l <"$dir/requests.csv") - 1))"
python3 - "$dir/watch.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
print("every line parses:", len(lines), "objects; alarms:", sum(l["alarm"] for l in lines))
PY
