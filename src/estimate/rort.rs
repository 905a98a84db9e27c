//! `rort`: recursive optimisation using response times (Menascé 2008):
//! response times predicted by the M/M/c formula with the utilization
//! computed from D (not observed), split between the classes by the
//! resource's discipline ([`Observations::predicted_response`]; Menascé's
//! D_r·f(U) is the processor-sharing one), fitted over all intervals used by
//! Levenberg–Marquardt with D > 0 by reparametrisation. LibReDE solves
//! one interval at a time and averages; a single fit has no per-interval
//! nonlinearity bias, and solver failure is reported, never replaced by a
//! zero vector.

use super::{EstimateError, Estimator, Observations, fit_positive, starting_point};
use crate::numeric::response_factor;

/// Utilization above which the prediction is cut off and a penalty grows
/// (the model has no steady state there).
const U_MAX: f64 = 0.995;

/// Weight of the squared utilization excess over [`U_MAX`].
const PENALTY: f64 = 1e3;

/// Regression calibration (Carroll, Ruppert, Stefanski & Crainiceanu,
/// *Measurement Error in Nonlinear Models*, ch. 4) of the throughputs that
/// Menascé's prediction f(Σ X·D/c) takes for arrival rates: an interval's
/// throughput is its arrival rate plus Poisson counting noise of variance
/// X/Δ, and a convex f turns that noise into a downward bias of D (about
/// −4 % at 85 % load on one server with 30 s intervals). Each X_ri is
/// replaced by its best linear predictor μ_r + κ_ri·(X_ri − μ_r), with
/// κ = σ²_λ / (σ²_λ + σ²_ε): a stationary load (σ²_λ ≈ 0) is read as its
/// mean, a load that really varies (σ²_λ ≫ σ²_ε) is left as observed.
///
/// Returns the calibrated throughputs of `rows`, row after row (n classes
/// each): cloning the observations for them cost more than the fit.
fn calibrated(obs: &Observations, rows: &[usize]) -> Vec<f64> {
    let n = obs.n_classes();
    let mut out = vec![0.0; rows.len() * n];
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
        let noise = |i: usize| obs.rows[i].throughput[r] / obs.rows[i].length;
        let mean_noise = rows.iter().map(|&i| noise(i)).sum::<f64>() / m;
        let signal = (var_x - mean_noise).max(0.0);
        for (k, &i) in rows.iter().enumerate() {
            let kappa = if signal + noise(i) > 0.0 {
                signal / (signal + noise(i))
            } else {
                1.0
            };
            out[k * n + r] = mu + kappa * (obs.rows[i].throughput[r] - mu);
        }
    }
    out
}

/// Menascé's estimator.
pub struct Menasce;

/// The least-squares problem of one fit: per interval, one residual per
/// class and a penalty that grows past [`U_MAX`], where the model has no
/// steady state.
struct Problem<'a> {
    obs: &'a Observations,
    rows: &'a [usize],
    /// Calibrated throughputs, row after row.
    x: Vec<f64>,
    scale: Vec<f64>,
    /// Completions with a response time, over all rows (each class's
    /// squared error weighs by its completions: the cost is a mean).
    total: f64,
}

impl<'a> Problem<'a> {
    fn new(obs: &'a Observations, rows: &'a [usize]) -> Result<Self, EstimateError> {
        let n = obs.n_classes();
        let total: f64 = rows
            .iter()
            .flat_map(|&i| (0..n).map(move |r| (i, r)))
            .filter(|&(i, r)| Self::measured(obs, i, r).is_some())
            .map(|(i, r)| obs.rows[i].completions[r] as f64)
            .sum();
        if total <= 0.0 {
            return Err(EstimateError::Failed {
                method: "rort",
                message: "no response times in these intervals".into(),
            });
        }
        Ok(Self {
            obs,
            rows,
            x: calibrated(obs, rows),
            scale: obs.mean_response(rows),
            total,
        })
    }

    fn measured(obs: &Observations, i: usize, r: usize) -> Option<f64> {
        obs.rows[i].response[r].filter(|v| *v > 0.0)
    }

    /// Residuals per row: `n + 1` each.
    fn width(&self) -> usize {
        self.obs.n_classes() + 1
    }

    fn residuals(&self, d: &[f64], out: &mut [f64]) {
        let (n, w) = (self.obs.n_classes(), self.width());
        let c = f64::from(self.obs.servers);
        for (k, &i) in self.rows.iter().enumerate() {
            let slot = &mut out[k * w..(k + 1) * w];
            let x = &self.x[k * n..(k + 1) * n];
            let u_hat = x.iter().zip(d).map(|(x, d)| x * d).sum::<f64>() / c;
            slot[n] = PENALTY.sqrt() * (u_hat - U_MAX).max(0.0);
            let f = response_factor(u_hat.min(U_MAX), self.obs.servers);
            for (r, e) in slot[..n].iter_mut().enumerate() {
                *e = Self::measured(self.obs, i, r).map_or(0.0, |rt| {
                    let weight = self.obs.rows[i].completions[r] as f64 / self.total;
                    let predicted = self.obs.discipline.response(x, r, d, f);
                    weight.sqrt() * (predicted - rt) / self.scale[r]
                });
            }
        }
    }
}

impl Estimator for Menasce {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, EstimateError> {
        let p = Problem::new(obs, use_rows)?;
        fit_positive(
            "rort",
            &|d, out| p.residuals(d, out),
            use_rows.len() * p.width(),
            &starting_point(obs, use_rows),
        )
    }

    /// A refit from the full fit's demands: a resample's optimum is close
    /// to it, and Levenberg–Marquardt gets there in a few steps. (No
    /// one-step expansion here: the resample's throughput calibration
    /// moves the fit at first order, as much as the data do.)
    fn refit(
        &self,
        obs: &Observations,
        rows: &[usize],
        from: &[f64],
    ) -> Result<Vec<f64>, EstimateError> {
        let p = Problem::new(obs, rows)?;
        fit_positive(
            "rort",
            &|d, out| p.residuals(d, out),
            rows.len() * p.width(),
            from,
        )
    }
}
