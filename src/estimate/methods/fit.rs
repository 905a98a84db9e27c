//! What the two least-squares optimisers (`rort`, `rortu`) share: where
//! they start and the bounded fit.

use super::rta::ResponseTimeApproximation;
use super::ur::UtilizationRegression;
use crate::estimate::estimator::{Estimator, Unfit};
use crate::estimate::observations::Observations;

/// A least-squares method's fit: Levenberg–Marquardt over D > 0 on
/// `residuals` (`m` of them) from `start`.
pub(super) fn fit_positive(
    residuals: &dyn Fn(&[f64], &mut [f64]),
    m: usize,
    start: &[f64],
) -> Result<Vec<f64>, Unfit> {
    crate::numeric::least_squares_positive(residuals, m, start, 200)
        .map_err(|e| Unfit(e.to_string()))
}

/// Where the optimisers start: the utilization regression where it gives a
/// positive demand, half the mean response time elsewhere.
pub(super) fn starting_point(obs: &Observations, rows: &[usize]) -> Vec<f64> {
    let n = obs.n_classes();
    let ur = UtilizationRegression { intercept: false }
        .estimate(obs, rows)
        .unwrap_or_else(|_| vec![0.0; n]);
    let rta = ResponseTimeApproximation
        .estimate(obs, rows)
        .unwrap_or_else(|_| vec![1e-3; n]);
    (0..n)
        .map(|r| if ur[r] > 0.0 { ur[r] } else { 0.5 * rta[r] })
        .collect()
}
