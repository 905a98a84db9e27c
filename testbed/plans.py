"""Experiment plans: each run is a load (closed Locust users), a user-class mix,
a configuration (API workers) and a duration with a warm-up that is dropped.

`quick` takes about 5 minutes and checks that the testbed works end to end;
`full` is the plan behind traces/real/ (recorded before its runs were
interleaved) and traces/real2/ (about 25 minutes on a 2-core machine);
`workers-ab` compares one and two API workers in an interleaved order
(about 28 minutes; see README.md); `containers` runs the API as k
CPU-limited containers behind nginx (about 29 minutes); `repeat` runs
one run eight times to measure the run-to-run spread (about 13 minutes)."""

MIXED = {"ActiveUser": 1, "ReadOnlyUser": 1, "AnalyticalUser": 1}
READ_ONLY = {"ReadOnlyUser": 1}
ANALYTICAL = {"ActiveUser": 1, "ReadOnlyUser": 1, "AnalyticalUser": 3}


def run(name, users, mix, api_workers=2, duration=60, warmup=20, think=1.0, containers=None, cpu_limit=None,
        cpu_period=0.1):
    spec = {"name": name, "users": users, "mix": mix, "api_workers": api_workers,
            "duration_s": duration, "warmup_s": warmup, "think_s": think}
    if containers:
        # The API as `containers` gunicorns (api_workers each) behind nginx,
        # each limited to cpu_limit CPUs (None: no limit) by a CFS quota
        # per cpu_period seconds (containers.py).
        spec.update(containers=containers, cpu_limit=cpu_limit, cpu_period_s=cpu_period)
    return spec


def containers_plan(loads=(20, 45), duration=35, warmup=20):
    """k = 1, 2, 4 containers x a CFS limit of 0.25, 0.5, 1 CPU each x two
    loads of the mixed users (18 runs). Interleaved: the nine (k, limit)
    pairs go in an order where both change at every step, each at one load,
    then backwards at the other, so every pair's two runs lie on average at
    the plan's middle and a linear drift of the machine falls on all alike."""
    ks, limits = (1, 2, 4), (0.25, 0.5, 1.0)
    order = [(ks[s % 3], limits[(s + s // 3) % 3], loads[s % 2]) for s in range(9)]
    order += [(k, q, loads[1] if n == loads[0] else loads[0]) for k, q, n in reversed(order)]
    return [run("k%d-q%d-n%d" % (k, round(q * 100), n), n, MIXED, duration=duration, warmup=warmup,
                containers=k, cpu_limit=q) for k, q, n in order]


def workers_ab(duration=60):
    """One and two API workers (A = 2, B = 1) at the two loads of `full`'s
    one-worker runs, in consecutive pairs of the same load: 39 and 76 users
    alternate pair by pair and each load's pairs go AB, BA, AB, BA, so a
    drift of the machine over the half hour falls on both worker counts
    alike and every pair is a difference taken minutes apart."""
    runs = []
    for i in range(8):
        users = (39, 76)[i % 2]
        order = (2, 1) if (i // 2) % 2 == 0 else (1, 2)
        if i % 2:
            order = order[::-1]
        for workers in order:
            name = "ab%02d-n%d-w%d" % (len(runs) + 1, users, workers)
            runs.append(run(name, users, MIXED, api_workers=workers, duration=duration))
    return runs


PLANS = {
    "quick": [
        run("mixed-low", 15, MIXED, duration=45, warmup=15),
        run("mixed-high", 60, MIXED, duration=45, warmup=15),
        run("readonly-low", 20, READ_ONLY, duration=45, warmup=15),
    ],
    # The user counts span the services' CPU from about 0.2 to 0.8 on the
    # development machine (see README.md); runs are named by mix and users.
    "full": [
        # Interleaved, not grouped: mixes, loads and worker counts alternate
        # so that a drift of the machine over the half hour falls on all of
        # them alike (the first recording ran the one-worker runs last and
        # read a drift as a 15 % cheaper worker count; see README.md).
        run("mixed-n21", 21, MIXED),
        run("readonly-n33", 33, READ_ONLY),
        run("analytical-n27", 27, ANALYTICAL),
        run("mixed-1worker-n39", 39, MIXED, api_workers=1),
        run("mixed-n57", 57, MIXED),
        run("readonly-n85", 85, READ_ONLY),
        run("mixed-n39", 39, MIXED),
        run("analytical-n67", 67, ANALYTICAL),
        run("mixed-n96", 96, MIXED),
        run("mixed-1worker-n76", 76, MIXED, api_workers=1),
        run("readonly-n140", 140, READ_ONLY),
        run("mixed-n76", 76, MIXED),
        run("analytical-n100", 100, ANALYTICAL),
        run("mixed-n106", 106, MIXED),
    ],
    # Is the one-worker runs' lower CPU per request the worker count or the
    # machine's drift (they ran last in `full`)? Interleaved, 4 pairs per load.
    "workers-ab": workers_ab(),
    # The API as 1, 2 or 4 CPU-limited containers behind nginx (issue 35):
    # about 29 minutes; traces/real-containers/.
    "containers": containers_plan(),
    # Two minutes' check that the containers work (20 s warm-up, 20 s measured).
    # The same run eight times (mixed users at 39, 45 s each): how much the
    # CPU per request moves between identical runs, and whether the speed
    # probe's price of fixed work moves with it (about 13 minutes).
    "repeat": [run("repeat%d-n39" % i, 39, MIXED, duration=45, warmup=15) for i in range(1, 9)],
    "containers-smoke": [
        run("smoke-k2-q25-n45", 45, MIXED, duration=20, warmup=20, containers=2, cpu_limit=0.25),
        run("smoke-k1-q25-n45", 45, MIXED, duration=20, warmup=20, containers=1, cpu_limit=0.25),
    ],
}
