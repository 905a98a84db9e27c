//! Think times per transition: streaming sums, and the distribution that
//! fits them best.
//!
//! The moments of x and of ln x are sufficient for the maximum-likelihood
//! fits of the exponential, gamma and lognormal distributions, so one pass
//! over the trace is enough. The fitted distribution is the one
//! with the least AIC (2·parameters − 2·log-likelihood); a transition with
//! a zero or negative think time (the next request started before the
//! previous one ended) can only be described by its moments, and gets a
//! gamma (or a deterministic value) matched to them.

use serde::{Deserialize, Serialize};

use crate::stats::Moments;

/// Running moments of one transition's think times, seconds, and of their
/// logarithms (Welford's, [`Moments`]: a deterministic think time with a
/// little jitter keeps its deviation).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ThinkSums {
    /// Transitions counted (from the entry and to the exit too, which have
    /// no think time).
    pub count: u64,
    x: Moments,
    ln: Moments,
    /// Think times ≤ 0, which have no logarithm.
    nonpositive: u64,
}

impl ThinkSums {
    /// Adds one think time.
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        self.x.push(x);
        if x > 0.0 {
            self.ln.push(x.ln());
        } else {
            self.nonpositive += 1;
        }
    }

    /// Adds another transition's sums.
    pub fn merge(&mut self, o: &Self) {
        self.count += o.count;
        self.x.merge(&o.x);
        self.ln.merge(&o.ln);
        self.nonpositive += o.nonpositive;
    }

    /// Mean, seconds (0 when empty).
    pub fn mean(&self) -> f64 {
        self.x.mean().unwrap_or(0.0)
    }

    /// Sample standard deviation, seconds (0 below two values).
    pub fn sd(&self) -> f64 {
        self.x.variance().map_or(0.0, |v| v.max(0.0).sqrt())
    }

    /// The best-fitting distribution, as in the model files.
    pub fn fit(&self) -> Think {
        let (m, sd) = (self.mean(), self.sd());
        if self.x.count() < 2 || sd <= 1e-12 * m.abs().max(1e-300) {
            return Think::Deterministic(m.max(0.0));
        }
        if self.nonpositive > 0 || m <= 0.0 {
            return Think::Gamma {
                mean: m.max(0.0),
                cv: sd / m.max(f64::MIN_POSITIVE),
            };
        }
        let n = self.x.count() as f64;
        let mean_ln = self.ln.mean().unwrap_or(0.0);
        let sum_ln = n * mean_ln;
        // Exponential: rate 1/m.
        let exp_ll = -n * m.ln() - n;
        // Lognormal: μ, σ² the (maximum-likelihood, /n) moments of ln x.
        let var_ln = (self.ln.variance().unwrap_or(0.0) * (n - 1.0) / n).max(1e-300);
        let logn_ll = -sum_ln - 0.5 * n * (2.0 * std::f64::consts::PI * var_ln).ln() - 0.5 * n;
        // Gamma: shape k from s = ln m − mean(ln x) (Minka's closed form,
        // then two Newton steps), scale m / k.
        let s = (m.ln() - mean_ln).max(1e-12);
        let mut k = (3.0 - s + ((s - 3.0).powi(2) + 24.0 * s).sqrt()) / (12.0 * s);
        for _ in 0..2 {
            let num = k.ln() - statrs::function::gamma::digamma(k) - s;
            let den = 1.0 / k - trigamma(k);
            k -= num / den;
        }
        let theta = m / k;
        let gamma_ll = (k - 1.0) * sum_ln
            - n * m / theta
            - n * k * theta.ln()
            - n * statrs::function::gamma::ln_gamma(k);
        let cv_ln = (var_ln.exp() - 1.0).sqrt();
        let candidates = [
            (2.0 - 2.0 * exp_ll, Think::Exponential(m)),
            (
                4.0 - 2.0 * gamma_ll,
                Think::Gamma {
                    mean: m,
                    cv: 1.0 / k.sqrt(),
                },
            ),
            (
                4.0 - 2.0 * logn_ll,
                Think::Lognormal {
                    mean: (mean_ln + var_ln / 2.0).exp(),
                    cv: cv_ln,
                },
            ),
        ];
        candidates
            .into_iter()
            .filter(|(aic, _)| aic.is_finite())
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map_or(
                Think::Gamma {
                    mean: m,
                    cv: sd / m,
                },
                |(_, t)| t,
            )
    }
}

/// ψ′(k) by its asymptotic series after shifting k above 6.
fn trigamma(mut k: f64) -> f64 {
    let mut acc = 0.0;
    while k < 6.0 {
        acc += 1.0 / (k * k);
        k += 1.0;
    }
    let k2 = 1.0 / (k * k);
    acc + 1.0 / k + k2 / 2.0 + k2 / k * (1.0 / 6.0 - k2 * (1.0 / 30.0 - k2 / 42.0))
}

/// A think-time distribution in the model files' own terms (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Think {
    /// `{deterministic: v}`.
    Deterministic(f64),
    /// `{exponential: mean}`.
    Exponential(f64),
    /// `{gamma: {mean, cv}}`.
    Gamma {
        /// Mean.
        mean: f64,
        /// Coefficient of variation.
        cv: f64,
    },
    /// `{lognormal: {mean, cv}}`.
    Lognormal {
        /// Mean.
        mean: f64,
        /// Coefficient of variation.
        cv: f64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::Distribution;

    fn sums(xs: impl Iterator<Item = f64>) -> ThinkSums {
        let mut s = ThinkSums::default();
        for x in xs {
            s.push(x);
        }
        s
    }

    #[test]
    fn each_family_is_recognised_from_its_own_samples() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(crate::test_seed(4));
        let exp = rand_distr::Exp::new(0.5).unwrap();
        let s = sums((0..20_000).map(|_| exp.sample(&mut rng)));
        // AIC takes the gamma, one parameter more, whenever it gains over
        // 1 in log-likelihood: on P(χ²₁ > 2) = 16 % of exponential samples
        // (seed set 4 of 20 here). Its cv is then 1 within the noise: the
        // same distribution.
        assert!(
            match s.fit() {
                Think::Exponential(m) => (m - 2.0).abs() < 0.05,
                Think::Gamma { mean, cv } => (mean - 2.0).abs() < 0.05 && (cv - 1.0).abs() < 0.03,
                _ => false,
            },
            "{:?}",
            s.fit()
        );
        let gamma = rand_distr::Gamma::new(4.0, 0.5).unwrap();
        let s = sums((0..20_000).map(|_| gamma.sample(&mut rng)));
        match s.fit() {
            Think::Gamma { mean, cv } => {
                assert!(
                    (mean - 2.0).abs() < 0.03 && (cv - 0.5).abs() < 0.02,
                    "{mean} {cv}"
                )
            }
            t => panic!("{t:?}"),
        }
        let logn = rand_distr::LogNormal::new(0.0, 1.0).unwrap();
        let s = sums((0..20_000).map(|_| logn.sample(&mut rng)));
        match s.fit() {
            Think::Lognormal { mean, cv } => {
                // e^{1/2} and √(e − 1).
                assert!((mean - 1.6487).abs() < 0.05, "{mean}");
                assert!((cv - 1.3108).abs() < 0.1, "{cv}");
            }
            t => panic!("{t:?}"),
        }
        assert_eq!(
            sums([3.0, 3.0, 3.0].into_iter()).fit(),
            Think::Deterministic(3.0)
        );
        assert!(matches!(
            sums([0.0, 1.0, 2.0].into_iter()).fit(),
            Think::Gamma { .. }
        ));
    }

    #[test]
    fn moments_are_the_sample_ones() {
        let s = sums([1.0, 2.0, 4.0].into_iter());
        assert!((s.mean() - 7.0 / 3.0).abs() < 1e-12);
        // Sample variance: Σ(x − m)² / 2 = (16/9 + 1/9 + 25/9) / 2 = 7/3.
        assert!((s.sd() - (7.0f64 / 3.0).sqrt()).abs() < 1e-12);
    }
}
