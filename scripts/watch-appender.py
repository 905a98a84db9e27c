#!/usr/bin/env python3
"""Appends a live trace for `demandsim watch`: canonical requests at RATE
requests/s (exponential response times around DEMAND seconds) and one
utilization sample a second (RATE x DEMAND, with a little noise), for
SECONDS seconds, timestamps from the wall clock. Optionally the demand
steps to STEP_DEMAND at STEP_AT seconds.

    scripts/watch-appender.py DIR [--rate 2000] [--seconds 600]
        [--demand 0.0002] [--step-at S --step-demand D]

Writes DIR/requests.csv and DIR/utilization.csv (headers first), flushed
ten times a second, as a server's log would grow. Standard library only.
"""
import argparse
import os
import random
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dir")
    p.add_argument("--rate", type=float, default=2000.0)
    p.add_argument("--seconds", type=float, default=600.0)
    p.add_argument("--demand", type=float, default=0.0002)
    p.add_argument("--step-at", type=float, default=None)
    p.add_argument("--step-demand", type=float, default=None)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.dir, exist_ok=True)
    req = open(os.path.join(a.dir, "requests.csv"), "w")
    util = open(os.path.join(a.dir, "utilization.csv"), "w")
    req.write("timestamp,response_time,class\n")
    util.write("timestamp,utilization,interval\n")
    req.flush()
    util.flush()
    t0 = time.time()
    tick = 0.1
    next_util = int(t0) + 1
    busy = 0.0
    n = 0
    while True:
        now = time.time()
        elapsed = now - t0
        if elapsed >= a.seconds:
            break
        stepped = a.step_at is not None and elapsed >= a.step_at
        demand = a.step_demand if stepped else a.demand
        lines = []
        k = int(a.rate * tick)
        for i in range(k):
            start = now - tick + tick * (i + rng.random()) / k
            cls = "a" if rng.random() < 0.7 else "b"
            d = demand * (1.0 if cls == "a" else 2.0)
            s = rng.expovariate(1.0 / d)
            busy += s
            lines.append(f"{start:.6f},{s * 1.2:.6f},{cls}\n")
        n += k
        req.write("".join(lines))
        req.flush()
        if now >= next_util:
            u = min(1.0, busy / max(1e-9, now - (next_util - 1)))
            util.write(f"{next_util:.3f},{u:.5f},1\n")
            util.flush()
            busy = 0.0
            next_util += 1
        time.sleep(max(0.0, tick - (time.time() - now)))
    print(f"appended {n} requests in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
