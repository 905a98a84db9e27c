//! The one-step bootstrap's expansion of a least-squares fit
//! ([`Linearized`]).

/// A least-squares fit expanded to second order at its estimate D̂, in
/// θ = ln D: each row's gradient and Hessian of its share of the cost. A
/// resample's fit is then one Newton step from θ̂ with the sums over the
/// resample's rows, δ = −(Σ H)⁻¹ Σ g: the one-step bootstrap (Davidson &
/// MacKinnon 1999), equal to refitting to second order in δ and far
/// cheaper when there are many intervals. The Hessian keeps the residuals'
/// curvature (Σ r·∇²r): with 20 % noise on response times near U 0.8 the
/// Gauss–Newton J'J alone moved a resample's fit only two thirds of the
/// way. The fit's normalisations (each class's mean response, rort's
/// throughput calibration) stay the full data's.
#[derive(Debug, Clone)]
pub struct Linearized {
    theta: Vec<f64>,
    /// Per row of the observations, k² + k numbers each, row after row:
    /// the Hessian (row-major, k×k) followed by the gradient (flat: the
    /// resamples read them in random blocks).
    rows: Vec<f64>,
    /// Per row of the observations: whether it was in the fit.
    fitted: Vec<bool>,
}

impl Linearized {
    /// Expands ½‖r‖² of `residuals` (`width` per row of `rows`, in order)
    /// at `at` by central differences in θ.
    pub fn new(
        residuals: &dyn Fn(&[f64], &mut [f64]),
        width: usize,
        rows: &[usize],
        at: &[f64],
    ) -> Self {
        let k = at.len();
        let m = width * rows.len();
        let theta: Vec<f64> = at.iter().map(|x| x.max(1e-18).ln()).collect();
        let h = 1e-4;
        // Residuals at θ̂ moved by (a·h, b·h) along classes i and j.
        let at_shift = |moves: &[(usize, f64)]| {
            let mut t = theta.clone();
            for &(i, d) in moves {
                t[i] += d * h;
            }
            let x: Vec<f64> = t.iter().map(|v| v.exp()).collect();
            let mut out = vec![0.0; m];
            residuals(&x, &mut out);
            out
        };
        let r0 = at_shift(&[]);
        let plus: Vec<Vec<f64>> = (0..k).map(|i| at_shift(&[(i, 1.0)])).collect();
        let minus: Vec<Vec<f64>> = (0..k).map(|i| at_shift(&[(i, -1.0)])).collect();
        let jac: Vec<Vec<f64>> = (0..k)
            .map(|i| {
                (0..m)
                    .map(|e| (plus[i][e] - minus[i][e]) / (2.0 * h))
                    .collect()
            })
            .collect();
        // ∇²r, each pair once: (i, j, values over the residuals).
        let mut second: Vec<(usize, usize, Vec<f64>)> = Vec::new();
        for i in 0..k {
            let v = (0..m)
                .map(|e| (plus[i][e] - 2.0 * r0[e] + minus[i][e]) / (h * h))
                .collect();
            second.push((i, i, v));
            for j in i + 1..k {
                let pp = at_shift(&[(i, 1.0), (j, 1.0)]);
                let pm = at_shift(&[(i, 1.0), (j, -1.0)]);
                let mp = at_shift(&[(i, -1.0), (j, 1.0)]);
                let mm = at_shift(&[(i, -1.0), (j, -1.0)]);
                let v = (0..m)
                    .map(|e| (pp[e] - pm[e] - mp[e] + mm[e]) / (4.0 * h * h))
                    .collect();
                second.push((i, j, v));
            }
        }
        let size = rows.iter().max().map_or(0, |m| m + 1);
        let (mut out, mut fitted) = (vec![0.0; size * (k * k + k)], vec![false; size]);
        for (q, &row) in rows.iter().enumerate() {
            let v = &mut out[row * (k * k + k)..(row + 1) * (k * k + k)];
            v.fill(0.0);
            for e in q * width..(q + 1) * width {
                for a in 0..k {
                    v[k * k + a] += jac[a][e] * r0[e];
                    for b in 0..k {
                        v[a * k + b] += jac[a][e] * jac[b][e];
                    }
                }
                for (i, j, d2) in &second {
                    v[i * k + j] += r0[e] * d2[e];
                    if i != j {
                        v[j * k + i] += r0[e] * d2[e];
                    }
                }
            }
            fitted[row] = true;
        }
        Self {
            theta,
            rows: out,
            fitted,
        }
    }

    /// The one-step fit of a resample (rows of the observations, repeats
    /// counted); `None` when its Hessian is not positive definite or a
    /// row was not fitted.
    pub fn step(&self, rows: &[usize]) -> Option<Vec<f64>> {
        let k = self.theta.len();
        let mut sum = vec![0.0; k * k + k];
        for &i in rows {
            if !*self.fitted.get(i)? {
                return None;
            }
            let v = &self.rows[i * (k * k + k)..(i + 1) * (k * k + k)];
            for (s, x) in sum.iter_mut().zip(v) {
                *s += x;
            }
        }
        let hessian = nalgebra::DMatrix::from_row_slice(k, k, &sum[..k * k]);
        let gradient = nalgebra::DVector::from_column_slice(&sum[k * k..]);
        let delta = hessian.cholesky()?.solve(&(-gradient));
        Some(
            self.theta
                .iter()
                .zip(delta.iter())
                .map(|(t, d)| (t + d).max(-40.0).exp())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::estimate::{Method, Observations, Row};

    #[test]
    fn one_gauss_newton_step_from_the_full_fit_matches_a_refit() {
        // 600 noisy intervals of one class (D = 0.1 s, one server): the
        // one-step fit of a resample is its refit to first order.
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(crate::test_seed(5));
        let rows: Vec<Row> = (0..600)
            .map(|_| {
                let u = 0.2 + 0.6 * rng.random::<f64>();
                // Independent noise on R and U, as measurement noise is.
                let wobble = 0.8 + 0.4 * rng.random::<f64>();
                let u_noise = 0.95 + 0.1 * rng.random::<f64>();
                let n = u / (1.0 - u);
                Row {
                    length: 30.0,
                    throughput: vec![u / 0.1],
                    response: vec![Some(0.1 * (1.0 + n) * wobble)],
                    completions: vec![(u / 0.1 * 30.0) as u64],
                    utilization: u * u_noise,
                    in_system: vec![n],
                    arrived: Vec::new(),
                }
            })
            .collect();
        let obs = Observations::new(vec!["a".into()], 1, rows);
        let all: Vec<usize> = (0..600).collect();
        {
            let m = Method::Rortu;
            let est = m.estimator(false);
            let full = est.estimate(&obs, &all).unwrap();
            let lin = est.linearize(&obs, &all, &full).unwrap();
            let at_full = lin.step(&all).unwrap();
            assert!((at_full[0] - full[0]).abs() < 1e-6 * full[0], "{m:?}");
            // Twenty moving-block resamples, blocks of 8: one alone may
            // barely move the fit (seed sets 4 and 6 of 20 drew one that
            // moved it by under 1e-4), twenty together do.
            let (mut moved, mut off) = (0.0, 0.0);
            for _ in 0..20 {
                let resample: Vec<usize> = (0..75)
                    .flat_map(|_| {
                        let s = rng.random_range(0..592);
                        s..s + 8
                    })
                    .collect();
                let refit = est.estimate(&obs, &resample).unwrap()[0];
                let step = lin.step(&resample).unwrap()[0];
                moved += (refit - full[0]).abs();
                off += (step - refit).abs();
            }
            assert!(moved > 20.0 * 1e-4, "{m:?}: the resamples must move it");
            // The step holds the fit's normalisations (each class's mean
            // response) at the full data's, where a refit recomputes them:
            // a small part of the move. (rort is not expanded: its
            // throughput calibration, redone on each resample, moved a
            // block resample's refit by 80 % of the step.)
            assert!(
                off < 0.15 * moved,
                "{m:?}: the steps miss the refits by {off}, which moved {moved}"
            );
        }
    }
}
