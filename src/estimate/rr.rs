//! `rr`: least squares on response times with the observed queue (Kraft,
//! Pacheco-Sanchez, Casale & Dawson 2009).

use super::{EstimateError, Estimator, Observations};
use crate::numeric::nnls;

/// Kraft et al.'s regression on response times with the observed
/// queue: every class's per-interval mean response time is a row of
/// R_ri = D_r·(1 + C(c, cU_i)/c) + Σ_s D_s·Q_si/c (see
/// [`Observations::response_coefficients`]), solved by weighted
/// non-negative least squares (weights: completions / class mean², so
/// classes weigh alike).
pub struct ResponseTimeRegression;

impl Estimator for ResponseTimeRegression {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, EstimateError> {
        let scale = obs.mean_response(use_rows);
        let (mut rows, mut b, mut w) = (Vec::new(), Vec::new(), Vec::new());
        for &i in use_rows {
            for r in 0..obs.n_classes() {
                let Some(rt) = obs.rows[i].response[r] else {
                    continue;
                };
                rows.push(obs.response_coefficients(i, r));
                b.push(rt);
                w.push(obs.rows[i].completions[r] as f64 / (scale[r] * scale[r]));
            }
        }
        nnls(&rows, &b, Some(&w)).ok_or_else(|| EstimateError::Failed {
            method: "rr",
            message: "a class has no response times in these intervals".into(),
        })
    }
}
