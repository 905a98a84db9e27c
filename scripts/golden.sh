#!/usr/bin/env bash
# Golden outputs: records what the shipped commands print for fixed seeds,
# or checks that they still print exactly that (timings aside). Used to
# keep a refactoring honest: behaviour must not move.
#
#   bash scripts/golden.sh record DIR   # before a change
#   bash scripts/golden.sh check DIR    # after each step: byte-identical?
#   bash scripts/golden.sh check DIR 1e-9
#       # identical text, numbers within a relative tolerance (for a change
#       # of numerical kernel, where the last bits may move); prints the
#       # largest relative difference found
#
# Compared byte for byte: `reproduce --format json` (stdout), its
# results.json, report.html and every SVG; `simulate`, `solve` and
# `generate` on every shipped model; `estimate` and `inspect` on the
# example trace. `wall_s` (simulate's wall-clock time) is blanked.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: golden.sh record|check DIR}
dir=${2:?usage: golden.sh record|check DIR}
tolerance=${3:-}
case $mode in record | check) ;; *) echo "usage: golden.sh record|check DIR" >&2; exit 2 ;; esac

cargo build --release --locked --quiet
bin=target/release/demandsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

blank_wall() { sed -E 's/"wall_s": ?[0-9.eE+-]+/"wall_s": 0/g'; }

$bin -q reproduce --out "$out/reproduce" --format json --seed 7 > "$out/reproduce.json"
for m in models/*.yaml; do
  n=$(basename "$m" .yaml)
  $bin -q simulate "$m" --seed 11 --requests 20000 --format json | blank_wall > "$out/simulate-$n.json"
  $bin -q solve "$m" --format json > "$out/solve-$n.json" 2>&1 || true
done
$bin -q simulate models/qpn1-open.yaml --set servers=4 --set demand=0.5 --seed 3 --requests 5000 --format json \
  | blank_wall > "$out/simulate-set.json"
$bin -q generate models/qpn1-open.yaml --seed 5 --requests 3000 --out "$out/generated" > /dev/null
t=traces/example
$bin -q estimate --requests $t/requests.csv.gz --utilization $t/utilization.csv --seed 9 --format json \
  > "$out/estimate.json"
$bin -q estimate --requests $t/requests.csv.gz --utilization $t/utilization.csv --seed 9 \
  > "$out/estimate.txt"
$bin -q inspect --requests $t/requests.csv.gz --utilization $t/utilization.csv --format json \
  > "$out/inspect.json"

if [ "$mode" = record ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  cp -r "$out"/. "$dir"/
  echo "recorded $(find "$dir" -type f | wc -l) files in $dir"
else
  if diff -r "$dir" "$out" > "$out.diff" 2>&1; then
    echo "identical: $(find "$dir" -type f | wc -l) files"
    rm -f "$out.diff"
  elif [ -n "$tolerance" ]; then
    python3 - "$dir" "$out" "$tolerance" <<'PY'
import os, re, sys
a_dir, b_dir, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
num = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
worst, bad, files = 0.0, [], 0
for root, _, names in os.walk(a_dir):
    for n in names:
        pa = os.path.join(root, n)
        pb = os.path.join(b_dir, os.path.relpath(pa, a_dir))
        a, b = open(pa, "rb").read(), open(pb, "rb").read()
        files += 1
        if a == b:
            continue
        if num.sub(b"#", a) != num.sub(b"#", b):
            bad.append(pa + ": text differs")
            continue
        for x, y in zip(num.findall(a), num.findall(b)):
            x, y = float(x), float(y)
            rel = abs(x - y) / max(abs(x), abs(y), 1e-300)
            worst = max(worst, rel)
            if rel > tol:
                bad.append(f"{pa}: {x} vs {y}")
                break
print(f"{files} files; largest relative difference {worst:.3g} (tolerance {tol:g})")
for b in bad[:20]:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
  else
    head -60 "$out.diff"
    echo "DIFFERENT (full diff: $out.diff)" >&2
    exit 1
  fi
fi
