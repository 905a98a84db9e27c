//! Service-time and delay distributions, parameterised by their mean (and
//! coefficient of variation where they have one), all in seconds.

use std::sync::Arc;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, Gamma, LogNormal, Normal};

/// A non-negative random duration.
#[derive(Debug, Clone)]
pub enum Dist {
    /// Exponential with the given mean.
    Exponential {
        /// Mean, seconds.
        mean: f64,
    },
    /// Always `value`.
    Deterministic {
        /// The duration, seconds.
        value: f64,
    },
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower end, seconds.
        min: f64,
        /// Upper end, seconds.
        max: f64,
    },
    /// Erlang-k (sum of k exponentials) with the given mean.
    Erlang {
        /// Number of phases.
        k: u32,
        /// Mean, seconds.
        mean: f64,
    },
    /// Two-phase hyperexponential with balanced means, fitted to a mean and a
    /// coefficient of variation ≥ 1.
    HyperExponential {
        /// Probability of phase 1.
        p: f64,
        /// Mean of phase 1, seconds.
        mean1: f64,
        /// Mean of phase 2, seconds.
        mean2: f64,
    },
    /// Log-normal with the given mean and coefficient of variation.
    LogNormal {
        /// Mean, seconds.
        mean: f64,
        /// Coefficient of variation.
        cv: f64,
        /// The sampler.
        inner: LogNormal<f64>,
    },
    /// Gamma with the given mean and coefficient of variation.
    Gamma {
        /// Mean, seconds.
        mean: f64,
        /// Coefficient of variation.
        cv: f64,
        /// The sampler.
        inner: Gamma<f64>,
    },
    /// Normal with `mean` and standard deviation `sd`, a negative draw
    /// clamped at 0 (as SimQPN does): `mean()` and `scv()` are those of
    /// the clamped variable.
    Normal {
        /// Mean of the normal before clamping, seconds.
        mean: f64,
        /// Its standard deviation, seconds.
        sd: f64,
        /// The sampler.
        inner: Normal<f64>,
    },
    /// Draws uniformly from recorded samples.
    Empirical {
        /// The samples, seconds.
        samples: Arc<[f64]>,
        /// Their mean.
        mean: f64,
    },
}

/// Invalid distribution parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DistError {
    /// A parameter that must be positive.
    #[error("{name} must be a positive number, got {value}")]
    NotPositive {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// A deterministic value below zero.
    #[error("value must be a non-negative number, got {0}")]
    Negative(f64),
    /// Uniform bounds out of order or negative.
    #[error("uniform needs 0 <= min <= max, got min {min}, max {max}")]
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Erlang with no phases.
    #[error("erlang needs k >= 1 phases")]
    NoPhases,
    /// Hyperexponential with cv below 1.
    #[error("hyperexponential needs cv >= 1, got {0}")]
    HyperCv(f64),
    /// Parameters the sampler cannot take (extreme values).
    #[error("{law} cannot be sampled with mean {mean} and cv {cv}")]
    Sampler {
        /// The law.
        law: &'static str,
        /// Mean.
        mean: f64,
        /// Coefficient of variation.
        cv: f64,
    },
    /// Normal with a negative mean.
    #[error("normal needs a mean >= 0, got {0}")]
    NormalMean(f64),
    /// Empirical without samples.
    #[error("an empirical distribution needs at least one sample")]
    NoSamples,
    /// Empirical with a negative or non-finite sample.
    #[error("empirical samples must be finite and non-negative, found {0}")]
    BadSample(f64),
}

fn positive(name: &'static str, value: f64) -> Result<f64, DistError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(DistError::NotPositive { name, value })
    }
}

impl Dist {
    /// Exponential with `mean` > 0.
    pub fn exponential(mean: f64) -> Result<Self, DistError> {
        Ok(Dist::Exponential {
            mean: positive("mean", mean)?,
        })
    }

    /// Deterministic `value` ≥ 0.
    pub fn deterministic(value: f64) -> Result<Self, DistError> {
        if value.is_finite() && value >= 0.0 {
            Ok(Dist::Deterministic { value })
        } else {
            Err(DistError::Negative(value))
        }
    }

    /// Uniform on `[min, max]`, 0 ≤ min ≤ max.
    pub fn uniform(min: f64, max: f64) -> Result<Self, DistError> {
        if min.is_finite() && max.is_finite() && 0.0 <= min && min <= max {
            Ok(Dist::Uniform { min, max })
        } else {
            Err(DistError::Uniform { min, max })
        }
    }

    /// Erlang with `k` ≥ 1 phases and `mean` > 0.
    pub fn erlang(k: u32, mean: f64) -> Result<Self, DistError> {
        if k == 0 {
            return Err(DistError::NoPhases);
        }
        Ok(Dist::Erlang {
            k,
            mean: positive("mean", mean)?,
        })
    }

    /// Balanced-means two-phase hyperexponential with `mean` and `cv` ≥ 1.
    pub fn hyperexponential(mean: f64, cv: f64) -> Result<Self, DistError> {
        let mean = positive("mean", mean)?;
        if !(cv.is_finite() && cv >= 1.0) {
            return Err(DistError::HyperCv(cv));
        }
        let c2 = cv * cv;
        let p = 0.5 * (1.0 + ((c2 - 1.0) / (c2 + 1.0)).sqrt());
        Ok(Dist::HyperExponential {
            p,
            mean1: mean / (2.0 * p),
            mean2: mean / (2.0 * (1.0 - p)),
        })
    }

    /// Log-normal with `mean` > 0 and `cv` > 0.
    pub fn lognormal(mean: f64, cv: f64) -> Result<Self, DistError> {
        let (mean, cv) = (positive("mean", mean)?, positive("cv", cv)?);
        let sigma2 = (1.0 + cv * cv).ln();
        let inner = LogNormal::new(mean.ln() - 0.5 * sigma2, sigma2.sqrt()).map_err(|_| {
            DistError::Sampler {
                law: "lognormal",
                mean,
                cv,
            }
        })?;
        Ok(Dist::LogNormal { mean, cv, inner })
    }

    /// Gamma with `mean` > 0 and `cv` > 0 (shape 1/cv², scale mean·cv²).
    pub fn gamma(mean: f64, cv: f64) -> Result<Self, DistError> {
        let (mean, cv) = (positive("mean", mean)?, positive("cv", cv)?);
        let shape = 1.0 / (cv * cv);
        let inner = Gamma::new(shape, mean / shape).map_err(|_| DistError::Sampler {
            law: "gamma",
            mean,
            cv,
        })?;
        Ok(Dist::Gamma { mean, cv, inner })
    }

    /// Normal with `mean` ≥ 0 and standard deviation `sd` ≥ 0, draws
    /// below zero clamped at 0.
    pub fn normal(mean: f64, sd: f64) -> Result<Self, DistError> {
        if !(mean.is_finite() && mean >= 0.0) {
            return Err(DistError::NormalMean(mean));
        }
        if !(sd.is_finite() && sd >= 0.0) {
            return Err(DistError::NotPositive {
                name: "the standard deviation",
                value: sd,
            });
        }
        let inner = Normal::new(mean, sd).map_err(|_| DistError::Sampler {
            law: "normal",
            mean,
            cv: sd / mean,
        })?;
        Ok(Dist::Normal { mean, sd, inner })
    }

    /// The first two moments of max(0, X), X ~ N(mean, sd²).
    fn clamped_normal_moments(mean: f64, sd: f64) -> (f64, f64) {
        if sd == 0.0 {
            return (mean, mean * mean);
        }
        let a = mean / sd;
        let (cdf, pdf) = (
            0.5 * statrs::function::erf::erfc(-a / std::f64::consts::SQRT_2),
            (-0.5 * a * a).exp() / (2.0 * std::f64::consts::PI).sqrt(),
        );
        (
            mean * cdf + sd * pdf,
            (mean * mean + sd * sd) * cdf + mean * sd * pdf,
        )
    }

    /// Empirical: uniform over `samples` (non-empty, each finite and ≥ 0).
    pub fn empirical(samples: Vec<f64>) -> Result<Self, DistError> {
        if samples.is_empty() {
            return Err(DistError::NoSamples);
        }
        if let Some(bad) = samples.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(DistError::BadSample(*bad));
        }
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        Ok(Dist::Empirical {
            samples: samples.into(),
            mean,
        })
    }

    /// The mean, seconds.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Exponential { mean } | Dist::Erlang { mean, .. } => *mean,
            Dist::Deterministic { value } => *value,
            Dist::Uniform { min, max } => 0.5 * (min + max),
            Dist::HyperExponential { p, mean1, mean2 } => p * mean1 + (1.0 - p) * mean2,
            Dist::LogNormal { mean, .. }
            | Dist::Gamma { mean, .. }
            | Dist::Empirical { mean, .. } => *mean,
            Dist::Normal { mean, sd, .. } => Self::clamped_normal_moments(*mean, *sd).0,
        }
    }

    /// The squared coefficient of variation.
    pub fn scv(&self) -> f64 {
        match self {
            Dist::Exponential { .. } => 1.0,
            Dist::Deterministic { .. } => 0.0,
            Dist::Uniform { min, max } => {
                let m = 0.5 * (min + max);
                if m == 0.0 {
                    0.0
                } else {
                    (max - min).powi(2) / 12.0 / (m * m)
                }
            }
            Dist::Erlang { k, .. } => 1.0 / *k as f64,
            Dist::HyperExponential { p, mean1, mean2 } => {
                let m = self.mean();
                let second = 2.0 * (p * mean1 * mean1 + (1.0 - p) * mean2 * mean2);
                second / (m * m) - 1.0
            }
            Dist::LogNormal { cv, .. } | Dist::Gamma { cv, .. } => cv * cv,
            Dist::Normal { mean, sd, .. } => {
                let (m1, m2) = Self::clamped_normal_moments(*mean, *sd);
                if m1 == 0.0 { 0.0 } else { m2 / (m1 * m1) - 1.0 }
            }
            Dist::Empirical { samples, mean } => {
                if *mean == 0.0 {
                    return 0.0;
                }
                let var =
                    samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / samples.len() as f64;
                var / (mean * mean)
            }
        }
    }

    /// Whether this is the exponential distribution.
    pub fn is_exponential(&self) -> bool {
        matches!(self, Dist::Exponential { .. })
    }

    /// The same distribution with its mean scaled by `k` > 0.
    pub fn scaled(&self, k: f64) -> Dist {
        match self {
            Dist::Exponential { mean } => Dist::Exponential { mean: mean * k },
            Dist::Deterministic { value } => Dist::Deterministic { value: value * k },
            Dist::Uniform { min, max } => Dist::Uniform {
                min: min * k,
                max: max * k,
            },
            Dist::Erlang { k: n, mean } => Dist::Erlang {
                k: *n,
                mean: mean * k,
            },
            Dist::HyperExponential { p, mean1, mean2 } => Dist::HyperExponential {
                p: *p,
                mean1: mean1 * k,
                mean2: mean2 * k,
            },
            Dist::LogNormal { mean, cv, .. } => {
                Dist::lognormal(mean * k, *cv).expect("scaled parameters stay valid")
            }
            Dist::Gamma { mean, cv, .. } => {
                Dist::gamma(mean * k, *cv).expect("scaled parameters stay valid")
            }
            Dist::Normal { mean, sd, .. } => {
                Dist::normal(mean * k, sd * k).expect("scaled parameters stay valid")
            }
            Dist::Empirical { samples, .. } => {
                Dist::empirical(samples.iter().map(|x| x * k).collect())
                    .expect("scaled samples stay valid")
            }
        }
    }

    /// Draws one duration.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Dist::Deterministic { value } => *value,
            Dist::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            Dist::Erlang { k, mean } => {
                let phase = mean / *k as f64;
                (0..*k)
                    .map(|_| Distribution::<f64>::sample(&Exp1, rng) * phase)
                    .sum::<f64>()
            }
            Dist::HyperExponential { p, mean1, mean2 } => {
                let m = if rng.random::<f64>() < *p {
                    mean1
                } else {
                    mean2
                };
                let e: f64 = Exp1.sample(rng);
                e * m
            }
            Dist::LogNormal { inner, .. } => inner.sample(rng),
            Dist::Gamma { inner, .. } => inner.sample(rng),
            Dist::Normal { inner, .. } => inner.sample(rng).max(0.0),
            Dist::Empirical { samples, .. } => samples[rng.random_range(0..samples.len())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn moments(d: &Dist, n: usize) -> (f64, f64) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(crate::test_seed(7));
        let mut m = crate::stats::Moments::default();
        for _ in 0..n {
            m.push(d.sample(&mut rng));
        }
        (
            m.mean().unwrap(),
            m.variance().unwrap() / m.mean().unwrap().powi(2),
        )
    }

    #[test]
    fn every_distribution_has_the_mean_and_scv_it_claims() {
        let cases = [
            Dist::exponential(2.0).unwrap(),
            Dist::deterministic(0.5).unwrap(),
            Dist::uniform(1.0, 3.0).unwrap(),
            Dist::erlang(4, 1.5).unwrap(),
            Dist::hyperexponential(1.0, 2.0).unwrap(),
            Dist::lognormal(0.3, 0.5).unwrap(),
            Dist::gamma(0.7, 1.5).unwrap(),
            Dist::normal(1.0, 0.3).unwrap(),
            Dist::normal(0.2, 0.4).unwrap(),
            Dist::empirical(vec![1.0, 2.0, 6.0]).unwrap(),
        ];
        for d in &cases {
            let (mean, scv) = moments(d, 400_000);
            assert!(
                (mean - d.mean()).abs() < 0.01 * d.mean(),
                "{d:?}: mean {mean}"
            );
            assert!(
                (scv - d.scv()).abs() < 0.03 * d.scv().max(0.2),
                "{d:?}: scv {scv} vs {}",
                d.scv()
            );
        }
        assert!((Dist::hyperexponential(1.0, 2.0).unwrap().scv() - 4.0).abs() < 1e-12);
    }

    #[test]
    fn a_clamped_normal_has_the_moments_of_max_0_x() {
        // max(0, Z), Z standard normal: mean 1/√(2π), second moment 1/2.
        let d = Dist::normal(0.0, 1.0).unwrap();
        let m = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        assert!((d.mean() - m).abs() < 1e-12, "{}", d.mean());
        assert!((d.scv() - (0.5 / (m * m) - 1.0)).abs() < 1e-12);
        assert_eq!(
            Dist::normal(-1.0, 1.0).unwrap_err(),
            DistError::NormalMean(-1.0)
        );
        assert_eq!(Dist::normal(2.0, 0.0).unwrap().mean(), 2.0);
    }

    #[test]
    fn invalid_parameters_are_rejected_with_a_reason() {
        assert_eq!(
            Dist::exponential(0.0).unwrap_err().to_string(),
            "mean must be a positive number, got 0"
        );
        assert_eq!(
            Dist::uniform(2.0, 1.0).unwrap_err(),
            DistError::Uniform { min: 2.0, max: 1.0 }
        );
        assert_eq!(
            Dist::hyperexponential(1.0, 0.5).unwrap_err(),
            DistError::HyperCv(0.5)
        );
        assert_eq!(Dist::erlang(0, 1.0).unwrap_err(), DistError::NoPhases);
        assert_eq!(Dist::empirical(vec![]).unwrap_err(), DistError::NoSamples);
        assert_eq!(
            Dist::empirical(vec![1.0, -2.0]).unwrap_err(),
            DistError::BadSample(-2.0)
        );
        assert_eq!(
            Dist::deterministic(-1.0).unwrap_err(),
            DistError::Negative(-1.0)
        );
    }
}
