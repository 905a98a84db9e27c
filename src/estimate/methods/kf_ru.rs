//! `kf-ru`: Kalman filter on response times and utilization (Zheng,
//! Woodside & Litoiu 2008).

use super::filter::{predict, project, settle};
use crate::estimate::estimator::{Estimator, Unfit};
use crate::estimate::observations::Observations;
use crate::numeric::kalman_update;
use nalgebra::DVector;

/// Observations R_ri from the observed-state response equation
/// ([`Observations::response_equation`]) with relative variance
/// 1/completions, and U_i = Σ X·D/c with sd 0.02; both scaled (by the
/// class's mean response time and by U) so that classes and metrics weigh
/// alike.
pub struct KalmanResponseUtilization;

impl Estimator for KalmanResponseUtilization {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, Unfit> {
        let n = obs.n_classes();
        let c = obs.servers as f64;
        let scale = obs.mean_response(use_rows);
        let hot = obs.hot();
        settle(obs, use_rows, |x, p| {
            let (mut h, mut ph) = (DVector::zeros(n), DVector::zeros(n));
            for &i in use_rows {
                let row = hot.row(i);
                predict(p, x);
                for r in 0..n {
                    let Some((response, requests)) =
                        obs.response_equation_into(i, r, h.as_mut_slice())
                    else {
                        continue;
                    };
                    h /= scale[r];
                    let noise = 1.0 / requests.max(1) as f64;
                    kalman_update(x, p, &h, response / scale[r], noise, &mut ph);
                    project(x, p);
                }
                if row.utilization > 0.0 {
                    for (h, v) in h.iter_mut().zip(row.throughput) {
                        *h = v / (c * row.utilization);
                    }
                    let noise = (0.02 / row.utilization).powi(2);
                    kalman_update(x, p, &h, 1.0, noise, &mut ph);
                    project(x, p);
                }
            }
        })
    }
}
