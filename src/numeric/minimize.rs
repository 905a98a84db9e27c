//! A bounded least-squares minimiser: Levenberg–Marquardt on θ = ln x, so
//! that every point tried is positive (x > 0 by reparametrisation rather
//! than by clipping).
//!
//! Written here (40 lines on nalgebra) because no well-kept crate fits:
//! argmin 0.11 has no LM, and its Gauss–Newton needs argmin-math's
//! nalgebra backend, which pins another nalgebra than the 0.35 statrs
//! brings; the `levenberg-marquardt` crate is on nalgebra 0.34. On a
//! 53,000-interval trace it needs about 6 residual evaluations per fit
//! from a near start, where argmin's Nelder–Mead (used before) took
//! hundreds of cost evaluations.

use super::dot;
use nalgebra::{DMatrix, DVector};

/// Why a fit has no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    /// The residuals are NaN or infinite where the fit starts.
    #[error("the residuals are not finite at the starting point")]
    NotFiniteStart,
    /// No finite solution was found.
    #[error("the optimiser found no finite solution")]
    NoFiniteSolution,
}

/// Minimises ½‖r(x)‖² over x > 0 from `start` (zeros lifted to 1e-9) by
/// Levenberg–Marquardt on θ = ln x with a forward-difference Jacobian;
/// `residuals(x, out)` fills `out` (its length fixed by the first call's
/// `m`). Stops when a step promises (or, accepted, gains) less than 1e-12
/// of the cost or moves θ by less than 1e-10, or after `max_iters` steps.
///
/// # Errors
/// Non-finite residuals at the start, or no finite solution.
pub fn least_squares_positive(
    residuals: &dyn Fn(&[f64], &mut [f64]),
    m: usize,
    start: &[f64],
    max_iters: u64,
) -> Result<Vec<f64>, FitError> {
    let k = start.len();
    let mut theta: Vec<f64> = start.iter().map(|x| x.max(1e-9).ln()).collect();
    let eval = |t: &[f64], out: &mut [f64]| {
        let x: Vec<f64> = t.iter().map(|v| v.exp()).collect();
        residuals(&x, out);
        0.5 * out.iter().map(|r| r * r).sum::<f64>()
    };
    let (mut r, mut trial, mut shifted) = (vec![0.0; m], vec![0.0; m], vec![0.0; m]);
    let mut columns = vec![vec![0.0; m]; k];
    let mut cost = eval(&theta, &mut r);
    if !cost.is_finite() {
        return Err(FitError::NotFiniteStart);
    }
    let mut lambda = 1e-3;
    for _ in 0..max_iters {
        let (jtj, jtr) = normal_equations(&eval, &theta, &r, &mut columns, &mut shifted);
        let mut accepted = false;
        for _ in 0..30 {
            let mut a = jtj.clone();
            for j in 0..k {
                a[(j, j)] += lambda * jtj[(j, j)].max(1e-12);
            }
            let Some(step) = a.cholesky().map(|c| c.solve(&(-&jtr))) else {
                lambda *= 4.0;
                continue;
            };
            // The reduction the linear model promises: when even that is
            // below the tolerance, this is the minimum (rounding would
            // only reject the trial over and over).
            let promised = -(jtr.dot(&step)) - 0.5 * (&jtj * &step).dot(&step);
            if promised <= 1e-12 * cost || step.amax() < 1e-10 {
                break;
            }
            // x ≥ e^−40 ≈ 4e−18: a parameter tending to the bound stops
            // there instead of underflowing to 0.
            let t: Vec<f64> = theta
                .iter()
                .zip(step.iter())
                .map(|(a, b)| (a + b).max(-40.0))
                .collect();
            let c = eval(&t, &mut trial);
            if c.is_finite() && c <= cost {
                let small_step = step.amax() < 1e-10;
                let small_gain = cost - c <= 1e-12 * cost;
                theta = t;
                std::mem::swap(&mut r, &mut trial);
                cost = c;
                lambda = (lambda / 3.0).max(1e-12);
                accepted = !(small_step || small_gain);
                break;
            }
            lambda *= 4.0;
        }
        if !accepted {
            break;
        }
    }
    let x: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
    if x.iter().all(|v| v.is_finite()) && cost.is_finite() {
        Ok(x)
    } else {
        Err(FitError::NoFiniteSolution)
    }
}

/// J'J and J'r of the residuals `r` at `theta` (`eval` fills its second
/// argument with the residuals at its first), J by forward differences,
/// one column at a time into `columns` (`shifted` holds a column's
/// residuals): J itself, m × k, is never stored.
fn normal_equations(
    eval: &impl Fn(&[f64], &mut [f64]) -> f64,
    theta: &[f64],
    r: &[f64],
    columns: &mut [Vec<f64>],
    shifted: &mut [f64],
) -> (DMatrix<f64>, DVector<f64>) {
    let k = theta.len();
    for (j, col) in columns.iter_mut().enumerate() {
        let h = 1e-7 * theta[j].abs().max(1.0);
        let mut t = theta.to_vec();
        t[j] += h;
        eval(&t, shifted);
        for ((c, s), r) in col.iter_mut().zip(shifted.iter()).zip(r) {
            *c = (s - r) / h;
        }
    }
    let jtj = DMatrix::from_fn(k, k, |a, b| dot(&columns[a], &columns[b]));
    let jtr = DVector::from_fn(k, |a, _| dot(&columns[a], r));
    (jtj, jtr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_finds_a_positive_fit_and_tends_to_the_bound() {
        // y = a·t / (1 − b·t) at t = 0.1…0.8, a = 0.5, b = 0.9: nonlinear.
        let ts: Vec<f64> = (1..=8).map(|i| 0.1 * i as f64).collect();
        let y: Vec<f64> = ts.iter().map(|t| 0.5 * t / (1.0 - 0.9 * t)).collect();
        let res = |x: &[f64], out: &mut [f64]| {
            for (i, t) in ts.iter().enumerate() {
                out[i] = x[0] * t / (1.0 - x[1] * t) - y[i];
            }
        };
        let x = least_squares_positive(&res, 8, &[1.0, 0.5], 100).unwrap();
        assert!(
            (x[0] - 0.5).abs() < 1e-8 && (x[1] - 0.9).abs() < 1e-8,
            "{x:?}"
        );
        // The unconstrained minimum is negative; the bounded one tends to 0.
        let x = least_squares_positive(&|x, out| out[0] = x[0] + 1.0, 1, &[1.0], 100).unwrap();
        assert!(x[0] > 0.0 && x[0] < 1e-3, "{x:?}");
    }
}
