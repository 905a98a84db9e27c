//! `rortu`: recursive optimisation using response times and utilization
//! (Liu, Wynter, Xia & Zhang 2006): relative response-time errors, each
//! interval's classes weighted by their share of its throughput, with
//! response times predicted from the observed state
//! ([`Observations::response_equation`]), plus relative utilization
//! errors; fitted over all intervals used by argmin's Nelder–Mead with
//! D > 0 by reparametrisation. Relative errors are taken against the
//! class's mean response time and the mean utilization: dividing by each
//! interval's own noisy value would bias the fit low (E[1/R] > 1/E[R]).

use super::{EstimateError, Estimator, Observations, ResponseEquation, starting_point};
use crate::numeric::minimize_positive;

/// Liu et al.'s estimator.
pub struct Liu;

impl Estimator for Liu {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, EstimateError> {
        let scale = obs.mean_response(use_rows);
        let u_scale = use_rows
            .iter()
            .map(|&i| obs.rows[i].utilization)
            .sum::<f64>()
            / use_rows.len().max(1) as f64;
        let n = obs.n_classes();
        let equations: Vec<Vec<Option<ResponseEquation>>> = use_rows
            .iter()
            .map(|&i| (0..n).map(|r| obs.response_equation(i, r)).collect())
            .collect();
        let cost = |d: &[f64]| {
            let (mut cost, mut weight) = (0.0, 0.0);
            for (k, &i) in use_rows.iter().enumerate() {
                let row = &obs.rows[i];
                let xsum: f64 = row.throughput.iter().sum();
                for r in 0..n {
                    let Some(eq) = &equations[k][r] else {
                        continue;
                    };
                    let w = row.throughput[r] / xsum;
                    let predicted: f64 = eq.coefficients.iter().zip(d).map(|(a, d)| a * d).sum();
                    let e = (predicted - eq.response) / scale[r];
                    cost += w * e * e;
                    weight += w;
                }
                if u_scale > 0.0 {
                    let e = (obs.predicted_utilization(i, d) - row.utilization) / u_scale;
                    cost += e * e;
                    weight += 1.0;
                }
            }
            if weight > 0.0 {
                cost / weight
            } else {
                f64::INFINITY
            }
        };
        minimize_positive(&cost, &starting_point(obs, use_rows), 400 * (n as u64 + 1)).map_err(
            |message| EstimateError::Failed {
                method: "rortu",
                message,
            },
        )
    }
}
