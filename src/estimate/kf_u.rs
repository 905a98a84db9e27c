//! `kf-u`: Kalman filter on the utilization law (Wang et al. 2012).

use super::filter::{predict, project, settle};
use super::{EstimateError, Estimator, Observations};
use crate::numeric::kalman_update;
use nalgebra::DVector;

/// Observation U_i = Σ X_ri·D_r / c, noise sd 0.01.
pub struct KalmanUtilization;

impl Estimator for KalmanUtilization {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, EstimateError> {
        let c = obs.servers as f64;
        settle("kf-u", obs, use_rows, |x, p| {
            for &i in use_rows {
                let row = &obs.rows[i];
                predict(p, x);
                let h = DVector::from_iterator(
                    row.throughput.len(),
                    row.throughput.iter().map(|v| v / c),
                );
                kalman_update(x, p, &h, row.utilization, 1e-4);
                project(x, p);
            }
        })
    }
}
