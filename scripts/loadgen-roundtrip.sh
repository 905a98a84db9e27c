#!/usr/bin/env bash
# The load-generation loop without a system under test: the learnt
# behaviour (traces/real/behavior.json by default) exported as a Locust
# file, run against a stub HTTP server that answers every request, its
# sessions learnt again, and the two models compared: per-state visit
# shares (within 2 % absolute), mean think time (10 %) and requests per
# session (5 %) per profile.
#   scripts/loadgen-roundtrip.sh [BEHAVIOR.json] [--users N] [--run-time S] [--workers K]
# --workers K runs Locust distributed: one master and K local workers.
# Locust is installed from PyPI into target/loadgen-venv when missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model="$root/traces/real/behavior.json"
users=200 run_time=240 workers=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --users) users="$2"; shift 2 ;;
        --run-time) run_time="$2"; shift 2 ;;
        --workers) workers="$2"; shift 2 ;;
        *) model="$1"; shift ;;
    esac
done
venv="$root/target/loadgen-venv"
if [[ ! -x "$venv/bin/locust" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "locust==2.42.2"
fi
bin="$root/target/release/demandsim"
[[ -x "$bin" ]] || (cd "$root" && cargo build --release -q)
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
cat > "$work/stub.py" <<'PY'
import sys, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        time.sleep(0.002)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer
    def log_message(self, *a):
        pass
    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$work/stub.py" "$port" &
sleep 1
"$bin" behavior export --format locust "$model" --host "http://127.0.0.1:$port" -o "$work/locustfile.py"
echo "exported $(grep -c '@transitions' "$work/locustfile.py") Markov tasks; running $users users for ${run_time}s ($workers workers)" >&2
common=(-f "$work/locustfile.py" --headless -u "$users" -r 50 --run-time "${run_time}s" --only-summary --loglevel WARNING)
if [[ "$workers" -gt 0 ]]; then
    for i in $(seq "$workers"); do
        DEMANDSIM_TRACE="$work/requests-$i.csv" "$venv/bin/locust" -f "$work/locustfile.py" --worker --master-host 127.0.0.1 --loglevel WARNING &
    done
    # Locust exits 1 when any request failed; the comparison decides.
    ("$venv/bin/locust" "${common[@]}" --master --expect-workers "$workers" 2>&1 || true) | tee "$work/master.log" | tail -25 >&2
    sleep 3
else
    (DEMANDSIM_TRACE="$work/requests-1.csv" "$venv/bin/locust" "${common[@]}" 2>&1 || true) | tail -25 >&2
fi
python3 - "$work" "$model" "$bin" <<'PY'
import csv, glob, json, subprocess, sys
work, model, bin_ = sys.argv[1:4]
rows = []
for f in sorted(glob.glob(f"{work}/requests-*.csv")):
    with open(f) as fh:
        rows += list(csv.DictReader(fh))
rows.sort(key=lambda r: float(r["timestamp"]))
end = max(float(r["timestamp"]) for r in rows)
first = {}
for r in rows:
    first.setdefault(r["session"], float(r["timestamp"]))
# Sessions the end of the run may have cut (started in the last 90 s) are
# left out: they would look shorter than they are.
kept = [r for r in rows if first[r["session"]] <= end - 90]
with open(f"{work}/kept.csv", "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
    w.writeheader(); w.writerows(kept)
out = subprocess.run([bin_, "-q", "behavior", "learn", "--requests", f"{work}/kept.csv", "--by", "user_class", "--format", "json"],
                     capture_output=True, text=True, check=True).stdout
again = {p["name"]: p for p in json.loads(out)["profiles"]}
orig = {p["name"]: p for p in json.load(open(model))["profiles"]}
def shares(p):
    v = p["visits_per_session"]; t = sum(v.values())
    return {k: x / t for k, x in v.items()}
def think(p):
    n = s = 0.0
    for t in p["transitions"]:
        if t["think_mean_s"] is not None:
            n += t["count"]; s += t["count"] * t["think_mean_s"]
    return s / n
ok = True
print(f"{len(rows)} requests, {len(set(r['session'] for r in kept))} complete sessions kept")
print(f"{'profile':<16} {'sessions':>8} {'max |visit share diff|':>23} {'think mean (orig→new)':>24} {'requests/session (orig→new)':>29}")
for name, p in orig.items():
    q = again.get(name)
    if q is None:
        print(f"{name}: no sessions in the generated load"); ok = False; continue
    a, b = shares(p), shares(q)
    d = max(abs(a.get(k, 0) - b.get(k, 0)) for k in set(a) | set(b))
    t0, t1 = think(p), think(q)
    r0, r1 = p["requests_per_session"], q["requests_per_session"]
    good = d <= 0.02 and abs(t1 / t0 - 1) <= 0.10 and abs(r1 / r0 - 1) <= 0.05
    ok &= good
    print(f"{name:<16} {q['sessions']:>8} {d:>23.4f} {t0:>11.3f} → {t1:<10.3f} {r0:>14.2f} → {r1:<8.2f} {'ok' if good else 'MISS'}")
sys.exit(0 if ok else 1)
PY
