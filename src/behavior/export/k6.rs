//! A k6 script: k6 has no Markov construct, so each profile is a
//! `constant-vus` scenario (closed users, sessions back to back) whose
//! function walks the profile's transition table from the entry to the
//! exit, sleeping the learnt think time before each request.

use std::fmt::Write as _;

use super::{Chain, Header, Next, RequestMap, lit, num};
use crate::behavior::Think;

/// The script's text; `users` virtual users shared by the profiles'
/// weights (at least one each).
pub(super) fn write(
    header: &Header<'_>,
    chains: &[Chain],
    requests: &RequestMap,
    host: &str,
    users: u64,
) -> String {
    let mut out = String::new();
    for l in header.lines() {
        let _ = writeln!(out, "// {l}");
    }
    let _ = writeln!(
        out,
        "//\n// Run: k6 run THIS_FILE  (environment: HOST [{host}], DURATION [10m])\n\nimport http from 'k6/http';\nimport {{ sleep }} from 'k6';\n\nconst HOST = __ENV.HOST || {};\nconst DURATION = __ENV.DURATION || '10m';\n",
        lit(host)
    );
    let states = &header.model.states;
    let names: Vec<String> = states.iter().map(|s| lit(s)).collect();
    let _ = writeln!(out, "const STATES = [{}];", names.join(", "));
    out.push_str("// state: [method, path, body or null]\nconst REQUESTS = {\n");
    for (state, r) in &requests.0 {
        let body = r.body.as_deref().map_or("null".into(), lit);
        let _ = writeln!(
            out,
            "  {}: [{}, {}, {body}],",
            lit(state),
            lit(&r.method),
            lit(&r.path)
        );
    }
    out.push_str("};\n\n// Per profile: the entry row and each state's row, [to (a state's index, -1: exit), weight, think]\nconst PROFILES = {\n");
    for c in chains {
        let _ = writeln!(
            out,
            "  {}: {{\n    entry: {},\n    rows: {{",
            lit(&c.ident),
            row(&c.entry)
        );
        for (s, r) in &c.rows {
            let _ = writeln!(out, "      {s}: {},", row(r));
        }
        out.push_str("    },\n  },\n");
    }
    out.push_str("};\n\nexport const options = {\n  scenarios: {\n");
    let vus = super::weights::integer_weights(
        &chains
            .iter()
            .map(|c| (c.weight as f64, 0))
            .collect::<Vec<_>>(),
    );
    let total: u64 = vus.iter().sum();
    for (c, w) in chains.iter().zip(vus) {
        let n = ((w as f64 / total as f64) * users as f64).round().max(1.0) as u64;
        let _ = writeln!(
            out,
            "    {}: {{ executor: 'constant-vus', vus: {n}, duration: DURATION, exec: {} }},",
            c.ident,
            lit(&c.ident)
        );
    }
    out.push_str("  },\n};\n");
    out.push_str(FUNCTIONS);
    for c in chains {
        let _ = writeln!(
            out,
            "\n// Profile {}: {:.4} of the sessions.\nexport function {}() {{\n  session({});\n}}",
            lit(&c.name),
            c.probability,
            c.ident,
            lit(&c.ident)
        );
    }
    out
}

/// A row as `[[to, weight, think], …]`.
fn row(r: &[Next]) -> String {
    let parts: Vec<String> = r
        .iter()
        .map(|n| {
            let to = n.to.map_or(-1, |s| s as i64);
            format!("[{to}, {}, {}]", n.weight, think(n.think))
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn think(t: Option<Think>) -> String {
    match t {
        None => "null".into(),
        Some(Think::Deterministic(v)) => format!("['const', {}]", num(v)),
        Some(Think::Exponential(m)) => format!("['exp', {}]", num(m)),
        Some(Think::Gamma { mean, cv }) => format!("['gamma', {}, {}]", num(mean), num(cv)),
        Some(Think::Lognormal { mean, cv }) => format!("['lognormal', {}, {}]", num(mean), num(cv)),
    }
}

/// Sampling and the session walk.
const FUNCTIONS: &str = r#"
function pick(row) {
  let total = 0;
  for (const r of row) total += r[1];
  let u = Math.random() * total;
  for (const r of row) {
    u -= r[1];
    if (u < 0) return r;
  }
  return row[row.length - 1];
}

function normal() {
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

// Marsaglia and Tsang; shape below 1 boosted by U^(1/k).
function gamma(k) {
  if (k < 1) return gamma(k + 1) * Math.pow(1 - Math.random(), 1 / k);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal();
    const v = Math.pow(1 + c * x, 3);
    if (v <= 0) continue;
    const u = 1 - Math.random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

// A think time in seconds from [kind, mean, cv].
function think(spec) {
  const [kind, mean, cv] = spec;
  if (kind === 'const' || mean <= 0) return mean;
  if (kind === 'exp') return -mean * Math.log(1 - Math.random());
  if (!(cv > 0)) return mean;
  if (kind === 'gamma') {
    const k = 1 / (cv * cv);
    return gamma(k) * mean / k;
  }
  const s2 = Math.log(1 + cv * cv);
  return Math.exp(Math.log(mean) - s2 / 2 + Math.sqrt(s2) * normal());
}

// One session of a profile: from the entry to the exit.
function session(name) {
  const p = PROFILES[name];
  let r = pick(p.entry);
  while (r[0] >= 0) {
    const state = STATES[r[0]];
    const [method, path, body] = REQUESTS[state];
    http.request(method, HOST + path, body, { tags: { name: state, profile: name } });
    r = pick(p.rows[r[0]]);
    if (r[0] >= 0 && r[2]) sleep(think(r[2]));
  }
}
"#;
