//! What the two Kalman filters share: the initial state (the least-squares
//! fit of the utilization law, with the covariance its residuals give),
//! the drift, the projection onto D ≥ 0, and the passes over the data
//! until the state settles. The state is the demand vector (constant
//! model); each observation is a scalar Joseph-form update
//! ([`crate::numeric::kalman_update`]) followed by the projection, and the
//! estimate is the final state.

use nalgebra::{DMatrix, DVector};

use crate::estimate::estimator::Unfit;
use crate::estimate::observations::Observations;

/// Process noise as a fraction of the initial demand (per interval): lets
/// the filter follow slow drift without chasing noise.
const DRIFT: f64 = 1e-3;

/// Passes over the data at most: a short trace is read again until the
/// state stops moving.
const MAX_PASSES: usize = 20;

/// From this many intervals on, one pass from the least-squares start is
/// enough (and a second would double the cost of every bootstrap fit).
const LONG: usize = 200;

/// A pass that moves no demand by more than this fraction has settled.
const SETTLED: f64 = 1e-3;

/// Initial state: the non-negative least-squares fit of U·c = Σ X_r D_r
/// (ur's), with the covariance s²(AᵀA)⁻¹ of its residuals; where that fit
/// is not possible, demands that explain the mean utilization spread
/// evenly over the classes, with a wide prior.
pub(super) fn initial(obs: &Observations, use_rows: &[usize]) -> (DVector<f64>, DMatrix<f64>) {
    if let Some(start) = initial_by_normal_equations(obs, use_rows) {
        return start;
    }
    let n = obs.n_classes();
    let c = obs.servers as f64;
    let hot = obs.hot();
    let a = DMatrix::from_fn(use_rows.len(), n, |i, r| {
        hot.throughput[use_rows[i] * n + r] / c
    });
    let u = DVector::from_fn(use_rows.len(), |i, _| hot.utilization[use_rows[i]]);
    let d0 = even_start(obs, use_rows);
    let wide = DMatrix::from_diagonal_element(n, n, (4.0 * d0).powi(2));
    let Some(x) = crate::numeric::nnls_matrix(&a, &u) else {
        return (DVector::from_element(n, d0), wide);
    };
    let resid = u - &a * &x;
    let dof = use_rows.len().saturating_sub(n).max(1) as f64;
    let s2 = resid.norm_squared() / dof;
    // A floor keeps the prior proper where a class is barely seen.
    let floor = DMatrix::from_diagonal_element(n, n, (1e-3 * d0).powi(2));
    match (a.tr_mul(&a)).try_inverse() {
        Some(inv) => (x, inv * s2 + floor),
        None => (x, wide),
    }
}

/// [`initial`] in two passes over the rows, from AᵀA and Aᵀu: the same
/// fit where it is interior (every demand > 0) and AᵀA well conditioned,
/// without the design matrix and the active-set iterations (the filters
/// start once per bootstrap resample). `None` sends [`initial`] to the
/// general path.
fn initial_by_normal_equations(
    obs: &Observations,
    use_rows: &[usize],
) -> Option<(DVector<f64>, DMatrix<f64>)> {
    let n = obs.n_classes();
    let c = obs.servers as f64;
    let hot = obs.hot();
    let row = |i: usize| (&hot.throughput[i * n..(i + 1) * n], hot.utilization[i]);
    let (mut gram, mut atu) = (DMatrix::<f64>::zeros(n, n), DVector::<f64>::zeros(n));
    for &i in use_rows {
        let (x, u) = row(i);
        for j in 0..n {
            let aj = x[j] / c;
            atu[j] += aj * u;
            for k in 0..n {
                gram[(j, k)] += aj * x[k] / c;
            }
        }
    }
    let chol = gram.clone().cholesky()?;
    let diag = chol.l_dirty().diagonal();
    // κ(AᵀA) is about (max/min of L's diagonal)²: beyond 1e8 the squared
    // condition costs digits that the QR path keeps.
    if diag.min() <= 0.0 || (diag.max() / diag.min()).powi(2) > 1e8 {
        return None;
    }
    let x = chol.solve(&atu);
    if x.iter().any(|&v| v <= 0.0) {
        return None;
    }
    let resid2: f64 = use_rows
        .iter()
        .map(|&i| {
            let (t, u) = row(i);
            let fit: f64 = t.iter().zip(x.iter()).map(|(t, d)| t / c * d).sum();
            (u - fit).powi(2)
        })
        .sum();
    let dof = use_rows.len().saturating_sub(n).max(1) as f64;
    let d0 = even_start(obs, use_rows);
    let floor = DMatrix::from_diagonal_element(n, n, (1e-3 * d0).powi(2));
    Some((x, chol.inverse() * (resid2 / dof) + floor))
}

/// Demands that would explain the mean utilization spread evenly over
/// classes (LibReDE's initialiser).
fn even_start(obs: &Observations, use_rows: &[usize]) -> f64 {
    let c = obs.servers as f64;
    let hot = obs.hot();
    let mean_x: f64 = use_rows
        .iter()
        .map(|&i| hot.row(i).throughput.iter().sum::<f64>())
        .sum::<f64>()
        / use_rows.len().max(1) as f64;
    let mean_u: f64 =
        use_rows.iter().map(|&i| hot.utilization[i]).sum::<f64>() / use_rows.len().max(1) as f64;
    if mean_x > 0.0 {
        (c * mean_u / mean_x).max(1e-6)
    } else {
        1e-3
    }
}

/// Runs `pass` (one forward pass over the rows) from the initial state;
/// on a short trace (under [`LONG`] intervals), again until a pass moves
/// no demand by more than [`SETTLED`] of its value; a filter still moving
/// after [`MAX_PASSES`] fails with that reason.
pub(super) fn settle(
    obs: &Observations,
    use_rows: &[usize],
    pass: impl Fn(&mut DVector<f64>, &mut DMatrix<f64>),
) -> Result<Vec<f64>, Unfit> {
    let (mut x, mut p) = initial(obs, use_rows);
    if use_rows.len() >= LONG {
        pass(&mut x, &mut p);
        return check(x);
    }
    for _ in 0..MAX_PASSES {
        let before = x.clone();
        pass(&mut x, &mut p);
        let moved = x
            .iter()
            .zip(before.iter())
            .map(|(a, b)| (a - b).abs() / a.abs().max(b.abs()).max(1e-12))
            .fold(0.0, f64::max);
        if moved <= SETTLED {
            return check(x);
        }
    }
    Err(Unfit(format!(
        "the filter did not settle: still moving after {MAX_PASSES} passes over {} intervals",
        use_rows.len()
    )))
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

pub(super) fn check(x: DVector<f64>) -> Result<Vec<f64>, Unfit> {
    if x.iter().all(|v| v.is_finite()) {
        Ok(x.as_slice().to_vec())
    } else {
        Err(Unfit("the filter diverged".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::Row;

    /// Rows of U = (X_a·0.05 + X_b·0.02) / 1, mixes varying.
    fn exact(n: usize) -> Observations {
        let rows = (0..n)
            .map(|i| {
                let t = i as f64;
                let x = vec![4.0 + 2.0 * (t * 0.7).sin(), 6.0 + 3.0 * (t * 1.1).cos()];
                Row {
                    length: 30.0,
                    utilization: 0.05 * x[0] + 0.02 * x[1],
                    response: vec![Some(0.1), Some(0.04)],
                    completions: x.iter().map(|v| (v * 30.0) as u64).collect(),
                    in_system: vec![0.4, 0.2],
                    arrived: Vec::new(),
                    throughput: x,
                }
            })
            .collect();
        Observations::new(vec!["a".into(), "b".into()], 1, rows)
    }

    #[test]
    fn filters_start_from_the_least_squares_fit() {
        let obs = exact(12);
        let (x, p) = initial(&obs, &(0..12).collect::<Vec<_>>());
        assert!(
            (x[0] - 0.05).abs() < 1e-9 && (x[1] - 0.02).abs() < 1e-9,
            "{x}"
        );
        // Exact data: the covariance is only the floor.
        assert!(p[(0, 0)] < 1e-8, "{p}");
    }

    #[test]
    fn a_filter_that_keeps_moving_says_so_and_one_that_stops_returns() {
        let obs = exact(12);
        let rows: Vec<usize> = (0..12).collect();
        let still = settle(&obs, &rows, |_, _| {}).unwrap();
        assert!((still[0] - 0.05).abs() < 1e-9);
        let err = settle(&obs, &rows, |x, _| *x *= 1.1).unwrap_err();
        assert!(err.to_string().contains("did not settle"), "{err}");
    }

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
