"""A speed probe of the services' CPU: how many CPU nanoseconds a fixed piece
of Python work takes there, sampled through a run.

Why: the same request costs the same instructions in every run, but not the
same CPU seconds: on a virtual machine the host's other tenants (a busy
hyperthread sibling, a shared cache) make each instruction dearer for minutes
at a time, and /proc counts that as the services' own CPU time. The shipped
recordings' CPU per request moves by 15-20 % between identical runs. The
probe measures the price of the same work, so a run can be compared with
another at the machine's speed of the moment.

The work is interpreted Python (dicts, lists, strings: what the API's
requests do) of about half a millisecond, REPEAT times every EVERY seconds;
the CPU time of each repetition comes from the thread's own clock, so
waiting for the CPU behind the services does not count, and the minimum of
the repetitions drops the ones a context switch interrupted (their caches
refilled). Its own cost: about 0.2 % of the CPU.

  taskset -c 0 python3 probe.py OUT.csv [--every 1.0] [--repeat 5]

writes `timestamp,min_ns,median_ns` lines (flushed) until SIGTERM."""
import argparse
import signal
import sys
import time


def work():
    """A fixed amount of interpreted work (same instructions every call)."""
    table = {}
    for i in range(600):
        key = "k%d" % (i % 97)
        table[key] = table.get(key, 0) + i
    rows = sorted(table.items(), key=lambda kv: kv[1])
    return sum(len(k) + v for k, v in rows)


def sample(repeat):
    """(min, median) CPU nanoseconds of `repeat` calls of work()."""
    times = []
    for _ in range(repeat):
        start = time.thread_time_ns()
        work()
        times.append(time.thread_time_ns() - start)
    times.sort()
    return times[0], times[len(times) // 2]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--every", type=float, default=1.0)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(args.out, "w") as f:
        f.write("timestamp,min_ns,median_ns\n")
        tick = time.time()
        while True:
            low, mid = sample(args.repeat)
            f.write("%.3f,%d,%d\n" % (time.time(), low, mid))
            f.flush()
            tick += args.every
            time.sleep(max(0.0, tick - time.time()))


if __name__ == "__main__":
    main()
