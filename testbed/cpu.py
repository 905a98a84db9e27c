"""Exact CPU accounting of a service: the CPU seconds of a process tree, from
/proc/<pid>/stat (utime + stime of every live process in the tree, plus
cutime + cstime, the time of children that have exited and been waited for).
Every process is counted once: a live process's children are counted while
they live, and land in their parent's cutime/cstime only when reaped."""
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
