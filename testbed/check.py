#!/usr/bin/env python3
"""A quick check of the testbed's Python that needs no services and no
packages (CI runs it through `cargo test`): every file compiles, the plans
are well formed and name user classes the locustfile defines, the CPU
accounting sums a process tree as it should, and the containers' code
(cgroups in a scratch folder, nginx's config, the series) does what it
should (check_containers.py)."""
import ast
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree


def python_files():
    for root, dirs, files in os.walk(HERE):
        dirs[:] = [d for d in dirs if d not in (".venv", "__pycache__", "out", "work")]
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(root, name)


def user_classes():
    tree = ast.parse(open(os.path.join(HERE, "locustfile.py")).read())
    return {n.name for n in tree.body if isinstance(n, ast.ClassDef) and n.name.endswith("User")}


def check_plans(problems):
    from plans import PLANS

    users = user_classes()
    for plan, runs in PLANS.items():
        names = [r["name"] for r in runs]
        if len(set(names)) != len(names):
            problems.append("plan %s: run names repeat" % plan)
        for r in runs:
            where = "plan %s, run %s" % (plan, r["name"])
            if r["users"] < 1 or r["api_workers"] < 1:
                problems.append(where + ": users and api_workers must be >= 1")
            if r["duration_s"] <= 0 or r["warmup_s"] < 0 or r["think_s"] <= 0:
                problems.append(where + ": duration, warm-up and think time must be positive")
            if "containers" in r and not (r["containers"] >= 1 and r["cpu_period_s"] > 0
                                          and (r["cpu_limit"] is None or r["cpu_limit"] > 0)):
                problems.append(where + ": containers >= 1, cpu_limit > 0 (or None), cpu_period_s > 0")
            unknown = set(r["mix"]) - users
            if unknown or not any(w > 0 for w in r["mix"].values()):
                problems.append(where + ": mix %r (user classes: %s)" % (r["mix"], ", ".join(sorted(users))))


def check_cpu_accounting(problems):
    import cpu

    line = "4242 (celery: worker (x)) S 1 4242 4242 0 -1 4194560 1 0 0 0 7 3 5 2 20 0 1 0 1 0 0"
    if cpu.parse_stat(line) != (1, 17):
        problems.append("cpu.parse_stat: %r, expected (1, 17)" % (cpu.parse_stat(line),))
    # 1 -> 2, 3; 3 -> 4; 5 is another tree.
    table = {1: (0, 100), 2: (1, 10), 3: (1, 20), 4: (3, 1), 5: (0, 1000)}
    want = 131 / cpu.TICK
    if abs(cpu.tree_seconds(table, 1) - want) > 1e-12:
        problems.append("cpu.tree_seconds: %r, expected %r" % (cpu.tree_seconds(table, 1), want))
    if cpu.tree_seconds(table, 99) != 0:
        problems.append("cpu.tree_seconds of a gone root must be 0")
    if cpu.parse_cpu_list("0,2-4") != [0, 2, 3, 4]:
        problems.append("cpu.parse_cpu_list('0,2-4'): %r" % (cpu.parse_cpu_list("0,2-4"),))
    stat = ("cpu  9 9 9 9 9 9 9 9 0 0\n"
            "cpu0 100 5 30 900 7 2 3 11 0 0\n"
            "cpu1 1 0 1 5 0 0 0 0\nintr 1 2 3\n")
    want = {0: (140 / cpu.TICK, 11 / cpu.TICK), 1: (2 / cpu.TICK, 0.0)}
    if cpu.parse_proc_stat(stat) != want:
        problems.append("cpu.parse_proc_stat: %r, expected %r" % (cpu.parse_proc_stat(stat), want))


def check_containers_plan(problems):
    """Every (containers, limit) pair at both loads, none twice, and the
    pairs interleaved: no two neighbours share both k and the limit."""
    from plans import PLANS

    runs = PLANS["containers"]
    keys = [(r["containers"], r["cpu_limit"], r["users"]) for r in runs]
    pairs = {(k, q) for k, q, _ in keys}
    if len(set(keys)) != len(keys) or len(pairs) != 9 or len(keys) != 18:
        problems.append("plan containers: expected 3 x 3 (k, limit) pairs at 2 loads, once each: %r" % keys)
    neighbours = [(a[:2], b[:2]) for a, b in zip(keys, keys[1:]) if a[0] == b[0] or a[1] == b[1]]
    if len(neighbours) != 1:  # the turn in the middle, where the order goes back at the other load
        problems.append("plan containers: neighbours share k or the limit: %r" % neighbours)


def main():
    problems = []
    for path in python_files():
        try:
            compile(open(path, encoding="utf-8").read(), path, "exec")
        except SyntaxError as e:
            problems.append("%s:%s: %s" % (os.path.relpath(path, HERE), e.lineno, e.msg))
    check_plans(problems)
    check_cpu_accounting(problems)
    check_containers_plan(problems)
    import check_containers

    check_containers.check(problems)
    for p in problems:
        print("testbed check:", p, file=sys.stderr)
    print("testbed check: %s" % ("FAILED" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
