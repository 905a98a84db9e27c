//! The Kalman measurement step shared by the two filters, on nalgebra.

use nalgebra::{DMatrix, DVector};

/// One scalar Kalman measurement update in Joseph form (numerically
/// stable, keeps P symmetric positive semi-definite): observation
/// `z ≈ h·x` with noise variance `r`.
///
/// P ← (I − k hᵀ) P (I − k hᵀ)ᵀ + r k kᵀ, with gain k = P h / (hᵀ P h + r).
pub fn kalman_update(x: &mut DVector<f64>, p: &mut DMatrix<f64>, h: &DVector<f64>, z: f64, r: f64) {
    let ph = &*p * h;
    let s = h.dot(&ph) + r;
    if s <= 0.0 {
        return;
    }
    let k = ph / s;
    let innovation = z - h.dot(x);
    *x += &k * innovation;
    let n = x.len();
    let a = DMatrix::identity(n, n) - &k * h.transpose();
    let next = &a * &*p * a.transpose() + &k * k.transpose() * r;
    // Symmetric by construction; averaging removes rounding asymmetry.
    *p = (&next + next.transpose()) * 0.5;
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
            kalman_update(&mut x, &mut p, &h, z, 1.0);
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
        kalman_update(&mut x, &mut p, &h, 6.0, 1.0);
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
