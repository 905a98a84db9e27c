//! A bounded minimiser: argmin's Nelder–Mead on θ = ln x, so that every
//! point it tries is positive (x > 0 by reparametrisation rather than by
//! clipping).

use argmin::core::{CostFunction, Error, Executor, State};
use argmin::solver::neldermead::NelderMead;

struct Wrapped<'a>(&'a dyn Fn(&[f64]) -> f64);

impl CostFunction for Wrapped<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, theta: &Self::Param) -> Result<f64, Error> {
        let x: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
        Ok((self.0)(&x))
    }
}

/// Minimises `cost(x)` over x > 0 from `start` (each entry > 0; zeros are
/// lifted to 1e-9). Returns the best point, or the solver's error in words:
/// never a zero vector in place of a failure.
pub fn minimize_positive(
    cost: &dyn Fn(&[f64]) -> f64,
    start: &[f64],
    max_iters: u64,
) -> Result<Vec<f64>, String> {
    let theta0: Vec<f64> = start.iter().map(|x| x.max(1e-9).ln()).collect();
    let mut simplex = vec![theta0.clone()];
    for i in 0..theta0.len() {
        let mut v = theta0.clone();
        v[i] += 0.2;
        simplex.push(v);
    }
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(1e-9)
        .map_err(|e| e.to_string())?;
    let res = Executor::new(Wrapped(cost), solver)
        .configure(|s| s.max_iters(max_iters))
        .run()
        .map_err(|e| e.to_string())?;
    let best = res
        .state()
        .get_best_param()
        .cloned()
        .ok_or("the optimiser returned no point")?;
    let x: Vec<f64> = best.iter().map(|t| t.exp()).collect();
    if x.iter().all(|v| v.is_finite()) && res.state().get_best_cost().is_finite() {
        Ok(x)
    } else {
        Err("the optimiser found no finite solution".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_positive_minimum_and_respects_the_bound() {
        let x = minimize_positive(
            &|x| (x[0] - 2.0).powi(2) + (x[1] - 0.5).powi(2),
            &[1.0, 1.0],
            2000,
        )
        .unwrap();
        assert!(
            (x[0] - 2.0).abs() < 1e-3 && (x[1] - 0.5).abs() < 1e-3,
            "{x:?}"
        );
        // The unconstrained minimum is negative; the bounded one tends to 0.
        let x = minimize_positive(&|x| (x[0] + 1.0).powi(2), &[1.0], 2000).unwrap();
        assert!(x[0] > 0.0 && x[0] < 1e-3, "{x:?}");
    }
}
