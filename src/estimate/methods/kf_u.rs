//! `kf-u`: Kalman filter on the utilization law (Wang et al. 2012).

use super::filter::{predict, project, settle};
use crate::estimate::estimator::{Estimator, Unfit};
use crate::estimate::observations::Observations;
use crate::numeric::kalman_update;
use nalgebra::DVector;

/// Observation U_i = Σ X_ri·D_r / c, noise sd 0.01.
pub struct KalmanUtilization;

impl Estimator for KalmanUtilization {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, Unfit> {
        let c = obs.servers as f64;
        let n = obs.n_classes();
        let hot = obs.hot();
        settle(obs, use_rows, |x, p| {
            let (mut h, mut ph) = (DVector::zeros(n), DVector::zeros(n));
            for &i in use_rows {
                let (throughput, utilization) = (hot.row(i).throughput, hot.utilization[i]);
                predict(p, x);
                for (h, v) in h.iter_mut().zip(throughput) {
                    *h = v / c;
                }
                kalman_update(x, p, &h, utilization, 1e-4, &mut ph);
                project(x, p);
            }
        })
    }
}
