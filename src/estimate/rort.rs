//! `rort`: recursive optimisation using response times (Menascé 2008):
//! response times predicted by the M/M/c formula with the utilization
//! computed from D (not observed), split between the classes by the
//! resource's discipline ([`Observations::predicted_response`]; Menascé's
//! D_r·f(U) is the processor-sharing one), fitted over all intervals used by
//! argmin's Nelder–Mead with D > 0 by reparametrisation. LibReDE solves
//! one interval at a time and averages; a single fit has no per-interval
//! nonlinearity bias, and solver failure is reported, never replaced by a
//! zero vector.

use super::{EstimateError, Estimator, Observations, starting_point};
use crate::numeric::{minimize_positive, response_factor};

/// Utilization above which the prediction is cut off and a penalty grows
/// (the model has no steady state there).
const U_MAX: f64 = 0.995;

/// Regression calibration (Carroll, Ruppert, Stefanski & Crainiceanu,
/// *Measurement Error in Nonlinear Models*, ch. 4) of the throughputs that
/// Menascé's prediction f(Σ X·D/c) takes for arrival rates: an interval's
/// throughput is its arrival rate plus Poisson counting noise of variance
/// X/Δ, and a convex f turns that noise into a downward bias of D (about
/// −4 % at 85 % load on one server with 30 s intervals). Each X_ri is
/// replaced by its best linear predictor μ_r + κ_ri·(X_ri − μ_r), with
/// κ = σ²_λ / (σ²_λ + σ²_ε): a stationary load (σ²_λ ≈ 0) is read as its
/// mean, a load that really varies (σ²_λ ≫ σ²_ε) is left as observed.
fn calibrated(obs: &Observations, rows: &[usize]) -> Observations {
    let n = obs.n_classes();
    let mut out = obs.clone();
    for r in 0..n {
        let total_len: f64 = rows.iter().map(|&i| obs.rows[i].length).sum();
        let mu = rows
            .iter()
            .map(|&i| obs.rows[i].throughput[r] * obs.rows[i].length)
            .sum::<f64>()
            / total_len;
        let m = rows.len() as f64;
        let var_x = rows
            .iter()
            .map(|&i| (obs.rows[i].throughput[r] - mu).powi(2))
            .sum::<f64>()
            / (m - 1.0).max(1.0);
        let noise: Vec<f64> = rows
            .iter()
            .map(|&i| obs.rows[i].throughput[r] / obs.rows[i].length)
            .collect();
        let mean_noise = noise.iter().sum::<f64>() / m;
        let signal = (var_x - mean_noise).max(0.0);
        for (k, &i) in rows.iter().enumerate() {
            let kappa = if signal + noise[k] > 0.0 {
                signal / (signal + noise[k])
            } else {
                1.0
            };
            out.rows[i].throughput[r] = mu + kappa * (obs.rows[i].throughput[r] - mu);
        }
    }
    out
}

/// Menascé's estimator.
pub struct Menasce;

impl Estimator for Menasce {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, EstimateError> {
        let obs = calibrated(obs, use_rows);
        let scale = obs.mean_response(use_rows);
        let n = obs.n_classes();
        let cost = |d: &[f64]| {
            let (mut cost, mut weight) = (0.0, 0.0);
            for &i in use_rows {
                let row = &obs.rows[i];
                let u_hat = obs.predicted_utilization(i, d);
                if u_hat > U_MAX {
                    cost += 1e3 * (1.0 + u_hat - U_MAX).powi(2);
                }
                let f = response_factor(u_hat.min(U_MAX), obs.servers);
                for r in 0..n {
                    let Some(rt) = row.response[r].filter(|v| *v > 0.0) else {
                        continue;
                    };
                    let w = row.completions[r] as f64;
                    let e = (obs.predicted_response(i, r, d, f) - rt) / scale[r];
                    cost += w * e * e;
                    weight += w;
                }
            }
            if weight > 0.0 {
                cost / weight
            } else {
                f64::INFINITY
            }
        };
        minimize_positive(&cost, &starting_point(&obs, use_rows), 400 * (n as u64 + 1)).map_err(
            |message| EstimateError::Failed {
                method: "rort",
                message,
            },
        )
    }
}
