//! `rort`: recursive optimisation using response times (Menascé 2008):
//! response times predicted by the M/M/c formula with the utilization
//! computed from D (not observed), split between the classes by the
//! resource's discipline ([`Observations::predicted_response`]; Menascé's
//! D_r·f(U) is the processor-sharing one), fitted over all intervals used by
//! Levenberg–Marquardt with D > 0 by reparametrisation. LibReDE solves
//! one interval at a time and averages; a single fit has no per-interval
//! nonlinearity bias, and solver failure is reported, never replaced by a
//! zero vector.

use super::fit::{fit_positive, starting_point};
use crate::estimate::estimator::{Estimator, Unfit};
use crate::estimate::observations::Observations;
use crate::numeric::response_factors;

/// Intervals whose response factors are computed side by side.
const LANES: usize = 4;

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
/// Calibrates `x` in place: the throughputs of the fitted rows, row after
/// row (n classes each), gathered once from the observations (cloning
/// them cost more than the fit), with the rows' lengths `len`.
fn calibrate(x: &mut [f64], len: &[f64], n: usize) {
    let m = len.len() as f64;
    let total_len: f64 = len.iter().sum();
    for r in 0..n {
        let class = || x.iter().skip(r).step_by(n);
        let mu = class().zip(len).map(|(x, l)| x * l).sum::<f64>() / total_len;
        let var_x = class().map(|x| (x - mu).powi(2)).sum::<f64>() / (m - 1.0).max(1.0);
        let mean_noise = class().zip(len).map(|(x, l)| x / l).sum::<f64>() / m;
        let signal = (var_x - mean_noise).max(0.0);
        for (x, l) in x.iter_mut().skip(r).step_by(n).zip(len) {
            let noise = *x / l;
            let kappa = if signal + noise > 0.0 {
                signal / (signal + noise)
            } else {
                1.0
            };
            *x = mu + kappa * (*x - mu);
        }
    }
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
    /// Measured mean response times, row after row (0 where none).
    measured: Vec<f64>,
    /// Each residual's factor, row after row: √(completions / total) over
    /// the class's mean response time (each class's squared error weighs
    /// by its completions, so the cost is a mean), 0 where no response
    /// time was measured. Kept contiguous with `x` and `measured`: the
    /// residuals are evaluated thousands of times over resampled rows.
    weight: Vec<f64>,
}

impl<'a> Problem<'a> {
    fn new(obs: &'a Observations, rows: &'a [usize]) -> Result<Self, Unfit> {
        let n = obs.n_classes();
        let hot = obs.hot();
        let measured = |k: usize| hot.response[k].filter(|v| *v > 0.0);
        let total: f64 = rows
            .iter()
            .flat_map(|&i| (i * n..(i + 1) * n).filter(|&k| measured(k).is_some()))
            .map(|k| hot.completions[k] as f64)
            .sum();
        if total <= 0.0 {
            return Err(Unfit("no response times in these intervals".into()));
        }
        let scale = obs.mean_response(rows);
        let size = rows.len() * n;
        let (mut x, mut times, mut weight) = (vec![0.0; size], vec![0.0; size], vec![0.0; size]);
        let len: Vec<f64> = rows.iter().map(|&i| hot.length[i]).collect();
        for (k, &i) in rows.iter().enumerate() {
            x[k * n..(k + 1) * n].copy_from_slice(hot.row(i).throughput);
            for r in 0..n {
                if let Some(rt) = measured(i * n + r) {
                    times[k * n + r] = rt;
                    weight[k * n + r] =
                        (hot.completions[i * n + r] as f64 / total).sqrt() / scale[r];
                }
            }
        }
        calibrate(&mut x, &len, n);
        Ok(Self {
            obs,
            rows,
            x,
            measured: times,
            weight,
        })
    }

    /// Residuals per row: `n + 1` each.
    fn width(&self) -> usize {
        self.obs.n_classes() + 1
    }

    /// The residuals, [`LANES`] intervals at a time: their response
    /// factors side by side ([`response_factors`]), the same numbers as one
    /// at a time.
    fn residuals(&self, d: &[f64], out: &mut [f64]) {
        let n = self.obs.n_classes();
        let c = f64::from(self.obs.servers);
        let rows = self.rows.len();
        for first in (0..rows).step_by(LANES) {
            let lanes = LANES.min(rows - first);
            let mut u_hat = [0.0; LANES];
            for (j, u) in u_hat.iter_mut().enumerate().take(lanes) {
                let x = &self.x[(first + j) * n..(first + j + 1) * n];
                *u = x.iter().zip(d).map(|(x, d)| x * d).sum::<f64>() / c;
            }
            let f = response_factors(u_hat.map(|u| u.min(U_MAX)), self.obs.servers);
            for (j, (&u, &f)) in u_hat.iter().zip(&f).enumerate().take(lanes) {
                self.row_residuals(first + j, d, u, f, out);
            }
        }
    }

    /// Row `k`'s residuals at `d`, its predicted utilization `u_hat` and
    /// response factor `f`.
    fn row_residuals(&self, k: usize, d: &[f64], u_hat: f64, f: f64, out: &mut [f64]) {
        let (n, w) = (self.obs.n_classes(), self.width());
        let slot = &mut out[k * w..(k + 1) * w];
        let x = &self.x[k * n..(k + 1) * n];
        slot[n] = PENALTY.sqrt() * (u_hat - U_MAX).max(0.0);
        for (r, e) in slot[..n].iter_mut().enumerate() {
            let weight = self.weight[k * n + r];
            *e = match weight > 0.0 {
                true => {
                    let predicted = self.obs.discipline.response(x, r, d, f);
                    weight * (predicted - self.measured[k * n + r])
                }
                false => 0.0,
            };
        }
    }
}

impl Estimator for Menasce {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, Unfit> {
        let p = Problem::new(obs, use_rows)?;
        fit_positive(
            &|d, out| p.residuals(d, out),
            use_rows.len() * p.width(),
            &starting_point(obs, use_rows),
        )
    }

    /// A refit from the full fit's demands: a resample's optimum is close
    /// to it, and Levenberg–Marquardt gets there in a few steps. (No
    /// one-step expansion here: the resample's throughput calibration
    /// moves the fit at first order, as much as the data do.)
    fn refit(&self, obs: &Observations, rows: &[usize], from: &[f64]) -> Result<Vec<f64>, Unfit> {
        let p = Problem::new(obs, rows)?;
        fit_positive(&|d, out| p.residuals(d, out), rows.len() * p.width(), from)
    }
}
