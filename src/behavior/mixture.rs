//! The profiles as a mixture of Markov chains: its BIC (which picks k for
//! `--profiles auto`) and the EM on soft assignments that fits the chains
//! and their weights (each session then goes to the chain most likely to
//! have made it).

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

    /// EM on soft assignments from the clustering `of`: each session
    /// belongs to every chain with its posterior probability, the chains
    /// are re-counted with those weights (smoothed by [`PSEUDO`] per
    /// transition the sessions make) and the weights are the mean
    /// posteriors, until the log-likelihood gains less than 1e-8 of
    /// itself. Classification EM (each session to its single most likely
    /// chain) split two overlapping chains by where their sessions leave
    /// and left the testbed's three user classes as 60/30/10; the soft
    /// version lets a session that fits two chains count for both. A
    /// session cut by the trace simply lacks its entry or exit
    /// transition. Returns each session's most likely chain (clusters
    /// renumbered by first member, an empty one dropped), k, the mixture
    /// log-likelihood and each cluster's weight.
    /// At most `rounds` rounds.
    pub(super) fn soft(&self, of: Vec<usize>, rounds: usize) -> (Vec<usize>, usize, f64, Vec<f64>) {
        let k = of.iter().max().map_or(0, |m| m + 1);
        let n = self.sessions.len();
        let mut post: Vec<Vec<f64>> = of
            .iter()
            .map(|&c| (0..k).map(|j| f64::from(u8::from(j == c))).collect())
            .collect();
        let mut total = f64::NEG_INFINITY;
        let mut weight = vec![1.0 / k as f64; k];
        for _ in 0..rounds {
            let chains = self.weighted(&post, k);
            weight = (0..k)
                .map(|c| post.iter().map(|p| p[c]).sum::<f64>() / n as f64)
                .collect();
            let mut ll = 0.0;
            for (s, p) in post.iter_mut().enumerate() {
                let lp: Vec<f64> = (0..k)
                    .map(|c| match weight[c] > 0.0 {
                        true => {
                            weight[c].ln()
                                + self.sessions[s]
                                    .iter()
                                    .map(|&(d, m)| m * chains[c][d])
                                    .sum::<f64>()
                        }
                        false => f64::NEG_INFINITY,
                    })
                    .collect();
                let top = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = lp.iter().map(|v| (v - top).exp()).sum();
                ll += top + sum.ln();
                for (x, l) in p.iter_mut().zip(&lp) {
                    *x = (l - top).exp() / sum;
                }
            }
            let gained = ll - total;
            total = ll;
            if gained < 1e-8 * ll.abs() {
                break;
            }
        }
        let best: Vec<usize> = post
            .iter()
            .map(|p| (0..k).max_by(|a, b| p[*a].total_cmp(&p[*b])).unwrap_or(0))
            .collect();
        let renumbered = super::kmeans::renumber(&best);
        let k_left = renumbered.iter().max().map_or(0, |m| m + 1);
        let mut weights = vec![0.0; k_left];
        for (old, new) in best.iter().zip(&renumbered) {
            weights[*new] = weight[*old];
        }
        // Weights of chains that lost every session to the others go to
        // nobody: the kept ones are renormalised.
        let kept: f64 = weights.iter().sum();
        weights
            .iter_mut()
            .for_each(|w| *w /= kept.max(f64::MIN_POSITIVE));
        (renumbered, k_left, total, weights)
    }

    /// Per chain, ln p(transition) from the sessions' counts weighted by
    /// their posteriors `post`, smoothed by [`PSEUDO`].
    fn weighted(&self, post: &[Vec<f64>], k: usize) -> Vec<Vec<f64>> {
        let dims = self.from.len();
        (0..k)
            .map(|c| {
                let mut count = vec![PSEUDO; dims];
                for (s, p) in self.sessions.iter().zip(post) {
                    for &(d, m) in s {
                        count[d] += p[c] * m;
                    }
                }
                let mut out = vec![0.0; self.states];
                for (d, &m) in count.iter().enumerate() {
                    out[self.from[d]] += m;
                }
                count
                    .iter()
                    .enumerate()
                    .map(|(d, &m)| (m / out[self.from[d]]).ln())
                    .collect()
            })
            .collect()
    }
}

/// Starts of the soft EM besides the k-means ones.
const RANDOM_STARTS: u64 = 20;

/// [`RANDOM_STARTS`] assignments of `n` sessions to `k` clusters drawn
/// uniformly, seeded by `seed` (each cluster given one session at least,
/// the first k sessions in turn, so that none starts empty).
pub(super) fn random_starts(n: usize, k: usize, seed: u64) -> impl Iterator<Item = Vec<usize>> {
    use rand::{RngExt, SeedableRng};
    (0..RANDOM_STARTS).map(move |r| {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(
            seed ^ 0xD1B5_4A32_D192_ED03u64.wrapping_mul(r + 1),
        );
        (0..n)
            .map(|i| {
                if i < k {
                    i
                } else {
                    rng.random_range(0..k.max(1))
                }
            })
            .collect()
    })
}

/// Pseudo-count added to every transition the sessions make, in every
/// chain of the soft EM: a chain that has not (yet) made a transition does
/// not rule out the sessions that do.
const PSEUDO: f64 = 0.1;

/// Rounds of [`Counted::soft`] at most for the starts that go on to the
/// end (each one raises the likelihood, so it stops by itself; this only
/// bounds the time).
pub(super) const ROUNDS: usize = 500;

/// Rounds every start gets before only the [`FINALISTS`] most likely go
/// on: 30 starts run to convergence would cost a large trace minutes.
pub(super) const TRIAL_ROUNDS: usize = 10;

/// Starts that go on to convergence.
pub(super) const FINALISTS: usize = 3;
