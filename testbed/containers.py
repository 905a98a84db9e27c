"""The API as k "containers" behind a load balancer, the way `docker run
--cpus` or a Kubernetes CPU limit runs it, without a container runtime:

- each container is a gunicorn instance on its own port with its own worker
  pool, in its own cgroup (cgroup v1 `cpu` and `cpuacct` controllers) with
  a CFS bandwidth quota: cpu.cfs_quota_us = cpu_limit x cpu.cfs_period_us,
  what `--cpus` writes. The master joins the cgroup before it starts (a
  shell wrapper writes its own pid into cgroup.procs, then execs
  gunicorn), so every worker it forks is in it too;
- nginx (Debian's binary, its own config file and port) balances round
  robin over the containers, keeps connections to them alive where the
  upstream allows it (gunicorn's sync workers close each one) and logs
  every request with the container that served it.

Per container, cpu.stat gives the CFS periods, the throttled periods and
the throttled time, and cpuacct.usage the CPU nanoseconds; the runner takes
them at every tick of its monitor (cfs.csv.gz) and over the window
(run.json). The cgroups are removed on every way out (processes still in
one are killed first), and stale ones of an earlier, killed runner are
removed before new ones are made."""
import gzip
import os
import signal
import time

CGROUP_NAME = "demandsim-testbed"
FIRST_PORT_OFFSET = 1  # container i (from 1) listens on the base port + i
# The access log's fields, tab-separated, in this order (log_format below).
ACCESS_FIELDS = ["msec", "status", "request_time", "upstream_response_time", "upstream_addr", "request"]
CFS_FIELDS = ["cpu_s", "nr_periods", "nr_throttled", "throttled_time_s"]


def container_names(k):
    return ["api-%d" % (i + 1) for i in range(k)]


def quota_us(cpu_limit, period_s):
    """cpu.cfs_quota_us for a limit in CPUs (-1: none), as `--cpus` sets it."""
    if cpu_limit is None:
        return -1
    return max(1000, int(round(cpu_limit * period_s * 1e6)))


def cgroup_mounts(mounts_text):
    """{"cpu": dir, "cpuacct": dir} of the cgroup v1 hierarchies in a
    /proc/mounts text (one dir for both where they are mounted together)."""
    found = {}
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) < 4 or parts[2] != "cgroup":
            continue
        options = parts[3].split(",")
        for controller in ("cpu", "cpuacct"):
            if controller in options and controller not in found:
                found[controller] = parts[1]
    return found


def parse_cpu_stat(text):
    """cpu.stat's counters: {name: int} (nr_periods, nr_throttled,
    throttled_time in ns, and whatever else the kernel adds)."""
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[name] = int(value)
    return out


def nginx_config(work, port, upstream_ports, access_log, pid_file):
    """The balancer's nginx.conf: one worker, round robin over the
    containers, keepalive to them, an access log that names the upstream."""
    servers = "".join("        server 127.0.0.1:%d;\n" % p for p in upstream_ports)
    temp = os.path.join(work, "nginx-temp")
    return (
        "# Written by testbed/containers.py for one run; not Debian's nginx.\n"
        "daemon off;\nworker_processes 1;\npid %s;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        "    log_format testbed escape=none '$msec\\t$status\\t$request_time\\t$upstream_response_time\\t"
        "$upstream_addr\\t$request';\n"
        "    access_log %s testbed buffer=64k flush=1s;\n"
        "    client_body_temp_path %s/body;\n    proxy_temp_path %s/proxy;\n"
        "    fastcgi_temp_path %s/fastcgi;\n    uwsgi_temp_path %s/uwsgi;\n    scgi_temp_path %s/scgi;\n"
        "    proxy_max_temp_file_size 0;\n"
        "    upstream api {\n%s        keepalive 32;\n    }\n"
        "    server {\n"
        "        listen 127.0.0.1:%d backlog=2048;\n"
        "        location / {\n"
        "            proxy_pass http://api;\n"
        "            proxy_http_version 1.1;\n"
        "            proxy_set_header Connection \"\";\n"
        "            proxy_set_header Host $host;\n"
        "            proxy_read_timeout 300s;\n"
        "        }\n"
        "    }\n"
        "}\n" % (pid_file, access_log, temp, temp, temp, temp, temp, servers, port))


def save_access_log(src, dst, port_names):
    """The access log, gzipped, with a header line and the container's name
    (from the upstream's port) as the last column; returns the line count."""
    n = 0
    with open(src, encoding="utf-8", errors="replace") as f, gzip.open(dst + ".part", "wt") as out:
        out.write("\t".join(ACCESS_FIELDS + ["container"]) + "\n")
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) != len(ACCESS_FIELDS):
                continue
            out.write("\t".join(fields + [container_of(fields[4], port_names)]) + "\n")
            n += 1
    os.replace(dst + ".part", dst)
    return n


def container_of(upstream_addr, port_names):
    """The container that answered: the last upstream nginx tried ("a, b"
    after a retry); "" when there was none (nginx answered itself)."""
    last = upstream_addr.split(",")[-1].strip()
    port = last.rpartition(":")[2]
    return port_names.get(int(port), "") if port.isdigit() else ""


class Containers:
    """The cgroups of one run's k containers: made with their quota, read,
    removed. `mounts` maps "cpu" and "cpuacct" to their hierarchies."""

    def __init__(self, k, cpu_limit, period_s, base_port, mounts=None):
        if mounts is None:
            with open("/proc/mounts") as f:
                mounts = cgroup_mounts(f.read())
        missing = [c for c in ("cpu", "cpuacct") if c not in mounts]
        if missing:
            raise SystemExit("containers need the cgroup v1 %s controller(s) mounted (see /proc/mounts); "
                             "this machine has %s" % (" and ".join(missing), ", ".join(sorted(mounts)) or "none"))
        self.k, self.cpu_limit, self.period_s = k, cpu_limit, period_s
        self.names = container_names(k)
        self.ports = {name: base_port + FIRST_PORT_OFFSET + i for i, name in enumerate(self.names)}
        self.parents = {c: os.path.join(mounts[c], CGROUP_NAME) for c in ("cpu", "cpuacct")}
        self.made = False

    def dirs(self, name):
        return {c: os.path.join(parent, name) for c, parent in self.parents.items()}

    def create(self):
        """Removes stale cgroups of the testbed, makes one per container with its quota."""
        self.remove()
        for name in self.names:
            for d in self.dirs(name).values():
                os.makedirs(d, exist_ok=True)
            cpu_dir = self.dirs(name)["cpu"]
            _write(os.path.join(cpu_dir, "cpu.cfs_period_us"), int(round(self.period_s * 1e6)))
            _write(os.path.join(cpu_dir, "cpu.cfs_quota_us"), quota_us(self.cpu_limit, self.period_s))
        self.made = True

    def join_command(self, name):
        """argv prefix that puts the command into the container's cgroups, then execs it."""
        d = self.dirs(name)
        script = 'echo $$ > "$1/cgroup.procs" && echo $$ > "$2/cgroup.procs" && shift 2 && exec "$@"'
        return ["sh", "-c", script, "join-cgroup", d["cpu"], d["cpuacct"]]

    def stats(self):
        """name -> (cpu_s, nr_periods, nr_throttled, throttled_time_s) now."""
        out = {}
        for name in self.names:
            d = self.dirs(name)
            with open(os.path.join(d["cpu"], "cpu.stat")) as f:
                s = parse_cpu_stat(f.read())
            with open(os.path.join(d["cpuacct"], "cpuacct.usage")) as f:
                usage_ns = int(f.read().strip() or 0)
            out[name] = (usage_ns / 1e9, s.get("nr_periods", 0), s.get("nr_throttled", 0),
                         s.get("throttled_time", 0) / 1e9)
        return out

    def remove(self):
        """Kills what is left in the testbed's cgroups and removes them (and the parent)."""
        for parent in self.parents.values():
            if not os.path.isdir(parent):
                continue
            for entry in sorted(os.listdir(parent)):
                child = os.path.join(parent, entry)
                if os.path.isdir(child):
                    _empty_and_rmdir(child)
            try:
                os.rmdir(parent)
            except OSError:
                pass
        self.made = False


def _write(path, value):
    with open(path, "w") as f:
        f.write("%s\n" % value)


def _pids(cgroup_dir):
    try:
        with open(os.path.join(cgroup_dir, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _empty_and_rmdir(cgroup_dir, timeout=10.0):
    """Kills the processes still in a cgroup (SIGKILL), then removes it."""
    deadline = time.time() + timeout
    while True:
        pids = _pids(cgroup_dir)
        if not pids or time.time() > deadline:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.1)
    try:
        os.rmdir(cgroup_dir)
    except OSError as e:
        print("containers: could not remove cgroup %s: %s" % (cgroup_dir, e), flush=True)
