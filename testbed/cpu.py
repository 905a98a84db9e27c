"""Exact CPU accounting of a service: the CPU seconds of a process tree, from
/proc/<pid>/stat (utime + stime of every live process in the tree, plus
cutime + cstime, the time of children that have exited and been waited for).
Every process is counted once: a live process's children are counted while
they live, and land in their parent's cutime/cstime only when reaped.

Also the machine's side of it: each CPU's busy and stolen time from /proc/stat
(what everything, the services and whatever else runs there, used) and the
load average, so a run can say how disturbed it was."""
import os

TICK = os.sysconf("SC_CLK_TCK")


def parse_stat(text):
    """(ppid, utime + stime + cutime + cstime in ticks) from a /proc/<pid>/stat line."""
    # The command name (field 2) may hold spaces and parentheses: split after
    # the last ')'. Fields from there: state, ppid, ..., utime (14th of the
    # line), stime, cutime, cstime.
    fields = text[text.rindex(")") + 2 :].split()
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return ppid, utime + stime + cutime + cstime


def _stat(pid):
    """(ppid, cpu ticks incl. reaped children) of one process, or None if gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return parse_stat(f.read().decode("ascii", "replace"))
    except (OSError, ValueError):
        return None


def snapshot():
    """pid -> (ppid, ticks) for every process on the machine."""
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            entry = _stat(int(name))
            if entry is not None:
                table[int(name)] = entry
    return table


def tree_seconds(table, root):
    """CPU seconds of the tree under `root` (root included) in one snapshot."""
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            total += table[pid][1]
            stack.extend(children.get(pid, ()))
    return total / TICK


def parse_cpu_list(text):
    """CPU numbers of a taskset-style list: "0", "0-3", "0,2-3"."""
    cpus = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


def parse_proc_stat(text):
    """cpu number -> (busy, steal) seconds from /proc/stat's per-CPU lines.
    Busy is user + nice + system + irq + softirq (guest time is inside user);
    steal is the time the hypervisor gave this virtual CPU to someone else."""
    out = {}
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if name.startswith("cpu") and name[3:].isdigit():
            f = [int(x) for x in rest.split()]
            user, nice, system, _idle, _iowait, irq, softirq, steal = (f + [0] * 8)[:8]
            out[int(name[3:])] = ((user + nice + system + irq + softirq) / TICK, steal / TICK)
    return out


def machine():
    """(per-CPU (busy, steal) seconds, 1-minute load average) right now."""
    with open("/proc/stat") as f:
        per_cpu = parse_proc_stat(f.read())
    with open("/proc/loadavg") as f:
        load1 = float(f.read().split()[0])
    return per_cpu, load1
