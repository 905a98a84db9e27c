//! A Locust file: one `HttpUser` per profile, weighted, each running a
//! `MarkovTaskSet` of its chain (Locust's own Markov construct:
//! `@transitions` with integer weights, the first task the start state);
//! `start` picks the entry state, `end` ends the session with
//! `interrupt(reschedule=False)`, and every task sleeps the think time of
//! the transition that led to it before its request.

use std::fmt::Write as _;

use super::{Chain, Header, Next, RequestMap, lit, num};
use crate::behavior::Think;

/// The file's text.
pub(super) fn write(
    header: &Header<'_>,
    chains: &[Chain],
    requests: &RequestMap,
    host: &str,
) -> String {
    let mut out = String::new();
    for l in header.lines() {
        let _ = writeln!(out, "# {l}");
    }
    let _ = write!(
        out,
        "#\n# Run:         locust -f THIS_FILE --host {host} --users 30 --spawn-rate 5\n# Distributed: locust -f THIS_FILE --master --host {host}, and on each load machine\n#              locust -f THIS_FILE --worker --master-host MASTER_ADDRESS\n# With DEMANDSIM_TRACE=FILE.csv set, every request is also written as a canonical\n# trace row with its user and session (`demandsim behavior learn --requests FILE.csv`).\n"
    );
    out.push_str(PRELUDE);
    let _ = writeln!(
        out,
        "\nHOST = {}\n\n# state: (method, path, body or None)\nREQUESTS = {{",
        lit(host)
    );
    for (state, r) in &requests.0 {
        let body = r.body.as_deref().map_or("None".into(), lit);
        let _ = writeln!(
            out,
            "    {}: ({}, {}, {body}),",
            lit(state),
            lit(&r.method),
            lit(&r.path)
        );
    }
    out.push_str("}\n");
    out.push_str(SESSION);
    let states: Vec<&String> = header.model.states.iter().collect();
    for c in chains {
        chain(&mut out, c, &states);
    }
    out
}

/// A think time as the prelude's `think()` reads it.
fn think(t: Option<Think>) -> String {
    match t {
        None => "None".into(),
        Some(Think::Deterministic(v)) => format!("(\"const\", {})", num(v)),
        Some(Think::Exponential(m)) => format!("(\"exp\", {})", num(m)),
        Some(Think::Gamma { mean, cv }) => format!("(\"gamma\", {}, {})", num(mean), num(cv)),
        Some(Think::Lognormal { mean, cv }) => {
            format!("(\"lognormal\", {}, {})", num(mean), num(cv))
        }
    }
}

/// The task a transition goes to.
fn target(n: &Next) -> String {
    n.to.map_or("end".into(), |s| format!("s{s}"))
}

/// `@transitions({...})` of a row.
fn transitions(row: &[Next]) -> String {
    let parts: Vec<String> = row
        .iter()
        .map(|n| format!("{}: {}", lit(&target(n)), n.weight))
        .collect();
    format!("    @transitions({{{}}})\n", parts.join(", "))
}

/// One profile: its task set and its user class.
fn chain(out: &mut String, c: &Chain, states: &[&String]) {
    let _ = writeln!(out, "\n\nclass {}Session(_Session):", c.ident);
    let _ = writeln!(
        out,
        "    \"\"\"Profile {}: the sessions' chain.\"\"\"\n",
        lit(&c.name)
    );
    out.push_str("    THINK = {\n");
    for (from, row) in &c.rows {
        for n in row.iter().filter(|n| n.to.is_some() && n.think.is_some()) {
            let to = n.to.expect("filtered");
            let _ = writeln!(
                out,
                "        ({}, {}): {},",
                lit(states[*from]),
                lit(states[to]),
                think(n.think)
            );
        }
    }
    out.push_str("    }\n\n");
    out.push_str(&transitions(&c.entry));
    out.push_str("    def start(self):\n        self.begin()\n");
    for (s, row) in &c.rows {
        out.push('\n');
        out.push_str(&transitions(row));
        let _ = writeln!(
            out,
            "    def s{s}(self):\n        self.visit({})",
            lit(states[*s])
        );
    }
    out.push_str("\n    @transitions({\"start\": 1})\n    def end(self):\n        self.interrupt(reschedule=False)\n");
    let _ = writeln!(
        out,
        "\n\nclass {}(HttpUser):\n    \"\"\"Profile {}: {:.4} of the sessions.\"\"\"\n\n    profile = {}\n    weight = {}\n    host = HOST\n    wait_time = constant(0)\n    tasks = [{}Session]",
        c.ident,
        lit(&c.name),
        c.probability,
        lit(&c.name),
        c.weight.max(1),
        c.ident
    );
}

/// The imports, the think-time sampler and the trace writer.
const PRELUDE: &str = r#"
import csv
import itertools
import math
import os
import random
import time

import gevent
from locust import HttpUser, constant, events
from locust.user.markov_taskset import MarkovTaskSet, transitions


def think(spec):
    """A think time in seconds from (kind, mean[, cv])."""
    kind, mean = spec[0], spec[1]
    if kind == "const":
        return mean
    if kind == "exp":
        return random.expovariate(1.0 / mean) if mean > 0 else 0.0
    cv = spec[2]
    if cv <= 0 or mean <= 0:
        return mean
    if kind == "gamma":
        k = 1.0 / (cv * cv)
        return random.gammavariate(k, mean / k)
    s2 = math.log(1.0 + cv * cv)
    return random.lognormvariate(math.log(mean) - s2 / 2.0, math.sqrt(s2))


_IDS = itertools.count(1)
_TRACE = os.environ.get("DEMANDSIM_TRACE")
_ROWS = None
if _TRACE:
    _FILE = open(_TRACE, "w", newline="")
    _ROWS = csv.writer(_FILE)
    _ROWS.writerow(["timestamp", "response_time", "class", "success", "user_class", "user", "session"])

    @events.request.add_listener
    def _row(request_type, name, response_time, response_length, exception=None, context=None, start_time=None, **kw):
        c = context or {}
        start = start_time if start_time is not None else time.time() - response_time / 1000.0
        _ROWS.writerow([f"{start:.6f}", f"{response_time / 1000.0:.6f}", name, "false" if exception else "true",
                        c.get("user_class", ""), c.get("user", ""), c.get("session", "")])

    @events.quitting.add_listener
    def _close(**kw):
        _FILE.flush()
"#;

/// The task set every profile's derives from.
const SESSION: &str = r#"

class _Session(MarkovTaskSet):
    """One session: `start` picks the entry state, each state's task sleeps the
    think time of the transition that led to it and sends its request, `end`
    leaves (the user then starts its next session)."""

    abstract = True
    wait_time = constant(0)
    THINK = {}

    def begin(self):
        if not hasattr(self.user, "demandsim_id"):
            self.user.demandsim_id = f"{os.getpid()}-{next(_IDS)}"
        self.session_id = f"{self.user.demandsim_id}-{next(_IDS)}"
        self.previous = None

    def visit(self, state):
        spec = self.THINK.get((self.previous, state))
        if spec is not None:
            gevent.sleep(think(spec))
        method, path, body = REQUESTS[state]
        context = {"user_class": self.user.profile, "user": self.user.demandsim_id, "session": self.session_id}
        self.client.request(method, path, data=body, name=state, context=context)
        self.previous = state
"#;
