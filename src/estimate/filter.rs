//! What the two Kalman filters share: the initial state, the drift, the
//! projection onto D ≥ 0. The state is the demand vector (constant model);
//! each observation is a scalar Joseph-form update
//! ([`crate::numeric::kalman_update`]) followed by the projection, and the
//! estimate is the final state.

use nalgebra::{DMatrix, DVector};

use super::{EstimateError, Observations};

/// Process noise as a fraction of the initial demand (per interval): lets
/// the filter follow slow drift without chasing noise.
const DRIFT: f64 = 1e-3;

/// Initial state: demands that would explain half the mean utilization
/// spread evenly over classes (LibReDE's weighted initialiser), with a
/// wide prior.
pub(super) fn initial(obs: &Observations, use_rows: &[usize]) -> (DVector<f64>, DMatrix<f64>) {
    let n = obs.n_classes();
    let c = obs.servers as f64;
    let mean_x: f64 = use_rows
        .iter()
        .map(|&i| obs.rows[i].throughput.iter().sum::<f64>())
        .sum::<f64>()
        / use_rows.len().max(1) as f64;
    let mean_u: f64 = use_rows
        .iter()
        .map(|&i| obs.rows[i].utilization)
        .sum::<f64>()
        / use_rows.len().max(1) as f64;
    let d0 = if mean_x > 0.0 {
        (c * mean_u / mean_x).max(1e-6)
    } else {
        1e-3
    };
    let p = DMatrix::from_diagonal_element(n, n, (4.0 * d0).powi(2));
    (DVector::from_element(n, d0), p)
}

pub(super) fn predict(p: &mut DMatrix<f64>, x: &DVector<f64>) {
    for i in 0..x.len() {
        p[(i, i)] += (DRIFT * x[i].max(1e-9)).powi(2);
    }
}

pub(super) fn project(x: &mut DVector<f64>, p: &DMatrix<f64>) {
    // The nearest point with D ≥ 0 in the metric of P⁻¹ (Simon's
    // constrained Kalman filter): negative components are pinned at 0 and
    // the others move along their covariance with them, so a combination
    // the data determine well (the mix-weighted mean under collinear
    // classes) survives the projection. Clipping each component alone
    // would shift it.
    let mut active: Vec<usize> = Vec::new();
    for _ in 0..x.len() {
        let newly: Vec<usize> = (0..x.len())
            .filter(|&r| x[r] < 0.0 && !active.contains(&r))
            .collect();
        if newly.is_empty() {
            break;
        }
        active.extend(newly);
        let pa = p.select_columns(&active);
        let paa = pa.select_rows(&active);
        let xa = DVector::from_iterator(active.len(), active.iter().map(|&r| x[r]));
        match paa.try_inverse() {
            Some(inv) => *x -= pa * (inv * xa),
            None => break,
        }
        for &r in &active {
            x[r] = 0.0;
        }
    }
    for v in x.iter_mut() {
        *v = v.max(0.0);
    }
}

pub(super) fn check(method: &'static str, x: DVector<f64>) -> Result<Vec<f64>, EstimateError> {
    if x.iter().all(|v| v.is_finite()) {
        Ok(x.as_slice().to_vec())
    } else {
        Err(EstimateError::Failed {
            method,
            message: "the filter diverged".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_keeps_the_combination_the_covariance_trusts() {
        // Two collinear classes: their sum is known well, the split not
        // (strong negative correlation). A state with b < 0 is moved to
        // b = 0 along the covariance, so the sum barely changes; clipping
        // alone would raise it from 0.06 to 0.07.
        let p = DMatrix::from_row_slice(2, 2, &[1.0, -0.99, -0.99, 1.0]) * 1e-4;
        let mut x = DVector::from_vec(vec![0.07, -0.01]);
        project(&mut x, &p);
        assert_eq!(x[1], 0.0);
        assert!((x[0] - 0.0601).abs() < 1e-12, "{x}");
        // Independent classes: the projection is plain clipping.
        let mut y = DVector::from_vec(vec![0.05, -0.01]);
        project(&mut y, &DMatrix::identity(2, 2));
        assert_eq!((y[0], y[1]), (0.05, 0.0));
    }
}
