#!/usr/bin/env bash
# Each ingredient of the fidelity protocol (traces/real/study.yaml) measured
# on its own: the same fourteen real runs predicted with the protocol's six
# estimation runs (two per mix at different loads) and one ingredient added
# at a time, then cumulatively up to the shipped study. Prints the relative
# error (measured − predicted)/measured of the eight held-out runs' mean
# response time per variant, and the core's total CPU (run.json) of each.
# About ten minutes on two cores (twelve studies of 14 × 200,000 requests).
#   bash scripts/real-ingredients.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
out=${1:-$(mktemp -d)}
mkdir -p "$out"
python3 - "$PWD" "$out" <<'PY'
import json, os, subprocess, sys
root, out = sys.argv[1], sys.argv[2]
real, models = f"{root}/traces/real", f"{root}/models"
RUNS = ["mixed-n21", "mixed-n39", "mixed-n57", "mixed-n76", "mixed-n96", "mixed-n106",
        "readonly-n33", "readonly-n85", "readonly-n140", "analytical-n27", "analytical-n67",
        "analytical-n100", "mixed-1worker-n39", "mixed-1worker-n76"]
LOW = ["mixed-n21", "readonly-n33", "analytical-n27"]
FIT = ["mixed-n21", "mixed-n57", "readonly-n33", "readonly-n85", "analytical-n27", "analytical-n67"]
HELD = [r for r in RUNS if r not in FIT]

def run(r):
    return (f"{{name: {r}, requests: {real}/{r}/requests.csv.gz, utilization: "
            f"{real}/{r}/utilization.csv.gz, metadata: {real}/{r}/run.json}}")

def study(fit=FIT, bg=False, load="false", users=False, closed=False, offset=False):
    name = ("testbed-users" if users else "testbed") + ("-closed" if closed else "")
    est = f"methods: all, discipline: ps, bootstrap: 100, folds: 5, load_dependence: {load}"
    est += ", background: services" if bg else ""
    est += ", latency_offset: true" if offset else ""
    y = ["name: variant", "data: measured", "seed: 2026", "defaults:",
         f"  model: {models}/{name}.yaml", "  servers: 1", "  containers: 1",
         "  resources: [request-path]", f"  estimate: {{{est}}}"]
    y += ["  class_column: user_class"] if users else []
    y += ["  estimate_from:"] + [f"    - {run(r)}" for r in fit]
    y += ["  params:", "    cpus: 1", "    workers: {metadata: api_workers}",
          '    demand_{c}: {estimate: sdl, class: "{c}"}']
    if closed:
        y += ['    share_{c}: {measured: throughput, class: "{c}"}',
              "    users: {metadata: users}", "    think: {metadata: think_s}"]
    else:
        y += ['    rate_{c}: {measured: throughput, class: "{c}"}']
    y += ["    background_u: {background: utilization}"] if bg else []
    y += ["  run: {requests: 200000, warmup: auto}", "experiments:"]
    return "\n".join(y + [f"  - {run(r)}" for r in RUNS]) + "\n"

VARIANTS = [
    ("before: 3 low-load runs", dict(fit=LOW)),
    ("protocol, nothing added", dict()),
    ("+ background", dict(bg=True)),
    ("+ load form", dict(load="auto")),
    ("+ grouping", dict(users=True)),
    ("+ closed", dict(closed=True)),
    ("grouping + load form", dict(users=True, load="auto")),
    ("grouping + load form + background", dict(users=True, load="auto", bg=True)),
    ("... + closed", dict(users=True, load="auto", bg=True, closed=True)),
    ("... + latency offset (shipped)", dict(users=True, load="auto", bg=True, closed=True, offset=True)),
]

def total_cpu(r):
    return json.load(open(f"{real}/{r}/run.json"))["ground_truth"]["services"]["utilization"]

errors = []
for i, (label, kw) in enumerate(VARIANTS):
    path, text = f"{out}/variant-{i}.yaml", study(**kw)
    done = os.path.exists(f"{out}/variant-{i}/results.json") and open(path).read() == text
    if not done:  # an earlier run into the same OUT_DIR is reused
        open(path, "w").write(text)
        # Exit 1 when some experiments fail (a refused load form): they are
        # in results.json's failures and in the table.
        subprocess.run([f"{root}/target/release/demandsim", "-q", "study", path, "--out",
                        f"{out}/variant-{i}", "--format", "json"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = json.load(open(f"{out}/variant-{i}/results.json"))
    by = {e["name"]: e.get("error_pct") for e in res["experiments"]}
    failed = {f["name"]: f["error"] for f in res.get("failures", [])}
    errors.append((label, by, failed))
    print(f"{label}: done", file=sys.stderr)

print("| variant | " + " | ".join(HELD) + " |")
print("|---|" + "---:|" * len(HELD))
print("| core's total CPU | " + " | ".join(f"{total_cpu(r):.2f}" for r in HELD) + " |")
for label, by, failed in errors:
    cells = [("refused" if r in failed else "–") if by.get(r) is None else f"{by[r]:+.1f} %" for r in HELD]
    print(f"| {label} | " + " | ".join(cells) + " |")
for label, by, failed in errors:
    if failed:
        print(f"{label}: {next(iter(failed.values()))}")
PY
