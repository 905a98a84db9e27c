"""How much of the run-to-run spread of the CPU per request is the machine's
speed: per run of a recording, the request path's CPU seconds per request
beside the speed probe's samples (probe.py, speed_probe.csv.gz), and a
least-squares line of the one on the share of slow probe samples.

  python3 testbed/speed_report.py RECORDING [--slow-us 250]

A probe sample is "slow" when the fixed work took more than --slow-us CPU
microseconds (on the development machine the samples fall in two groups,
about 170 and 350 us: the virtual CPU runs at full speed or at about half).
Standard library only."""
import argparse
import csv
import gzip
import json
import os
import statistics as st


def read_run(path, slow_us):
    with open(os.path.join(path, "run.json")) as f:
        run = json.load(f)
    probe = os.path.join(path, "speed_probe.csv.gz")
    if not os.path.exists(probe):
        return None
    with gzip.open(probe, "rt") as f:
        samples = [int(r["min_ns"]) / 1000.0 for r in csv.DictReader(f)]
    return {"name": run["name"], "demand_ms": run["ground_truth"]["request-path"]["demand_s"] * 1000,
            "slow": sum(1 for s in samples if s > slow_us) / len(samples), "probe_us": st.mean(samples),
            "other": run["disturbance"]["service_cpus_other_fraction"]}


def line(xs, ys):
    """(intercept, slope) of the least-squares line of ys on xs."""
    mx, my = st.mean(xs), st.mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    return my - slope * mx, slope


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("recording")
    p.add_argument("--slow-us", type=float, default=250.0)
    args = p.parse_args()
    runs = [read_run(os.path.join(args.recording, d), args.slow_us) for d in sorted(os.listdir(args.recording))
            if os.path.exists(os.path.join(args.recording, d, "run.json"))]
    runs = [r for r in runs if r]
    if len(runs) < 3:
        raise SystemExit("%s: fewer than 3 runs with a speed probe" % args.recording)
    print("%-16s %9s %11s %10s %12s" % ("run", "CPU/req", "slow share", "probe us", "other CPU"))
    for r in runs:
        print("%-16s %6.2f ms %11.2f %10.0f %12.3f" % (r["name"], r["demand_ms"], r["slow"], r["probe_us"], r["other"]))
    d = [r["demand_ms"] for r in runs]
    a, b = line([r["slow"] for r in runs], d)
    resid = [y - (a + b * r["slow"]) for y, r in zip(d, runs)]
    print("CPU per request: mean %.2f ms, sd %.2f ms (%.1f %%)" % (st.mean(d), st.stdev(d), 100 * st.stdev(d) / st.mean(d)))
    print("fitted: %.2f ms + %.2f ms x slow share; residual sd %.2f ms (%.1f %%); correlation %.2f"
          % (a, b, st.stdev(resid), 100 * st.stdev(resid) / st.mean(d),
             st.correlation([r["slow"] for r in runs], d)))


if __name__ == "__main__":
    main()
