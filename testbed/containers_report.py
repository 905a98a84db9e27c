#!/usr/bin/env python3
"""Tabulates a recording of the `containers` plan (see README.md): per run
the containers k, their CPU limit, the users, the throughput X, the mean and
95th percentile of the response time (Locust's, every successful request
in the window), how often the CFS throttled the containers (throttled
periods / periods with runnable work, summed over the containers) and the
throttled time per second; with a study's results.json, demandsim's
prediction of each run's mean and its error (measured - predicted) /
measured, estimation runs marked.

  python3 testbed/containers_report.py traces/real-containers [--results REPORT/results.json]
                                       [--study traces/real-containers/study.yaml] [--json OUT]

Standard library only."""
import argparse
import csv
import gzip
import json
import math
import os
import re
import sys


def percentile(sorted_values, q):
    """The q-quantile, linear between order statistics (numpy's default)."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def run_row(path):
    """One run's numbers from its run.json and requests.csv.gz."""
    with open(os.path.join(path, "run.json")) as f:
        run = json.load(f)
    with gzip.open(os.path.join(path, "requests.csv.gz"), "rt", newline="") as f:
        times = sorted(float(r["response_time"]) for r in csv.DictReader(f) if r["success"] == "true")
    per = run.get("per_container", {})
    periods = sum(c["nr_periods"] for c in per.values())
    throttled = sum(c["nr_throttled"] for c in per.values())
    seconds = run["window"]["seconds"]
    truth = run["ground_truth"]
    return {
        "name": run["name"], "status": run["status"], "containers": run.get("containers", 1),
        "cpu_limit": run.get("cpu_limit"), "users": run["load"]["users"],
        "workers": run["load"]["api_workers"] * run.get("containers", 1),
        "throughput": run["requests"]["throughput_per_s"], "requests": len(times),
        "mean_r": sum(times) / len(times) if times else math.nan,
        "p95_r": percentile(times, 0.95),
        "throttled_fraction": throttled / periods if periods else None,
        "throttled_s_per_s": sum(c["throttled_time_s"] for c in per.values()) / seconds if per else None,
        "api_u": truth.get("api", {}).get("utilization"),
        "services_u": truth["services"]["utilization"],
        "other_fraction": run.get("disturbance", {}).get("service_cpus_other_fraction"),
        "window_start": run["window"]["start"],
    }


def predictions(results_path):
    """name -> {mean_s, error_pct, p95_s, p95_error_pct, x_error_pct} from a study's results.json."""
    with open(results_path) as f:
        res = json.load(f)
    out = {}
    for e in res["experiments"]:
        lines = {line["statistic"]: line for line in (e.get("comparison") or {}).get("lines", [])}
        p95 = lines.get("p95", {})
        out[e["name"]] = {"mean_s": e.get("simulated_s"), "error_pct": e.get("error_pct"),
                          "p95_s": p95.get("simulated_s"), "p95_error_pct": p95.get("error_pct"),
                          "x_error_pct": (e.get("reading") or {}).get("throughput_error_pct")}
    for f in res.get("failures", []):
        out[f["name"]] = {"failed": f.get("error")}
    return out


def estimation_runs(study_path):
    """The names under estimate_from in a study file (a plain scan, no YAML library)."""
    names, inside = set(), False
    for line in open(study_path):
        if re.match(r"\s*estimate_from:", line):
            inside = True
            continue
        if inside:
            m = re.match(r"\s*- \{name: ([^,}]+)", line)
            if m:
                names.add(m.group(1).strip())
            elif line.strip() and not line.strip().startswith("#"):
                inside = False
    return names


def fmt(x, spec, none="–"):
    return none if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def table(rows, preds, fitted):
    head = ["run", "k", "limit [CPU]", "users", "X [1/s]", "mean R [ms]", "p95 R [ms]", "throttled",
            "throttled [s/s]", "services U"]
    if preds:
        head += ["predicted R [ms]", "R error", "predicted p95 [ms]", "p95 error", "X error"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
    for r in rows:
        cells = [r["name"] + (" (fit)" if r["name"] in fitted else ""), str(r["containers"]),
                 fmt(r["cpu_limit"], ".2f", "none"), str(r["users"]), fmt(r["throughput"], ".1f"),
                 fmt(1000 * r["mean_r"], ".1f"), fmt(1000 * r["p95_r"], ".1f"),
                 "–" if r["throttled_fraction"] is None else "%.1f %%" % (100 * r["throttled_fraction"]),
                 fmt(r["throttled_s_per_s"], ".3f"), fmt(r["services_u"], ".2f")]
        if preds:
            p = preds.get(r["name"], {})
            ms = lambda v: fmt(None if v is None else 1000 * v, ".1f")
            pct = lambda v: "–" if v is None else "%+.1f %%" % v
            cells += [ms(p.get("mean_s")), pct(p.get("error_pct")), ms(p.get("p95_s")), pct(p.get("p95_error_pct")),
                      pct(p.get("x_error_pct"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def held_out_summary(rows, preds, fitted):
    """Mean absolute error of the held-out runs' mean response time, per k and overall."""
    out = []
    groups = {}
    for r in rows:
        err = preds.get(r["name"], {}).get("error_pct")
        if r["name"] not in fitted and err is not None:
            groups.setdefault(r["containers"], []).append(err)
    for k in sorted(groups):
        errs = groups[k]
        out.append("k=%d: %d held-out runs, mean |error| %.1f %%, mean error %+.1f %%" % (
            k, len(errs), sum(abs(e) for e in errs) / len(errs), sum(errs) / len(errs)))
    every = [e for errs in groups.values() for e in errs]
    if every:
        out.append("all held out: %d runs, mean |error| %.1f %%" % (len(every), sum(abs(e) for e in every) / len(every)))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", help="a folder of run folders (each with run.json and requests.csv.gz)")
    p.add_argument("--results", help="a demandsim study's results.json: predictions and errors")
    p.add_argument("--study", help="the study file, to mark its estimation runs")
    p.add_argument("--json", help="also write the rows as JSON here")
    a = p.parse_args()
    runs = sorted(d for d in os.listdir(a.dir) if os.path.exists(os.path.join(a.dir, d, "run.json")))
    if not runs:
        sys.exit("%s: no run folders (with run.json)" % a.dir)
    rows = [run_row(os.path.join(a.dir, d)) for d in runs]
    rows.sort(key=lambda r: (r["containers"], r["cpu_limit"] or math.inf, r["users"]))
    preds = predictions(a.results) if a.results else {}
    fitted = estimation_runs(a.study) if a.study else set()
    print(table(rows, preds, fitted))
    for line in held_out_summary(rows, preds, fitted) if preds else []:
        print(line)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"runs": rows, "predictions": preds, "estimation_runs": sorted(fitted)}, f, indent=2)


if __name__ == "__main__":
    main()
