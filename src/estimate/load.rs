//! Demand that moves with load, from several runs: each run's demand by
//! the utilization law (least squares, with its standard error), then a
//! weighted line through them against the runs' mean utilization,
//! D(U) = D₀·(1 + β·(U − Ū)). Without the fit, a homogeneity test says
//! when the runs' demands differ by more than their errors allow.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::observations::Observations;

/// One run's demands by the utilization law.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDemand {
    /// The run.
    pub run: String,
    /// Its mean utilization.
    pub utilization: f64,
    /// Demand per class, seconds (`None` for a class the run lacks).
    pub demand_s: Vec<Option<f64>>,
    /// Standard error per class, seconds.
    pub standard_error_s: Vec<Option<f64>>,
}

/// Each run's demands by ordinary least squares of U·c on X (QR) over the
/// classes it has, with their standard errors; runs too short for it are
/// left out, a run that lacks a class is not.
pub fn per_run(obs: &Observations) -> Vec<RunDemand> {
    let c = f64::from(obs.servers);
    obs.runs
        .iter()
        .filter_map(|run| {
            let rows = &obs.rows[run.rows.clone()];
            let has: Vec<usize> = (0..obs.n_classes())
                .filter(|&r| rows.iter().any(|x| x.completions[r] > 0))
                .collect();
            let (n, k) = (rows.len(), has.len());
            if n <= k + 1 || k == 0 {
                return None;
            }
            let a = DMatrix::from_fn(n, k, |i, j| rows[i].throughput[has[j]] / c);
            let u = DVector::from_fn(n, |i, _| rows[i].utilization);
            let fit = crate::numeric::least_squares(&a, &u)?;
            let bread = &fit.inv_gram;
            let cov = bread * newey_west(&a, &fit.residual) * bread * (n as f64 / (n - k) as f64);
            let mut demand_s = vec![None; obs.n_classes()];
            let mut standard_error_s = vec![None; obs.n_classes()];
            for (j, &r) in has.iter().enumerate() {
                demand_s[r] = Some(fit.x[j]);
                standard_error_s[r] = Some(cov[(j, j)].max(0.0).sqrt());
            }
            Some(RunDemand {
                run: run.name.clone(),
                utilization: rows.iter().map(|r| r.utilization).sum::<f64>() / n as f64,
                demand_s,
                standard_error_s,
            })
        })
        .collect()
}

/// The Newey–West "meat" Σ_l w_l Σ_i e_i e_{i−l} (a_i a_{i−l}ᵀ + its
/// transpose), Bartlett weights up to lag n^(1/3): neighbouring intervals
/// share requests, so their residuals are not independent and the plain
/// OLS error would be too small.
fn newey_west(a: &DMatrix<f64>, e: &DVector<f64>) -> DMatrix<f64> {
    let (n, k) = a.shape();
    let lags = (n as f64).cbrt().round() as usize;
    let mut meat = DMatrix::zeros(k, k);
    for l in 0..=lags.min(n - 1) {
        let w = 1.0 - l as f64 / (lags + 1) as f64;
        for i in l..n {
            let x = a.row(i).transpose() * e[i];
            let y = a.row(i - l).transpose() * e[i - l];
            let term = &x * y.transpose();
            meat += if l == 0 {
                term
            } else {
                (&term + term.transpose()) * w
            };
        }
    }
    meat
}

/// The classes whose per-run demands differ by more than their standard
/// errors allow (χ² test of one common demand at the 1 % level, over the
/// runs that have the class).
pub fn heterogeneous(obs: &Observations, runs: &[RunDemand]) -> Vec<String> {
    (0..obs.n_classes())
        .filter(|&r| {
            // (demand, weight) of each run that has the class.
            let pts: Vec<(f64, f64)> = runs
                .iter()
                .filter_map(|x| Some((x.demand_s[r]?, x.standard_error_s[r]?)))
                .map(|(d, se)| (d, 1.0 / se.powi(2).max(1e-300)))
                .collect();
            if pts.len() < 2 {
                return false;
            }
            let mean =
                pts.iter().map(|(d, w)| w * d).sum::<f64>() / pts.iter().map(|p| p.1).sum::<f64>();
            let chi2: f64 = pts.iter().map(|(d, w)| w * (d - mean).powi(2)).sum();
            let dist =
                ChiSquared::new((pts.len() - 1) as f64).expect("positive degrees of freedom");
            chi2 > dist.inverse_cdf(0.99)
        })
        .map(|r| obs.classes[r].clone())
        .collect()
}

/// One run's means, as the load forms see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunLoad {
    /// The run.
    pub run: String,
    /// Its mean utilization.
    pub utilization: f64,
    /// Its mean throughput, all classes, requests/s.
    pub throughput: f64,
    /// Per class, requests/s.
    pub class_throughput: Vec<f64>,
    /// Its own demand per request, U·c/X, seconds.
    pub demand_s: f64,
    /// The relative standard error of its mean utilization (batch means
    /// of its intervals).
    pub relative_se: f64,
}

/// Each run's mean utilization and throughputs; runs without completions
/// or utilization are left out.
pub fn run_loads(obs: &Observations) -> Vec<RunLoad> {
    let c = f64::from(obs.servers);
    let means = super::identify::run_means(obs);
    obs.runs
        .iter()
        .zip(means)
        .filter_map(|(run, xs)| {
            let rows = &obs.rows[run.rows.clone()];
            let time: f64 = rows.iter().map(|r| r.length).sum();
            let u = rows.iter().map(|r| r.utilization * r.length).sum::<f64>() / time;
            let x: f64 = xs.iter().sum();
            (x > 0.0 && u > 0.0).then(|| RunLoad {
                run: run.name.clone(),
                utilization: u,
                throughput: x,
                class_throughput: xs,
                demand_s: u * c / x,
                relative_se: batch_se(rows.iter().map(|r| r.utilization).collect()) / u,
            })
        })
        .collect()
}

/// The standard error of the mean of `v` by ten batch means (by the
/// values themselves with fewer than twenty).
fn batch_se(v: Vec<f64>) -> f64 {
    let n = v.len();
    let batches: Vec<f64> = if n >= 20 {
        let size = n / 10;
        v.chunks(size)
            .filter(|b| b.len() == size)
            .map(|b| b.iter().sum::<f64>() / size as f64)
            .collect()
    } else {
        v
    };
    let m = batches.len() as f64;
    if m < 2.0 {
        return 0.0;
    }
    let mean = batches.iter().sum::<f64>() / m;
    (batches.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / (m - 1.0) / m).sqrt()
}

/// Loads closer than this (relative to the larger) count as one.
pub const DISTINCT_LOAD: f64 = 0.05;

/// How many distinct loads `loads` hold.
pub fn distinct_loads(loads: &[f64]) -> usize {
    let mut v = loads.to_vec();
    v.sort_by(f64::total_cmp);
    let mut n = 0;
    let mut last: Option<f64> = None;
    for x in v {
        if last.is_none_or(|l| x - l > DISTINCT_LOAD * x.abs()) {
            n += 1;
            last = Some(x);
        }
    }
    n
}
