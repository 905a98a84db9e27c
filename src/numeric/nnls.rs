//! Non-negative least squares, min ½‖Ax − b‖² subject to x ≥ 0, by the
//! active-set method of Lawson and Hanson (Solving Least Squares
//! Problems, 1974, ch. 23), on nalgebra: each inner step is an
//! unconstrained least-squares solve (by SVD) on the free variables, so
//! the result is exact to rounding after at most a few steps per unknown,
//! however ill-conditioned the design.
//!
//! Also the design's condition number, by SVD.

use nalgebra::{DMatrix, DVector};

/// Solves `min ‖A x − b‖²` with `x ≥ 0`; `rows` are the rows of A, `b` the
/// observations, `weights` optional row weights. Returns `None` when A has
/// no information about some unknown (an all-zero column).
pub fn nnls(rows: &[Vec<f64>], b: &[f64], weights: Option<&[f64]>) -> Option<Vec<f64>> {
    let n = rows.first().map_or(0, Vec::len);
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    nnls_flat(&flat, n, b, weights)
}

/// [`nnls`] with A given row after row in one slice of `n` columns (no
/// vector per row: callers that build a design for every resample).
/// Each row is scaled by √weight so that the fit minimises
/// Σ wᵢ (rowᵢ·x − bᵢ)².
pub fn nnls_flat(a: &[f64], n: usize, b: &[f64], weights: Option<&[f64]>) -> Option<Vec<f64>> {
    let w = |i: usize| weights.map_or(1.0, |w| w[i].sqrt());
    let design = DMatrix::from_fn(b.len(), n, |i, j| w(i) * a[i * n + j]);
    let rhs = DVector::from_fn(b.len(), |i, _| w(i) * b[i]);
    nnls_matrix(&design, &rhs).map(|x| x.as_slice().to_vec())
}

/// [`nnls`] on a matrix `a` (one row per observation) and `b`.
pub fn nnls_matrix(a: &DMatrix<f64>, b: &DVector<f64>) -> Option<DVector<f64>> {
    if a.ncols() == 0 || a.column_iter().any(|c| c.norm_squared() <= 0.0) {
        return None;
    }
    Some(lawson_hanson(a, b))
}

/// Lawson–Hanson NNLS on a full-column-information `a`.
fn lawson_hanson(a: &DMatrix<f64>, b: &DVector<f64>) -> DVector<f64> {
    let n = a.ncols();
    let tol = 1e-12 * a.norm() * b.norm().max(f64::MIN_POSITIVE);
    let mut x = DVector::zeros(n);
    let mut free = vec![false; n];
    // Each outer step frees one variable; inner steps only bind. 3n outer
    // steps is Lawson and Hanson's own bound.
    for _ in 0..3 * n {
        let w = a.tr_mul(&(b - a * &x));
        let Some(t) = (0..n)
            .filter(|&j| !free[j] && w[j] > tol)
            .max_by(|&i, &j| w[i].total_cmp(&w[j]))
        else {
            break;
        };
        free[t] = true;
        loop {
            let s = solve_free(a, b, &free);
            if (0..n).all(|j| !free[j] || s[j] > 0.0) {
                x = s;
                break;
            }
            // Step from x towards s as far as feasibility allows.
            let alpha = (0..n)
                .filter(|&j| free[j] && s[j] <= 0.0)
                .map(|j| x[j] / (x[j] - s[j]))
                .fold(f64::INFINITY, f64::min);
            x += (s - &x) * alpha;
            for j in 0..n {
                if free[j] && x[j] <= 1e-15 * x.amax().max(f64::MIN_POSITIVE) {
                    free[j] = false;
                    x[j] = 0.0;
                }
            }
        }
    }
    x
}

/// The unconstrained least-squares solution on the free variables (the
/// others held at zero): Householder QR, backward stable and accurate to
/// κ·ε on full-rank columns; the minimum-norm SVD solution where the free
/// columns are (numerically) dependent.
fn solve_free(a: &DMatrix<f64>, b: &DVector<f64>, free: &[bool]) -> DVector<f64> {
    let cols: Vec<usize> = (0..free.len()).filter(|&j| free[j]).collect();
    let sub = a.select_columns(&cols);
    let size = sub.nrows().max(sub.ncols()) as f64;
    let qr = sub.clone().qr();
    let r = qr.r();
    let diag = r.diagonal().map(f64::abs);
    let full_rank = sub.nrows() >= sub.ncols() && diag.min() > f64::EPSILON * size * diag.max();
    let sol = match full_rank {
        true => r
            .solve_upper_triangular(&qr.q().tr_mul(b))
            .expect("a non-singular triangle"),
        false => {
            let svd = sub.svd(true, true);
            // Singular values below rounding of the largest count as zero,
            // as numpy's lstsq does.
            let eps = f64::EPSILON * size * svd.singular_values.max();
            svd.solve(b, eps).expect("an SVD with both factors solves")
        }
    };
    let mut s = DVector::zeros(free.len());
    for (k, &j) in cols.iter().enumerate() {
        s[j] = sol[k];
    }
    s
}

/// An ordinary least-squares fit of `b` on the columns of `a` by
/// Householder QR: the solution, its residuals, and (AᵀA)⁻¹ = R⁻¹R⁻ᵀ
/// (the covariance of the solution per unit residual variance), without
/// forming AᵀA. `None` when the columns are dependent.
pub fn least_squares(a: &DMatrix<f64>, b: &DVector<f64>) -> Option<LeastSquares> {
    let qr = a.clone().qr();
    let r_inv = qr.r().try_inverse()?;
    let x = &r_inv * qr.q().tr_mul(b);
    let residual = b - a * &x;
    let inv_gram = &r_inv * r_inv.transpose();
    Some(LeastSquares {
        x,
        residual,
        inv_gram,
    })
}

/// What [`least_squares`] returns.
#[derive(Debug, Clone)]
pub struct LeastSquares {
    /// The solution.
    pub x: DVector<f64>,
    /// b − A x.
    pub residual: DVector<f64>,
    /// (AᵀA)⁻¹.
    pub inv_gram: DMatrix<f64>,
}

/// Condition number of the design `rows`: the ratio of its largest to its
/// smallest singular value (the square root of the Gram matrix's
/// eigenvalue ratio), the collinearity diagnostic of a regression.
/// Infinite when a direction carries no information.
pub fn condition_number(rows: &[Vec<f64>]) -> f64 {
    if rows.is_empty() {
        return f64::NAN;
    }
    let n = rows[0].len();
    let a = DMatrix::from_fn(rows.len(), n, |i, j| rows[i][j]);
    singular_ratio(&a.singular_values())
}

/// σ_max / σ_min, infinite for a zero σ_min.
fn singular_ratio(sv: &DVector<f64>) -> f64 {
    let max = sv.max();
    let min = sv.min();
    if min > 0.0 { max / min } else { f64::INFINITY }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vandermonde_systems_recover_their_coefficients() {
        // LibReDE's NNLSTest: polynomial coefficients from exact values.
        let coef = [0.5, 2.0, 0.25];
        let rows: Vec<Vec<f64>> = (0..8)
            .map(|i| {
                let t = i as f64 * 0.5;
                vec![1.0, t, t * t]
            })
            .collect();
        let b: Vec<f64> = rows
            .iter()
            .map(|r| r.iter().zip(&coef).map(|(a, c)| a * c).sum())
            .collect();
        let x = nnls(&rows, &b, None).unwrap();
        for (a, c) in x.iter().zip(&coef) {
            assert!((a - c).abs() < 1e-12, "{x:?}");
        }
    }

    #[test]
    fn negative_solutions_are_projected_to_zero() {
        let rows = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0, 1.0]];
        let x = nnls(&rows, &[1.0, -1.0, 0.0], None).unwrap();
        assert_eq!(x[1], 0.0);
        assert!((x[0] - 0.5).abs() < 1e-12);
        assert!(nnls(&[vec![1.0, 0.0]], &[1.0], None).is_none());
    }

    /// The KKT conditions of NNLS at x: x ≥ 0, the gradient Aᵀ(Ax − b) ≥ 0,
    /// and zero where x > 0 (complementary slackness).
    fn kkt_violation(rows: &[Vec<f64>], b: &[f64], x: &[f64]) -> f64 {
        let a = DMatrix::from_fn(rows.len(), rows[0].len(), |i, j| rows[i][j]);
        let b = DVector::from_column_slice(b);
        let x = DVector::from_column_slice(x);
        let g = a.tr_mul(&(&a * &x - b));
        let scale = a.norm() * a.norm() * x.amax().max(1e-300);
        (0..x.len())
            .map(|j| {
                let neg_x = (-x[j]).max(0.0);
                let neg_g = (-g[j]).max(0.0) / scale;
                let slack = if x[j] > 0.0 { g[j].abs() / scale } else { 0.0 };
                neg_x.max(neg_g).max(slack)
            })
            .fold(0.0, f64::max)
    }

    /// Two classes whose throughputs move almost together: condition
    /// number ~3e5.
    fn collinear_design() -> Vec<Vec<f64>> {
        (0..40)
            .map(|i| {
                let x = 1.0 + 0.1 * (i as f64 * 0.7).sin();
                vec![x, x * (1.0 + 1e-5 * (i as f64 * 1.3).cos())]
            })
            .collect()
    }

    #[test]
    fn an_ill_conditioned_design_meets_the_kkt_conditions_exactly() {
        // Two classes whose throughputs move almost together (condition
        // number ~1e5): coordinate descent crawls here; the active set
        // solves it in two steps.
        let rows = collinear_design();
        let truth = [0.02, 0.03];
        let b: Vec<f64> = rows
            .iter()
            .map(|r| r[0] * truth[0] + r[1] * truth[1])
            .collect();
        assert!(condition_number(&rows) > 1e4);
        let x = nnls(&rows, &b, None).unwrap();
        assert!(kkt_violation(&rows, &b, &x) < 1e-9, "{x:?}");
        for (e, t) in x.iter().zip(truth) {
            assert!((e - t).abs() < 1e-6 * t, "{x:?}");
        }
        // With a bound active: the unconstrained optimum has x₁ < 0.
        let b2: Vec<f64> = rows.iter().map(|r| 0.05 * r[0] - 0.01 * r[1]).collect();
        let x2 = nnls(&rows, &b2, None).unwrap();
        assert_eq!(x2[1], 0.0);
        assert!(kkt_violation(&rows, &b2, &x2) < 1e-9, "{x2:?}");
    }

    /// The projected coordinate descent this module used before (100,000
    /// sweeps at most), kept here only to show which answer is right.
    fn coordinate_descent(rows: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
        let n = rows[0].len();
        let (mut g, mut h) = (vec![vec![0.0; n]; n], vec![0.0; n]);
        for (row, bi) in rows.iter().zip(b) {
            for j in 0..n {
                h[j] += row[j] * bi;
                for k in 0..n {
                    g[j][k] += row[j] * row[k];
                }
            }
        }
        let mut x = vec![0.0; n];
        for _ in 0..100_000 {
            let mut change: f64 = 0.0;
            for j in 0..n {
                let grad: f64 = (0..n).map(|k| g[j][k] * x[k]).sum::<f64>() - h[j];
                let new = (x[j] - grad / g[j][j]).max(0.0);
                change = change.max((new - x[j]).abs() / new.abs().max(1e-300));
                x[j] = new;
            }
            if change < 1e-13 {
                break;
            }
        }
        x
    }

    #[test]
    fn where_the_old_coordinate_descent_differs_the_active_set_is_right() {
        // Condition number ~3e5, truth (0.02, 0.03): coordinate descent's
        // steps shrink below its stopping rule near (0.05, 0.0), the whole
        // demand on one class, with a residual ~1e-6; the active set finds
        // the truth with a residual at rounding level.
        let rows = collinear_design();
        let b: Vec<f64> = rows.iter().map(|r| 0.02 * r[0] + 0.03 * r[1]).collect();
        let residual = |x: &[f64]| -> f64 {
            rows.iter()
                .zip(&b)
                .map(|(r, bi)| (r[0] * x[0] + r[1] * x[1] - bi).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let cd = coordinate_descent(&rows, &b);
        let lh = nnls(&rows, &b, None).unwrap();
        assert!(residual(&lh) < 1e-14, "{}", residual(&lh));
        assert!(residual(&cd) > 1e3 * residual(&lh).max(1e-16), "{cd:?}");
        assert!(kkt_violation(&rows, &b, &lh) < 1e-9);
        assert!(kkt_violation(&rows, &b, &cd) > kkt_violation(&rows, &b, &lh));
        assert!((cd[0] - 0.05).abs() < 1e-3 && cd[1] < 1e-3, "{cd:?}");
        assert!(
            (lh[0] - 0.02).abs() < 1e-9 && (lh[1] - 0.03).abs() < 1e-9,
            "{lh:?}"
        );
    }

    #[test]
    fn condition_numbers_of_orthogonal_and_collinear_designs() {
        assert!((condition_number(&[vec![1.0, 0.0], vec![0.0, 1.0]]) - 1.0).abs() < 1e-12);
        // The σ ratio of [[1, 1], [1, 1.0001]], computed independently as
        // √(λ_max / λ_min) from the 2×2 eigenvalues of AᵀA.
        let a: [[f64; 2]; 2] = [[1.0, 1.0], [1.0, 1.0001]];
        let g = [
            a[0][0] * a[0][0] + a[1][0] * a[1][0],
            a[0][0] * a[0][1] + a[1][0] * a[1][1],
            a[0][1] * a[0][1] + a[1][1] * a[1][1],
        ];
        let (tr, det) = (g[0] + g[2], g[0] * g[2] - g[1] * g[1]);
        let disc = (tr * tr / 4.0 - det).sqrt();
        let want = ((tr / 2.0 + disc) / (tr / 2.0 - disc)).sqrt();
        let got = condition_number(&[vec![1.0, 1.0], vec![1.0, 1.0001]]);
        assert!((got - want).abs() < 1e-6 * want, "{got} vs {want}");
    }
}
