//! `rr`: least squares on response times with the observed queue (Kraft,
//! Pacheco-Sanchez, Casale & Dawson 2009).

use crate::estimate::estimator::{Estimator, Unfit};
use crate::estimate::observations::Observations;
use crate::numeric::{dot, nnls_flat};

/// Kraft et al.'s regression on response times with the observed
/// queue: every class's per-interval mean response time is a row of
/// R_ri = D_r·(1 + C(c, cU_i)/c) + Σ_s D_s·Q_si/c (see
/// [`Observations::response_equation`]), solved by weighted
/// non-negative least squares (weights: requests / class mean², so
/// classes weigh alike).
pub struct ResponseTimeRegression;

impl Estimator for ResponseTimeRegression {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, Unfit> {
        let n = obs.n_classes();
        let scale = obs.mean_response(use_rows);
        // The design, row after row (n coefficients each), written in
        // place: this runs for every bootstrap resample.
        let (mut a, mut b, mut w, mut class) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut coefficients = vec![0.0; n];
        for &i in use_rows {
            for r in 0..n {
                let Some((response, requests)) =
                    obs.response_equation_into(i, r, &mut coefficients)
                else {
                    continue;
                };
                a.extend_from_slice(&coefficients);
                b.push(response);
                w.push(requests as f64 / (scale[r] * scale[r]));
                class.push(r);
            }
        }
        let failed = || Unfit("a class has no response times in these intervals".into());
        let fit = |w: &[f64]| nnls_flat(&a, n, &b, Some(w)).ok_or_else(failed);
        let first = fit(&w)?;
        // Second pass, each row weighted by requests / its predicted mean
        // (variance ∝ mean): with one class the fit is then the ratio of
        // sums Σ R / Σ a, which an interval's own requests cannot bias.
        // Squared-error weights let them: a request that stays long makes
        // those arriving after it in the same interval find more, so an
        // interval's mean R and mean queue move together beyond the
        // equation (+0.8 % at U 0.5 on one server).
        for (k, w) in w.iter_mut().enumerate() {
            let row = &a[k * n..(k + 1) * n];
            let predicted = dot(row, &first);
            if predicted > 0.0 {
                *w *= scale[class[k]] / predicted;
            }
        }
        fit(&w)
    }
}
