//! `rta`: the response-time approximation, D ≈ R. Biased upward by the
//! waiting time, R/D = 1 + C/(c(1 − U)): about 2x at 50 % on one server.

use crate::estimate::estimator::{Estimator, Unfit};
use crate::estimate::observations::Observations;

/// D ≈ R, the completion-weighted mean response time.
pub struct ResponseTimeApproximation;

impl Estimator for ResponseTimeApproximation {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, Unfit> {
        let n = obs.n_classes();
        let hot = obs.hot();
        (0..n)
            .map(|r| {
                let (mut sum, mut count) = (0.0, 0.0);
                for &i in use_rows {
                    let row = hot.row(i);
                    if let Some(rt) = row.response[r] {
                        sum += rt * row.completions[r] as f64;
                        count += row.completions[r] as f64;
                    }
                }
                if count > 0.0 {
                    Ok(sum / count)
                } else {
                    Err(Unfit(format!("class {} never completes", obs.classes[r])))
                }
            })
            .collect()
    }
}
