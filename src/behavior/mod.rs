//! User behaviour from session logs: first-order Markov chains with entry
//! and exit states, think times per transition, and profiles (clusters of
//! sessions, or the trace's user classes) with their behaviour mix. See
//! `../shared/reference/behavior.md` for the model.
//!
//! [`Learner`] takes the requests in one pass ([`Step`]: session, type,
//! start, end); [`model`] turns what it counted into a [`BehaviorModel`].
//! Profiles found by k-means re-count their chain over their own sessions
//! (as WESSBAS does), so each profile's visit shares equal its sessions'
//! request shares exactly; Lodestone's average of the members'
//! row-normalised matrices would not.

mod chain;
mod kmeans;
mod learn;
pub mod m4j;
#[cfg(test)]
mod tests;
mod think;
pub mod to_qpn;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use chain::{Counts, ENTRY, EXIT, Profile, Spread, Transition, profile, visits};
pub use learn::{Learner, SessionCounts, Step};
pub use think::{Think, ThinkSums};

/// How sessions are grouped into profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One profile of all sessions.
    One,
    /// One profile per value of the trace's `user_class` column.
    UserClass,
    /// `k` profiles by seeded k-means on the sessions' transition shares.
    Clusters(usize),
    /// k-means with k from 1 to this many, by the least BIC of the
    /// mixture of the profiles' chains.
    Auto(usize),
}

/// A behaviour model: the states and the profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BehaviorModel {
    /// Sessions learnt from.
    pub sessions: u64,
    /// Request types (the chain's states besides `INITIAL` and `$`).
    pub states: Vec<String>,
    /// How the profiles were formed, in words.
    pub grouping: String,
    /// The profiles, most probable first.
    pub profiles: Vec<Profile>,
}

/// Why sessions cannot be learnt from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BehaviorError {
    /// A request starts before its session's previous one.
    #[error(
        "line {line}: this request starts at {start} s, before its session's previous request ({previous} s); a session's requests must be in time order"
    )]
    OutOfOrder {
        /// 1-based line.
        line: u64,
        /// Its start.
        start: f64,
        /// The previous request's start.
        previous: f64,
    },
    /// Two users share one session id.
    #[error(
        "line {line}: this session id was already used by another user; session ids must be unique per user"
    )]
    SharedSession {
        /// 1-based line.
        line: u64,
    },
    /// No session at all.
    #[error("no request has a session: the trace needs a `session` column with values")]
    NoSessions,
    /// More profiles asked for than there are sessions.
    #[error("{asked} profiles asked for, but there are only {sessions} sessions")]
    TooManyProfiles {
        /// Profiles asked for.
        asked: usize,
        /// Sessions.
        sessions: u64,
    },
}

/// The behaviour model of what `learner` counted, over request types
/// `names`; `groups` names the user classes for [`Grouping::UserClass`].
///
/// # Errors
/// No session, or more clusters than sessions.
pub fn model(
    learner: Learner,
    names: &[String],
    groups: &[String],
    grouping: Grouping,
    seed: u64,
) -> Result<BehaviorModel, BehaviorError> {
    let (by_group, sessions) = learner.finish(names.len());
    let total: u64 = by_group.values().map(|c| c.sessions).sum();
    if total == 0 {
        return Err(BehaviorError::NoSessions);
    }
    let (mut profiles, how) = match grouping {
        Grouping::One => {
            let all = by_group.values().fold(Counts::default(), |mut a, c| {
                a.merge(c);
                a
            });
            (
                vec![profile("all".into(), &all, names, total)],
                "one profile of all sessions".into(),
            )
        }
        Grouping::UserClass => {
            let named = |g: &Option<u32>| match g {
                Some(i) => groups.get(*i as usize).cloned().unwrap_or_default(),
                None => "(no user class)".into(),
            };
            let ps = by_group
                .iter()
                .map(|(g, c)| profile(named(g), c, names, total))
                .collect();
            (ps, "one profile per user class".into())
        }
        Grouping::Clusters(k) | Grouping::Auto(k) => {
            if k as u64 > total {
                return Err(BehaviorError::TooManyProfiles {
                    asked: k,
                    sessions: total,
                });
            }
            clustered(&sessions, names, total, grouping, seed)
        }
    };
    profiles.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.name.cmp(&b.name)));
    Ok(BehaviorModel {
        sessions: total,
        states: names.to_vec(),
        grouping: how,
        profiles,
    })
}

/// Profiles by k-means on each session's transition shares (its counts
/// over its transitions, so that long and short sessions of one pattern
/// meet), each re-counted over its own sessions.
fn clustered(
    sessions: &[SessionCounts],
    names: &[String],
    total: u64,
    grouping: Grouping,
    seed: u64,
) -> (Vec<Profile>, String) {
    let mut dims: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for s in sessions {
        for pair in s.pairs.keys() {
            let next = dims.len();
            dims.entry(*pair).or_insert(next);
        }
    }
    let points: Vec<kmeans::Sparse> = sessions
        .iter()
        .map(|s| {
            let n: u64 = s.pairs.values().map(|t| t.count).sum();
            let mut v: kmeans::Sparse = s
                .pairs
                .iter()
                .map(|(p, t)| (dims[p], t.count as f64 / n as f64))
                .collect();
            v.sort_by_key(|x| x.0);
            v
        })
        .collect();
    let (k, found, how) = match grouping {
        Grouping::Auto(max) => {
            let (k, c) = (1..=max.min(sessions.len()).max(1))
                .map(|k| {
                    let c = kmeans::kmeans(&points, dims.len(), k, seed);
                    (mixture_bic(sessions, &c.of, k), k, c)
                })
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, k, c)| (k, c))
                .expect("k = 1 at least");
            let how = format!(
                "k-means on transition shares, k = {k} of 1..{max} by the least BIC of the mixture of the profiles' chains, seed {seed}"
            );
            (k, c, how)
        }
        Grouping::Clusters(k) => {
            let c = kmeans::kmeans(&points, dims.len(), k, seed);
            (
                k,
                c,
                format!("k-means on transition shares, k = {k}, seed {seed}"),
            )
        }
        _ => unreachable!("clustered() is only called for clusterings"),
    };
    let mut counts = vec![Counts::default(); k];
    for (s, &c) in sessions.iter().zip(&found.of) {
        let target = &mut counts[c];
        for (pair, t) in &s.pairs {
            target.pairs.entry(*pair).or_default().merge(t);
        }
        target.session(s.requests, s.duration);
    }
    let profiles = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| c.sessions > 0)
        .map(|(i, c)| profile(format!("profile{i}"), c, names, total))
        .collect();
    (profiles, how)
}

/// BIC of the sessions under the mixture of the chains of clustering
/// `of` (k clusters): −2·Σ_sessions ln Σ_c π_c·P(session | chain c) +
/// (free transition probabilities + k − 1)·ln(sessions). The mixture
/// likelihood, not each session's own cluster's: splitting one pattern by
/// chance (long and short sessions of one chain) gains little under it,
/// while the classification likelihood and a spherical-Gaussian BIC of
/// the k-means error both kept choosing the largest k.
fn mixture_bic(sessions: &[SessionCounts], of: &[usize], k: usize) -> f64 {
    let mut counts: Vec<BTreeMap<(usize, usize), f64>> = vec![BTreeMap::new(); k];
    for (s, &c) in sessions.iter().zip(of) {
        for (pair, t) in &s.pairs {
            *counts[c].entry(*pair).or_default() += t.count as f64;
        }
    }
    let n = sessions.len() as f64;
    let weight: Vec<f64> = (0..k)
        .map(|c| of.iter().filter(|&&x| x == c).count() as f64 / n)
        .collect();
    let mut params = k as f64 - 1.0;
    let chains: Vec<BTreeMap<(usize, usize), f64>> = counts
        .iter()
        .map(|pairs| {
            let mut out: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
            for (&(from, _), &v) in pairs {
                let e = out.entry(from).or_default();
                e.0 += v;
                e.1 += 1.0;
            }
            params += out.values().map(|(_, targets)| targets - 1.0).sum::<f64>();
            pairs
                .iter()
                .map(|(&(from, to), &v)| ((from, to), (v / out[&from].0).ln()))
                .collect()
        })
        .collect();
    let log_l: f64 = sessions
        .iter()
        .map(|s| {
            let per: Vec<f64> = (0..k)
                .filter(|&c| weight[c] > 0.0)
                .filter_map(|c| {
                    let ll: Option<f64> = s
                        .pairs
                        .iter()
                        .map(|(p, t)| chains[c].get(p).map(|lp| t.count as f64 * lp))
                        .sum();
                    ll.map(|ll| weight[c].ln() + ll)
                })
                .collect();
            let top = per.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            top + per.iter().map(|v| (v - top).exp()).sum::<f64>().ln()
        })
        .sum();
    -2.0 * log_l + params * n.ln()
}
