//! What the two Kalman filters share: the initial state, the drift, the
//! projection onto D ≥ 0. The state is the demand vector (constant model);
//! each observation is a scalar Joseph-form update
//! ([`crate::numeric::kalman_update`]) followed by the projection, and the
//! estimate is the final state.

use nalgebra::{DMatrix, DVector};

use super::{EstimateError, Observations};

/// Process noise as a fraction of the initial demand (per interval): lets
/// the filter follow slow drift without chasing noise.
const DRIFT: f64 = 1e-3;

/// Initial state: demands that would explain half the mean utilization
/// spread evenly over classes (LibReDE's weighted initialiser), with a
/// wide prior.
pub(super) fn initial(obs: &Observations, use_rows: &[usize]) -> (DVector<f64>, DMatrix<f64>) {
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
    let p = DMatrix::from_diagonal_element(n, n, (4.0 * d0).powi(2));
    (DVector::from_element(n, d0), p)
}

pub(super) fn predict(p: &mut DMatrix<f64>, x: &DVector<f64>) {
    for i in 0..x.len() {
        p[(i, i)] += (DRIFT * x[i].max(1e-9)).powi(2);
    }
}

pub(super) fn project(x: &mut DVector<f64>) {
    for v in x.iter_mut() {
        if *v < 0.0 {
            *v = 0.0;
        }
    }
}

pub(super) fn check(method: &'static str, x: DVector<f64>) -> Result<Vec<f64>, EstimateError> {
    if x.iter().all(|v| v.is_finite()) {
        Ok(x.as_slice().to_vec())
    } else {
        Err(EstimateError::Failed {
            method,
            message: "the filter diverged".into(),
        })
    }
}
