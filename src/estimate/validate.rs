//! Fitting every chosen method (on all rows, on each fold's training
//! rows and on each bootstrap resample), then cross-validation
//! (`crossval.rs`), the trust checks (`trust.rs`), selection and verdicts
//! (`verdicts.rs`) and bootstrap intervals and draws (`bootstrap.rs`):
//! [`estimate`].

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use super::background;
use super::bootstrap::{ONE_STEP_FROM, Percentile, Resamples, joint_draws};
use super::crossval::{Fits, MethodRun, Scorer, folds};
use super::identify::{identify, identify_runs};
use super::load;
use super::load_forms::LoadChoice;
use super::load_model::LoadModel;
use super::methods::Method;
use super::observations::{Diagnostics, Observations};
use super::outcome::{Report, RunSummary};
use super::trust::{self, Evidence};
use super::verdicts::{advice, combined_rows, judge};

/// Estimation settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Methods to run.
    pub methods: Vec<Method>,
    /// Cross-validation folds (≥ 2).
    pub folds: usize,
    /// Seed of folds and bootstrap.
    pub seed: u64,
    /// Bootstrap resamples for the confidence intervals.
    pub bootstrap: usize,
    /// Background-load intercept in the utilization regression.
    pub intercept: bool,
    /// Methods to average into a `combined` estimate (the reference study
    /// averaged rort and rortu).
    pub combine: Vec<Method>,
    /// Confidence level.
    pub confidence: f64,
    /// Joint bootstrap draws of the demands to report (0: none).
    pub draws: usize,
    /// The method whose draws to report [default: the recommended one].
    pub draws_method: Option<Method>,
    /// With several runs, how each class's demand moves with load
    /// (`load_model.rs`).
    pub load_dependence: Option<LoadChoice>,
    /// Fit the background law (`background.rs`): from the observations'
    /// total series, else with the intercept standing in.
    pub background: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            methods: Method::ALL.to_vec(),
            folds: 5,
            seed: 1,
            bootstrap: 200,
            intercept: false,
            combine: Vec::new(),
            confidence: 0.95,
            draws: 0,
            draws_method: None,
            load_dependence: None,
            background: false,
        }
    }
}

impl Config {
    /// The methods to run: the chosen ones, then those only combined.
    fn with_combined(&self) -> Vec<Method> {
        let mut methods = self.methods.clone();
        for m in &self.combine {
            if !methods.contains(m) {
                methods.push(*m);
            }
        }
        methods
    }
}

/// Estimates demands with every configured method, cross-validates and
/// selects, and attaches bootstrap CIs. Same seed, same numbers, whatever
/// the number of threads.
pub fn estimate(
    obs: &Observations,
    diagnostics: Diagnostics,
    cfg: &Config,
    resource: &str,
    interval_s: f64,
) -> Report {
    let n = obs.rows.len();
    let k = cfg.folds.clamp(2, n.max(2));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
    let fold_of = folds(n, k, &mut rng);
    let spans: Vec<std::ops::Range<usize>> = obs.runs.iter().map(|r| r.rows.clone()).collect();
    let boot = Resamples::new(&spans, cfg.bootstrap, &mut rng);
    let ident = (obs.n_classes() > 1).then(|| identify(obs, &(0..n).collect::<Vec<_>>()));
    let percentile = Percentile {
        confidence: cfg.confidence,
        widen: boot.widening(cfg.confidence, obs.n_classes()),
    };
    let scorer = Scorer::new(obs, &fold_of, k, ident.clone(), percentile);
    let fits = run_methods(obs, cfg, &fold_of, k, &boot);
    let background = trust::background(obs);
    let discipline_fit = trust::discipline_fit(obs);
    let per_run = if obs.runs.len() > 1 {
        load::per_run(obs)
    } else {
        Vec::new()
    };
    let evidence = Evidence {
        background: background.as_ref(),
        discipline: discipline_fit.as_ref(),
    };
    let judged = judge(&cfg.methods, cfg.intercept, &fits, &scorer, evidence);
    let recommended = judged.recommended();
    let verdicts = judged.verdicts(&cfg.methods, &fits, recommended.as_deref());
    let (mut estimates, mut failures) = (judged.estimates, judged.failures);
    if !cfg.combine.is_empty() {
        match combined_rows(&cfg.combine, &fits, &scorer) {
            Some(rows) => estimates.extend(rows),
            None => failures.push("combined: a combined method failed".into()),
        }
    }
    let (load_dependence, drifting) = load_step(obs, cfg, &per_run, &mut failures);
    let run_identifiability =
        (obs.runs.len() > 1 && obs.n_classes() > 1).then(|| identify_runs(obs));
    let (draws_method, draws) = draws(obs, cfg, &fits, recommended.as_deref(), &scorer);
    let background_work = cfg
        .background
        .then(|| background::fit(obs, cfg.seed, cfg.bootstrap, cfg.confidence))
        .flatten();
    Report {
        resource: resource.to_string(),
        servers: obs.servers,
        discipline: obs.discipline,
        interval_s,
        intervals: n,
        recommended,
        estimates,
        diagnostics,
        failures,
        seed: cfg.seed,
        folds: k,
        runs: obs.runs.iter().map(|r| RunSummary::of(obs, r)).collect(),
        advice: ident.as_ref().and_then(|i| advice(obs, i)),
        background,
        background_work,
        discipline_fit,
        verdicts,
        load_dependence,
        drifting,
        per_run,
        identifiability: ident,
        run_identifiability,
        draws_method,
        draws,
    }
}

/// With a load choice, the load model (its failure recorded); without,
/// the runs whose demands drift beyond their errors.
fn load_step(
    obs: &Observations,
    cfg: &Config,
    per_run: &[load::RunDemand],
    failures: &mut Vec<String>,
) -> (Option<LoadModel>, Vec<String>) {
    match cfg.load_dependence {
        Some(choice) => match super::load_model::load_model(obs, choice, cfg.confidence) {
            Ok(m) => (Some(m), Vec::new()),
            Err(why) => {
                failures.push(why.to_string());
                (None, Vec::new())
            }
        },
        None => (None, load::heterogeneous(obs, per_run)),
    }
}

/// The method whose joint draws the report carries (the one asked for, or
/// the `recommended` one; none unless draws are asked for) and its draws.
fn draws(
    obs: &Observations,
    cfg: &Config,
    fits: &Fits,
    recommended: Option<&str>,
    scorer: &Scorer<'_>,
) -> (Option<String>, Vec<std::collections::BTreeMap<String, f64>>) {
    let draws_method = cfg
        .draws_method
        .map(|m| m.id().to_string())
        .or_else(|| recommended.map(str::to_string))
        .filter(|_| cfg.draws > 0);
    let draws = draws_method
        .as_ref()
        .and_then(|id| fits.by_id(id))
        .and_then(|run| {
            let point = run.full.as_ref().ok()?;
            let widen = scorer.percentile.widen;
            Some(joint_draws(
                &obs.classes,
                point,
                &run.draws,
                cfg.draws,
                widen,
            ))
        })
        .unwrap_or_default();
    (draws_method, draws)
}

/// Every method (the chosen ones, then those only combined) on all rows,
/// on each fold's training rows, and on each bootstrap resample, methods
/// in parallel.
fn run_methods(
    obs: &Observations,
    cfg: &Config,
    fold_of: &[usize],
    k: usize,
    boot: &Resamples,
) -> Fits {
    let methods = cfg.with_combined();
    let n = obs.rows.len();
    let all: Vec<usize> = (0..n).collect();
    let train: Vec<Vec<usize>> = (0..k)
        .map(|f| (0..n).filter(|&i| fold_of[i] != f).collect())
        .collect();
    let runs = methods
        .par_iter()
        .map(|m| {
            let est = m.estimator(cfg.intercept);
            let full = est.estimate(obs, &all);
            // Many intervals: one Gauss–Newton step per resample from the
            // full fit instead of a refit (see `Linearized`).
            let one_step = match &full {
                Ok(d) if n >= ONE_STEP_FROM => est.linearize(obs, &all, d),
                _ => None,
            };
            // Folds and resamples in parallel too: the slowest method
            // (rort's refits) would otherwise hold one core while the
            // other idles. Collected in order, so the numbers do not
            // depend on the thread count.
            MethodRun {
                per_fold: train
                    .par_iter()
                    .map(|t| est.estimate(obs, t).ok())
                    .collect(),
                draws: boot
                    .starts
                    .par_iter()
                    .map(|b| match (&one_step, &full) {
                        (Some(l), _) => l.step(&boot.rows(b)),
                        (None, Ok(d)) => est.refit(obs, &boot.rows(b), d).ok(),
                        (None, Err(_)) => est.estimate(obs, &boot.rows(b)).ok(),
                    })
                    .collect(),
                full: full.map_err(|e| m.failed(e)),
            }
        })
        .collect();
    Fits { methods, runs }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::RunSpan;
    use crate::estimate::testdata::{estimated, quick, two_classes, two_classes_over, varying};

    #[test]
    fn draws_are_the_named_methods_and_only_when_asked() {
        let obs = two_classes(varying);
        let cfg = Config {
            bootstrap: 21,
            draws: 21,
            draws_method: Some(Method::Rr),
            ..quick(&[Method::Ur, Method::Rr])
        };
        let report = estimated(&obs, &cfg);
        assert_eq!(report.draws_method.as_deref(), Some("rr"));
        assert_eq!(report.draws.len(), 21);
        // Moved onto the estimate: the draws' median is rr's demand.
        for c in ["a", "b"] {
            let mut v: Vec<f64> = report.draws.iter().map(|d| d[c]).collect();
            v.sort_by(f64::total_cmp);
            let rr = report
                .estimates
                .iter()
                .find(|e| e.method == "rr" && e.class == c);
            assert!((v[10] - rr.unwrap().demand_s).abs() < 1e-12, "{c}");
        }
        let none = estimated(&obs, &Config { draws: 0, ..cfg });
        assert!(none.draws.is_empty() && none.draws_method.is_none());
    }

    #[test]
    fn per_run_demands_come_with_several_runs_only() {
        let mut obs = two_classes(varying);
        let report = estimated(&obs, &quick(&[Method::Ur]));
        assert!(report.per_run.is_empty());
        obs.runs = vec![
            RunSpan {
                name: "first".into(),
                rows: 0..30,
            },
            RunSpan {
                name: "second".into(),
                rows: 30..60,
            },
        ];
        let report = estimated(&obs, &quick(&[Method::Ur]));
        assert_eq!(report.per_run.len(), 2);
        // A run without class b keeps its demand of a, b's left empty.
        for row in &mut obs.rows[30..] {
            row.utilization -= 0.02 * row.throughput[1];
            (row.throughput[1], row.completions[1]) = (0.0, 0);
        }
        let report = estimated(&obs, &quick(&[Method::Ur]));
        let second = &report.per_run[1];
        assert_eq!(second.demand_s[1], None);
        let a = second.demand_s[0].unwrap();
        assert!((a - 0.05).abs() < 0.003, "{second:?}");
    }

    #[test]
    fn resamples_are_refitted_below_5000_intervals_and_one_newton_step_from_there() {
        for n in [60, ONE_STEP_FROM] {
            let obs = two_classes_over(n, varying);
            let cfg = Config {
                bootstrap: 21,
                draws: 21,
                draws_method: Some(Method::Rortu),
                ..quick(&[Method::Rortu])
            };
            let report = estimated(&obs, &cfg);
            // The resamples estimate() draws: after the folds, from its seed.
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
            folds(n, cfg.folds, &mut rng);
            let boot = Resamples::new(std::slice::from_ref(&(0..n)), cfg.bootstrap, &mut rng);
            let est = Method::Rortu.estimator(false);
            let all: Vec<usize> = (0..n).collect();
            let full = est.estimate(&obs, &all).unwrap();
            let step = est.linearize(&obs, &all, &full).unwrap();
            let draws: Vec<Option<Vec<f64>>> = boot
                .starts
                .iter()
                .map(|b| match n >= ONE_STEP_FROM {
                    true => step.step(&boot.rows(b)),
                    false => est.refit(&obs, &boot.rows(b), &full).ok(),
                })
                .collect();
            let want = joint_draws(&obs.classes, &full, &draws, 21, boot.widening(0.95, 2));
            assert_eq!(report.draws.len(), want.len());
            for (got, want) in report.draws.iter().zip(&want) {
                for c in ["a", "b"] {
                    assert!((got[c] - want[c]).abs() <= 1e-12 * want[c], "{n}: {c}");
                }
            }
        }
    }
}
