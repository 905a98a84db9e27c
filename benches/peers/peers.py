"""Runs the same models in Ciw, LINE and demandsim and prints a table.

Open: M/M/2, lambda = 1.5/s, service 1 s (exact mean response 2.285714 s,
Erlang-C). Closed: 10 clients, think 1 s (delay), FCFS 2 servers, service
0.3 s; the exact mean response time at the queue comes from LINE's exact
MVA. Wall times are of the simulation itself (no start-up); every tool
measures from its first customer (no warm-up deletion), seed 1.
"""
import json, os, subprocess, sys, tempfile, time

demandsim, n = sys.argv[1], int(sys.argv[2])
here = os.path.dirname(os.path.abspath(__file__))
rows = []

def ds(model, args):
    out = subprocess.run([demandsim, "simulate", os.path.join(here, model), "--seed", "1", "--warmup", "none", "--format", "json", *args],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)

# ---- open M/M/2 ----
exact_open = 2.285714285714
import ciw
net = ciw.create_network(arrival_distributions=[ciw.dists.Exponential(rate=1.5)],
                         service_distributions=[ciw.dists.Exponential(rate=1.0)], number_of_servers=[2])
ciw.seed(1)
q = ciw.Simulation(net)
t = time.perf_counter()
q.simulate_until_max_customers(n, method="Finish")
wall = time.perf_counter() - t
rt = [r.exit_date - r.arrival_date for r in q.get_all_records()]
rows.append(("Ciw 3.2.7", "open M/M/2", len(rt), wall, sum(rt) / len(rt), exact_open))
r = ds("mmc.yaml", ["--requests", str(n)])
rows.append(("demandsim", "open M/M/2", r["probes"][0]["count"], r["wall_s"], r["probes"][0]["mean_s"], exact_open))

# ---- closed: 10 clients, think 1 s, FCFS c=2, 0.3 s ----
from line_solver import Network, Delay, Queue, ClosedClass, SchedStrategy, Exp, SolverMVA, SolverSSA
model = Network("closed")
think = Delay(model, "Think")
queue = Queue(model, "Q", SchedStrategy.FCFS)
queue.setNumberOfServers(2)
jobs = ClosedClass(model, "C", 10, think)
think.setService(jobs, Exp(1.0))
queue.setService(jobs, Exp(1 / 0.3))
P = model.initRoutingMatrix()
P.set(jobs, jobs, think, queue, 1.0)
P.set(jobs, jobs, queue, think, 1.0)
model.link(P)
def queue_row(table):
    row = table[table["Station"] == "Q"].iloc[0]
    return float(row["RespT"]), float(row["Tput"])
t = time.perf_counter()
exact_closed, _ = queue_row(SolverMVA(model, method="exact").avg_table())
mva_wall = time.perf_counter() - t
# LINE's SSA counts samples as state changes: two per request here.
t = time.perf_counter()
ssa_r, _ = queue_row(SolverSSA(model, samples=2 * n, seed=1).avg_table())
wall = time.perf_counter() - t
rows.append(("LINE 3.0.8 SSA", "closed, 10 clients", n, wall, ssa_r, exact_closed))
r = ds("closed.yaml", ["--requests", str(n)])
rows.append(("demandsim", "closed, 10 clients", r["probes"][0]["count"], r["wall_s"], r["probes"][0]["mean_s"], exact_closed))
solve = json.loads(subprocess.run([demandsim, "solve", os.path.join(here, "closed.yaml"), "--format", "json"], check=True, capture_output=True, text=True).stdout)

print(f"{'tool':<16} {'model':<20} {'requests':>9} {'wall [s]':>9} {'requests/s':>11} {'mean R [s]':>10} {'error':>8} {'demandsim speed-up':>19}")
by_model = {m: w for (tool, m, k, w, _, _) in rows if tool == "demandsim" for _ in [0]}
for tool, m, k, w, mean, exact in rows:
    speed = "" if tool == "demandsim" else f"{(k / by_model[m]) / (k / w):.0f}x"
    print(f"{tool:<16} {m:<20} {k:>9} {w:>9.3f} {k / w:>11,.0f} {mean:>10.4f} {100 * (mean - exact) / exact:>+7.2f}% {speed:>19}")
print(f"exact: open {exact_open:.6f} s (Erlang-C); closed {exact_closed:.6f} s (LINE exact MVA, {mva_wall:.3f} s); "
      f"demandsim solve: {solve['probes'][0]['mean_s']:.6f} s")
