//! `ur`: least squares on the utilization law (Rolia & Vetland 1995).

use crate::estimate::estimator::{Estimator, Unfit};
use crate::estimate::observations::Observations;
use crate::numeric::nnls_flat;

/// U_i = Σ_r X_ri·D_r / c (+ an optional background intercept), solved by
/// non-negative least squares over all rows.
pub struct UtilizationRegression {
    /// Adds a constant background-load term.
    pub intercept: bool,
}

impl Estimator for UtilizationRegression {
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, Unfit> {
        let n = obs.n_classes();
        let c = obs.servers as f64;
        let hot = obs.hot();
        let width = n + usize::from(self.intercept);
        let mut a = Vec::with_capacity(use_rows.len() * width);
        for &i in use_rows {
            a.extend(hot.row(i).throughput.iter().map(|x| x / c));
            if self.intercept {
                a.push(1.0);
            }
        }
        let b: Vec<f64> = use_rows.iter().map(|&i| hot.utilization[i]).collect();
        let x = nnls_flat(&a, width, &b, None)
            .ok_or_else(|| Unfit("a class has no throughput in these intervals".into()))?;
        Ok(x[..n].to_vec())
    }
}
