#!/usr/bin/env bash
# Lines per second of the access-log importer and of the canonical
# requests CSV reader (`inspect`) on a generated busy log: LINES lines
# [default 5,000,000] of nginx's combined format with $request_time, 50
# paths, 200 clients, 2,000 requests a second. The data goes to a
# temporary folder and is removed; nothing is committed.
# Prints, per command: lines/s of wall time and of CPU time (on a shared
# machine the second is the one to compare), and peak RSS (/usr/bin/time -v).
# Usage: [DEMANDSIM=BIN] scripts/importer-speed.sh [LINES]   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-5000000}
# DEMANDSIM=path/to/demandsim measures another build (a before/after).
if [ -z "${DEMANDSIM:-}" ]; then cargo build --release --quiet; fi
bin=${DEMANDSIM:-$PWD/target/release/demandsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "generating $lines log lines..." >&2
python3 - "$lines" > "$tmp/access.log" <<'PY'
import sys, random, time
n = int(sys.argv[1]); r = random.Random(1)
months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
paths = [f"/api/{w}/{i}" for w in ("stocks", "orders", "users", "quotes", "login") for i in range(10)]
agents = ["k6/0.54.0 (https://k6.io/)", "Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0"]
t0 = 1732267831.0; out = sys.stdout; buf = []
for k in range(n):
    t = t0 + k / 2000.0
    g = time.gmtime(int(t))
    stamp = f"{g.tm_mday:02d}/{months[g.tm_mon-1]}/{g.tm_year}:{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d} +0000"
    rt = r.expovariate(20.0)
    status = 500 if r.random() < 0.01 else 200
    ip = f"10.0.{r.randrange(2)}.{r.randrange(100)}"
    q = "?page=2" if k % 7 == 0 else ""
    buf.append(f'{ip} - - [{stamp}] "GET {r.choice(paths)}{q} HTTP/1.1" {status} {r.randrange(100, 9000)} "-" "{r.choice(agents)}" {rt:.3f}\n')
    if len(buf) == 10000:
        out.write("".join(buf)); buf = []
out.write("".join(buf))
PY
fmt='$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time'
measure() { # label command... -> one line
  local label=$1; shift
  /usr/bin/time -v "$@" 2>"$tmp/time" >/dev/null || { cat "$tmp/time" >&2; exit 1; }
  awk -F': ' -v n="$lines" -v label="$label" '
    /Maximum resident/ {kb=$2}
    /User time/ {u=$2} /System time/ {sy=$2}
    /Elapsed \(wall/ {w=$2; k=split(w, p, ":"); s=0; for (i=1; i<=k; i++) s=s*60+p[i]}
    END {printf "%-26s %8.0f lines/s wall (%5.2f s)  %8.0f lines/s of CPU (%5.2f s)  %6.1f MB peak RSS\n",
      label, n/s, s, n/(u+sy), u+sy, kb/1024}' "$tmp/time"
}
measure "import access-log" "$bin" -q import access-log --log-format "$fmt" "$tmp/access.log" -o "$tmp/requests.csv"
measure "inspect (canonical CSV)" "$bin" -q inspect --requests "$tmp/requests.csv"
gzip -1 -k "$tmp/requests.csv"
measure "inspect (canonical gzip)" "$bin" -q inspect --requests "$tmp/requests.csv.gz"
