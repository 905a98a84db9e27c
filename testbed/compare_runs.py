#!/usr/bin/env python3
"""Compares the runs of an A/B plan (workers-ab): one row per run (CPU per
request of the request path and of the services that the API worker count
should not touch, mean response time, how disturbed the machine was), the
mean and spread per (users, workers) cell, and the paired differences of
consecutive runs at the same users with a t interval over the pairs.

  testbed/compare_runs.py DIR [DIR...]   (a plan's --out folder, or single runs' folders)

Needs only the standard library."""
import csv
import glob
import gzip
import json
import os
import statistics
import sys
import time

# Two-sided 95 % Student t quantiles by degrees of freedom.
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
       10: 2.228, 11: 2.201, 15: 2.131}
COLUMNS = ("request-path", "api", "postgres", "celery-transactions", "services")


def load(folder):
    run = json.load(open(os.path.join(folder, "run.json")))
    with gzip.open(os.path.join(folder, "requests.csv.gz"), "rt", newline="") as f:
        times = [float(r["response_time"]) for r in csv.DictReader(f) if r["success"] == "true"]
    truth, dist = run["ground_truth"], run.get("disturbance", {})
    return {"name": run["name"], "start": run["window"]["start"], "users": run["load"]["users"],
            "workers": run["load"]["api_workers"], "x": run["requests"]["throughput_per_s"],
            **{c: truth[c]["demand_s"] * 1000 for c in COLUMNS},
            "r_ms": 1000 * statistics.fmean(times), "util": truth["services"]["utilization"],
            "load1": dist.get("load1_mean"), "other": dist.get("service_cpus_other_fraction"),
            "steal": dist.get("service_cpus_steal_s")}


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def table(runs):
    print("| # | window start (UTC) | users | workers | X (req/s) | request-path | API | PostgreSQL | "
          "Celery transactions | services | mean R (ms) | services util | load1 | other on CPU0 | steal (s) |")
    print("|" + "---|" * 15)
    for i, r in enumerate(runs, 1):
        print("| %d | %s | %d | %d | %.1f | %.2f | %.2f | %.2f | %.3f | %.2f | %.0f | %.3f | %s | %s | %s |" % (
            i, time.strftime("%H:%M:%S", time.gmtime(r["start"])), r["users"], r["workers"], r["x"],
            *(r[c] for c in COLUMNS), r["r_ms"], r["util"], fmt(r["load1"], ".1f"), fmt(r["other"], ".3f"),
            fmt(r["steal"], ".2f")))


def cells(runs):
    print("\n| users | workers | runs | " + " | ".join("%s mean ± sd (ms)" % c for c in COLUMNS) +
          " | mean R (ms) | other on CPU0 |")
    print("|" + "---|" * (5 + len(COLUMNS)))
    for key in sorted({(r["users"], -r["workers"]) for r in runs}):
        cell = [r for r in runs if (r["users"], -r["workers"]) == key]
        sd = lambda c: statistics.stdev(r[c] for r in cell) if len(cell) > 1 else 0.0  # noqa: E731
        print("| %d | %d | %d | " % (key[0], -key[1], len(cell)) +
              " | ".join("%.3f ± %.3f" % (statistics.fmean(r[c] for r in cell), sd(c)) for c in COLUMNS) +
              " | %.0f | %s |" % (statistics.fmean(r["r_ms"] for r in cell),
                                  fmt(statistics.fmean(r["other"] for r in cell) if cell[0]["other"] is not None else None, ".3f")))


def pairs(runs):
    """Consecutive runs at the same users with different worker counts."""
    out, i = [], 0
    while i + 1 < len(runs):
        a, b = runs[i], runs[i + 1]
        if a["users"] == b["users"] and {a["workers"], b["workers"]} == {1, 2}:
            out.append((a, b) if a["workers"] == 1 else (b, a))
            i += 2
        else:
            i += 1
    return out


def interval(values):
    m = statistics.fmean(values)
    if len(values) < 2:
        return m, None
    half = T95.get(len(values) - 1, 2.0) * statistics.stdev(values) / len(values) ** 0.5
    return m, half


def paired(runs):
    found = pairs(runs)
    if not found:
        return
    print("\nPairs (consecutive runs, same users): request-path demand (ms)\n")
    print("| users | runs | 2 workers | 1 worker | 1w/2w - 1 |\n|---|---|---|---|---|")
    index = {id(r): i for i, r in enumerate(runs, 1)}
    for one, two in found:
        print("| %d | %s | %.2f | %.2f | %+.1f %% |" % (one["users"], "%d, %d" % tuple(sorted((index[id(one)], index[id(two)]))),
                                                   two["request-path"], one["request-path"],
                                                   100 * (one["request-path"] / two["request-path"] - 1)))
    print("\nPaired relative difference, 1 worker vs 2 workers (1w/2w - 1, %), mean ± 95 % t half-width over the pairs:")
    print("\n| users | pairs | " + " | ".join(COLUMNS) + " | mean R | other on CPU0 (1w - 2w) |")
    print("|" + "---|" * (4 + len(COLUMNS)))
    for users in sorted({p[0]["users"] for p in found}) + ["all"]:
        sel = [p for p in found if users == "all" or p[0]["users"] == users]
        row = []
        for c in COLUMNS + ("r_ms",):
            m, h = interval([100 * (one[c] / two[c] - 1) for one, two in sel])
            row.append("%+.1f ± %s" % (m, fmt(h, ".1f")))
        if sel[0][0]["other"] is not None:
            m, h = interval([one["other"] - two["other"] for one, two in sel])
            row.append("%+.3f ± %s" % (m, fmt(h, ".3f")))
        else:
            row.append("-")
        print("| %s | %d | %s |" % (users, len(sel), " | ".join(row)))


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    # Each argument is a run's folder or a plan's (the runs in its subfolders).
    folders = sorted({os.path.dirname(p) for d in sys.argv[1:]
                      for p in glob.glob(os.path.join(d, "run.json")) + glob.glob(os.path.join(d, "*", "run.json"))})
    done = [f for f in folders if json.load(open(os.path.join(f, "run.json"))).get("status") == "complete"]
    runs = sorted((load(f) for f in done), key=lambda r: r["start"])
    if not runs:
        print("no run.json under %s" % " ".join(sys.argv[1:]), file=sys.stderr)
        return 1
    table(runs)
    cells(runs)
    paired(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
