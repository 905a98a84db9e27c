//! How each class's demand moves with load, at the level of runs: every
//! run's mean utilization law U_j·c = Σ_c X_cj·D_c(load_j), with D_c one
//! of the [`LoadForm`]s, is linear in the forms' parameters, so every
//! combination of forms is one weighted least-squares fit over the runs
//! (rows weighted by 1/(U_j·c): relative residuals). A class absent from
//! a run contributes nothing to its row, so single-class runs are kept.
//!
//! A class gets a slope only with runs at two or more distinct loads
//! behind it; the form is chosen among the candidates (constant, a form
//! per class, one slope shared by every class) by leave-one-run-out
//! prediction of each held-out run's demand per request at its own
//! throughputs (the fixed point below), so a form wins only by predicting
//! runs it did not see.
//!
//! At a new load, U = Σ_c λ_c·D_c(U, X)/c is solved by bisection on
//! [0, 1) (U depends on D, which may depend on U), and each class's demand
//! there comes with the interval of its parameters (the uncertainty of
//! the fixed point's U itself left out).

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use super::load::{RunLoad, distinct_loads};
use crate::stats::student_t_quantile;

/// A class's demand as a function of the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadForm {
    /// D.
    Constant,
    /// D(U) = D̄·(1 + β·(U − Ū)): linear in the resource's utilization.
    LinearU,
    /// D(X) = a + b/X, X the run's total throughput: a fixed cost per
    /// request plus one shared by all requests (a pool, a cache warmed by
    /// everyone).
    InverseX,
}

impl LoadForm {
    /// Every form.
    pub const ALL: [LoadForm; 3] = [Self::Constant, Self::LinearU, Self::InverseX];

    /// Its name in files and on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::LinearU => "linear_u",
            Self::InverseX => "inverse_x",
        }
    }

    /// The form of `id`.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.id() == id)
    }

    /// The slope's regressor at utilization `u` and throughput `x`.
    fn phi(self, u: f64, x: f64, ubar: f64) -> f64 {
        match self {
            Self::Constant => 0.0,
            Self::LinearU => u - ubar,
            Self::InverseX => 1.0 / x,
        }
    }
}

/// Which forms to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadChoice {
    /// Chosen by leave-one-run-out prediction error.
    Auto,
    /// This form for every class with loads enough (constant for the
    /// others).
    Only(LoadForm),
}

/// A combination of forms: one per class, and perhaps one slope shared by
/// every class.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Spec {
    pub(super) forms: Vec<LoadForm>,
    pub(super) shared: Option<LoadForm>,
}

/// A column of the run-level design.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Col {
    Level(usize),
    Slope(usize, LoadForm),
    Shared(LoadForm),
}

impl Spec {
    pub(super) fn constant(k: usize) -> Self {
        Self {
            forms: vec![LoadForm::Constant; k],
            shared: None,
        }
    }

    /// In words, e.g. `ReadOnlyUser linear_u, others constant`.
    pub(super) fn name(&self, classes: &[String]) -> String {
        if let Some(f) = self.shared {
            return format!("{} shared by all classes", f.id());
        }
        let sloped: Vec<String> = self
            .forms
            .iter()
            .zip(classes)
            .filter(|(f, _)| **f != LoadForm::Constant)
            .map(|(f, c)| format!("{c} {}", f.id()))
            .collect();
        match (sloped.len(), self.forms.len()) {
            (0, _) => "constant".into(),
            (n, k) if n == k => sloped.join(", "),
            _ => format!("{}, others constant", sloped.join(", ")),
        }
    }

    /// The columns for the classes `present`.
    fn columns(&self, present: &[bool]) -> Vec<Col> {
        let mut cols: Vec<Col> = (0..self.forms.len())
            .filter(|&c| present[c])
            .map(Col::Level)
            .collect();
        for (c, &f) in self.forms.iter().enumerate() {
            if present[c] && f != LoadForm::Constant {
                cols.push(Col::Slope(c, f));
            }
        }
        cols.extend(self.shared.map(Col::Shared));
        cols
    }
}

/// A fitted combination of forms.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Fit {
    pub(super) cols: Vec<Col>,
    pub(super) coef: Vec<f64>,
    /// Covariance of `coef`.
    pub(super) cov: Vec<Vec<f64>>,
    /// Runs minus parameters.
    pub(super) dof: usize,
    pub(super) ubar: f64,
    pub(super) servers: f64,
}

/// A class counts as present in a run above this share of its
/// completions.
pub(super) const PRESENT_SHARE: f64 = 0.005;

pub(super) fn present(run: &RunLoad, c: usize) -> bool {
    run.class_throughput[c] > PRESENT_SHARE * run.throughput
}

impl Fit {
    /// `spec` through `runs` (weighted least squares); `None` when the
    /// runs do not determine its parameters (fewer runs than parameters,
    /// dependent columns, a slope with fewer than two loads behind it).
    pub(super) fn new(spec: &Spec, runs: &[&RunLoad], servers: f64, ubar: f64) -> Option<Self> {
        let k = spec.forms.len();
        let has: Vec<bool> = (0..k).map(|c| runs.iter().any(|r| present(r, c))).collect();
        for (c, &f) in spec.forms.iter().enumerate() {
            if f != LoadForm::Constant && has[c] {
                let loads: Vec<f64> = runs
                    .iter()
                    .filter(|r| present(r, c))
                    .map(|r| r.utilization)
                    .collect();
                if distinct_loads(&loads) < 2 {
                    return None;
                }
            }
        }
        let cols = spec.columns(&has);
        let (n, p) = (runs.len(), cols.len());
        if n < p || p == 0 {
            return None;
        }
        let a = DMatrix::from_fn(n, p, |j, i| {
            let r = runs[j];
            column_value(
                cols[i],
                r.utilization,
                r.throughput,
                &r.class_throughput,
                ubar,
            ) / (r.utilization * servers)
        });
        let sv = a.singular_values();
        if sv.min() <= 1e-10 * sv.max() {
            return None;
        }
        let fit = crate::numeric::least_squares(&a, &DVector::from_element(n, 1.0))?;
        let dof = n - p;
        // Relative scatter of the runs about the fit, never below what
        // the runs' own measurement noise gives.
        let noise = runs.iter().map(|r| r.relative_se.powi(2)).sum::<f64>() / n as f64;
        let scatter = if dof > 0 {
            fit.residual.norm_squared() / dof as f64
        } else {
            0.0
        };
        let cov = fit.inv_gram * scatter.max(noise);
        Some(Self {
            cols,
            coef: fit.x.iter().copied().collect(),
            cov: (0..p)
                .map(|i| (0..p).map(|j| cov[(i, j)]).collect())
                .collect(),
            dof,
            ubar,
            servers,
        })
    }

    /// Class `c`'s demand at utilization `u` and total throughput `x`, and
    /// its standard error.
    pub(super) fn demand(&self, c: usize, u: f64, x: f64) -> (f64, f64) {
        let g: Vec<f64> = self
            .cols
            .iter()
            .map(|&col| match col {
                Col::Level(d) if d == c => 1.0,
                Col::Slope(d, f) if d == c => f.phi(u, x, self.ubar),
                Col::Shared(f) => f.phi(u, x, self.ubar),
                _ => 0.0,
            })
            .collect();
        let d = g.iter().zip(&self.coef).map(|(g, b)| g * b).sum();
        let var: f64 = (0..g.len())
            .map(|i| {
                (0..g.len())
                    .map(|j| g[i] * self.cov[i][j] * g[j])
                    .sum::<f64>()
            })
            .sum();
        (d, var.max(0.0).sqrt())
    }

    /// Whether every class's demand is positive at every run's load it
    /// appears in and at the runs' mean load: a fit that is not (noisy
    /// runs of collinear classes can give one) is no physical model.
    pub(super) fn positive_on(&self, runs: &[RunLoad]) -> bool {
        let k = runs.first().map_or(0, |r| r.class_throughput.len());
        (0..k).all(|c| self.positive_for(c, runs))
    }

    /// The classes (of `names`) whose demand [`Fit::positive_on`] finds
    /// not positive.
    pub(super) fn not_positive(&self, runs: &[RunLoad], names: &[String]) -> Vec<String> {
        (0..names.len())
            .filter(|&c| !self.positive_for(c, runs))
            .map(|c| names[c].clone())
            .collect()
    }

    fn positive_for(&self, c: usize, runs: &[RunLoad]) -> bool {
        let n = runs.len() as f64;
        let mean_x = runs.iter().map(|r| r.throughput).sum::<f64>() / n;
        let at = |u: f64, x: f64| self.demand(c, u, x).0 > 0.0;
        let mut with = runs.iter().filter(|r| present(r, c)).peekable();
        with.peek().is_none()
            || (with.all(|r| at(r.utilization, r.throughput)) && at(self.ubar, mean_x))
    }

    /// The utilization at per-class throughputs `lambda` on `servers`: the
    /// root of Σ_c λ_c·D_c(U, X) − U·c in [0, 1) by bisection. `None`
    /// when there is none (saturated) or a demand is negative there.
    pub(super) fn utilization_at(&self, lambda: &[f64], servers: f64) -> Option<f64> {
        self.fixed_point(lambda, servers, false)
    }

    /// [`Fit::utilization_at`] as a prediction to score: negative demands
    /// count as 0 and a saturated load as U = 1, so a fit that breaks
    /// down at a held-out load scores badly instead of not at all.
    fn predicted_utilization(&self, lambda: &[f64], servers: f64) -> f64 {
        self.fixed_point(lambda, servers, true).unwrap_or(1.0)
    }

    /// h(U) = Σ_c λ_c·max(D_c(U, X), 0) − U·c is continuous, h(0) ≥ 0 and
    /// h(1) < 0 unless saturated: [0, 1] brackets a root, which bisection
    /// keeps bracketed (a demand below 0 at a trial U far from the root,
    /// as a steep linear form gives at U = 1, does not end the search).
    /// Without `clamp`, a root where a demand is negative is refused.
    fn fixed_point(&self, lambda: &[f64], servers: f64, clamp: bool) -> Option<f64> {
        let x: f64 = lambda.iter().sum();
        let demands = |u: f64| {
            lambda
                .iter()
                .enumerate()
                .filter(|&(_, &l)| l > 0.0)
                .map(move |(c, &l)| (l, self.demand(c, u, x).0))
        };
        let busy = |u: f64| demands(u).map(|(l, d)| l * d.max(0.0)).sum::<f64>() - u * servers;
        let (mut lo, mut hi) = (0.0, 1.0);
        if busy(hi) >= 0.0 {
            return None;
        }
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if busy(mid) >= 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let u = 0.5 * (lo + hi);
        (clamp || demands(u).all(|(_, d)| d >= 0.0)).then_some(u)
    }

    /// The two-sided quantile for intervals of level `confidence`.
    pub(super) fn quantile(&self, confidence: f64) -> f64 {
        if self.dof > 0 {
            student_t_quantile(confidence, self.dof as f64)
        } else {
            student_t_quantile(confidence, 1e5)
        }
    }

    /// The coefficient of `col` and its standard error.
    pub(super) fn param(&self, col: Col) -> Option<(f64, f64)> {
        let i = self.cols.iter().position(|&c| c == col)?;
        Some((self.coef[i], self.cov[i][i].max(0.0).sqrt()))
    }
}

fn column_value(col: Col, u: f64, x: f64, xs: &[f64], ubar: f64) -> f64 {
    match col {
        Col::Level(c) => xs[c],
        Col::Slope(c, f) => xs[c] * f.phi(u, x, ubar),
        Col::Shared(f) => x * f.phi(u, x, ubar),
    }
}

/// The mean relative error of each held-out run's predicted demand per
/// request (U·c/X at the fixed point of its throughputs) with `spec`
/// fitted on the other runs; over the runs whose classes the others all
/// have. `None` when some such fold cannot fit `spec`, or no run can be
/// held out.
pub(super) fn loro(spec: &Spec, runs: &[RunLoad], servers: f64, ubar: f64) -> Option<f64> {
    let k = spec.forms.len();
    let mut errors = Vec::new();
    for (j, held) in runs.iter().enumerate() {
        let train: Vec<&RunLoad> = runs
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != j)
            .map(|(_, r)| r)
            .collect();
        let covered = (0..k).all(|c| !present(held, c) || train.iter().any(|r| present(r, c)));
        if !covered {
            continue;
        }
        let fit = Fit::new(spec, &train, servers, ubar)?;
        let u = fit.predicted_utilization(&held.class_throughput, servers);
        let predicted = u * servers / held.throughput;
        errors.push((predicted - held.demand_s).abs() / held.demand_s);
    }
    (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(u: f64, xs: &[f64]) -> RunLoad {
        let x: f64 = xs.iter().sum();
        RunLoad {
            run: format!("u{u}"),
            utilization: u,
            throughput: x,
            class_throughput: xs.to_vec(),
            demand_s: u / x,
            relative_se: 0.001,
        }
    }

    #[test]
    fn exact_linear_demands_are_fitted_and_the_fixed_point_solves_its_equation() {
        // Class 0: D = 0.01·(1 − 0.5·(U − 0.4)); class 1 constant 0.02.
        let d0 = |u: f64| 0.01 * (1.0 - 0.5 * (u - 0.4));
        let runs: Vec<RunLoad> = [
            (10.0, 5.0),
            (20.0, 5.0),
            (30.0, 2.0),
            (5.0, 15.0),
            (0.0, 20.0),
        ]
        .iter()
        .map(|&(a, b)| {
            // U = a·d0(U) + b·0.02, linear in U.
            let u = (a * 0.01 * (1.0 + 0.2) + b * 0.02) / (1.0 + a * 0.005);
            assert!((u - (a * d0(u) + b * 0.02)).abs() < 1e-12);
            run(u, &[a, b])
        })
        .collect();
        let spec = Spec {
            forms: vec![LoadForm::LinearU, LoadForm::Constant],
            shared: None,
        };
        let refs: Vec<&RunLoad> = runs.iter().collect();
        let fit = Fit::new(&spec, &refs, 1.0, 0.4).unwrap();
        let (d, _) = fit.demand(0, 0.7, 1.0);
        assert!((d - d0(0.7)).abs() < 1e-12, "{d}");
        assert!((fit.demand(1, 0.9, 1.0).0 - 0.02).abs() < 1e-12);
        let u = fit.utilization_at(&[25.0, 6.0], 1.0).unwrap();
        assert!((u - (25.0 * d0(u) + 6.0 * 0.02)).abs() < 1e-9, "{u}");
        assert!(loro(&spec, &runs, 1.0, 0.4).unwrap() < 1e-9);
        // Saturated (120·0.007 + 20·0.02 > 1 at U = 1): no root below 1.
        assert!(fit.utilization_at(&[120.0, 20.0], 1.0).is_none());
        // A slope with one load behind it is not fitted.
        let one: Vec<&RunLoad> = vec![&runs[0], &runs[4]];
        assert!(Fit::new(&spec, &one, 1.0, 0.4).is_none());
    }

    #[test]
    fn a_fit_with_a_class_below_zero_is_not_positive_and_names_it() {
        // Two nearly collinear mixes: a·10 + b·10 = 0.2 and
        // a·10.5 + b·9.5 = 0.15 solve to a = -0.04 s, b = 0.06 s exactly.
        let runs = [run(0.2, &[10.0, 10.0]), run(0.15, &[10.5, 9.5])];
        let refs: Vec<&RunLoad> = runs.iter().collect();
        let fit = Fit::new(&Spec::constant(2), &refs, 1.0, 0.175).unwrap();
        assert!((fit.demand(0, 0.2, 20.0).0 + 0.04).abs() < 1e-12);
        assert!((fit.demand(1, 0.2, 20.0).0 - 0.06).abs() < 1e-12);
        assert!(!fit.positive_on(&runs));
        let names = ["a".to_string(), "b".to_string()];
        assert_eq!(fit.not_positive(&runs, &names), ["a"]);
        // Separated mixes with positive demands pass; a class absent from
        // every run is not held against the fit.
        let runs = [run(0.3, &[10.0, 10.0, 0.0]), run(0.25, &[20.0, 2.5, 0.0])];
        let refs: Vec<&RunLoad> = runs.iter().collect();
        let fit = Fit::new(&Spec::constant(3), &refs, 1.0, 0.275).unwrap();
        assert!(fit.positive_on(&runs), "{:?}", fit.coef);
    }
}
