//! Markov4JMeter behaviour models (CSV), out and in.
//!
//! A header row `,S1,…,Sn,$`, then one row per state, the entry state's
//! name marked with `*`; each cell `p` or `p; n(mean sd)` (WESSBAS) or
//! `p; norm(mean sd)` (Markov4JMeter), the think time before the target
//! request in milliseconds. WESSBAS writes an `INITIAL*` state whose row is
//! the entry distribution; Markov4JMeter's own files mark the first
//! request type instead, entered with probability 1. Both are read; this
//! module writes the WESSBAS form, with probabilities at full precision so
//! that a model goes out and comes back unchanged. A behaviour mix file
//! lists `name; frequency; file` per profile.
//!
//! Read back, a transition has no count (0) and its think time is
//! described by its mean and standard deviation only: `think` is a gamma
//! with that mean and coefficient of variation (deterministic where the
//! deviation is 0).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};

use super::chain::{ENTRY, EXIT, Profile, Spread, Transition};
use super::think::Think;

/// A row may miss 1 by this much and is then scaled to 1 (WESSBAS rounds
/// to four decimals).
const ROW_TOLERANCE: f64 = 5e-3;

/// Why a behaviour CSV cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum M4jError {
    /// Not CSV, or an I/O failure.
    #[error("cannot read the behaviour model: {0}")]
    Csv(String),
    /// The header is not `,S1,…,$` (with at least one request state).
    #[error(
        "line 1: expected a header `,State1,…,$` naming the states (at least one request) and ending with the exit `$`"
    )]
    Header,
    /// A row names a state the header does not have.
    #[error("line {line}: state `{state}` is not in the header")]
    UnknownState {
        /// 1-based line.
        line: u64,
        /// The name found.
        state: String,
    },
    /// A cell is not `p` or `p; n(mean sd)`.
    #[error(
        "line {line}, column `{column}`: found {found:?}, expected a probability in [0, 1], optionally `; n(mean sd)` or `; norm(mean sd)` in finite milliseconds"
    )]
    Cell {
        /// 1-based line.
        line: u64,
        /// The target state.
        column: String,
        /// The cell.
        found: String,
    },
    /// A row's probabilities do not sum to 1.
    #[error("line {line}: the row of `{state}` sums to {sum}, not 1")]
    RowSum {
        /// 1-based line.
        line: u64,
        /// Its state.
        state: String,
        /// The sum.
        sum: f64,
    },
    /// A row gives a probability of going back to the entry state.
    #[error(
        "line {line}: the row of `{state}` has a probability in the `INITIAL` column; a session cannot go back to its start (leave that column 0)"
    )]
    IntoEntry {
        /// 1-based line.
        line: u64,
        /// The row's state.
        state: String,
    },
    /// Two rows are marked `*` as the entry.
    #[error(
        "line {line}: `{state}` is marked `*` as the entry, but `{first}` already is; mark one"
    )]
    TwoEntries {
        /// 1-based line.
        line: u64,
        /// The first marked state.
        first: String,
        /// The second.
        state: String,
    },
    /// The entry's row is all zero.
    #[error(
        "line {line}: the entry `{state}` has an all-zero row; a session must go somewhere from it"
    )]
    EmptyEntry {
        /// 1-based line.
        line: u64,
        /// The entry state.
        state: String,
    },
    /// No state is marked `*` as the entry.
    #[error("no state is marked `*` as the entry")]
    NoEntry,
    /// A session can reach a state from which it never ends.
    #[error(
        "a session reaches `{state}`, but no path from it leads to the exit `$`: sessions would never end"
    )]
    NoExit {
        /// The first such state found.
        state: String,
    },
    /// A behaviour mix line is not `name; frequency; file`.
    #[error(
        "line {line}: expected `name; frequency; file` (or WESSBAS's `name; file; frequency; file`)"
    )]
    MixLine {
        /// 1-based line.
        line: u64,
    },
}

/// A profile as a behaviour CSV (WESSBAS form).
///
/// # Errors
/// The writer's.
pub fn write(out: &mut impl Write, p: &Profile, states: &[String]) -> std::io::Result<()> {
    let columns: Vec<&str> = std::iter::once(ENTRY)
        .chain(states.iter().map(String::as_str))
        .chain(std::iter::once(EXIT))
        .collect();
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec![String::new()];
    header.extend(columns.iter().map(|c| c.to_string()));
    w.write_record(&header)?;
    let cell = |from: &str, to: &str| {
        let t = p.transitions.iter().find(|t| t.from == from && t.to == to);
        let prob = t.map_or(0.0, |t| t.probability);
        let (m, sd) = t.map_or((0.0, 0.0), |t| {
            (t.think_mean_s.unwrap_or(0.0), t.think_sd_s.unwrap_or(0.0))
        });
        format!("{prob}; n({} {})", 1e3 * m, 1e3 * sd)
    };
    for from in &columns[..columns.len() - 1] {
        let mut row = vec![match *from {
            ENTRY => format!("{ENTRY}*"),
            s => s.to_string(),
        }];
        row.extend(columns.iter().map(|to| cell(from, to)));
        w.write_record(&row)?;
    }
    w.flush()
}

/// Reads one behaviour CSV into a profile named `name` with probability
/// `probability`; its request states are added to `states` (the union
/// over profiles, in order of appearance).
///
/// # Errors
/// [`M4jError`] with the line.
pub fn read(
    input: impl BufRead,
    name: &str,
    probability: f64,
    states: &mut Vec<String>,
) -> Result<Profile, M4jError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut records = csv.records();
    let header = records
        .next()
        .ok_or(M4jError::Header)?
        .map_err(|e| M4jError::Csv(e.to_string()))?;
    let names: Vec<String> = header
        .iter()
        .skip(1)
        .map(|s| s.trim().to_string())
        .collect();
    if names.last().map(String::as_str) != Some(EXIT)
        || names.iter().all(|n| n == ENTRY || n == EXIT)
        || header.get(0).is_some_and(|c| !c.trim().is_empty())
    {
        return Err(M4jError::Header);
    }
    let mut rows: BTreeMap<String, Vec<(String, f64, f64, f64)>> = BTreeMap::new();
    let mut order = Vec::new();
    let mut entry = None;
    for (i, record) in records.enumerate() {
        let line = i as u64 + 2;
        let r = record.map_err(|e| M4jError::Csv(e.to_string()))?;
        let Some(raw) = r.get(0).map(str::trim).filter(|s| !s.is_empty()) else {
            continue;
        };
        let state = raw.trim_end_matches('*').to_string();
        if raw.ends_with('*')
            && let Some(first) = entry.replace(state.clone())
        {
            return Err(M4jError::TwoEntries { line, first, state });
        }
        if !names.contains(&state) {
            return Err(M4jError::UnknownState { line, state });
        }
        let mut row = Vec::new();
        for (to, cell) in names.iter().zip(r.iter().skip(1)) {
            let (p, m, sd) = parse_cell(cell).ok_or_else(|| M4jError::Cell {
                line,
                column: to.clone(),
                found: cell.to_string(),
            })?;
            if p > 0.0 && to == ENTRY {
                return Err(M4jError::IntoEntry { line, state });
            }
            if p > 0.0 {
                row.push((to.clone(), p, m / 1e3, sd / 1e3));
            }
        }
        let sum: f64 = row.iter().map(|x| x.1).sum();
        // An all-zero row is a state this profile never reaches (WESSBAS
        // writes every state in every profile).
        if row.is_empty() && entry.as_ref() == Some(&state) && raw.ends_with('*') {
            return Err(M4jError::EmptyEntry { line, state });
        }
        if row.is_empty() {
            continue;
        }
        if (sum - 1.0).abs() > ROW_TOLERANCE {
            return Err(M4jError::RowSum { line, state, sum });
        }
        // Rows written to full precision are kept bit for bit.
        if (sum - 1.0).abs() > 1e-9 {
            for x in &mut row {
                x.1 /= sum;
            }
        }
        order.push(state.clone());
        rows.insert(state, row);
    }
    let entry = entry.ok_or(M4jError::NoEntry)?;
    // Markov4JMeter's own form: the marked state is the first request.
    if entry != ENTRY {
        rows.insert(ENTRY.into(), vec![(entry.clone(), 1.0, 0.0, 0.0)]);
        order.insert(0, ENTRY.into());
    }
    every_session_ends(&rows)?;
    for s in names.iter().filter(|s| *s != ENTRY && *s != EXIT) {
        if !states.contains(s) {
            states.push(s.clone());
        }
    }
    Ok(profile(name, probability, &order, &rows))
}

/// [`M4jError::NoExit`] for the first state a session reaches (from the
/// entry) from which no path leads to the exit: the chain would have
/// infinite visits there (its visit equations are singular; the profile
/// said -0.0 requests).
fn every_session_ends(
    rows: &BTreeMap<String, Vec<(String, f64, f64, f64)>>,
) -> Result<(), M4jError> {
    let mut ends: BTreeSet<&str> = BTreeSet::from([EXIT]);
    loop {
        let before = ends.len();
        for (s, row) in rows {
            if row.iter().any(|x| ends.contains(x.0.as_str())) {
                ends.insert(s);
            }
        }
        if ends.len() == before {
            break;
        }
    }
    let mut seen = BTreeSet::from([ENTRY]);
    let mut stack = vec![ENTRY];
    while let Some(s) = stack.pop() {
        if s != ENTRY && !ends.contains(s) {
            return Err(M4jError::NoExit {
                state: s.to_string(),
            });
        }
        for x in rows.get(s).into_iter().flatten() {
            if seen.insert(x.0.as_str()) {
                stack.push(&x.0);
            }
        }
    }
    Ok(())
}

/// `p`, `p; n(mean sd)` or `p; norm(mean sd)` → (p, mean, sd).
fn parse_cell(cell: &str) -> Option<(f64, f64, f64)> {
    let mut parts = cell.splitn(2, ';');
    let p: f64 = parts.next()?.trim().trim_matches('"').parse().ok()?;
    if !(0.0..=1.0 + 1e-9).contains(&p) {
        return None;
    }
    let Some(think) = parts.next().map(str::trim).filter(|t| !t.is_empty()) else {
        return Some((p, 0.0, 0.0));
    };
    let inner = think
        .strip_prefix("norm(")
        .or_else(|| think.strip_prefix("n("))?
        .strip_suffix(')')?;
    let mut v = inner.split_whitespace().map(str::parse::<f64>);
    let (m, sd) = (v.next()?.ok()?, v.next()?.ok()?);
    let ok = |x: f64| x >= 0.0 && x.is_finite();
    (v.next().is_none() && ok(m) && ok(sd)).then_some((p, m, sd))
}

/// The profile of read rows: transitions, and the visits of the absorbing
/// chain.
fn profile(
    name: &str,
    probability: f64,
    order: &[String],
    rows: &BTreeMap<String, Vec<(String, f64, f64, f64)>>,
) -> Profile {
    let transitions: Vec<Transition> = order
        .iter()
        .flat_map(|from| {
            rows[from].iter().map(move |(to, p, m, sd)| {
                let timed = from != ENTRY && to != EXIT;
                Transition {
                    from: from.clone(),
                    to: to.clone(),
                    probability: *p,
                    count: 0,
                    think_mean_s: timed.then_some(*m),
                    think_sd_s: timed.then_some(*sd),
                    think: timed.then(|| match *sd {
                        0.0 => Think::Deterministic(*m),
                        _ => Think::Gamma {
                            mean: *m,
                            cv: sd / m.max(f64::MIN_POSITIVE),
                        },
                    }),
                }
            })
        })
        .collect();
    let visits = super::chain::visits(&transitions);
    Profile {
        name: name.to_string(),
        probability,
        sessions: 0,
        requests_per_session: visits.values().sum(),
        session_requests: Spread { mean: 0.0, sd: 0.0 },
        session_requests_max: 0,
        session_duration_s: Spread { mean: 0.0, sd: 0.0 },
        visits_per_session: visits,
        transitions,
    }
}

/// A behaviour mix file: `name; frequency; file` per line.
pub fn write_mix(out: &mut impl Write, profiles: &[(String, f64, String)]) -> std::io::Result<()> {
    for (name, p, file) in profiles {
        writeln!(out, "{name}; {p}; {file}")?;
    }
    Ok(())
}

/// One profile of a behaviour mix file.
#[derive(Debug, Clone, PartialEq)]
pub struct MixEntry {
    /// Profile name.
    pub name: String,
    /// Its frequency.
    pub frequency: f64,
    /// The behaviour CSV's file name (the path's last component: mix files
    /// written elsewhere carry paths of another machine).
    pub file: String,
}

/// Reads a behaviour mix: `name; frequency; file` lines (Markov4JMeter,
/// WESSBAS's `behaviormix.txt`), or WESSBAS's properties form
/// `behaviorModels = name; generator file; frequency; file, \`.
///
/// # Errors
/// A line that is neither, with its number.
pub fn read_mix(input: impl BufRead) -> Result<Vec<MixEntry>, M4jError> {
    let mut out = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(|e| M4jError::Csv(e.to_string()))?;
        let body = line.trim().trim_start_matches("behaviorModels =").trim();
        let body = body
            .trim_end_matches('\\')
            .trim()
            .trim_end_matches(',')
            .trim();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = body.split(';').map(str::trim).collect();
        let (name, freq, path) = match f.as_slice() {
            [n, q, p] => (n, q, p),
            [n, _, q, p] => (n, q, p),
            _ => return Err(M4jError::MixLine { line: i as u64 + 1 }),
        };
        let frequency = freq
            .parse::<f64>()
            .ok()
            .filter(|v| *v >= 0.0 && v.is_finite())
            .ok_or(M4jError::MixLine { line: i as u64 + 1 })?;
        let file = path.rsplit(['/', '\\']).next().unwrap_or(path).to_string();
        out.push(MixEntry {
            name: name.to_string(),
            frequency,
            file,
        });
    }
    Ok(out)
}
