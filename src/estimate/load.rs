//! Demand that moves with load, from several runs: each run's demand by
//! the utilization law (least squares, with its standard error), then a
//! weighted line through them against the runs' mean utilization,
//! D(U) = D₀·(1 + β·(U − Ū)). Without the fit, a homogeneity test says
//! when the runs' demands differ by more than their errors allow.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::observations::Observations;
use crate::stats::student_t_quantile;

/// One run's demands by the utilization law.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDemand {
    /// The run.
    pub run: String,
    /// Its mean utilization.
    pub utilization: f64,
    /// Demand per class, seconds.
    pub demand_s: Vec<f64>,
    /// Standard error per class, seconds.
    pub standard_error_s: Vec<f64>,
}

/// The load-dependence of one class's demand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadDependence {
    /// The class.
    pub class: String,
    /// D₀: the demand at the mean utilization Ū of the runs, seconds.
    pub demand_at_mean_s: f64,
    /// Ū.
    pub mean_utilization: f64,
    /// β: the relative change of demand per unit of utilization.
    pub beta: f64,
    /// Its 95 % interval.
    pub beta_ci: (f64, f64),
    /// Whether the interval excludes 0.
    pub significant: bool,
}

/// Each run's demands by ordinary least squares of U·c on X (QR), with
/// their standard errors; runs too short for it are left out.
pub fn per_run(obs: &Observations) -> Vec<RunDemand> {
    let k = obs.n_classes();
    let c = f64::from(obs.servers);
    obs.runs
        .iter()
        .filter_map(|run| {
            let rows = &obs.rows[run.rows.clone()];
            let n = rows.len();
            if n <= k + 1 {
                return None;
            }
            let a = DMatrix::from_fn(n, k, |i, r| rows[i].throughput[r] / c);
            let u = DVector::from_fn(n, |i, _| rows[i].utilization);
            let fit = crate::numeric::least_squares(&a, &u)?;
            let d = fit.x;
            let bread = &fit.inv_gram;
            let cov = bread * newey_west(&a, &fit.residual) * bread * (n as f64 / (n - k) as f64);
            Some(RunDemand {
                run: run.name.clone(),
                utilization: rows.iter().map(|r| r.utilization).sum::<f64>() / n as f64,
                demand_s: d.iter().copied().collect(),
                standard_error_s: (0..k).map(|r| cov[(r, r)].max(0.0).sqrt()).collect(),
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
/// errors allow (χ² test of one common demand at the 1 % level).
pub fn heterogeneous(obs: &Observations, runs: &[RunDemand]) -> Vec<String> {
    if runs.len() < 2 {
        return Vec::new();
    }
    (0..obs.n_classes())
        .filter(|&r| {
            let w: Vec<f64> = runs
                .iter()
                .map(|x| 1.0 / x.standard_error_s[r].powi(2).max(1e-300))
                .collect();
            let mean = runs
                .iter()
                .zip(&w)
                .map(|(x, w)| w * x.demand_s[r])
                .sum::<f64>()
                / w.iter().sum::<f64>();
            let chi2: f64 = runs
                .iter()
                .zip(&w)
                .map(|(x, w)| w * (x.demand_s[r] - mean).powi(2))
                .sum();
            let dist =
                ChiSquared::new((runs.len() - 1) as f64).expect("positive degrees of freedom");
            chi2 > dist.inverse_cdf(0.99)
        })
        .map(|r| obs.classes[r].clone())
        .collect()
}

/// The weighted line of each class's per-run demands against the runs'
/// utilization; needs three runs.
pub fn fit(obs: &Observations, runs: &[RunDemand]) -> Vec<LoadDependence> {
    if runs.len() < 3 {
        return Vec::new();
    }
    (0..obs.n_classes())
        .filter_map(|r| {
            let pts: Vec<(f64, f64, f64)> = runs
                .iter()
                .map(|x| {
                    (
                        x.utilization,
                        x.demand_s[r],
                        1.0 / x.standard_error_s[r].powi(2).max(1e-300),
                    )
                })
                .collect();
            let sw: f64 = pts.iter().map(|p| p.2).sum();
            let ubar = pts.iter().map(|p| p.2 * p.0).sum::<f64>() / sw;
            let dbar = pts.iter().map(|p| p.2 * p.1).sum::<f64>() / sw;
            let sxx: f64 = pts.iter().map(|p| p.2 * (p.0 - ubar).powi(2)).sum();
            if sxx <= 0.0 || dbar <= 0.0 {
                return None;
            }
            let slope = pts
                .iter()
                .map(|p| p.2 * (p.0 - ubar) * (p.1 - dbar))
                .sum::<f64>()
                / sxx;
            // Known per-run errors: var(slope) = 1 / Σ w (U − Ū)², scaled
            // up when the runs scatter more than their errors say.
            let chi2: f64 = pts
                .iter()
                .map(|p| p.2 * (p.1 - dbar - slope * (p.0 - ubar)).powi(2))
                .sum();
            let dof = (pts.len() - 2) as f64;
            let se = ((chi2 / dof).max(1.0) / sxx).sqrt();
            let t = student_t_quantile(0.95, dof);
            let beta = slope / dbar;
            let half = t * se / dbar;
            Some(LoadDependence {
                class: obs.classes[r].clone(),
                demand_at_mean_s: dbar,
                mean_utilization: ubar,
                beta,
                beta_ci: (beta - half, beta + half),
                significant: (beta - half) * (beta + half) > 0.0,
            })
        })
        .collect()
}
