//! Kalman filters over the intervals in time order: on the utilization law
//! (`kf-u`, Wang et al. 2012) and on response times plus utilization
//! (`kf-ru`, Zheng, Woodside & Litoiu 2008). The state is the demand
//! vector (constant model); each observation is a scalar Joseph-form
//! update, the state is projected onto D ≥ 0 after each one, and the
//! estimate is the final state.

use super::{EstimateError, Estimator, Observations};
use crate::numeric::kalman_update;

/// Process noise as a fraction of the initial demand (per interval): lets
/// the filter follow slow drift without chasing noise.
const DRIFT: f64 = 1e-3;

/// Initial state: demands that would explain half the mean utilization
/// spread evenly over classes (LibReDE's weighted initialiser), with a
/// wide prior.
fn initial(obs: &Observations, use_rows: &[usize]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = obs.n_classes();
    let c = obs.servers as f64;
    let mean_x: f64 = use_rows
        .iter()
        .map(|&i| obs.rows[i].throughput.iter().sum::<f64>())
        .sum::<f64>()
        / use_rows.len().max(1) as f64;
    let mean_u: f64 = use_rows
        .iter()
        .map(|&i| obs.rows[i].utilization)
        .sum::<f64>()
        / use_rows.len().max(1) as f64;
    let d0 = if mean_x > 0.0 {
        (c * mean_u / mean_x).max(1e-6)
    } else {
        1e-3
    };
    let mut p = vec![vec![0.0; n]; n];
    for (i, row) in p.iter_mut().enumerate() {
        row[i] = (4.0 * d0).powi(2);
    }
    (vec![d0; n], p)
}

fn predict(p: &mut [Vec<f64>], x: &[f64]) {
    for i in 0..x.len() {
        p[i][i] += (DRIFT * x[i].max(1e-9)).powi(2);
    }
}

fn project(x: &mut [f64]) {
    for v in x.iter_mut() {
        if *v < 0.0 {
            *v = 0.0;
        }
    }
}

fn check(method: &'static str, x: Vec<f64>) -> Result<Vec<f64>, EstimateError> {
    if x.iter().all(|v| v.is_finite()) {
        Ok(x)
    } else {
        Err(EstimateError::Failed {
            method,
            message: "the filter diverged".into(),
        })
    }
}

/// Observation U_i = Σ X_ri·D_r / c, noise sd 0.01.
pub struct KalmanUtilization;

impl Estimator for KalmanUtilization {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, EstimateError> {
        let c = obs.servers as f64;
        let (mut x, mut p) = initial(obs, use_rows);
        for &i in use_rows {
            let row = &obs.rows[i];
            predict(&mut p, &x);
            let h: Vec<f64> = row.throughput.iter().map(|v| v / c).collect();
            kalman_update(&mut x, &mut p, &h, row.utilization, 1e-4);
            project(&mut x);
        }
        check("kf-u", x)
    }
}

/// Observations R_ri from the observed-state response equation
/// ([`Observations::response_coefficients`]) with relative variance
/// 1/completions, and U_i = Σ X·D/c with sd 0.02; both scaled (by the
/// class's mean response time and by U) so that classes and metrics weigh
/// alike.
pub struct KalmanResponseUtilization;

impl Estimator for KalmanResponseUtilization {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, EstimateError> {
        let n = obs.n_classes();
        let c = obs.servers as f64;
        let (mut x, mut p) = initial(obs, use_rows);
        let scale = obs.mean_response(use_rows);
        for &i in use_rows {
            let row = &obs.rows[i];
            predict(&mut p, &x);
            for r in 0..n {
                let Some(rt) = row.response[r].filter(|v| *v > 0.0) else {
                    continue;
                };
                let h: Vec<f64> = obs
                    .response_coefficients(i, r)
                    .iter()
                    .map(|a| a / scale[r])
                    .collect();
                kalman_update(
                    &mut x,
                    &mut p,
                    &h,
                    rt / scale[r],
                    1.0 / row.completions[r].max(1) as f64,
                );
                project(&mut x);
            }
            if row.utilization > 0.0 {
                let h: Vec<f64> = row
                    .throughput
                    .iter()
                    .map(|v| v / (c * row.utilization))
                    .collect();
                kalman_update(&mut x, &mut p, &h, 1.0, (0.02 / row.utilization).powi(2));
                project(&mut x);
            }
        }
        check("kf-ru", x)
    }
}
