#!/usr/bin/env python3
"""A real database server to measure: PostgreSQL under pgbench's open load.

    python3 testbed/db/run.py --plan full --out traces/real-db [--only RUN,RUN]
    python3 testbed/db/run.py --plan calibrate          # each class alone, CPU per transaction

PostgreSQL runs on its own data directory and port under /dev/shm (--work), pinned
to one core (--db-cpu, 0); pgbench and this script's sampler on another (--load-cpu,
1). Two transaction classes (light.sql, heavy.sql: aggregates over 100 and
3,000 rows of pgbench_accounts, in shared buffers) are sent as an OPEN load,
`pgbench --rate R` (a Poisson schedule; latency counted from the scheduled
start, so waiting for a free connection is response time), mixed by script
weights (`-f light.sql@w`). Each run: a warm-up, then the measured window.

Per run (OUT/RUN/): requests.csv.gz (the pgbench log through `demandsim
import pgbench`, the warm-up left out), utilization.csv.gz (resource
`postgres`: utime+stime of the postmaster and every backend per second, as a
fraction of one core; resource `core`: the core's busy time from /proc/stat),
pgbench_log.*.gz (pgbench's own per-transaction logs, one per thread),
run.json (rate, mix, clients, pinning, versions, the machine's disturbance)
and run.yaml (an open workload; what demandsim plan reads).

Standard library only. PostgreSQL is installed from Debian if absent.
"""

import argparse
import glob
import gzip
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PORT = 55433
USER = "bench"
DB = "bench"
SCALE = 10  # 1,000,000 accounts, ~150 MB: in shared buffers
TICK = os.sysconf("SC_CLK_TCK")

# The classes, in pgbench's script order when both run. A run's rate is
# its target utilization over the mix's CPU per transaction from
# calibration.json (--plan calibrate).
CLASSES = ("light", "heavy")


def plan(name):
    mixes = {"m31": {"light": 3, "heavy": 1}, "m13": {"light": 1, "heavy": 3}}
    loads = (0.15, 0.35, 0.6, 0.8)
    runs = []
    for mix_name, mix in mixes.items():
        for u in loads:
            runs.append((f"{mix_name}-u{int(u * 100)}", mix, u))
    for c in CLASSES:
        for u in (0.2, 0.5):
            runs.append((f"{c}-u{int(u * 100)}", {c: 1}, u))
    if name == "quick":
        return [r for r in runs if r[0] in ("m31-u15", "m31-u60")]
    return runs


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        log("PostgreSQL is not installed: apt-get install postgresql")
        subprocess.run(["apt-get", "install", "-y", "postgresql", "postgresql-contrib"], check=True)
        found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1]


class Database:
    def __init__(self, work, cpu):
        self.work, self.cpu = work, cpu
        self.data = os.path.join(work, "pgdata")
        self.as_postgres = os.getuid() == 0  # PostgreSQL refuses to run as root
        self.proc = None
        self.command = None

    def _user(self):
        return {"user": "postgres", "group": "postgres"} if self.as_postgres else {}

    def start(self):
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            os.makedirs(self.data, exist_ok=True)
            if self.as_postgres:
                shutil.chown(self.work, "postgres", "postgres")
                shutil.chown(self.data, "postgres", "postgres")
            subprocess.run([pg_bin("initdb"), "-D", self.data, "-U", USER, "-A", "trust"], check=True,
                           stdout=subprocess.DEVNULL, **self._user())
        # synchronous_commit=off and no autovacuum: CPU-bound, no disk waits,
        # no background work of its own beyond the checkpointer and writers.
        self.command = ["taskset", "-c", str(self.cpu), pg_bin("postgres"), "-D", self.data, "-p", str(PORT),
                        "-k", self.data, "-c", "listen_addresses=", "-c", "synchronous_commit=off",
                        "-c", "shared_buffers=512MB", "-c", "autovacuum=off", "-c", "max_connections=120"]
        out = open(os.path.join(self.work, "postgres.log"), "ab")
        self.proc = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT, **self._user())
        for _ in range(100):
            if subprocess.run([pg_bin("pg_isready"), "-h", self.data, "-p", str(PORT)],
                              stdout=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(0.2)
        else:
            sys.exit("PostgreSQL did not start; see " + os.path.join(self.work, "postgres.log"))
        if self.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname='{DB}'") != "1":
            subprocess.run([pg_bin("createdb"), "-h", self.data, "-p", str(PORT), "-U", USER, DB], check=True)
            subprocess.run(["pgbench", "-h", self.data, "-p", str(PORT), "-U", USER, "-i", "-s", str(SCALE),
                            "-q", DB], check=True)
        # Prewarm: every page of the table and its index in shared buffers.
        self.psql(DB, "SELECT count(*), sum(abalance) FROM pgbench_accounts")
        self.psql(DB, "SELECT count(*) FROM pgbench_accounts WHERE aid > 0")

    def psql(self, db, sql):
        return subprocess.run([pg_bin("psql"), "-h", self.data, "-p", str(PORT), "-U", USER, "-d", db, "-tAc", sql],
                              capture_output=True, text=True, check=True).stdout.strip()

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=30)
            self.proc = None


def proc_ticks(root):
    """utime+stime of `root` and its children, plus the reaped children's (cutime+cstime of root)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        if pid == root:
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        elif ppid == root:
            total += int(fields[11]) + int(fields[12])
    return total


def cpu_stat(cpu):
    """(busy, total, steal) ticks of one CPU from /proc/stat."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                v = [int(x) for x in line.split()[1:]]
                idle = v[3] + v[4]
                steal = v[7] if len(v) > 7 else 0
                return sum(v[:8]) - idle, sum(v[:8]), steal
    raise RuntimeError(f"cpu{cpu} not in /proc/stat")


class Sampler(threading.Thread):
    """Samples the postmaster's tree and the core once a second, on the second."""

    def __init__(self, root, cpu):
        super().__init__(daemon=True)
        self.root, self.cpu, self.rows, self.stop_at = root, cpu, [], None
        self.done = threading.Event()

    def run(self):
        last = (time.time(), proc_ticks(self.root), cpu_stat(self.cpu))
        while not self.done.is_set():
            time.sleep(1.0 - time.time() % 1.0)
            now = (time.time(), proc_ticks(self.root), cpu_stat(self.cpu))
            dt = now[0] - last[0]
            busy, total, steal = (now[2][i] - last[2][i] for i in range(3))
            self.rows.append({"t": now[0], "dt": dt, "postgres": (now[1] - last[1]) / TICK / dt,
                              "core": busy / total if total else 0.0,
                              "steal": steal / total if total else 0.0})
            last = now


def script_files(work):
    """The two classes as pgbench scripts; returns {class: path}."""
    n = 100000 * SCALE
    texts = {
        "light": f"\\set a random(1, {n - 100})\nSELECT count(*), sum(abalance) FROM pgbench_accounts "
                 "WHERE aid BETWEEN :a AND :a + 99;\n",
        "heavy": f"\\set a random(1, {n - 3000})\nSELECT count(*), sum(abalance) FROM pgbench_accounts "
                 "WHERE aid BETWEEN :a AND :a + 2999;\n",
    }
    paths = {}
    for c, text in texts.items():
        paths[c] = os.path.join(work, c + ".sql")
        with open(paths[c], "w") as f:
            f.write(text)
    return paths


def demands():
    with open(os.path.join(HERE, "calibration.json")) as f:
        return json.load(f)["cpu_s_per_transaction"]


def run_one(db, args, name, mix, u, out_dir):
    scripts = script_files(args.work)
    d = demands()
    weights = sum(mix.values())
    d_mix = sum(w * d[c] for c, w in mix.items()) / weights
    rate = round(u / d_mix)
    logdir = os.path.join(args.work, "log-" + name)
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    total_s = args.warmup + args.duration
    order = [c for c in CLASSES if c in mix]  # script_no order
    cmd = ["taskset", "-c", str(args.load_cpu), "pgbench", "-h", db.data, "-p", str(PORT), "-U", USER, "-n",
           "-M", "prepared", "-c", str(args.clients), "-j", str(args.threads), "-R", str(rate), "-T", str(total_s),
           "-l", "--log-prefix", os.path.join(logdir, "pgbench_log")]
    for c in order:
        cmd += ["-f", f"{scripts[c]}@{mix[c]}"]
    cmd.append(DB)
    before = disturbance_snapshot()
    log(name, "rate", rate, "/s, mix", mix, "for", total_s, "s")
    sampler = Sampler(db.proc.pid, args.db_cpu)
    sampler.start()
    started = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True)
    ended = time.time()
    sampler.done.set()
    sampler.join()
    if res.returncode != 0:
        log(res.stderr)
        sys.exit(f"{name}: pgbench failed")
    return write_run(args, name, mix, u, rate, order, cmd, res.stdout, logdir, sampler.rows,
                     (started, ended), before, out_dir, db)


def disturbance_snapshot():
    top = subprocess.run(["top", "-bn1", "-w", "200"], capture_output=True, text=True).stdout.splitlines()
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {"loadavg": [float(x) for x in load], "top": top[:16]}


def write_run(args, name, mix, u, rate, order, cmd, summary, logdir, rows, span, before, out_dir, db):
    run = os.path.join(out_dir, name)
    os.makedirs(run, exist_ok=True)
    for p in sorted(glob.glob(os.path.join(logdir, "pgbench_log.*"))):
        with open(p, "rb") as f, gzip.open(os.path.join(run, os.path.basename(p) + ".gz"), "wb", 6) as g:
            shutil.copyfileobj(f, g)
    imp = import_requests(args, run, order)
    lo, hi = span[0] + args.warmup, span[1]
    window = [r for r in rows if lo + 1 <= r["t"] <= hi]
    with gzip.open(os.path.join(run, "utilization.csv.gz"), "wt") as f:
        f.write("timestamp,utilization,resource,interval\n")
        for r in window:
            for res in ("postgres", "core"):
                f.write(f"{r['t']:.3f},{min(r[res], 1.0):.5f},{res},{r['dt']:.3f}\n")
    mean = lambda k: sum(r[k] for r in window) / len(window) if window else None  # noqa: E731
    meta = {
        "name": name, "status": "complete", "system": "PostgreSQL under pgbench (testbed/db/run.py)",
        "machine": machine(), "versions": versions(),
        "pinning": {"services": str(args.db_cpu), "load_generator": str(args.load_cpu)},
        "load": {"name": name, "workload": "open", "rate_per_s": rate, "target_utilization": u,
                 "mix": {c: mix[c] for c in order}, "script_order": order, "clients": args.clients,
                 "threads": args.threads, "duration_s": args.duration, "warmup_s": args.warmup,
                 "calibration_cpu_s": demands()},
        "commands": {"pgbench": cmd, "postgres": db.command},
        "window": {"start": lo, "end": hi},
        "pgbench_summary": summary.splitlines(),
        "import": imp,
        "measured": {"postgres_utilization": mean("postgres"), "core_utilization": mean("core")},
        "disturbance": {
            "other_cpu_on_core": (mean("core") - mean("postgres")) if window else None,
            "steal": mean("steal"), "before": before, "after": disturbance_snapshot(),
            "note": "other_cpu_on_core = the core's busy fraction minus PostgreSQL's: other processes "
                    "(the lead's and helpers' builds share both cores) and the kernel",
        },
    }
    with open(os.path.join(run, "run.json"), "w") as f:
        json.dump(meta, f, indent=1)
    with open(os.path.join(run, "run.yaml"), "w") as f:
        f.write("# PostgreSQL's CPU and the whole core's (demandsim plan).\n"
                "workload: {type: open}\nresource: postgres\nbackground: core\nservers: 1\n")
    log(name, "U(postgres)", round(mean("postgres"), 3), "U(core)", round(mean("core"), 3))
    return meta


def import_requests(args, run, order):
    """The run's pgbench logs → requests.csv.gz (the warm-up left out); returns the importer's log."""
    logs = sorted(glob.glob(os.path.join(run, "pgbench_log.*.gz")))
    plain = os.path.join(run, "requests.csv")
    imp = subprocess.run([args.demandsim, "-v", "import", "pgbench", "--script-names", ",".join(order),
                          "--skip", str(args.warmup), "-o", plain, *logs], capture_output=True, text=True)
    if imp.returncode != 0:
        log(f"{run}: import failed (run --reimport later): {imp.stderr}")
    else:
        with open(plain, "rb") as f, gzip.open(plain + ".gz", "wb", 6) as g:
            shutil.copyfileobj(f, g)
        os.remove(plain)
    return imp.stderr.splitlines()


def reimport(args):
    """Imports every run of OUT again from its stored logs, into requests.csv.gz and run.json."""
    for meta_path in sorted(glob.glob(os.path.join(args.out, "*", "run.json"))):
        run = os.path.dirname(meta_path)
        with open(meta_path) as f:
            meta = json.load(f)
        args.warmup = meta["load"]["warmup_s"]
        meta["import"] = import_requests(args, run, meta["load"]["script_order"])
        with open(meta_path, "w") as f:
            json.dump(meta, f, indent=1)
        log(run, *meta["import"][-1:])


def machine():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()}


def versions():
    pg = subprocess.run([pg_bin("postgres"), "--version"], capture_output=True, text=True).stdout.strip()
    pb = subprocess.run(["pgbench", "--version"], capture_output=True, text=True).stdout.strip()
    return {"postgresql": pg, "pgbench": pb, "python": platform.python_version()}


def calibrate(db, args):
    """Each class alone at a low rate: CPU seconds of PostgreSQL per transaction."""
    scripts = script_files(args.work)
    out = {}
    for c, rate in (("light", 400), ("heavy", 100)):
        cmd = ["taskset", "-c", str(args.load_cpu), "pgbench", "-h", db.data, "-p", str(PORT), "-U", USER, "-n",
               "-M", "prepared", "-c", "8", "-j", "1", "-R", str(rate), "-T", "20", "-f", scripts[c], DB]
        sampler = Sampler(db.proc.pid, args.db_cpu)
        sampler.start()
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        sampler.done.set()
        sampler.join()
        tps = float([ln for ln in res.stdout.splitlines() if ln.startswith("tps")][0].split()[2])
        rows = sampler.rows[3:-1]
        upg = sum(r["postgres"] for r in rows) / len(rows)
        out[c] = upg / tps
        log(c, "tps", tps, "U", round(upg, 3), "CPU s/tx", out[c])
    with open(os.path.join(HERE, "calibration.json"), "w") as f:
        json.dump({"cpu_s_per_transaction": out, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "how": "each class alone for 20 s (light 400/s, heavy 100/s); PostgreSQL's CPU over tps"},
                  f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plan", choices=("full", "quick", "calibrate"), default="quick")
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--only", default="")
    # On tmpfs: pgbench writes its log as transactions end, and a write that
    # waits for the disk (another process flushing gigabytes) stalls the
    # load generator for seconds (seen in a first recording on /tmp).
    ap.add_argument("--work", default="/dev/shm/demandsim-db" if os.path.isdir("/dev/shm") else "/tmp/demandsim-db")
    ap.add_argument("--db-cpu", type=int, default=0)
    ap.add_argument("--load-cpu", type=int, default=1)
    ap.add_argument("--clients", type=int, default=48)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--duration", type=int, default=45)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--demandsim", default=os.path.join(REPO, "target", "release", "demandsim"))
    ap.add_argument("--reimport", action="store_true", help="only import the stored logs of OUT's runs again")
    args = ap.parse_args()
    if args.reimport:
        return reimport(args)
    os.makedirs(args.work, exist_ok=True)
    os.sched_setaffinity(0, {args.load_cpu})  # the sampler beside pgbench, off the database's core
    db = Database(args.work, args.db_cpu)
    db.start()
    try:
        if args.plan == "calibrate":
            calibrate(db, args)
            return
        only = set(filter(None, args.only.split(",")))
        for name, mix, u in plan(args.plan):
            if not only or name in only:
                run_one(db, args, name, mix, u, args.out)
    finally:
        db.stop()


if __name__ == "__main__":
    main()
