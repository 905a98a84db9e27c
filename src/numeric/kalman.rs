//! The Kalman measurement step shared by the two filters, on nalgebra.

use nalgebra::{DMatrix, DVector};

/// One scalar Kalman measurement update, observation `z ≈ h·x` with noise
/// variance `r`: gain k = P h / s, s = hᵀ P h + r, and the Joseph form
/// P ← (I − k hᵀ) P (I − k hᵀ)ᵀ + r k kᵀ, which for a symmetric P and
/// this (optimal) gain multiplies out to P − (Ph)(Ph)ᵀ / s. One rank-one
/// update in place, with P h written into the caller's `ph` (length n):
/// nothing is allocated on this per-observation path, which the filters
/// run for every interval of every bootstrap resample. Symmetry is
/// restored after each step.
pub fn kalman_update(
    x: &mut DVector<f64>,
    p: &mut DMatrix<f64>,
    h: &DVector<f64>,
    z: f64,
    r: f64,
    ph: &mut DVector<f64>,
) {
    p.mul_to(h, ph);
    let s = h.dot(ph) + r;
    if s <= 0.0 {
        return;
    }
    let innovation = z - h.dot(x);
    x.axpy(innovation / s, ph, 1.0);
    p.ger(-1.0 / s, ph, ph, 1.0);
    // Symmetric in exact arithmetic; averaging removes rounding asymmetry.
    let n = p.nrows();
    for i in 0..n {
        for j in 0..i {
            let m = 0.5 * (p[(i, j)] + p[(j, i)]);
            p[(i, j)] = m;
            p[(j, i)] = m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kalman_updates_converge_to_least_squares() {
        let (mut x, mut p) = (
            DVector::from_element(1, 0.0),
            DMatrix::from_element(1, 1, 1e6),
        );
        let h = DVector::from_element(1, 1.0);
        for z in [1.0, 3.0, 2.0, 2.0] {
            kalman_update(&mut x, &mut p, &h, z, 1.0, &mut DVector::zeros(1));
        }
        // The posterior mean of four unit-variance observations under a
        // vague prior: their mean, 2, shrunk by 1e-6 towards 0.
        assert!((x[0] - 2.0).abs() < 1e-5, "{x:?}");
        assert!((p[(0, 0)] - 0.25).abs() < 1e-6);
    }

    #[test]
    fn one_update_matches_the_textbook_gain() {
        // Two states, P = diag(4, 1), h = (1, 1), r = 1: s = 6, k = (4, 1)/6.
        let mut x = DVector::from_vec(vec![1.0, 2.0]);
        let mut p = DMatrix::from_diagonal(&DVector::from_vec(vec![4.0, 1.0]));
        let h = DVector::from_vec(vec![1.0, 1.0]);
        kalman_update(&mut x, &mut p, &h, 6.0, 1.0, &mut DVector::zeros(2));
        // innovation 6 − 3 = 3: x = (1 + 2, 2 + 0.5).
        assert!((x[0] - 3.0).abs() < 1e-12 && (x[1] - 2.5).abs() < 1e-12);
        // Standard form P − k hᵀ P = [[4 − 16/6, −4/6], [−4/6, 1 − 1/6]].
        let want = [
            [4.0 - 16.0 / 6.0, -4.0 / 6.0],
            [-4.0 / 6.0, 1.0 - 1.0 / 6.0],
        ];
        for i in 0..2 {
            for j in 0..2 {
                assert!((p[(i, j)] - want[i][j]).abs() < 1e-12, "{p}");
            }
        }
    }
}
