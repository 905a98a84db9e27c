"""Runs an experiment plan on the trading platform and writes, per run,
demandsim's canonical traces and the run's provenance:

  OUT/<run>/requests.csv.gz         every request in the measurement window
  OUT/<run>/utilization.csv.gz      CPU per service per interval (exact, /proc)
  OUT/<run>/locust_stats_history.csv.gz  Locust's own --csv history (per interval)
  OUT/<run>/prometheus_histogram.json.gz  with --prometheus: the API's latency
                                    histogram, a query_range of Prometheus
  OUT/<run>/run.json                provenance and per-service ground truth
  OUT/<run>/run.yaml                what `demandsim plan` needs beyond run.json:
                                    the requests' CPU series and the core's total

Services (PostgreSQL, Redis, gunicorn, Celery workers and beat) run pinned to
--service-cpus, Locust and this script to --load-cpus (taskset)."""
import argparse
import csv
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
import urllib.parse
import urllib.request
from importlib.metadata import version

import containers as containers_mod
import cpu
from plans import PLANS

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "trading")
VENV_BIN = os.path.join(HERE, ".venv", "bin")
PG_PORT, REDIS_PORT, API_PORT = 55432, 56379, 58000
# The containers listen on CONTAINERS_PORT + 1, + 2, ...: below Linux's
# ephemeral ports (32768-60999), where a client connection of the run
# itself (Locust, nginx, Celery) may hold the port a container wants.
CONTAINERS_PORT = 31000
METRICS_PORT, PROMETHEUS_PORT = 59100, 59090
HISTOGRAM_QUERY = '{__name__=~"http_request_duration_seconds_(bucket|sum|count)"}'
QUEUES = ["default", "transactions", "balance_updates", "stock_rates", "expire_offers"]
# The services a request runs on while the user waits (the balancer `lb`
# and the containers `api-N` where the API runs as containers); Celery's
# work (trade matching, settlement, periodic jobs) happens after the response.
REQUEST_PATH = ("api", "postgres", "redis", "lb")


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def pg_bin(name):
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/" + name), key=lambda p: int(p.split("/")[4]))
    if not found:
        sys.exit("PostgreSQL is not installed: run testbed/setup.sh")
    return found[-1]


class Services:
    """Starts and stops the system under test; knows each service's root pid."""

    def __init__(self, work, cpus):
        self.work, self.cpus, self.procs, self.commands = work, cpus, {}, {}
        self.containers = None  # the run's Containers, when the API runs as containers
        self.as_postgres = os.getuid() == 0  # PostgreSQL refuses to run as root
        self.env = dict(os.environ, DS_PG_PORT=str(PG_PORT), DS_REDIS_PORT=str(REDIS_PORT),
                        DJANGO_SETTINGS_MODULE="trading.settings", PYTHONPATH=APP)

    def _start(self, name, argv, **kw):
        log("start", name)
        self.commands[name] = ["taskset", "-c", self.cpus] + argv
        out = open(os.path.join(self.work, name + ".log"), "ab")
        self.procs[name] = subprocess.Popen(["taskset", "-c", self.cpus] + argv, cwd=APP, env=self.env,
                                            stdout=out, stderr=subprocess.STDOUT, **kw)

    def _pg_user(self):
        return {"user": "postgres", "group": "postgres"} if self.as_postgres else {}

    def start_database(self):
        data = os.path.join(self.work, "pgdata")
        if not os.path.exists(os.path.join(data, "PG_VERSION")):
            os.makedirs(data, exist_ok=True)
            if self.as_postgres:
                shutil.chown(data, "postgres", "postgres")
            subprocess.run([pg_bin("initdb"), "-D", data, "-U", "trading", "-A", "trust"], check=True,
                           stdout=subprocess.DEVNULL, **self._pg_user())
        # synchronous_commit=off: commits do not wait for the disk, so response
        # times measure CPU and queueing, not this machine's fsync latency.
        self._start("postgres", [pg_bin("postgres"), "-D", data, "-p", str(PG_PORT), "-k", data,
                                 "-c", "listen_addresses=127.0.0.1", "-c", "synchronous_commit=off",
                                 "-c", "max_connections=200"], **self._pg_user())
        wait_for(lambda: subprocess.run([pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(PG_PORT)],
                                        stdout=subprocess.DEVNULL).returncode == 0, "PostgreSQL")
        exists = subprocess.run([pg_bin("psql"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "trading", "-d",
                                 "postgres", "-tAc", "SELECT 1 FROM pg_database WHERE datname='trading'"],
                                capture_output=True, text=True, check=True).stdout.strip()
        if exists != "1":
            subprocess.run([pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "trading", "trading"],
                           check=True)
        self.manage("migrate", "--noinput", "-v", "0")

    def manage(self, *args):
        subprocess.run([os.path.join(VENV_BIN, "python"), "manage.py", *args], cwd=APP, env=self.env, check=True)

    def start_app(self, api_workers, containers=None):
        self.commands = {n: c for n, c in self.commands.items() if n == "postgres"}  # not the last run's
        self._start("redis", ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"])
        wait_for(lambda: subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True)
                 .returncode == 0, "Redis")
        if containers is None:
            self._start("api", gunicorn(api_workers, API_PORT))
        else:
            self.start_containers(api_workers, containers)
        for queue in QUEUES:
            self._start("celery-" + queue, [os.path.join(VENV_BIN, "celery"), "-A", "trading", "worker", "-Q", queue,
                                            "-n", queue + "@testbed", "--pool", "solo", "--without-gossip",
                                            "--without-mingle", "--without-heartbeat", "-l", "WARNING"])
        self._start("celery-beat", [os.path.join(VENV_BIN, "celery"), "-A", "trading", "beat", "-l", "WARNING",
                                    "-s", os.path.join(self.work, "beat-schedule")])
        wait_for(lambda: http_ok("http://127.0.0.1:%d/api/health" % API_PORT), "the API")

    def start_containers(self, api_workers, containers):
        """k gunicorns, each in its cgroup, and nginx before them on API_PORT."""
        containers.create()
        for name in containers.names:
            port = containers.ports[name]
            self._start(name, containers.join_command(name) + gunicorn(api_workers, port))
        for name in containers.names:
            wait_for(lambda: http_ok("http://127.0.0.1:%d/api/health" % containers.ports[name]), name)
        for f in ("nginx-access.log", "nginx-error.log"):
            if os.path.exists(os.path.join(self.work, f)):
                os.remove(os.path.join(self.work, f))
        os.makedirs(os.path.join(self.work, "nginx-temp"), exist_ok=True)
        conf = os.path.join(self.work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(containers_mod.nginx_config(self.work, API_PORT, list(containers.ports.values()),
                                                os.path.join(self.work, "nginx-access.log"),
                                                os.path.join(self.work, "nginx.pid")))
        self._start("lb", [nginx_bin(), "-c", conf, "-p", self.work, "-e", os.path.join(self.work, "nginx-error.log")])

    def stop(self, names=None):
        for name in list(names or self.procs):
            proc = self.procs.pop(name)
            proc.send_signal(signal.SIGTERM if name != "postgres" else signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def roots(self):
        return {name: proc.pid for name, proc in self.procs.items()}


def gunicorn(workers, port):
    return [os.path.join(VENV_BIN, "gunicorn"), "trading.wsgi", "--workers", str(workers),
            "--bind", "127.0.0.1:%d" % port, "--backlog", "2048", "--timeout", "120"]


def nginx_bin():
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
    if not found:
        sys.exit("nginx is not installed: run testbed/setup.sh")
    return found


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def wait_for(check, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise SystemExit("%s did not come up within %d s (logs in the work folder)" % (what, timeout))


def series_groups(names):
    """The series summed from the services' own: `api`, the containers'
    sum (when the API runs as containers `api-1`...); `services`, every
    service; `request-path`, the CPU a request uses while its user waits
    (the API, PostgreSQL, Redis and the balancer `lb` where there is one)."""
    apis = [n for n in names if n.startswith("api-")]
    groups = [("api", apis)] if apis else []
    groups.append(("services", list(names)))
    groups.append(("request-path", [n for n in names if n in REQUEST_PATH or n in apis]))
    return groups


def interval_rows(now, dt, used, cpus):
    """One tick's utilization rows: each service's CPU seconds `used` over
    `dt` as a fraction of the services' `cpus`, then the summed series."""
    rows = [(now, u / (dt * cpus), name, dt) for name, u in used.items()]
    for group, members in series_groups(list(used)):
        rows.append((now, sum(used[m] for m in members) / (dt * cpus), group, dt))
    return rows


def cfs_rows(now, dt, first, second):
    """One tick's CFS rows per container: deltas of (cpu_s, nr_periods,
    nr_throttled, throttled_time_s) between two Containers.stats()."""
    return [(now, name, dt) + tuple(b - a for a, b in zip(first[name], second[name])) for name in second]


class Monitor(threading.Thread):
    """Samples every service's CPU seconds on a fixed grid of ticks between
    start and end, and keeps the per-interval utilization rows (and, with
    containers, their CFS counters per interval)."""

    def __init__(self, roots, start, end, interval, cpus_per_service, containers=None):
        super().__init__(daemon=True)
        self.roots, self.start_t, self.end_t = roots, start, end
        self.interval, self.cpus, self.containers = interval, cpus_per_service, containers
        self.rows, self.first, self.last = [], None, None
        self.cfs, self.cfs_first, self.cfs_last = [], None, None
        # The machine around the services: per-CPU (busy, steal) seconds at
        # the first and last tick, the 1-minute load average at every tick.
        self.machine_first = self.machine_last = None
        self.loads = []
        self.stop_now = threading.Event()

    def read(self):
        table = cpu.snapshot()
        cfs = self.containers.stats() if self.containers else None
        per_cpu, load1 = cpu.machine()
        self.machine_last = per_cpu
        self.loads.append(load1)
        return time.time(), {name: cpu.tree_seconds(table, pid) for name, pid in self.roots.items()}, cfs

    def run(self):
        tick = self.start_t
        while tick <= self.end_t + 1e-9 and not self.stop_now.is_set():
            time.sleep(max(0.0, tick - time.time()))
            now, seconds, cfs = self.read()
            if self.machine_first is None:
                self.machine_first = self.machine_last
            if self.last is not None:
                dt = now - self.last[0]
                self.rows.extend(interval_rows(now, dt, {n: s - self.last[1][n] for n, s in seconds.items()},
                                               self.cpus))
                if cfs is not None:
                    self.cfs.extend(cfs_rows(now, dt, self.cfs_last, cfs))
            else:
                self.first, self.cfs_first = (now, seconds), cfs
            self.last, self.cfs_last = (now, seconds), cfs
            tick += self.interval


def write_gzip_csv(path, header, rows):
    tmp = path + ".part"
    with gzip.open(tmp, "wt", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def count_requests(path):
    total = ok = 0
    with gzip.open(path, "rt", newline="") as f:
        for row in csv.DictReader(f):
            total += 1
            ok += row["success"] == "true"
    return total, ok


def provenance(args, spec):
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor())
    pg = subprocess.run([pg_bin("postgres"), "--version"], capture_output=True, text=True).stdout.strip()
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "machine": {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release(),
                    "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "versions": {"python": platform.python_version(), "postgresql": pg, "redis": redis,
                     **{p: version(p) for p in ("Django", "djangorestframework", "celery", "locust", "gunicorn")}},
        # niceness: the runner's, which the services and Locust inherit (`nice -n -10 testbed/run.sh`).
        "pinning": {"services": args.service_cpus, "load_generator": args.load_cpus, "niceness": os.nice(0)},
        "load": spec,
    }


class Prometheus:
    """The API's latency histogram through a real Prometheus: an exporter of
    the gunicorn workers' multiprocess metrics and a Prometheus server
    scraping it every second, both pinned with the load generator."""

    def __init__(self, work, cpus, env):
        self.work, self.cpus, self.procs = work, cpus, []
        self.metrics_dir = os.path.join(work, "prometheus-multiproc")
        env["PROMETHEUS_MULTIPROC_DIR"] = self.metrics_dir
        self.env = env

    def reset(self):
        """Empties the workers' metric files (before the API starts)."""
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
        os.makedirs(self.metrics_dir)

    def start(self):
        data = os.path.join(self.work, "prometheus-data")
        shutil.rmtree(data, ignore_errors=True)
        config = os.path.join(self.work, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                    "scrape_configs:\n  - job_name: api\n"
                    "    static_configs: [{targets: ['127.0.0.1:%d']}]\n" % METRICS_PORT)
        log_file = open(os.path.join(self.work, "prometheus.log"), "ab")
        pin = ["taskset", "-c", self.cpus]
        self.procs = [
            subprocess.Popen(pin + [os.path.join(VENV_BIN, "python"), os.path.join(HERE, "metrics_exporter.py"),
                                    str(METRICS_PORT)], env=self.env, stdout=log_file, stderr=subprocess.STDOUT),
            subprocess.Popen(pin + ["prometheus", "--config.file=" + config, "--storage.tsdb.path=" + data,
                                    "--web.listen-address=127.0.0.1:%d" % PROMETHEUS_PORT, "--log.level=warn"],
                             stdout=log_file, stderr=subprocess.STDOUT),
        ]
        wait_for(lambda: http_ok("http://127.0.0.1:%d/-/ready" % PROMETHEUS_PORT), "Prometheus")

    def save(self, window, path):
        """The histogram's series over the window, as query_range returns them."""
        time.sleep(2)  # the last scrape
        query = urllib.parse.urlencode({"query": HISTOGRAM_QUERY, "start": "%.3f" % window[0],
                                        "end": "%.3f" % window[1], "step": "1s"})
        url = "http://127.0.0.1:%d/api/v1/query_range?%s" % (PROMETHEUS_PORT, query)
        with urllib.request.urlopen(url, timeout=30) as r:
            body = r.read()
        with gzip.open(path + ".part", "wb") as f:
            f.write(body)
        os.replace(path + ".part", path)

    def stop(self):
        for proc in self.procs:
            proc.terminate()
            proc.wait(timeout=20)
        self.procs = []


def run_one(args, services, spec, out, prometheus=None):
    os.makedirs(out, exist_ok=True)
    services.manage("seed_market")
    if prometheus:
        prometheus.reset()
    containers = None
    if spec.get("containers"):
        containers = containers_mod.Containers(spec["containers"], spec.get("cpu_limit"),
                                               spec.get("cpu_period_s", 0.1), CONTAINERS_PORT)
        services.containers = containers
    services.start_app(spec["api_workers"], containers)
    if prometheus:
        prometheus.start()
    time.sleep(2)  # let the workers import and connect before the clock starts
    t0 = time.time() + 1.0
    window = (t0 + spec["warmup_s"], t0 + spec["warmup_s"] + spec["duration_s"])
    classes = [name for name, w in spec["mix"].items() if w > 0]
    env = dict(os.environ, DS_REQUESTS=os.path.join(out, "requests.csv.gz"), DS_WINDOW_START=repr(window[0]),
               DS_WINDOW_END=repr(window[1]), DS_THINK=str(spec["think_s"]),
               DS_MIX=",".join("%s=%s" % kv for kv in spec["mix"].items()))
    history = os.path.join(services.work, "locust")
    command = ["taskset", "-c", args.load_cpus, os.path.join(VENV_BIN, "locust"), "-f",
               os.path.join(HERE, "locustfile.py"), "--headless", "-u", str(spec["users"]),
               "-r", str(max(1, spec["users"] // 5)), "--run-time", "%ds" % (spec["warmup_s"] + spec["duration_s"] + 3),
               "--host", "http://127.0.0.1:%d" % API_PORT, "--csv", history, "--csv-full-history",
               "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING", *classes]
    roots = services.roots()
    probe_csv = os.path.join(services.work, "probe.csv")
    probe = subprocess.Popen(["taskset", "-c", args.service_cpus, sys.executable, os.path.join(HERE, "probe.py"),
                              probe_csv])
    monitor = Monitor(roots, window[0], window[1], args.sample_interval, len(cpu.parse_cpu_list(args.service_cpus)),
                      containers)
    monitor.start()
    log("run", spec["name"], ":", spec["users"], "users,", classes, "window", spec["duration_s"], "s")
    status = "complete"
    locust = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(services.work, "locust.log"), "wb"))
    try:
        locust.wait()
    except KeyboardInterrupt:
        status = "interrupted"
        # SIGTERM is Locust's graceful stop (SIGINT is not, headless): its
        # users stop and requests.csv.gz is closed on the way out.
        locust.send_signal(signal.SIGTERM)
        locust.wait()
    monitor.stop_now.set()
    monitor.join()
    probe.terminate()
    probe.wait()
    if prometheus:
        prometheus.save(window, os.path.join(out, "prometheus_histogram.json.gz"))
        prometheus.stop()
    services.stop([n for n in list(services.procs) if n != "postgres"])
    if monitor.first is None or monitor.last[0] <= monitor.first[0]:
        # Stopped before the window's first interval: no traces to keep.
        if containers:
            containers.remove()
        log("stopped before the measured window:", spec["name"], "has no run.json")
        return "interrupted"
    commands = {"locust": command, **services.commands}
    finish(out, spec, monitor, history, status, provenance(args, spec), commands, probe_csv)
    if containers:
        finish_containers(out, services.work, containers, monitor)
    return status


def finish_containers(out, work, containers, monitor):
    """The containers' part of a run: their CFS counters per tick
    (cfs.csv.gz) and over the window (run.json), the balancer's access log;
    then their cgroups go."""
    containers.remove()
    write_gzip_csv(os.path.join(out, "cfs.csv.gz"), ["timestamp", "container", "interval"] + containers_mod.CFS_FIELDS,
                   [("%.6f" % t, name, "%.6f" % dt, "%.6f" % c, p, n, "%.6f" % tt)
                    for t, name, dt, c, p, n, tt in monitor.cfs])
    lines = containers_mod.save_access_log(os.path.join(work, "nginx-access.log"),
                                           os.path.join(out, "nginx_access.tsv.gz"),
                                           {port: name for name, port in containers.ports.items()})
    per = {}
    for name in containers.names:
        c, p, n, tt = (b - a for a, b in zip(monitor.cfs_first[name], monitor.cfs_last[name]))
        per[name] = {"port": containers.ports[name], "cpu_seconds": round(c, 4), "nr_periods": p,
                     "nr_throttled": n, "throttled_fraction": round(n / p, 4) if p else None,
                     "throttled_time_s": round(tt, 4)}
    path = os.path.join(out, "run.json")
    with open(path) as f:
        run = json.load(f)
    run["containers"] = containers.k
    run["cpu_limit"] = containers.cpu_limit
    run["cpu_period_s"] = containers.period_s
    run["per_container"] = per
    run["balancer"] = {"port": API_PORT, "access_log_lines": lines,
                       "note": "nginx round robin over the containers (nginx_access.tsv.gz: every request it "
                               "answered, warm-up included; msec = its end, epoch s; container from the upstream's "
                               "port); per_container: deltas over the window of cpuacct.usage (cpu_seconds) and "
                               "the CFS counters of cpu.stat (periods with runnable work, throttled periods, "
                               "throttled time)"}
    with open(path + ".part", "w") as f:
        json.dump(run, f, indent=2)
    os.replace(path + ".part", path)
    with open(os.path.join(out, "run.yaml"), "a") as f:
        f.write("containers: %d\n" % containers.k)
        if containers.cpu_limit is not None:
            f.write("cpu_limit: %s\n" % containers.cpu_limit)
        f.write("# cpu_period_s: %s (the CFS period; in run.json)\n" % containers.period_s)
    total = sum(v["nr_throttled"] for v in per.values()) / max(1, sum(v["nr_periods"] for v in per.values()))
    log("containers", containers.k, "x", containers.cpu_limit, "CPU: throttled in %.1f %% of periods" % (100 * total))


def finish(out, spec, monitor, history, status, prov, commands, probe_csv):
    write_gzip_csv(os.path.join(out, "utilization.csv.gz"), ["timestamp", "utilization", "resource", "interval"],
                   [("%.6f" % t, "%.6f" % u, r, "%.6f" % dt) for t, u, r, dt in monitor.rows])
    if os.path.exists(history + "_stats_history.csv"):
        with open(history + "_stats_history.csv", "rb") as src, gzip.open(os.path.join(out, "locust_stats_history.csv.gz"), "wb") as dst:
            shutil.copyfileobj(src, dst)
    total, ok = count_requests(os.path.join(out, "requests.csv.gz"))
    (t1, s1), (t2, s2) = monitor.first, monitor.last
    truth = {}
    for name in s1:
        seconds = s2[name] - s1[name]
        truth[name] = {"cpu_seconds": round(seconds, 3), "utilization": round(seconds / (t2 - t1), 5),
                       "demand_s": seconds / ok if ok else None}
    for name, members in series_groups(list(truth)):
        total_s = sum(truth[m]["cpu_seconds"] for m in members)
        truth[name] = {"cpu_seconds": round(total_s, 3), "utilization": round(total_s / (t2 - t1), 5),
                       "demand_s": total_s / ok if ok else None}
    run = {"name": spec["name"], "status": status, **prov, "commands": commands,
           "window": {"start": monitor.first[0], "end": monitor.last[0], "seconds": t2 - t1},
           "requests": {"total": total, "successful": ok, "throughput_per_s": ok / (t2 - t1)},
           "ground_truth": truth,
           "disturbance": disturbance(monitor, prov["pinning"], truth["services"]["cpu_seconds"], t2 - t1),
           "machine_speed": machine_speed(probe_csv, t1, t2, out),
           "note": "demand_s = CPU seconds of the service over the window / successful requests in the window; "
                   "utilization = fraction of the service CPUs (all services share them); request-path = api + postgres + "
                   "redis, + lb (nginx) where the API runs as containers api-N, api = their sum (the CPU a request "
                   "itself uses; Celery's work happens after the response)"}
    with open(os.path.join(out, "run.json.part"), "w") as f:
        json.dump(run, f, indent=2)
    os.replace(os.path.join(out, "run.json.part"), os.path.join(out, "run.json"))
    # demandsim plan reads run.json for the load (users, think time, workers,
    # pinned CPUs) and run.yaml for which series are the requests' CPU and
    # the core's total (the rest of the total is Celery: background work).
    with open(os.path.join(out, "run.yaml.part"), "w") as f:
        f.write("# The requests' CPU and the total of the core they share (demandsim plan).\n"
                "resource: request-path\nbackground: services\n")
    os.replace(os.path.join(out, "run.yaml.part"), os.path.join(out, "run.yaml"))
    log("done", spec["name"], "%d requests, %.1f req/s, services CPU %.2f" % (ok, ok / (t2 - t1), truth["services"]["utilization"]))


def disturbance(monitor, pinning, services_seconds, seconds):
    """How much else ran on the machine during the window: the load average,
    each CPU's busy and stolen time, and the CPU time on the services' CPUs
    that was not the services' own (other processes there, interrupts)."""
    first, last = monitor.machine_first, monitor.machine_last
    per_cpu = {c: {"busy": round(last[c][0] - first[c][0], 3), "steal": round(last[c][1] - first[c][1], 3)}
               for c in sorted(last) if c in first}
    service_cpus = [c for c in cpu.parse_cpu_list(pinning["services"]) if c in per_cpu]
    busy = sum(per_cpu[c]["busy"] for c in service_cpus)
    other = busy - services_seconds
    return {"load1_mean": round(sum(monitor.loads) / len(monitor.loads), 2), "load1_max": max(monitor.loads),
            "cpu_seconds": per_cpu, "service_cpus_busy_s": round(busy, 3),
            "service_cpus_other_s": round(other, 3),
            "service_cpus_other_fraction": round(other / (seconds * len(service_cpus)), 4),
            "service_cpus_steal_s": round(sum(per_cpu[c]["steal"] for c in service_cpus), 3),
            "note": "busy = user+nice+system+irq+softirq of /proc/stat over the window; other = busy on the services' "
                    "CPUs minus the services' own CPU seconds (other processes, interrupts); steal = time the "
                    "hypervisor ran someone else on that virtual CPU; load1 = 1-minute load average per tick"}


def machine_speed(probe_csv, start, end, out):
    """The speed probe's samples in the window (probe.py), kept beside the
    run as speed_probe.csv.gz, and their summary: the CPU microseconds the
    same work took on the services' CPUs (median of each sample's fastest
    repetition; lower is faster)."""
    try:
        with open(probe_csv) as f:
            rows = [r for r in csv.DictReader(f) if start <= float(r["timestamp"]) <= end]
    except OSError:
        rows = []
    if not rows:
        return None
    write_gzip_csv(os.path.join(out, "speed_probe.csv.gz"), ["timestamp", "min_ns", "median_ns"],
                   [(r["timestamp"], r["min_ns"], r["median_ns"]) for r in rows])
    fastest = sorted(int(r["min_ns"]) / 1000.0 for r in rows)
    pick = lambda q: round(fastest[min(len(fastest) - 1, int(q * len(fastest)))], 1)
    return {"probe_cpu_us_median": pick(0.5), "probe_cpu_us_p10": pick(0.1), "probe_cpu_us_p90": pick(0.9),
            "samples": len(fastest),
            "note": "CPU microseconds of one fixed piece of Python work on the services' CPUs (testbed/probe.py), "
                    "the fastest of 5 repetitions each second; the same work, so a higher number is a slower "
                    "machine at that moment"}


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` cleans up like Ctrl-C
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plan", default="quick", help="a plan in plans.py (%s)" % ", ".join(PLANS))
    p.add_argument("--only", help="comma-separated run names of the plan to run")
    p.add_argument("--out", default=os.path.join(HERE, "out"))
    p.add_argument("--work", default="/tmp/demandsim-testbed", help="database files and service logs")
    p.add_argument("--service-cpus", default="0")
    p.add_argument("--load-cpus", default="1")
    p.add_argument("--sample-interval", type=float, default=1.0)
    p.add_argument("--prometheus", action="store_true",
                   help="also record the API's latency histogram through Prometheus (prometheus_histogram.json.gz)")
    args = p.parse_args()
    if args.plan not in PLANS:
        p.error("unknown plan %r: one of %s" % (args.plan, ", ".join(PLANS)))
    runs = [r for r in PLANS[args.plan] if not args.only or r["name"] in args.only.split(",")]
    # This script (and the CPU sampler thread in it) runs with the load
    # generator, off the services' CPUs; the services are pinned by taskset.
    os.sched_setaffinity(0, cpu.parse_cpu_list(args.load_cpus))
    os.makedirs(args.work, exist_ok=True)
    if os.getuid() == 0:
        shutil.chown(args.work, "postgres", "postgres")
    services = Services(args.work, args.service_cpus)
    prometheus = Prometheus(args.work, args.load_cpus, services.env) if args.prometheus else None
    try:
        services.start_database()
        for spec in runs:
            out = os.path.join(args.out, spec["name"])
            if run_one(args, services, spec, out, prometheus) != "complete":
                if os.path.exists(os.path.join(out, "run.json")):
                    log("interrupted: run", spec["name"], "is marked incomplete in its run.json")
                break
    finally:
        # A second Ctrl-C or kill must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        services.stop()
        if services.containers:
            services.containers.remove()
        if prometheus:
            prometheus.stop()


if __name__ == "__main__":
    main()
