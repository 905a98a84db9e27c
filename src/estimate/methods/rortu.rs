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
use crate::estimate::observations::Observations;
use crate::numeric::dot;

/// Liu et al.'s estimator.
pub struct Liu;

/// The least-squares problem of one fit: per interval, one relative
/// response-time residual per class (weighted by the class's share of the
/// interval's throughput) and one relative utilization residual (weight
/// 1), all over the total weight, so that the cost is a weighted mean.
/// Everything per row is flat, row after row (n classes each): one small
/// vector per row and class cost more to reach than to compute with.
struct Problem<'a> {
    obs: &'a Observations,
    rows: &'a [usize],
    /// The response equations' coefficients (n per row and class).
    coefficients: Vec<f64>,
    /// Their measured mean response times (`None`: no equation).
    response: Vec<Option<f64>>,
    /// Class r's share of the row's throughput.
    share: Vec<f64>,
    /// Each response-time residual's variance weight: 1, or the class's
    /// mean over the predicted mean once [`Problem::reweigh`]ed.
    factor: Vec<f64>,
    /// The rows' throughputs and utilization.
    throughput: Vec<f64>,
    utilization: Vec<f64>,
    scale: Vec<f64>,
    u_scale: f64,
    total: f64,
}

impl<'a> Problem<'a> {
    fn new(obs: &'a Observations, rows: &'a [usize]) -> Result<Self, Unfit> {
        let n = obs.n_classes();
        let hot = obs.hot();
        let scale = obs.mean_response(rows);
        let utilization: Vec<f64> = rows.iter().map(|&i| hot.utilization[i]).collect();
        let u_scale = utilization.iter().sum::<f64>() / rows.len().max(1) as f64;
        let mut coefficients = vec![0.0; rows.len() * n * n];
        let mut response = vec![None; rows.len() * n];
        let (mut share, mut throughput) = (Vec::with_capacity(rows.len() * n), Vec::new());
        for (k, &i) in rows.iter().enumerate() {
            let x = hot.row(i).throughput;
            throughput.extend_from_slice(x);
            share.extend(x.iter().map(|v| v / x.iter().sum::<f64>()));
            for r in 0..n {
                let q = k * n + r;
                let a = &mut coefficients[q * n..(q + 1) * n];
                response[q] = obs.response_equation_into(i, r, a).map(|(rt, _)| rt);
            }
        }
        let mut p = Self {
            obs,
            rows,
            coefficients,
            response,
            share,
            factor: vec![1.0; n * rows.len()],
            throughput,
            utilization,
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

    /// Row-and-class `q`'s response equation: (coefficients, measured
    /// mean response time), if it has one.
    fn equation(&self, q: usize) -> Option<(&[f64], f64)> {
        let n = self.obs.n_classes();
        Some((&self.coefficients[q * n..(q + 1) * n], self.response[q]?))
    }

    /// The sum of the residuals' weights, by which each is divided so that
    /// the cost is a weighted mean.
    fn total_weight(&self) -> f64 {
        let u = if self.u_scale > 0.0 { 1.0 } else { 0.0 };
        let n = self.obs.n_classes();
        (0..self.rows.len())
            .map(|k| {
                u + (k * n..(k + 1) * n)
                    .filter(|&q| self.response[q].is_some())
                    .map(|q| self.share[q] * self.factor[q])
                    .sum::<f64>()
            })
            .sum()
    }

    /// Weighs each response-time residual by the class's mean over the
    /// row's mean predicted from `d` (see the module's note).
    fn reweigh(&mut self, d: &[f64]) {
        let n = self.obs.n_classes();
        for q in 0..self.factor.len() {
            let predicted = self.equation(q).map_or(0.0, |(a, _)| dot(a, d));
            self.factor[q] = if predicted > 0.0 {
                self.scale[q % n] / predicted
            } else {
                1.0
            };
        }
        self.total = self.total_weight();
    }

    /// Residuals per row: `n + 1` each.
    fn width(&self) -> usize {
        self.obs.n_classes() + 1
    }

    fn residuals(&self, d: &[f64], out: &mut [f64]) {
        let (n, w) = (self.obs.n_classes(), self.width());
        let c = f64::from(self.obs.servers);
        for k in 0..self.rows.len() {
            let slot = &mut out[k * w..(k + 1) * w];
            for (r, e) in slot[..n].iter_mut().enumerate() {
                let q = k * n + r;
                *e = self.equation(q).map_or(0.0, |(a, response)| {
                    let weight = self.share[q] * self.factor[q] / self.total;
                    weight.sqrt() * (dot(a, d) - response) / self.scale[r]
                });
            }
            slot[n] = if self.u_scale > 0.0 {
                let predicted = dot(&self.throughput[k * n..(k + 1) * n], d) / c;
                let e = predicted - self.utilization[k];
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
