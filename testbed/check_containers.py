"""check.py's part for the containers (containers.py and the runner's
series): no services, no root, no real cgroup. The cgroups are a scratch
folder laid out as the kernel lays out cgroup v1 (control files as plain
files), and the join wrapper is run for real against it."""
import gzip
import os
import re
import shutil
import subprocess
import tempfile


def check(problems):
    import containers as c

    def expect(what, got, want):
        if got != want:
            problems.append("%s: %r, expected %r" % (what, got, want))

    expect("containers.quota_us(0.25, 0.1)", c.quota_us(0.25, 0.1), 25000)
    expect("containers.quota_us(1.5, 0.05)", c.quota_us(1.5, 0.05), 75000)
    expect("containers.quota_us(None, 0.1)", c.quota_us(None, 0.1), -1)
    mounts = ("cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
              "cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0\n"
              "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n")
    expect("containers.cgroup_mounts", c.cgroup_mounts(mounts),
           {"cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct"})
    joint = "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0\n"
    expect("containers.cgroup_mounts (joint)", c.cgroup_mounts(joint),
           {"cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct"})
    stat = "nr_periods 120\nnr_throttled 30\nthrottled_time 456000000\nnr_bursts 0\nburst_time 0\n"
    expect("containers.parse_cpu_stat", c.parse_cpu_stat(stat),
           {"nr_periods": 120, "nr_throttled": 30, "throttled_time": 456000000, "nr_bursts": 0, "burst_time": 0})
    expect("containers.container_of", [c.container_of(a, {58001: "api-1", 58002: "api-2"})
                                       for a in ("127.0.0.1:58002", "127.0.0.1:58001, 127.0.0.1:58002", "-")],
           ["api-2", "api-2", ""])
    check_nginx(problems, c)
    with tempfile.TemporaryDirectory() as scratch:
        check_cgroups(problems, c, scratch)
        check_access_log(problems, c, scratch)
    check_series(problems, expect)


def check_nginx(problems, c):
    conf = c.nginx_config("/w", 58000, [58001, 58002], "/w/access.log", "/w/nginx.pid")
    for want in ("server 127.0.0.1:58001;", "server 127.0.0.1:58002;", "keepalive 32;", "listen 127.0.0.1:58000",
                 "access_log /w/access.log testbed", "proxy_http_version 1.1;", 'proxy_set_header Connection "";',
                 "daemon off;"):
        if want not in conf:
            problems.append("containers.nginx_config: no %r" % want)
    fmt = conf[conf.index("log_format"):conf.index(";", conf.index("log_format"))]
    if re.findall(r"\$(\w+)", fmt) != c.ACCESS_FIELDS or fmt.count("\\t") != len(c.ACCESS_FIELDS) - 1:
        problems.append("containers.nginx_config: log_format %r is not ACCESS_FIELDS tab-separated" % fmt)


def check_cgroups(problems, c, scratch):
    """Make, join, read and remove two containers' cgroups in a scratch tree."""
    mounts = {"cpu": os.path.join(scratch, "cpu"), "cpuacct": os.path.join(scratch, "cpuacct")}
    box = c.Containers(2, 0.5, 0.1, 58000, mounts=mounts)
    if box.ports != {"api-1": 58001, "api-2": 58002}:
        problems.append("containers.Containers.ports: %r" % box.ports)
    box.create()
    d = box.dirs("api-2")
    quota = open(os.path.join(d["cpu"], "cpu.cfs_quota_us")).read().strip()
    period = open(os.path.join(d["cpu"], "cpu.cfs_period_us")).read().strip()
    if (quota, period) != ("50000", "100000"):
        problems.append("containers.create: quota/period %s/%s, expected 50000/100000" % (quota, period))
    # The wrapper writes the pid it execs into both cgroups' cgroup.procs.
    proc = subprocess.run(box.join_command("api-2") + ["sh", "-c", "echo $$"], capture_output=True, text=True)
    pid = proc.stdout.strip()
    for ctl in ("cpu", "cpuacct"):
        procs = os.path.join(d[ctl], "cgroup.procs")
        got = open(procs).read().strip() if os.path.exists(procs) else None
        if proc.returncode != 0 or not pid or got != pid:
            problems.append("containers.join_command: %s cgroup.procs %r, the command's pid %r" % (ctl, got, pid))
        if os.path.exists(procs):
            os.remove(procs)  # that pid is gone: remove() must not signal whoever has it now
    with open(os.path.join(d["cpu"], "cpu.stat"), "w") as f:
        f.write("nr_periods 600\nnr_throttled 150\nthrottled_time 2500000000\n")
    with open(os.path.join(d["cpuacct"], "cpuacct.usage"), "w") as f:
        f.write("12345000000\n")
    for name in ("api-1",):
        for ctl, text in (("cpu", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n"), ("cpuacct", "0\n")):
            with open(os.path.join(box.dirs(name)[ctl], "cpu.stat" if ctl == "cpu" else "cpuacct.usage"), "w") as f:
                f.write(text)
    got = box.stats()
    if got != {"api-1": (0.0, 0, 0, 0.0), "api-2": (12.345, 600, 150, 2.5)}:
        problems.append("containers.stats: %r" % got)
    # The kernel drops the control files with the directory; here they go first.
    for name in box.names:
        for path in box.dirs(name).values():
            for f in os.listdir(path):
                os.remove(os.path.join(path, f))
    box.remove()
    if any(os.path.exists(p) for p in box.parents.values()):
        problems.append("containers.remove: left %r" % [p for p in box.parents.values() if os.path.exists(p)])
    shutil.rmtree(os.path.join(scratch, "cpu"), ignore_errors=True)
    shutil.rmtree(os.path.join(scratch, "cpuacct"), ignore_errors=True)


def check_access_log(problems, c, scratch):
    src, dst = os.path.join(scratch, "access.log"), os.path.join(scratch, "access.tsv.gz")
    with open(src, "w") as f:
        f.write("1796056712.321\t200\t0.012\t0.011\t127.0.0.1:58002\tGET /api/holdings HTTP/1.1\n"
                "1796056712.400\t502\t0.001\t0.000, 0.001\t127.0.0.1:58001, 127.0.0.1:58002\tPOST /api/login HTTP/1.1\n"
                "a torn line\n")
    n = c.save_access_log(src, dst, {58001: "api-1", 58002: "api-2"})
    with gzip.open(dst, "rt") as f:
        lines = f.read().splitlines()
    if n != 2 or lines[0].split("\t") != c.ACCESS_FIELDS + ["container"] or \
            [l.split("\t")[-1] for l in lines[1:]] != ["api-2", "api-2"]:
        problems.append("containers.save_access_log: %d lines %r" % (n, lines))


def check_series(problems, expect):
    import runner

    names = ["postgres", "redis", "api-1", "api-2", "celery-default", "lb"]
    expect("runner.series_groups", runner.series_groups(names),
           [("api", ["api-1", "api-2"]), ("services", names), ("request-path", ["postgres", "redis", "api-1", "api-2", "lb"])])
    expect("runner.series_groups (no containers)", runner.series_groups(["api", "postgres", "redis", "celery-beat"]),
           [("services", ["api", "postgres", "redis", "celery-beat"]), ("request-path", ["api", "postgres", "redis"])])
    used = {"postgres": 0.1, "redis": 0.02, "api-1": 0.2, "api-2": 0.3, "celery-default": 0.05, "lb": 0.03}
    rows = {r[2]: round(r[1], 9) for r in runner.interval_rows(10.0, 0.5, used, 1)}
    expect("runner.interval_rows", rows, {"postgres": 0.2, "redis": 0.04, "api-1": 0.4, "api-2": 0.6,
                                          "celery-default": 0.1, "lb": 0.06, "api": 1.0, "services": 1.4,
                                          "request-path": 1.3})
    first = {"api-1": (1.0, 10, 2, 0.5)}
    second = {"api-1": (1.25, 20, 5, 0.75)}
    expect("runner.cfs_rows", runner.cfs_rows(9.0, 1.0, first, second), [(9.0, "api-1", 1.0, 0.25, 10, 3, 0.25)])
