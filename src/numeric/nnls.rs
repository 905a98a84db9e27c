//! Non-negative least squares by projected coordinate descent on the
//! normal equations: min ½‖Ax − b‖² subject to x ≥ 0.
//!
//! Hand-written: the problems here have a handful of unknowns (one demand
//! per class), for which cyclic coordinate descent on the Gram matrix is
//! exact to rounding and ten lines long; the `nnls` crate pulls in ndarray.

/// Solves `min ‖A x − b‖²` with `x ≥ 0`; `rows` are the rows of A, `b` the
/// observations, `weights` optional row weights. Returns `None` when A has
/// no information about some unknown (an all-zero column).
pub fn nnls(rows: &[Vec<f64>], b: &[f64], weights: Option<&[f64]>) -> Option<Vec<f64>> {
    let n = rows.first()?.len();
    let mut g = vec![vec![0.0; n]; n];
    let mut h = vec![0.0; n];
    for (i, row) in rows.iter().enumerate() {
        let w = weights.map_or(1.0, |w| w[i]);
        for j in 0..n {
            h[j] += w * row[j] * b[i];
            for k in 0..n {
                g[j][k] += w * row[j] * row[k];
            }
        }
    }
    if (0..n).any(|j| g[j][j] <= 0.0) {
        return None;
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
    Some(x)
}

/// Condition number (ratio of largest to smallest eigenvalue, square
/// rooted) of the Gram matrix of `rows`: the collinearity diagnostic of a
/// regression. Computed by Jacobi rotations.
pub fn condition_number(rows: &[Vec<f64>]) -> f64 {
    let Some(n) = rows.first().map(Vec::len) else {
        return f64::NAN;
    };
    let mut a = vec![vec![0.0; n]; n];
    for row in rows {
        for j in 0..n {
            for k in 0..n {
                a[j][k] += row[j] * row[k];
            }
        }
    }
    for _ in 0..100 {
        let mut off = 0.0;
        for p in 0..n {
            for q in p + 1..n {
                off += a[p][q] * a[p][q];
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
            }
        }
        if off < 1e-30 {
            break;
        }
    }
    let eig: Vec<f64> = (0..n).map(|i| a[i][i].abs()).collect();
    let max = eig.iter().cloned().fold(0.0, f64::max);
    let min = eig.iter().cloned().fold(f64::INFINITY, f64::min);
    (max / min).sqrt()
}

/// One scalar Kalman measurement update in Joseph form (numerically
/// stable, keeps P symmetric positive semi-definite): observation
/// `z ≈ h·x` with noise variance `r`.
pub fn kalman_update(x: &mut [f64], p: &mut [Vec<f64>], h: &[f64], z: f64, r: f64) {
    let n = x.len();
    let ph: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| p[i][j] * h[j]).sum())
        .collect();
    let s: f64 = (0..n).map(|i| h[i] * ph[i]).sum::<f64>() + r;
    if s <= 0.0 {
        return;
    }
    let k: Vec<f64> = ph.iter().map(|v| v / s).collect();
    let innov = z - (0..n).map(|i| h[i] * x[i]).sum::<f64>();
    for i in 0..n {
        x[i] += k[i] * innov;
    }
    // P ← (I − k hᵀ) P (I − k hᵀ)ᵀ + r k kᵀ
    let mut a = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            a[i][j] = if i == j { 1.0 } else { 0.0 } - k[i] * h[j];
        }
    }
    let ap: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| (0..n).map(|l| a[i][l] * p[l][j]).sum())
                .collect()
        })
        .collect();
    for i in 0..n {
        for j in 0..n {
            let v: f64 = (0..n).map(|l| ap[i][l] * a[j][l]).sum::<f64>() + r * k[i] * k[j];
            p[i][j] = v;
        }
    }
    for i in 0..n {
        for j in 0..i {
            let m = 0.5 * (p[i][j] + p[j][i]);
            p[i][j] = m;
            p[j][i] = m;
        }
    }
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
            assert!((a - c).abs() < 1e-9, "{x:?}");
        }
    }

    #[test]
    fn negative_solutions_are_projected_to_zero() {
        let rows = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![1.0, 1.0]];
        let x = nnls(&rows, &[1.0, -1.0, 0.0], None).unwrap();
        assert_eq!(x[1], 0.0);
        assert!((x[0] - 0.5).abs() < 1e-9);
        assert!(nnls(&[vec![1.0, 0.0]], &[1.0], None).is_none());
    }

    #[test]
    fn condition_numbers_of_orthogonal_and_collinear_designs() {
        assert!((condition_number(&[vec![1.0, 0.0], vec![0.0, 1.0]]) - 1.0).abs() < 1e-9);
        assert!(condition_number(&[vec![1.0, 1.0], vec![1.0, 1.0001]]) > 1e3);
    }

    #[test]
    fn kalman_updates_converge_to_least_squares() {
        let (mut x, mut p) = (vec![0.0], vec![vec![1e6]]);
        for z in [1.0, 3.0, 2.0, 2.0] {
            kalman_update(&mut x, &mut p, &[1.0], z, 1.0);
        }
        assert!((x[0] - 2.0).abs() < 1e-5, "{x:?}");
    }
}
