//! The profiles as a mixture of Markov chains: its BIC (which picks k for
//! `--profiles auto`) and the classification-EM pass that moves each
//! session to the chain that makes it most likely.

use std::collections::BTreeMap;

use super::learn::SessionCounts;

/// The sessions' transitions numbered 0.. (each a from-state and a
/// to-state), and per session its transitions' counts.
pub(super) struct Counted {
    /// Per transition number, its from-state.
    from: Vec<usize>,
    /// States (from-states are below this).
    states: usize,
    /// Per session: (transition number, times made).
    sessions: Vec<Vec<(usize, f64)>>,
}

impl Counted {
    /// Numbers the transitions by `dims` (every pair the sessions make).
    pub(super) fn new(sessions: &[SessionCounts], dims: &BTreeMap<(usize, usize), usize>) -> Self {
        let mut from = vec![0; dims.len()];
        for (&(f, _), &d) in dims {
            from[d] = f;
        }
        let states = from.iter().max().map_or(0, |m| m + 1);
        let sessions = sessions
            .iter()
            .map(|s| {
                s.pairs
                    .iter()
                    .map(|(p, t)| (dims[p], t.count as f64))
                    .collect()
            })
            .collect();
        Self {
            from,
            states,
            sessions,
        }
    }

    /// Per cluster of `of` (k clusters): ln of its share of the sessions
    /// (−∞ when empty) and its chain's ln p(transition), by maximum
    /// likelihood over its sessions (−∞ for one it never makes); and the
    /// chains' free probabilities (per state, its targets − 1), for the
    /// BIC.
    fn chains(&self, of: &[usize], k: usize) -> (Vec<f64>, Vec<Vec<f64>>, f64) {
        let dims = self.from.len();
        let mut counts = vec![vec![0.0; dims]; k];
        let mut size = vec![0usize; k];
        for (s, &c) in self.sessions.iter().zip(of) {
            size[c] += 1;
            for &(d, n) in s {
                counts[c][d] += n;
            }
        }
        let mut free = 0.0;
        let chains = counts
            .into_iter()
            .map(|count| {
                let (mut out, mut targets) = (vec![0.0; self.states], vec![0.0; self.states]);
                for (d, &n) in count.iter().enumerate().filter(|(_, n)| **n > 0.0) {
                    out[self.from[d]] += n;
                    targets[self.from[d]] += 1.0;
                }
                free += targets
                    .iter()
                    .filter(|&&t| t > 0.0)
                    .map(|t| t - 1.0)
                    .sum::<f64>();
                let lp = |(d, n): (usize, &f64)| (n / out[self.from[d]]).ln();
                count.iter().enumerate().map(lp).collect()
            })
            .collect();
        let n = self.sessions.len() as f64;
        let weight = size.iter().map(|&m| (m as f64 / n).ln()).collect();
        (weight, chains, free)
    }

    /// ln(π_c · P(session | chain c)); `None` where the chain never makes
    /// one of the session's transitions (or holds no session).
    fn score(&self, s: usize, ln_weight: f64, chain: &[f64]) -> Option<f64> {
        let ll: f64 = self.sessions[s].iter().map(|&(d, n)| n * chain[d]).sum();
        let v = ln_weight + ll;
        v.is_finite().then_some(v)
    }

    /// BIC of the sessions under the mixture of the chains of clustering
    /// `of` (k clusters): −2·Σ_sessions ln Σ_c π_c·P(session | chain c) +
    /// (free transition probabilities + k − 1)·ln(sessions). The mixture
    /// likelihood, not each session's own cluster's: splitting one pattern
    /// by chance (long and short sessions of one chain) gains little under
    /// it, while the classification likelihood and a spherical-Gaussian
    /// BIC of the k-means error both kept choosing the largest k.
    pub(super) fn bic(&self, of: &[usize], k: usize) -> f64 {
        let (weight, chains, free) = self.chains(of, k);
        let log_l: f64 = (0..self.sessions.len())
            .map(|s| {
                let per: Vec<f64> = (0..k)
                    .filter_map(|c| self.score(s, weight[c], &chains[c]))
                    .collect();
                let top = per.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                top + per.iter().map(|v| (v - top).exp()).sum::<f64>().ln()
            })
            .sum();
        let n = self.sessions.len() as f64;
        -2.0 * log_l + (free + k as f64 - 1.0) * n.ln()
    }

    /// Classification EM: each session moves to the cluster whose chain,
    /// weighted by its share, makes it most likely, the chains are
    /// re-counted, until no session moves. k-means on transition shares is
    /// a geometric stand-in for that likelihood and can leave a session
    /// with a chain that rarely makes its transitions (two chains that
    /// never share an entry came out 5–6 % mixed on some seeds). Clusters
    /// are renumbered by first member, and one left empty is dropped.
    /// Returns the clustering, its k and its classification
    /// log-likelihood Σ ln π_c·P(session | its chain).
    pub(super) fn refine(&self, mut of: Vec<usize>) -> (Vec<usize>, usize, f64) {
        let k = of.iter().max().map_or(0, |m| m + 1);
        let mut total = f64::NEG_INFINITY;
        for _ in 0..ROUNDS {
            let (weight, chains, _) = self.chains(&of, k);
            let mut moved = false;
            total = 0.0;
            for (s, c) in of.iter_mut().enumerate() {
                let here = self
                    .score(s, weight[*c], &chains[*c])
                    .unwrap_or(f64::NEG_INFINITY);
                let best = (0..k)
                    .filter_map(|j| self.score(s, weight[j], &chains[j]).map(|v| (j, v)))
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                total += here;
                if let Some((j, v)) = best
                    && v > here + 1e-9
                {
                    *c = j;
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
        let of = super::kmeans::renumber(&of);
        let k = of.iter().max().map_or(0, |m| m + 1);
        (of, k, total)
    }
}

/// Rounds of [`Counted::refine`] at most (each one raises the
/// classification likelihood, so it stops by itself; this only bounds the
/// time).
const ROUNDS: usize = 50;
