//! Optimisation over all intervals with argmin's Nelder–Mead, positivity by
//! the reparametrisation D = exp(θ): on response times with utilization
//! computed from D (`rort`, Menascé 2008) and on response times and
//! utilization (`rortu`, Liu, Wynter, Xia & Zhang 2006).
//!
//! LibReDE solves one interval at a time and averages the solutions; a
//! single fit over the window (here: all intervals used) has no
//! per-interval nonlinearity bias. Solver failure is reported, never
//! replaced by a zero vector.

use argmin::core::{CostFunction, Error, Executor, State};
use argmin::solver::neldermead::NelderMead;

use super::regression::UtilizationRegression;
use super::simple::ResponseTimeApproximation;
use super::{EstimateError, Estimator, Observations};
use crate::numeric::response_factor;

/// Utilization above which the predicted response time is cut off and a
/// penalty grows (the model is unstable there).
const U_MAX: f64 = 0.995;

struct Fit<'a> {
    obs: &'a Observations,
    rows: &'a [usize],
    /// Class mean response times: the scale of relative errors.
    scale: Vec<f64>,
    /// Mean utilization: the scale of utilization errors (dividing by each
    /// interval's noisy U biases the fit, worst at low load).
    u_scale: f64,
    /// Include the utilization term and predict R from the observed state
    /// (Liu) rather than from U computed from D (Menascé).
    liu: bool,
}

impl CostFunction for Fit<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, theta: &Self::Param) -> Result<f64, Error> {
        let d: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
        let n = d.len();
        let (mut cost, mut weight) = (0.0, 0.0);
        for &i in self.rows {
            let row = &self.obs.rows[i];
            let u_hat = self.obs.predicted_utilization(i, &d);
            // Menascé predicts from D alone; Liu uses the observed state.
            let penalty = if !self.liu && u_hat > U_MAX {
                1e3 * (1.0 + u_hat - U_MAX).powi(2)
            } else {
                0.0
            };
            let f = response_factor(u_hat.min(U_MAX), self.obs.servers);
            let xsum: f64 = row.throughput.iter().sum();
            for r in 0..n {
                let Some(rt) = row.response[r].filter(|v| *v > 0.0) else {
                    continue;
                };
                let w = if self.liu {
                    row.throughput[r] / xsum
                } else {
                    row.completions[r] as f64
                };
                let predicted = if self.liu {
                    self.obs
                        .response_coefficients(i, r)
                        .iter()
                        .zip(&d)
                        .map(|(a, d)| a * d)
                        .sum::<f64>()
                } else {
                    d[r] * f
                };
                let e = (predicted - rt) / self.scale[r];
                cost += w * e * e;
                weight += w;
            }
            if self.liu && self.u_scale > 0.0 {
                let e = (u_hat - row.utilization) / self.u_scale;
                cost += e * e;
                weight += 1.0;
            }
            cost += penalty;
        }
        Ok(if weight > 0.0 {
            cost / weight
        } else {
            f64::INFINITY
        })
    }
}

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

fn fit(
    obs: &Observations,
    rows: &[usize],
    liu: bool,
    method: &'static str,
) -> Result<Vec<f64>, EstimateError> {
    if !liu {
        return fit_rows(&calibrated(obs, rows), rows, liu, method);
    }
    fit_rows(obs, rows, liu, method)
}

fn fit_rows(
    obs: &Observations,
    rows: &[usize],
    liu: bool,
    method: &'static str,
) -> Result<Vec<f64>, EstimateError> {
    let n = obs.n_classes();
    // Start from the utilization regression (or half the response time
    // where it gives nothing).
    let ur = UtilizationRegression { intercept: false }
        .estimate(obs, rows)
        .unwrap_or_else(|_| vec![0.0; n]);
    let rta = ResponseTimeApproximation
        .estimate(obs, rows)
        .unwrap_or_else(|_| vec![1e-3; n]);
    let start: Vec<f64> = (0..n)
        .map(|r| {
            if ur[r] > 0.0 { ur[r] } else { 0.5 * rta[r] }
                .max(1e-9)
                .ln()
        })
        .collect();
    let mut simplex = vec![start.clone()];
    for r in 0..n {
        let mut v = start.clone();
        v[r] += 0.2;
        simplex.push(v);
    }
    let fail = |message: String| EstimateError::Failed { method, message };
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(1e-12)
        .map_err(|e| fail(e.to_string()))?;
    let u_scale =
        rows.iter().map(|&i| obs.rows[i].utilization).sum::<f64>() / rows.len().max(1) as f64;
    let res = Executor::new(
        Fit {
            obs,
            rows,
            liu,
            scale: obs.mean_response(rows),
            u_scale,
        },
        solver,
    )
    .configure(|s| s.max_iters(400 * (n as u64 + 1)))
    .run()
    .map_err(|e| fail(e.to_string()))?;
    let best = res
        .state()
        .get_best_param()
        .cloned()
        .ok_or_else(|| fail("no solution".into()))?;
    let d: Vec<f64> = best.iter().map(|t| t.exp()).collect();
    if d.iter().all(|v| v.is_finite()) && res.state().get_best_cost().is_finite() {
        Ok(d)
    } else {
        Err(fail("the optimiser found no finite solution".into()))
    }
}

/// Menascé: response times predicted with U computed from D.
pub struct Menasce;

impl Estimator for Menasce {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, EstimateError> {
        fit(obs, use_rows, false, "rort")
    }
}

/// Liu et al.: relative response-time errors (observed U inside R) plus
/// relative utilization errors.
pub struct Liu;

impl Estimator for Liu {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, EstimateError> {
        fit(obs, use_rows, true, "rortu")
    }
}
