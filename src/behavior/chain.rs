//! A first-order Markov chain from counted transitions: probabilities by
//! maximum likelihood, think times per transition, and the expected visits
//! per session from the absorbing chain.

use std::collections::BTreeMap;

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use super::think::{Think, ThinkSums};

/// The entry state's name (as WESSBAS writes it).
pub const ENTRY: &str = "INITIAL";
/// The exit state's name (as Markov4JMeter writes it).
pub const EXIT: &str = "$";

/// Transitions counted over a set of sessions: (from, to) → think-time
/// sums, with request states 0..n, the entry n and the exit n + 1.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Per (from, to).
    pub pairs: BTreeMap<(usize, usize), ThinkSums>,
    /// Sessions counted.
    pub sessions: u64,
    /// Requests per session: Σ, Σ², max.
    pub requests: (f64, f64, u64),
    /// Session durations (first start to last end), seconds: Σ, Σ².
    pub duration: (f64, f64),
}

impl Counts {
    /// Adds another set's counts.
    pub fn merge(&mut self, o: &Counts) {
        for (k, v) in &o.pairs {
            self.pairs.entry(*k).or_default().merge(v);
        }
        self.sessions += o.sessions;
        self.requests.0 += o.requests.0;
        self.requests.1 += o.requests.1;
        self.requests.2 = self.requests.2.max(o.requests.2);
        self.duration.0 += o.duration.0;
        self.duration.1 += o.duration.1;
    }

    /// Records a finished session of `requests` requests lasting
    /// `duration` seconds (its transitions are counted as they come).
    pub fn session(&mut self, requests: u64, duration: f64) {
        self.sessions += 1;
        let r = requests as f64;
        self.requests.0 += r;
        self.requests.1 += r * r;
        self.requests.2 = self.requests.2.max(requests);
        self.duration.0 += duration;
        self.duration.1 += duration * duration;
    }
}

/// One transition of a profile's chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// From this state (a request type, or `INITIAL`).
    pub from: String,
    /// To this one (a request type, or `$`).
    pub to: String,
    /// p(from → to).
    pub probability: f64,
    /// Times it was taken.
    pub count: u64,
    /// Mean think time before `to` (next start − previous end), seconds;
    /// `None` from the entry and to the exit.
    pub think_mean_s: Option<f64>,
    /// Its standard deviation.
    pub think_sd_s: Option<f64>,
    /// The distribution that fits it best (least AIC).
    pub think: Option<Think>,
}

/// Mean and standard deviation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub sd: f64,
}

impl Spread {
    fn of(sum: f64, sum_sq: f64, n: u64) -> Self {
        let n_f = n as f64;
        let mean = if n > 0 { sum / n_f } else { 0.0 };
        let sd = if n > 1 {
            ((sum_sq - n_f * mean * mean) / (n_f - 1.0)).max(0.0).sqrt()
        } else {
            0.0
        };
        Self { mean, sd }
    }
}

/// One behaviour profile: its share of the sessions and its chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Name (`profile0`, … or the user class).
    pub name: String,
    /// Sessions in it / all sessions (the behaviour mix).
    pub probability: f64,
    /// Sessions in it.
    pub sessions: u64,
    /// Expected requests per session from the chain (Σ visits), equal to
    /// the log's mean.
    pub requests_per_session: f64,
    /// The log's requests per session, and the largest.
    pub session_requests: Spread,
    /// Largest session, requests.
    pub session_requests_max: u64,
    /// Session duration, first start to last end, seconds.
    pub session_duration_s: Spread,
    /// Expected visits per session to each request type.
    pub visits_per_session: BTreeMap<String, f64>,
    /// The chain, transition by transition (rows in state order).
    pub transitions: Vec<Transition>,
}

/// The profile of `counts` over request states `names`.
///
/// # Panics
/// Never on counts from [`super::Learner`]: every session enters and
/// exits, so I − Q is invertible.
pub fn profile(name: String, counts: &Counts, names: &[String], all_sessions: u64) -> Profile {
    let n = names.len();
    let (entry, exit) = (n, n + 1);
    let label = |i: usize| match i {
        i if i == entry => ENTRY.to_string(),
        i if i == exit => EXIT.to_string(),
        i => names[i].clone(),
    };
    let mut out_of = vec![0u64; n + 1];
    for (&(from, _), s) in &counts.pairs {
        out_of[from] += s.count;
    }
    let p = |from: usize, s: &ThinkSums| s.count as f64 / out_of[from].max(1) as f64;
    // The entry's row first, then the request states' in order.
    let rows = counts
        .pairs
        .range((entry, 0)..)
        .chain(counts.pairs.range(..(entry, 0)));
    let transitions: Vec<Transition> = rows
        .map(|(&(from, to), s)| {
            let timed = from != entry && to != exit;
            Transition {
                from: label(from),
                to: label(to),
                probability: p(from, s),
                count: s.count,
                think_mean_s: timed.then(|| s.mean()),
                think_sd_s: timed.then(|| s.sd()),
                think: timed.then(|| s.fit()),
            }
        })
        .collect();
    let visits = visits(&transitions);
    Profile {
        name,
        probability: counts.sessions as f64 / all_sessions.max(1) as f64,
        sessions: counts.sessions,
        requests_per_session: visits.values().sum(),
        session_requests: Spread::of(counts.requests.0, counts.requests.1, counts.sessions),
        session_requests_max: counts.requests.2,
        session_duration_s: Spread::of(counts.duration.0, counts.duration.1, counts.sessions),
        visits_per_session: visits,
        transitions,
    }
}

/// Expected visits per session to each request state of a chain given by
/// its transitions: v = e·(I − Q)⁻¹ (Q among request states, e the entry's
/// row), solved as (I − Q)ᵀ vᵀ = eᵀ. States never visited are left out;
/// a chain some state of which cannot reach the exit has no solution and
/// gives no visits.
pub fn visits(transitions: &[Transition]) -> BTreeMap<String, f64> {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for t in transitions {
        for s in [&t.from, &t.to] {
            if s != ENTRY && s != EXIT {
                let next = index.len();
                index.entry(s.as_str()).or_insert(next);
            }
        }
    }
    let n = index.len();
    if n == 0 {
        // No request state: no visits (and no system to solve).
        return BTreeMap::new();
    }
    let mut a = DMatrix::<f64>::identity(n, n);
    let mut e = DVector::<f64>::zeros(n);
    for t in transitions.iter().filter(|t| t.to != EXIT) {
        let to = index[t.to.as_str()];
        match t.from.as_str() {
            ENTRY => e[to] += t.probability,
            from => a[(to, index[from])] -= t.probability,
        }
    }
    let Some(v) = a.lu().solve(&e) else {
        return BTreeMap::new();
    };
    index
        .into_iter()
        .filter(|&(_, i)| v[i] > 0.0)
        .map(|(s, i)| (s.to_string(), v[i]))
        .collect()
}
