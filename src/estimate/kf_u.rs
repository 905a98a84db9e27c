//! `kf-u`: Kalman filter on the utilization law (Wang et al. 2012).

use super::filter::{check, initial, predict, project};
use super::{EstimateError, Estimator, Observations};
use crate::numeric::kalman_update;
use nalgebra::DVector;

/// Observation U_i = Σ X_ri·D_r / c, noise sd 0.01.
pub struct KalmanUtilization;

impl Estimator for KalmanUtilization {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, EstimateError> {
        let c = obs.servers as f64;
        let (mut x, mut p) = initial(obs, use_rows);
        for &i in use_rows {
            let row = &obs.rows[i];
            predict(&mut p, &x);
            let h =
                DVector::from_iterator(row.throughput.len(), row.throughput.iter().map(|v| v / c));
            kalman_update(&mut x, &mut p, &h, row.utilization, 1e-4);
            project(&mut x, &p);
        }
        check("kf-u", x)
    }
}
