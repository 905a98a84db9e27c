//! `rortu`: recursive optimisation using response times and utilization
//! (Liu, Wynter, Xia & Zhang 2006): relative response-time errors, each
//! interval's classes weighted by their share of its throughput, with
//! response times predicted from the observed state
//! ([`Observations::response_equation`]), plus relative utilization
//! errors; fitted over all intervals used by Levenberg–Marquardt with
//! D > 0 by reparametrisation. Relative errors are taken against the
//! class's mean response time and the mean utilization: dividing by each
//! interval's own noisy value would bias the fit low (E[1/R] > 1/E[R]).
//!
//! Fitted twice, as `rr` is: the second fit weighs each response-time
//! residual by the class's mean over the row's predicted mean response
//! (variance ∝ mean), at the first fit's demands. With squared-error
//! weights alone an interval's own requests bias the fit: one that stays
//! long makes those arriving after it in the same interval find more, so
//! the row's mean response and mean queue move together beyond the
//! equation (+0.44 % at U 0.5 on one server with 30 s intervals, +1.0 %
//! with 10 s, over 1,000 traces); with one class the reweighted fit's
//! response-time part is a ratio of sums, which that cannot bias.

use super::fit::{fit_positive, starting_point};
use crate::estimate::estimator::{Estimator, Unfit};
use crate::estimate::linearized::Linearized;
use crate::estimate::observations::{Observations, ResponseEquation};
use crate::numeric::dot;

/// Liu et al.'s estimator.
pub struct Liu;

/// The least-squares problem of one fit: per interval, one relative
/// response-time residual per class (weighted by the class's share of the
/// interval's throughput) and one relative utilization residual (weight
/// 1), all over the total weight, so that the cost is a weighted mean.
struct Problem<'a> {
    obs: &'a Observations,
    rows: &'a [usize],
    equations: Vec<Vec<Option<ResponseEquation>>>,
    /// Each response-time residual's variance weight, row after row (n
    /// classes each; flat: one small vector per row cost 4 MB on 53,000
    /// rows): 1, or the class's mean over the predicted mean once
    /// [`Problem::reweigh`]ed.
    factor: Vec<f64>,
    scale: Vec<f64>,
    u_scale: f64,
    total: f64,
}

impl<'a> Problem<'a> {
    fn new(obs: &'a Observations, rows: &'a [usize]) -> Result<Self, Unfit> {
        let n = obs.n_classes();
        let scale = obs.mean_response(rows);
        let u_scale =
            rows.iter().map(|&i| obs.rows[i].utilization).sum::<f64>() / rows.len().max(1) as f64;
        let equations: Vec<Vec<Option<ResponseEquation>>> = rows
            .iter()
            .map(|&i| (0..n).map(|r| obs.response_equation(i, r)).collect())
            .collect();
        let mut p = Self {
            obs,
            rows,
            equations,
            factor: vec![1.0; n * rows.len()],
            scale,
            u_scale,
            total: 0.0,
        };
        p.total = p.total_weight();
        if p.total <= 0.0 {
            return Err(Unfit(
                "no response times or utilization in these intervals".into(),
            ));
        }
        Ok(p)
    }

    /// The sum of the residuals' weights, by which each is divided so that
    /// the cost is a weighted mean.
    fn total_weight(&self) -> f64 {
        let u = if self.u_scale > 0.0 { 1.0 } else { 0.0 };
        (0..self.rows.len())
            .map(|k| {
                u + (0..self.obs.n_classes())
                    .filter(|&r| self.equations[k][r].is_some())
                    .map(|r| self.share(k, r) * self.factor[k * self.obs.n_classes() + r])
                    .sum::<f64>()
            })
            .sum()
    }

    /// Weighs each response-time residual by the class's mean over the
    /// row's mean predicted from `d` (see the module's note).
    fn reweigh(&mut self, d: &[f64]) {
        let n = self.obs.n_classes();
        for (eqs, factor) in self.equations.iter().zip(self.factor.chunks_mut(n)) {
            for (r, (eq, f)) in eqs.iter().zip(factor.iter_mut()).enumerate() {
                let predicted = eq.as_ref().map_or(0.0, |eq| dot(&eq.coefficients, d));
                *f = if predicted > 0.0 {
                    self.scale[r] / predicted
                } else {
                    1.0
                };
            }
        }
        self.total = self.total_weight();
    }

    /// Class r's share of the throughput of the k-th row.
    fn share(&self, k: usize, r: usize) -> f64 {
        let x = &self.obs.rows[self.rows[k]].throughput;
        x[r] / x.iter().sum::<f64>()
    }

    /// Residuals per row: `n + 1` each.
    fn width(&self) -> usize {
        self.obs.n_classes() + 1
    }

    fn residuals(&self, d: &[f64], out: &mut [f64]) {
        let (n, w) = (self.obs.n_classes(), self.width());
        for (k, &i) in self.rows.iter().enumerate() {
            let slot = &mut out[k * w..(k + 1) * w];
            for (r, e) in slot[..n].iter_mut().enumerate() {
                *e = self.equations[k][r].as_ref().map_or(0.0, |eq| {
                    let weight = self.share(k, r) * self.factor[k * n + r] / self.total;
                    weight.sqrt() * (dot(&eq.coefficients, d) - eq.response) / self.scale[r]
                });
            }
            slot[n] = if self.u_scale > 0.0 {
                let e = self.obs.predicted_utilization(i, d) - self.obs.rows[i].utilization;
                e / self.u_scale / self.total.sqrt()
            } else {
                0.0
            };
        }
    }
}

impl Estimator for Liu {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, Unfit> {
        let mut p = Problem::new(obs, use_rows)?;
        let size = use_rows.len() * p.width();
        let first = fit_positive(
            &|d, out| p.residuals(d, out),
            size,
            &starting_point(obs, use_rows),
        )?;
        p.reweigh(&first);
        fit_positive(&|d, out| p.residuals(d, out), size, &first)
    }

    /// A resample's fit: reweighed at the full fit's demands and fitted
    /// once from them (a resample's first fit would land next to them).
    fn refit(&self, obs: &Observations, rows: &[usize], from: &[f64]) -> Result<Vec<f64>, Unfit> {
        let mut p = Problem::new(obs, rows)?;
        p.reweigh(from);
        let size = rows.len() * p.width();
        fit_positive(&|d, out| p.residuals(d, out), size, from)
    }

    fn linearize(&self, obs: &Observations, rows: &[usize], at: &[f64]) -> Option<Linearized> {
        let mut p = Problem::new(obs, rows).ok()?;
        p.reweigh(at);
        Some(Linearized::new(
            &|d, out| p.residuals(d, out),
            p.width(),
            rows,
            at,
        ))
    }
}
