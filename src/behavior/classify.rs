//! Who is this user: each session assigned to the profile whose chain
//! (and think times) makes it most likely, with the behaviour mix as the
//! prior, and the mix of an unlabelled log estimated with the profiles
//! fixed.
//!
//! A session's log-likelihood under a profile is Σ ln p(a → b) over its
//! transitions, the entry's and the exit's included, plus, with think
//! times, Σ ln f(think | a → b) under the profile's fitted distribution.
//! The chains are smoothed towards uniform ([`SMOOTH`]) so that one
//! transition a profile never made does not rule it out. A session cut by
//! the trace's start (its first request within the censoring window of
//! the trace's first request) has no entry transition observed, one cut
//! by its end no exit: those terms are left out, the session scored by
//! what was seen.
//!
//! The mix with the profiles fixed is the maximum-likelihood mixture
//! weights (EM over the weights alone, every session included), with a
//! 95 % interval from the observed information of the weights (it covers
//! the sampling of sessions, not the error of the profiles themselves).

use nalgebra::{DMatrix, DVector};

use super::sessions::Observed;
use super::{BehaviorModel, ENTRY, EXIT, Think};

/// Weight of the uniform distribution mixed into every chain row.
pub const SMOOTH: f64 = 0.01;

/// How to classify.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Score think times too, not only the chain.
    pub think: bool,
    /// Seconds from the trace's first start (last end) within which a
    /// session's first (last) request marks it cut by the trace; `None`:
    /// [`default_window`].
    pub censor_window_s: Option<f64>,
    /// Label sessions with request types the profiles do not know
    /// `unknown` instead of refusing the trace.
    pub unknown: bool,
}

/// Why a trace cannot be classified.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ClassifyError {
    /// The behaviour model has no profile.
    #[error("the behaviour model has no profile")]
    NoProfiles,
    /// The trace and the profiles share no request type.
    #[error(
        "the profiles' request types ({}) are none of the trace's ({})",
        .model.join(", "), .trace.join(", ")
    )]
    NoCommonStates {
        /// The model's.
        model: Vec<String>,
        /// The trace's.
        trace: Vec<String>,
    },
    /// The trace has request types the profiles never saw.
    #[error(
        "the trace has request types the profiles do not know: {}; learn the profiles from a trace with them, or label those sessions `unknown` (--unknown)",
        .0.join(", ")
    )]
    UnknownStates(Vec<String>),
    /// No session to classify.
    #[error("no session to classify")]
    NoSessions,
}

/// Which ends of a session the trace cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Censored {
    /// Both ends observed.
    No,
    /// Its start is before the trace's.
    Start,
    /// Its end is after the trace's.
    End,
    /// Both.
    Both,
}

impl Censored {
    /// The word written in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Censored::No => "no",
            Censored::Start => "start",
            Censored::End => "end",
            Censored::Both => "both",
        }
    }

    fn of(start: bool, end: bool) -> Self {
        match (start, end) {
            (false, false) => Censored::No,
            (true, false) => Censored::Start,
            (false, true) => Censored::End,
            (true, true) => Censored::Both,
        }
    }
}

/// One session's label.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    /// The most likely profile (an index into the model's profiles);
    /// `None`: unknown (a request type no profile knows).
    pub profile: Option<usize>,
    /// Its posterior probability.
    pub probability: f64,
    /// Requests.
    pub requests: usize,
    /// Which ends the trace cut.
    pub censored: Censored,
}

/// One profile's share of the sessions, with its 95 % interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Share {
    /// The profile.
    pub profile: String,
    /// Maximum-likelihood share.
    pub share: f64,
    /// Interval, low end.
    pub low: f64,
    /// Interval, high end.
    pub high: f64,
}

/// Every session labelled, and the mix.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// The profiles' names, in the model's order.
    pub profiles: Vec<String>,
    /// Per session, in the order given.
    pub sessions: Vec<Labelled>,
    /// The mix over the sessions (unknown ones left out).
    pub mix: Vec<Share>,
    /// The censoring window used, seconds.
    pub censor_window_s: f64,
}

/// Censoring window when none is given: [`super::learn::CENSOR_THINKS`]
/// times the profiles' mean think time (weighted by the transitions'
/// counts), the window `behavior learn` uses.
pub fn default_window(model: &BehaviorModel) -> f64 {
    let (sum, n) = model
        .profiles
        .iter()
        .flat_map(|p| &p.transitions)
        .filter_map(|t| Some((t.think_mean_s? * t.count as f64, t.count as f64)))
        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    if n > 0.0 {
        super::learn::CENSOR_THINKS * sum / n
    } else {
        0.0
    }
}

/// A profile's chain as smoothed log-probabilities over states 0..n, the
/// entry n (a row only) and the exit n + 1 (a column only), and its think
/// times per transition.
struct Chain {
    n: usize,
    ln_p: Vec<f64>,
    think: Vec<Option<Think>>,
    /// Mean think time over its transitions, for one it never made.
    mean_think: f64,
}

impl Chain {
    fn new(p: &super::Profile, states: &[String]) -> Self {
        let n = states.len();
        let index = |s: &str| match s {
            ENTRY => Some(n),
            EXIT => Some(n + 1),
            s => states.iter().position(|x| x == s),
        };
        let cols = n + 2;
        let mut prob = vec![0.0; (n + 1) * cols];
        let mut think = vec![None; (n + 1) * cols];
        let (mut sum, mut count) = (0.0, 0.0);
        for t in &p.transitions {
            let (Some(a), Some(b)) = (index(&t.from), index(&t.to)) else {
                continue;
            };
            if a > n || b == n {
                continue;
            }
            prob[a * cols + b] += t.probability;
            think[a * cols + b] = t.think;
            if let Some(m) = t.think_mean_s {
                sum += m * t.count as f64;
                count += t.count as f64;
            }
        }
        let uniform = 1.0 / (n + 1) as f64;
        let ln_p = (0..prob.len())
            .map(|i| match i % cols {
                c if c == n => f64::NEG_INFINITY,
                _ => ((1.0 - SMOOTH) * prob[i] + SMOOTH * uniform).ln(),
            })
            .collect();
        let mean_think = if count > 0.0 { sum / count } else { 1.0 };
        Self {
            n,
            ln_p,
            think,
            mean_think: mean_think.max(1e-3),
        }
    }

    /// ln P(session | this chain) with the censored ends left out;
    /// `states` already in the model's numbering.
    fn score(&self, states: &[usize], thinks: &[f64], c: Censored, think: bool) -> f64 {
        let cols = self.n + 2;
        let mut ll = 0.0;
        if matches!(c, Censored::No | Censored::End) {
            ll += self.ln_p[self.n * cols + states[0]];
        }
        for (i, w) in states.windows(2).enumerate() {
            let at = w[0] * cols + w[1];
            ll += self.ln_p[at];
            if think {
                ll += ln_density(self.think[at], self.mean_think, thinks[i]);
            }
        }
        if matches!(c, Censored::No | Censored::Start) {
            ll += self.ln_p[states[states.len() - 1] * cols + self.n + 1];
        }
        ll
    }
}

/// ln f(x) of a think time under `t` (an exponential of mean `fallback`
/// for a transition the profile never made; a deterministic time as a
/// gamma of cv 0.1, a density it can be compared by).
fn ln_density(t: Option<Think>, fallback: f64, x: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    let x = x.max(1e-3);
    let gamma = |mean: f64, cv: f64| {
        let k = 1.0 / (cv * cv).max(1e-6);
        let theta = mean.max(1e-3) / k;
        (k - 1.0) * x.ln() - x / theta - k * theta.ln() - ln_gamma(k)
    };
    match t {
        None => -fallback.ln() - x / fallback,
        Some(Think::Exponential(m)) => -m.max(1e-3).ln() - x / m.max(1e-3),
        Some(Think::Deterministic(v)) => gamma(v, 0.1),
        Some(Think::Gamma { mean, cv }) => gamma(mean, cv),
        Some(Think::Lognormal { mean, cv }) => {
            let s2 = (1.0 + cv * cv).ln().max(1e-12);
            let mu = mean.max(1e-3).ln() - s2 / 2.0;
            -x.ln()
                - 0.5 * (2.0 * std::f64::consts::PI * s2).ln()
                - (x.ln() - mu).powi(2) / (2.0 * s2)
        }
    }
}

/// Every session of `sessions` (request types numbered as in
/// `trace_states`) labelled with its most likely profile of `model`, and
/// the mix.
///
/// # Errors
/// No profile, no session, no request type in common, or (without
/// [`Options::unknown`]) request types the profiles do not know.
pub fn classify(
    model: &BehaviorModel,
    trace_states: &[String],
    sessions: &[Observed],
    opts: &Options,
) -> Result<Classification, ClassifyError> {
    if model.profiles.is_empty() {
        return Err(ClassifyError::NoProfiles);
    }
    if sessions.is_empty() {
        return Err(ClassifyError::NoSessions);
    }
    let map = state_map(model, trace_states, sessions, opts.unknown)?;
    let chains: Vec<Chain> = model
        .profiles
        .iter()
        .map(|p| Chain::new(p, &model.states))
        .collect();
    let window = opts
        .censor_window_s
        .unwrap_or_else(|| default_window(model));
    let begin = sessions
        .iter()
        .map(|s| s.first_start)
        .fold(f64::INFINITY, f64::min);
    let end = sessions
        .iter()
        .map(|s| s.last_end)
        .fold(f64::NEG_INFINITY, f64::max);
    let prior: Vec<f64> = model
        .profiles
        .iter()
        .map(|p| p.probability.max(1e-12).ln())
        .collect();
    let mut ll = Vec::with_capacity(sessions.len());
    let labelled = sessions
        .iter()
        .map(|s| {
            let c = Censored::of(s.first_start < begin + window, s.last_end > end - window);
            let states: Option<Vec<usize>> = s.states.iter().map(|&x| map[x]).collect();
            let Some(states) = states else {
                return Labelled {
                    profile: None,
                    probability: f64::NAN,
                    requests: s.states.len(),
                    censored: c,
                };
            };
            let row: Vec<f64> = chains
                .iter()
                .map(|ch| ch.score(&states, &s.thinks, c, opts.think))
                .collect();
            let post = normalise(row.iter().zip(&prior).map(|(l, p)| l + p));
            let (best, p) = post
                .iter()
                .copied()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .expect("a profile");
            ll.push(row);
            Labelled {
                profile: Some(best),
                probability: p,
                requests: s.states.len(),
                censored: c,
            }
        })
        .collect();
    let names: Vec<String> = model.profiles.iter().map(|p| p.name.clone()).collect();
    let start: Vec<f64> = model.profiles.iter().map(|p| p.probability).collect();
    let mix = mix(&ll, &start)
        .into_iter()
        .zip(&names)
        .map(|((share, low, high), name)| Share {
            profile: name.clone(),
            share,
            low,
            high,
        })
        .collect();
    Ok(Classification {
        profiles: names,
        sessions: labelled,
        mix,
        censor_window_s: window,
    })
}

/// Per trace request type, its state in the model (`None`: unknown).
fn state_map(
    model: &BehaviorModel,
    trace_states: &[String],
    sessions: &[Observed],
    unknown: bool,
) -> Result<Vec<Option<usize>>, ClassifyError> {
    let map: Vec<Option<usize>> = trace_states
        .iter()
        .map(|t| model.states.iter().position(|s| s == t))
        .collect();
    let mut used = vec![false; trace_states.len()];
    for s in sessions {
        for &x in &s.states {
            used[x] = true;
        }
    }
    let missing: Vec<String> = (0..trace_states.len())
        .filter(|&i| used[i] && map[i].is_none())
        .map(|i| trace_states[i].clone())
        .collect();
    if missing.len() == used.iter().filter(|u| **u).count() {
        return Err(ClassifyError::NoCommonStates {
            model: model.states.clone(),
            trace: missing,
        });
    }
    if !missing.is_empty() && !unknown {
        return Err(ClassifyError::UnknownStates(missing));
    }
    Ok(map)
}

/// exp of `v` − its log-sum-exp.
fn normalise(v: impl Iterator<Item = f64>) -> Vec<f64> {
    let v: Vec<f64> = v.collect();
    let top = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = v.iter().map(|x| (x - top).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|x| x / sum).collect()
}

/// Rounds of the weights' EM at most.
const EM_ROUNDS: usize = 10_000;

/// The mixture weights that maximise Σ_s ln Σ_c w_c·exp(ll[s][c]), from
/// `start`, each with a 95 % interval: (share, low, high) per profile.
pub fn mix(ll: &[Vec<f64>], start: &[f64]) -> Vec<(f64, f64, f64)> {
    let k = start.len();
    if ll.is_empty() {
        return vec![(0.0, 0.0, 0.0); k];
    }
    // Likelihoods scaled per session (the scale cancels in the EM and in
    // the information).
    let f: Vec<Vec<f64>> = ll.iter().map(|r| normalise(r.iter().copied())).collect();
    let total: f64 = start.iter().sum();
    let mut w: Vec<f64> = match total > 0.0 {
        true => start.iter().map(|x| (x / total).max(1e-3)).collect(),
        false => vec![1.0 / k as f64; k],
    };
    for _ in 0..EM_ROUNDS {
        let mut next = vec![0.0; k];
        for row in &f {
            let m: f64 = row.iter().zip(&w).map(|(a, b)| a * b).sum();
            for ((x, wc), fc) in next.iter_mut().zip(&w).zip(row) {
                *x += wc * fc / m;
            }
        }
        next.iter_mut().for_each(|x| *x /= f.len() as f64);
        let moved = next
            .iter()
            .zip(&w)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        w = next;
        if moved < 1e-10 {
            break;
        }
    }
    let sd = weight_sd(&f, &w);
    w.iter()
        .zip(sd)
        .map(|(&x, s)| (x, (x - 1.96 * s).max(0.0), (x + 1.96 * s).min(1.0)))
        .collect()
}

/// Standard deviations of the weights from the observed information of
/// the free ones (the weights above 1e-6, the last of them given by the
/// others): I_ab = Σ_s (f_a − f_K)(f_b − f_K) / m_s². A weight at 0 gets
/// 0; a singular information gives every weight the widest sd, 0.5.
fn weight_sd(f: &[Vec<f64>], w: &[f64]) -> Vec<f64> {
    let live: Vec<usize> = (0..w.len()).filter(|&c| w[c] > 1e-6).collect();
    let mut sd = vec![0.0; w.len()];
    let Some((&last, free)) = live.split_last() else {
        return sd;
    };
    let d = free.len();
    if d == 0 {
        return sd;
    }
    let mut info = DMatrix::<f64>::zeros(d, d);
    for row in f {
        let m: f64 = row.iter().zip(w).map(|(a, b)| a * b).sum();
        let g = DVector::from_iterator(d, free.iter().map(|&a| (row[a] - row[last]) / m));
        info += &g * g.transpose();
    }
    let Some(cov) = info.try_inverse() else {
        live.iter().for_each(|&c| sd[c] = 0.5);
        return sd;
    };
    for (i, &a) in free.iter().enumerate() {
        sd[a] = cov[(i, i)].max(0.0).sqrt();
    }
    sd[last] = cov.sum().max(0.0).sqrt();
    sd
}
