//! `kf-ru`: Kalman filter on response times and utilization (Zheng,
//! Woodside & Litoiu 2008).

use super::filter::{predict, project, settle};
use super::{EstimateError, Estimator, Observations};
use crate::numeric::kalman_update;
use nalgebra::DVector;

/// Observations R_ri from the observed-state response equation
/// ([`Observations::response_equation`]) with relative variance
/// 1/completions, and U_i = Σ X·D/c with sd 0.02; both scaled (by the
/// class's mean response time and by U) so that classes and metrics weigh
/// alike.
pub struct KalmanResponseUtilization;

impl Estimator for KalmanResponseUtilization {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, EstimateError> {
        let n = obs.n_classes();
        let c = obs.servers as f64;
        let scale = obs.mean_response(use_rows);
        settle("kf-ru", obs, use_rows, |x, p| {
            for &i in use_rows {
                let row = &obs.rows[i];
                predict(p, x);
                for r in 0..n {
                    let Some(eq) = obs.response_equation(i, r) else {
                        continue;
                    };
                    let h = DVector::from_vec(eq.coefficients) / scale[r];
                    let noise = 1.0 / eq.requests.max(1) as f64;
                    kalman_update(x, p, &h, eq.response / scale[r], noise);
                    project(x, p);
                }
                if row.utilization > 0.0 {
                    let h = DVector::from_iterator(
                        n,
                        row.throughput.iter().map(|v| v / (c * row.utilization)),
                    );
                    kalman_update(x, p, &h, 1.0, (0.02 / row.utilization).powi(2));
                    project(x, p);
                }
            }
        })
    }
}
