//! Fitting every chosen method, blocked k-fold cross-validation, selection,
//! combination and bootstrap confidence intervals.

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::Serialize;

use super::{Diagnostics, EstimateError, Method, Observations};
use crate::numeric::response_factor;
use crate::stats::quantile_sorted as quantile;

/// Utilization at which validation stops trusting the queueing formula
/// (a predicted U ≥ 1 would give an infinite or negative response time).
const U_GUARD: f64 = 0.995;

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
    /// With several runs, fit D(U) = D₀·(1 + β·(U − Ū)) per class.
    pub load_dependence: bool,
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
            load_dependence: false,
        }
    }
}

/// One run of the data, as the fit saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// Its name (the requests file).
    pub name: String,
    /// Intervals used.
    pub intervals: usize,
    /// Mean utilization over its intervals (fraction).
    pub mean_utilization: f64,
    /// Share of the completions per class.
    pub class_mix: std::collections::BTreeMap<String, f64>,
}

impl RunSummary {
    fn of(obs: &Observations, span: &super::RunSpan) -> Self {
        let rows = &obs.rows[span.rows.clone()];
        let done: Vec<u64> = (0..obs.n_classes())
            .map(|r| rows.iter().map(|x| x.completions[r]).sum())
            .collect();
        let total = done.iter().sum::<u64>().max(1) as f64;
        Self {
            name: span.name.clone(),
            intervals: rows.len(),
            mean_utilization: rows.iter().map(|x| x.utilization).sum::<f64>()
                / rows.len().max(1) as f64,
            class_mix: obs
                .classes
                .iter()
                .zip(&done)
                .map(|(c, &n)| (c.clone(), n as f64 / total))
                .collect(),
        }
    }
}

/// One demand estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Method id (or `combined(a+b)`).
    pub method: String,
    /// Class.
    pub class: String,
    /// Mean demand per request, seconds.
    pub demand_s: f64,
    /// Lower end of the bootstrap CI, seconds.
    pub ci_low_s: Option<f64>,
    /// Upper end of the bootstrap CI, seconds.
    pub ci_high_s: Option<f64>,
    /// Cross-validated mean relative response-time error (the method's
    /// demands pushed through the M/M/c formula with predicted U).
    pub rel_rt_error: Option<f64>,
    /// Cross-validated mean relative utilization error.
    pub rel_util_error: Option<f64>,
    /// Whether the data determine this value (see
    /// [`super::Identifiability`]); an undetermined class has no interval.
    pub identifiable: bool,
    /// Why the method's fit is not to be trusted on these data (it is then
    /// kept out of `recommended`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distrusted: Option<String>,
}

/// Why a method was or was not recommended, in words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Method id.
    pub method: String,
    /// Whether it is the recommended one.
    pub recommended: bool,
    /// Why.
    pub reason: String,
}

/// The class name of the mix-weighted mean demand rows.
pub const MIX: &str = "(mix)";

/// The outcome of [`estimate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Resource.
    pub resource: String,
    /// Servers.
    pub servers: u32,
    /// The discipline the per-class equations assumed.
    pub discipline: super::Discipline,
    /// Interval length, seconds.
    pub interval_s: f64,
    /// Intervals used.
    pub intervals: usize,
    /// The method with the least cross-validated RT + utilization error.
    pub recommended: Option<String>,
    /// Estimates, method by method, class by class.
    pub estimates: Vec<Estimate>,
    /// What was left out and the collinearity diagnostic.
    pub diagnostics: Diagnostics,
    /// Methods that failed, with the reason.
    pub failures: Vec<String>,
    /// Seed of folds and bootstrap.
    pub seed: u64,
    /// Folds.
    pub folds: usize,
    /// The runs fitted together.
    pub runs: Vec<RunSummary>,
    /// Which per-class demands the data determine (several classes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifiability: Option<super::Identifiability>,
    /// What to do when the data cannot separate the classes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    /// Utilization the traced requests do not explain, when there is some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<super::Background>,
    /// With several classes: how the response times follow each
    /// discipline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discipline_fit: Option<super::DisciplineFit>,
    /// Per method, why it was or was not recommended.
    pub verdicts: Vec<Verdict>,
    /// With several runs: each run's demands by the utilization law.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_run: Vec<super::RunDemand>,
    /// With `load_dependence`: D(U) per class.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub load_dependence: Vec<super::LoadDependence>,
    /// The classes whose per-run demands differ by more than their errors
    /// allow, when load dependence was not fitted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drifting: Vec<String>,
    /// The method whose joint bootstrap draws follow (with `draws`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draws_method: Option<String>,
    /// Joint bootstrap draws of the demands, class → seconds, when asked
    /// for: they carry the estimate's uncertainty into predictions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub draws: Vec<std::collections::BTreeMap<String, f64>>,
}

/// Intervals from which the least-squares methods (`rort`, `rortu`) draw
/// their bootstrap by one Gauss–Newton step rather than by refitting: the
/// resample's fit then lies within O(1/√n) of the full one, where one
/// step is exact to first order. (On 53,000 intervals the refits took
/// 14 of the 16.6 s of an estimate.)
const ONE_STEP_FROM: usize = 5000;

/// Blocked folds: each block of `k` consecutive intervals gets a random
/// permutation of the fold ids, so every fold samples the whole trace.
fn folds(n: usize, k: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<usize> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut perm: Vec<usize> = (0..k).collect();
        for i in (1..k).rev() {
            let j = rng.random_range(0..=i);
            perm.swap(i, j);
        }
        out.extend(perm);
    }
    out.truncate(n);
    out
}

/// Moving-block bootstrap resamples (block length ≈ n^(1/3) within each
/// run) keep the short-range correlation of neighbouring intervals; blocks
/// never cross a run boundary, and each run keeps its own number of rows.
///
/// A resample is kept as its block starts and expanded only while a method
/// fits it: 200 resamples of 50,000 intervals would otherwise hold 80 MB of
/// indices.
struct Resamples {
    /// Per run: (first row, rows, block length).
    segments: Vec<(usize, usize, usize)>,
    n: usize,
    starts: Vec<Vec<usize>>,
}

impl Resamples {
    fn new(runs: &[std::ops::Range<usize>], b: usize, rng: &mut Xoshiro256PlusPlus) -> Self {
        let segments: Vec<(usize, usize, usize)> = runs
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| {
                let n = r.len();
                (r.start, n, ((n as f64).cbrt().round() as usize).clamp(1, n))
            })
            .collect();
        let starts = (0..b)
            .map(|_| {
                let mut s = Vec::new();
                for &(first, n, len) in &segments {
                    for _ in 0..n.div_ceil(len) {
                        s.push(first + rng.random_range(0..=(n - len)));
                    }
                }
                s
            })
            .collect();
        let n = segments.iter().map(|s| s.1).sum();
        Self {
            segments,
            n,
            starts,
        }
    }

    /// How much wider than the percentile spread an interval at
    /// `confidence` must be: t over z at the resamples' degrees of freedom,
    /// the number of blocks less the `params` fitted. The blocks are the
    /// resample's independent pieces, so the bootstrap's spread is itself
    /// estimated from that many; read with z, the intervals of a one-hour
    /// trace (24 blocks) held the truth in 89.5–92 % of seeds for two
    /// classes instead of 95 %.
    fn widening(&self, confidence: f64, params: usize) -> f64 {
        let blocks: usize = self.segments.iter().map(|&(_, n, l)| n.div_ceil(l)).sum();
        let dof = blocks.saturating_sub(params).max(1) as f64;
        let z = crate::stats::student_t_quantile(confidence, f64::INFINITY);
        crate::stats::student_t_quantile(confidence, dof) / z
    }

    /// The rows of resample `starts`.
    fn rows(&self, starts: &[usize]) -> Vec<usize> {
        let mut v = Vec::with_capacity(self.n + self.segments.len() * 8);
        let mut blocks = starts.iter();
        for &(_, n, len) in &self.segments {
            let from = v.len();
            for &s in blocks.by_ref().take(n.div_ceil(len)) {
                v.extend(s..s + len);
            }
            v.truncate(from + n);
        }
        v
    }
}

/// Relative errors of demands `d` on `rows`: (response time, utilization).
fn errors(obs: &Observations, d: &[f64], rows: &[usize]) -> (Option<f64>, Option<f64>) {
    let (mut rt, mut rtw, mut ut, mut utn) = (0.0, 0.0, 0.0, 0.0);
    for &i in rows {
        let row = &obs.rows[i];
        let u_hat = obs.predicted_utilization(i, d);
        let f = response_factor(u_hat.min(U_GUARD), obs.servers);
        for (r, resp) in row.response.iter().enumerate() {
            let Some(obs_rt) = resp.filter(|v| *v > 0.0) else {
                continue;
            };
            let w = row.completions[r] as f64;
            rt += w * ((obs.predicted_response(i, r, d, f) - obs_rt) / obs_rt).abs();
            rtw += w;
        }
        if row.utilization > 0.0 {
            ut += ((u_hat - row.utilization) / row.utilization).abs();
            utn += 1.0;
        }
    }
    ((rtw > 0.0).then(|| rt / rtw), (utn > 0.0).then(|| ut / utn))
}

struct MethodRun {
    full: Result<Vec<f64>, EstimateError>,
    per_fold: Vec<Option<Vec<f64>>>,
    draws: Vec<Option<Vec<f64>>>,
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
    let ident = (obs.n_classes() > 1).then(|| super::identify(obs, &(0..n).collect::<Vec<_>>()));
    let scorer = Scorer {
        obs,
        test: (0..k)
            .map(|f| (0..n).filter(|&i| fold_of[i] == f).collect())
            .collect(),
        confidence: cfg.confidence,
        ident: ident.clone(),
        widen: boot.widening(cfg.confidence, obs.n_classes()),
    };
    let mut methods = cfg.methods.clone();
    for m in &cfg.combine {
        if !methods.contains(m) {
            methods.push(*m);
        }
    }
    let runs = run_methods(obs, cfg, &methods, &fold_of, k, &boot);
    let background = super::trust::background(obs);
    let discipline_fit = super::trust::discipline_fit(obs);
    let per_run = if obs.runs.len() > 1 {
        super::load::per_run(obs)
    } else {
        Vec::new()
    };
    let Judged {
        mut estimates,
        mut failures,
        scored,
        distrusted,
    } = judge(
        cfg,
        &methods,
        &runs,
        &scorer,
        super::trust::Evidence {
            background: background.as_ref(),
            discipline: discipline_fit.as_ref(),
        },
    );
    let recommended = scored
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|s| s.0.clone());
    let verdicts = verdicts(
        cfg,
        &runs,
        &methods,
        &scored,
        &distrusted,
        recommended.as_deref(),
    );
    if !cfg.combine.is_empty() {
        match combined_rows(cfg, &methods, &runs, &scorer) {
            Some(rows) => estimates.extend(rows),
            None => failures.push("combined: a combined method failed".into()),
        }
    }
    let (load_dependence, drifting) = match cfg.load_dependence {
        true => (super::load::fit(obs, &per_run), Vec::new()),
        false => (Vec::new(), super::load::heterogeneous(obs, &per_run)),
    };
    let draws_method = cfg
        .draws_method
        .map(|m| m.id().to_string())
        .or_else(|| recommended.clone())
        .filter(|_| cfg.draws > 0);
    let draws = draws_method
        .as_ref()
        .and_then(|id| methods.iter().position(|m| m.id() == id))
        .map(|i| joint_draws(obs, &runs[i], cfg.draws, scorer.widen))
        .unwrap_or_default();
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
        discipline_fit,
        verdicts,
        load_dependence,
        drifting,
        per_run,
        identifiability: ident,
        draws_method,
        draws,
    }
}

/// The first `n` successful bootstrap fits of a method, class → demand,
/// each class moved as its interval is (the draws' median onto the
/// estimate, their spread around it widened by `widen`), so that the
/// draws' quantiles are the reported intervals.
fn joint_draws(
    obs: &Observations,
    run: &MethodRun,
    n: usize,
    widen: f64,
) -> Vec<std::collections::BTreeMap<String, f64>> {
    let Ok(point) = &run.full else {
        return Vec::new();
    };
    let median: Vec<f64> = (0..obs.n_classes())
        .map(|r| {
            let mut v: Vec<f64> = run
                .draws
                .iter()
                .flatten()
                .map(|d| d[r])
                .filter(|x| x.is_finite())
                .collect();
            v.sort_by(f64::total_cmp);
            if v.is_empty() {
                point[r]
            } else {
                quantile(&v, 0.5)
            }
        })
        .collect();
    run.draws
        .iter()
        .flatten()
        .take(n)
        .map(|d| {
            let moved = (0..d.len()).map(|r| (point[r] + widen * (d[r] - median[r])).max(0.0));
            obs.classes.iter().cloned().zip(moved).collect()
        })
        .collect()
}

/// The rows of `combined(a+b…)`, the average of the `combine` methods;
/// `None` when one of them failed.
fn combined_rows(
    cfg: &Config,
    methods: &[Method],
    runs: &[MethodRun],
    scorer: &Scorer<'_>,
) -> Option<Vec<Estimate>> {
    let parts: Vec<&MethodRun> = cfg
        .combine
        .iter()
        .map(|m| &runs[methods.iter().position(|x| x == m).expect("run")])
        .collect();
    let run = combined(&parts, scorer.obs.n_classes())?;
    let ids: Vec<&str> = cfg.combine.iter().map(|m| m.id()).collect();
    let name = format!("combined({})", ids.join("+"));
    let d = run.full.as_ref().expect("a combined estimate");
    Some(scorer.rows(&name, d, &run).0)
}

/// What the chosen methods' runs say: their rows, the failures, the scores
/// of the trusted ones and why the others are not trusted.
struct Judged {
    estimates: Vec<Estimate>,
    failures: Vec<String>,
    scored: Vec<(String, f64)>,
    distrusted: Vec<(String, String)>,
}

fn judge(
    cfg: &Config,
    methods: &[Method],
    runs: &[MethodRun],
    scorer: &Scorer<'_>,
    evidence: super::trust::Evidence<'_>,
) -> Judged {
    let mut j = Judged {
        estimates: Vec::new(),
        failures: Vec::new(),
        scored: Vec::new(),
        distrusted: Vec::new(),
    };
    for (m, run) in methods.iter().zip(runs) {
        if !cfg.methods.contains(m) {
            continue;
        }
        let d = match &run.full {
            Ok(d) => d,
            Err(e) => {
                j.failures.push(e.to_string());
                continue;
            }
        };
        let (mut rows, errors) = scorer.rows(m.id(), d, run);
        let trend = super::trust::load_trend(scorer.obs, *m, d);
        let why = super::trust::distrust(*m, errors, evidence, cfg.intercept, trend.as_ref());
        for r in &mut rows {
            r.distrusted.clone_from(&why);
        }
        j.estimates.extend(rows);
        match why {
            Some(w) => j.distrusted.push((m.id().to_string(), w)),
            None => j.scored.extend(
                errors
                    .0
                    .zip(errors.1)
                    .map(|(a, b)| (m.id().to_string(), a + b)),
            ),
        }
    }
    j
}

/// Every method on all rows, on each fold's training rows, and on each
/// bootstrap resample, methods in parallel.
fn run_methods(
    obs: &Observations,
    cfg: &Config,
    methods: &[Method],
    fold_of: &[usize],
    k: usize,
    boot: &Resamples,
) -> Vec<MethodRun> {
    let n = obs.rows.len();
    let all: Vec<usize> = (0..n).collect();
    let train: Vec<Vec<usize>> = (0..k)
        .map(|f| (0..n).filter(|&i| fold_of[i] != f).collect())
        .collect();
    methods
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
                full,
            }
        })
        .collect()
}

/// The average of `parts` on all rows, per fold and per resample (where
/// every part has a value); `None` when a part failed on all rows.
fn combined(parts: &[&MethodRun], nc: usize) -> Option<MethodRun> {
    if !parts.iter().all(|p| p.full.is_ok()) {
        return None;
    }
    let mean = |vs: Vec<&Vec<f64>>| -> Vec<f64> {
        (0..nc)
            .map(|r| vs.iter().map(|v| v[r]).sum::<f64>() / vs.len() as f64)
            .collect()
    };
    let each = |get: &dyn Fn(&MethodRun) -> Option<&Vec<f64>>| -> Option<Vec<f64>> {
        parts
            .iter()
            .map(|p| get(p))
            .collect::<Option<Vec<_>>>()
            .map(&mean)
    };
    let (folds, draws) = (parts[0].per_fold.len(), parts[0].draws.len());
    Some(MethodRun {
        full: Ok(mean(
            parts.iter().map(|p| p.full.as_ref().unwrap()).collect(),
        )),
        per_fold: (0..folds)
            .map(|f| each(&|p| p.per_fold[f].as_ref()))
            .collect(),
        draws: (0..draws).map(|b| each(&|p| p.draws[b].as_ref())).collect(),
    })
}

/// Turns a method's runs into report rows: cross-validation errors on the
/// held-out folds and percentile bootstrap intervals.
struct Scorer<'a> {
    obs: &'a Observations,
    /// Held-out rows of each fold.
    test: Vec<Vec<usize>>,
    confidence: f64,
    /// For several classes: which demands the data determine.
    ident: Option<super::Identifiability>,
    /// The percentile spread's factor ([`Resamples::widening`]).
    widen: f64,
}

impl Scorer<'_> {
    /// Mean relative R and U errors over the folds where the method ran;
    /// `None` where some fold has no value.
    fn cv_errors(&self, per_fold: &[Option<Vec<f64>>]) -> (Option<f64>, Option<f64>) {
        let (mut rt_sum, mut ut_sum, mut folds_ok) = (0.0, 0.0, 0usize);
        let (mut rt_ok, mut ut_ok) = (true, true);
        for (f, df) in per_fold.iter().enumerate() {
            let Some(df) = df else { continue };
            let (rt, ut) = errors(self.obs, df, &self.test[f]);
            match rt {
                Some(v) => rt_sum += v,
                None => rt_ok = false,
            }
            match ut {
                Some(v) => ut_sum += v,
                None => ut_ok = false,
            }
            folds_ok += 1;
        }
        let rel_rt = (folds_ok > 0 && rt_ok).then(|| rt_sum / folds_ok as f64);
        let rel_ut = (folds_ok > 0 && ut_ok).then(|| ut_sum / folds_ok as f64);
        (rel_rt, rel_ut)
    }

    /// One row per class (and the mix-weighted mean where some class is
    /// not determined), and the method's cross-validated (R, U) errors.
    fn rows(
        &self,
        name: &str,
        d: &[f64],
        run: &MethodRun,
    ) -> (Vec<Estimate>, (Option<f64>, Option<f64>)) {
        let (rel_rt, rel_ut) = self.cv_errors(&run.per_fold);
        let row = |class: &str, demand_s: f64, draw: &dyn Fn(&[f64]) -> f64, identifiable| {
            let (ci_low_s, ci_high_s) = match identifiable {
                true => self.interval(run, demand_s, draw),
                false => (None, None),
            };
            Estimate {
                method: name.to_string(),
                class: class.to_string(),
                demand_s,
                ci_low_s,
                ci_high_s,
                rel_rt_error: rel_rt,
                rel_util_error: rel_ut,
                identifiable,
                distrusted: None,
            }
        };
        let mut rows: Vec<Estimate> = (0..self.obs.n_classes())
            .map(|r| {
                let ok = self.ident.as_ref().is_none_or(|i| i.identifiable[r]);
                row(&self.obs.classes[r], d[r], &|x: &[f64]| x[r], ok)
            })
            .collect();
        if let Some(i) = self.ident.as_ref().filter(|i| !i.all()) {
            let mix = |x: &[f64]| x.iter().zip(&i.weights).map(|(d, w)| d * w).sum::<f64>();
            rows.push(row(MIX, mix(d), &mix, true));
        }
        (rows, (rel_rt, rel_ut))
    }

    /// The percentile bootstrap interval of `draw` over the resampled
    /// fits, when at least 20 (and 90 % of them) succeeded.
    fn interval(
        &self,
        run: &MethodRun,
        point: f64,
        draw: &dyn Fn(&[f64]) -> f64,
    ) -> (Option<f64>, Option<f64>) {
        let alpha = 0.5 * (1.0 - self.confidence);
        let mut v: Vec<f64> = run
            .draws
            .iter()
            .flatten()
            .map(|d| draw(d))
            .filter(|x| x.is_finite())
            .collect();
        v.sort_by(f64::total_cmp);
        let ok = v.len() >= 20 && v.len() * 10 >= run.draws.len() * 9;
        if !ok {
            return (None, None);
        }
        // The percentile interval moved so that the draws' median sits on
        // the estimate: what the resampled fits say about the spread,
        // around the number reported (never an interval that misses it),
        // widened for the few blocks it was learnt from.
        let (lo, mid, hi) = (
            quantile(&v, alpha),
            quantile(&v, 0.5),
            quantile(&v, 1.0 - alpha),
        );
        (
            Some((point - self.widen * (mid - lo)).max(0.0)),
            Some(point + self.widen * (hi - mid)),
        )
    }
}

/// Per chosen method, in words: recommended (the least summed
/// cross-validated error), distrusted (why), failed (why), or beaten.
fn verdicts(
    cfg: &Config,
    runs: &[MethodRun],
    methods: &[Method],
    scored: &[(String, f64)],
    distrusted: &[(String, String)],
    recommended: Option<&str>,
) -> Vec<Verdict> {
    let best = scored.iter().find(|s| Some(s.0.as_str()) == recommended);
    cfg.methods
        .iter()
        .map(|m| {
            let id = m.id();
            let run = &runs[methods.iter().position(|x| x == m).expect("run")];
            let score = scored.iter().find(|s| s.0 == id).map(|s| s.1);
            let reason = match (&run.full, distrusted.iter().find(|d| d.0 == id), score, best) {
                (Err(e), _, _, _) => format!("failed: {e}"),
                (_, Some((_, why)), _, _) => format!("not trusted here: {why}"),
                (_, _, Some(s), Some(b)) if b.0 == id => format!(
                    "the least cross-validated error of the trusted methods (relative R + U error {:.1} %)",
                    100.0 * s
                ),
                (_, _, Some(s), Some(b)) => format!(
                    "cross-validated relative R + U error {:.1} %, more than {}'s {:.1} %",
                    100.0 * s,
                    b.0,
                    100.0 * b.1
                ),
                _ => "no cross-validated error (a fold had no response time or utilization)".into(),
            };
            Verdict {
                method: id.to_string(),
                recommended: recommended == Some(id),
                reason,
            }
        })
        .collect()
}

/// In words: which classes the data cannot separate, and what would.
fn advice(obs: &Observations, ident: &super::Identifiability) -> Option<String> {
    let lost: Vec<&str> = obs
        .classes
        .iter()
        .zip(&ident.identifiable)
        .filter(|(_, ok)| !**ok)
        .map(|(c, _)| c.as_str())
        .collect();
    (!lost.is_empty()).then(|| {
        format!(
            "the class mix barely varies over these intervals, so the demands of {} cannot be told apart: only their mix-weighted mean ({MIX}) is determined, and the recommended method stands for that mean, not for the split; a run with another mix (or several runs with different mixes, fitted together) would separate them",
            lost.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::{Row, RunSpan};

    /// Two rows on one server: X = 2 and 4 /s, U = 0.3 and 0.5, R = 0.2
    /// and 0.4 s (5 and 10 completions).
    fn two_rows() -> Observations {
        let row = |x: f64, u: f64, r: f64, n: u64| Row {
            length: 30.0,
            throughput: vec![x],
            response: vec![Some(r)],
            completions: vec![n],
            utilization: u,
            in_system: vec![x * r],
            arrived: Vec::new(),
        };
        Observations::new(
            vec!["a".into()],
            1,
            vec![row(2.0, 0.3, 0.2, 5), row(4.0, 0.5, 0.4, 10)],
        )
    }

    #[test]
    fn validation_errors_are_the_hand_computed_ones() {
        // D = 0.1: predicted U = 0.2 and 0.4, so U errors 1/3 and 1/5;
        // R = D / (1 − U) = 0.125 and 0.1667 against 0.2 and 0.4, weighted
        // by completions 5 and 10.
        let obs = two_rows();
        let (rt, ut) = errors(&obs, &[0.1], &[0, 1]);
        let want_ut = (1.0 / 3.0 + 0.2) / 2.0;
        let r1 = (0.1 / 0.8 - 0.2f64).abs() / 0.2;
        let r2 = (0.1 / 0.6 - 0.4f64).abs() / 0.4;
        let want_rt = (5.0 * r1 + 10.0 * r2) / 15.0;
        assert!((ut.unwrap() - want_ut).abs() < 1e-12, "{ut:?}");
        assert!((rt.unwrap() - want_rt).abs() < 1e-12, "{rt:?}");
        // Scored on held-out folds: the mean over folds of each fold's
        // errors with that fold's fit.
        let scorer = Scorer {
            obs: &obs,
            test: vec![vec![0], vec![1]],
            confidence: 0.95,
            ident: None,
            widen: 1.0,
        };
        let (rt, ut) = scorer.cv_errors(&[Some(vec![0.1]), Some(vec![0.2])]);
        let (a, b) = (errors(&obs, &[0.1], &[0]), errors(&obs, &[0.2], &[1]));
        assert!((rt.unwrap() - (a.0.unwrap() + b.0.unwrap()) / 2.0).abs() < 1e-12);
        assert!((ut.unwrap() - (a.1.unwrap() + b.1.unwrap()) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_runs_summary_is_its_own_rows_mean_utilization_and_class_shares() {
        let row = |u: f64, done: [u64; 2]| Row {
            length: 30.0,
            throughput: done.iter().map(|&n| n as f64 / 30.0).collect(),
            response: vec![Some(0.1); 2],
            completions: done.to_vec(),
            utilization: u,
            in_system: vec![0.0; 2],
            arrived: Vec::new(),
        };
        let mut obs = Observations::new(
            vec!["a".into(), "b".into()],
            1,
            vec![row(0.2, [3, 1]), row(0.4, [2, 6]), row(0.9, [1, 0])],
        );
        let span = |name: &str, rows| crate::estimate::RunSpan {
            name: name.into(),
            rows,
        };
        obs.runs = vec![span("first", 0..2), span("second", 2..3)];
        let s = RunSummary::of(&obs, &obs.runs[0]);
        assert_eq!((s.name.as_str(), s.intervals), ("first", 2));
        assert!((s.mean_utilization - 0.3).abs() < 1e-12, "{s:?}");
        // 5 of a and 7 of b completed in its two rows.
        assert!((s.class_mix["a"] - 5.0 / 12.0).abs() < 1e-12, "{s:?}");
        assert!((s.class_mix["b"] - 7.0 / 12.0).abs() < 1e-12, "{s:?}");
        let s = RunSummary::of(&obs, &obs.runs[1]);
        assert_eq!(s.intervals, 1);
        assert!((s.mean_utilization - 0.9).abs() < 1e-12, "{s:?}");
        assert_eq!((s.class_mix["a"], s.class_mix["b"]), (1.0, 0.0));
    }

    /// A run whose full fit is `point` and whose draws are `draws` (one
    /// class each), with two folds that fitted 0.1 and 0.2.
    fn run_with_draws(point: Vec<f64>, draws: Vec<Option<Vec<f64>>>) -> MethodRun {
        MethodRun {
            full: Ok(point),
            per_fold: vec![Some(vec![0.1]), Some(vec![0.2])],
            draws,
        }
    }

    fn scorer(obs: &Observations, widen: f64) -> Scorer<'_> {
        Scorer {
            obs,
            test: vec![vec![0], vec![1]],
            confidence: 0.95,
            ident: None,
            widen,
        }
    }

    #[test]
    fn an_interval_is_the_draws_spread_about_the_estimate_times_the_widening() {
        let obs = two_rows();
        // Draws 0, 1, …, 100: the 2.5 %, 50 % and 97.5 % points are 2.5,
        // 50 and 97.5; reported about 40 with the spread doubled.
        let draws: Vec<Option<Vec<f64>>> = (0..=100).map(|i| Some(vec![f64::from(i)])).collect();
        let run = run_with_draws(vec![40.0], draws.clone());
        let (lo, hi) = scorer(&obs, 2.0).interval(&run, 40.0, &|x| x[0]);
        assert!((lo.unwrap() - 0.0).abs() < 1e-12, "{lo:?}: clamped at 0");
        assert!((hi.unwrap() - (40.0 + 2.0 * 47.5)).abs() < 1e-9, "{hi:?}");
        let (lo, hi) = scorer(&obs, 0.5).interval(&run, 40.0, &|x| x[0]);
        assert!((lo.unwrap() - (40.0 - 0.5 * 47.5)).abs() < 1e-9, "{lo:?}");
        assert!((hi.unwrap() - (40.0 + 0.5 * 47.5)).abs() < 1e-9, "{hi:?}");
        // Fewer than 20 draws, or more than one in ten failed: none.
        let few = run_with_draws(vec![40.0], draws[..19].to_vec());
        assert_eq!(
            scorer(&obs, 1.0).interval(&few, 40.0, &|x| x[0]),
            (None, None)
        );
        let mut failing = draws.clone();
        failing.extend(std::iter::repeat_n(None, 12));
        let failing = run_with_draws(vec![40.0], failing);
        assert_eq!(
            scorer(&obs, 1.0).interval(&failing, 40.0, &|x| x[0]),
            (None, None)
        );
    }

    #[test]
    fn joint_draws_are_the_draws_moved_onto_the_estimate_and_widened() {
        let obs = two_rows();
        // Median of 1, 2, 3, 4, 5 is 3; about the estimate 10, doubled.
        let draws = (1..=5).map(|i| Some(vec![f64::from(i)])).collect();
        let run = run_with_draws(vec![10.0], draws);
        let got: Vec<f64> = joint_draws(&obs, &run, 4, 2.0)
            .iter()
            .map(|d| d["a"])
            .collect();
        assert_eq!(got, vec![6.0, 8.0, 10.0, 12.0]);
        // Never below zero.
        let low = run_with_draws(
            vec![1.0],
            (1..=5).map(|i| Some(vec![f64::from(i)])).collect(),
        );
        assert_eq!(joint_draws(&obs, &low, 1, 2.0)[0]["a"], 0.0);
    }

    #[test]
    fn the_mix_row_weights_the_demands_and_their_draws_by_the_completions() {
        let row = |x: [f64; 2], u: f64| Row {
            length: 30.0,
            throughput: x.to_vec(),
            response: vec![Some(0.2), Some(0.3)],
            completions: x.iter().map(|v| (v * 30.0) as u64).collect(),
            utilization: u,
            in_system: vec![0.5, 0.5],
            arrived: Vec::new(),
        };
        let obs = Observations::new(
            vec!["a".into(), "b".into()],
            1,
            vec![row([2.0, 1.0], 0.3), row([4.0, 2.0], 0.6)],
        );
        let mut sc = scorer(&obs, 1.0);
        sc.ident = Some(crate::estimate::Identifiability {
            identifiable: vec![false, false],
            singular_values: vec![1.0, 0.0],
            weights: vec![0.25, 0.75],
        });
        let draws = (0..40)
            .map(|i| Some(vec![0.1, 0.02 * f64::from(i)]))
            .collect();
        let run = MethodRun {
            full: Ok(vec![0.1, 0.2]),
            per_fold: vec![Some(vec![0.1, 0.2]), Some(vec![0.1, 0.2])],
            draws,
        };
        let (rows, _) = sc.rows("ur", &[0.1, 0.2], &run);
        assert_eq!(rows.len(), 3);
        // Classes the data cannot tell apart get no interval.
        assert!(
            rows[..2]
                .iter()
                .all(|r| !r.identifiable && r.ci_low_s.is_none())
        );
        let mix = &rows[2];
        assert_eq!(mix.class, MIX);
        assert!(
            (mix.demand_s - (0.25 * 0.1 + 0.75 * 0.2)).abs() < 1e-12,
            "{mix:?}"
        );
        // Its draws are 0.025 + 0.015·i, i = 0..39: the spread about the
        // median is the mix's, not either class's.
        let (lo, hi) = (mix.ci_low_s.unwrap(), mix.ci_high_s.unwrap());
        let v: Vec<f64> = (0..40).map(|i| 0.025 + 0.015 * f64::from(i)).collect();
        let (l, m, h) = (quantile(&v, 0.025), quantile(&v, 0.5), quantile(&v, 0.975));
        assert!(
            (lo - (mix.demand_s - (m - l)).max(0.0)).abs() < 1e-12,
            "{lo}"
        );
        assert!((hi - (mix.demand_s + (h - m))).abs() < 1e-12, "{hi}");
    }

    #[test]
    fn errors_skip_rows_with_no_response_or_no_utilization() {
        let obs = two_rows();
        assert_eq!(errors(&obs, &[0.1], &[]), (None, None));
        let mut quiet = two_rows();
        quiet.rows[0].response = vec![Some(0.0)];
        quiet.rows[0].utilization = 0.0;
        // Only row 1 counts: U error |0.4 − 0.5|/0.5, R error
        // |0.1/0.6 − 0.4|/0.4.
        let (rt, ut) = errors(&quiet, &[0.1], &[0, 1]);
        assert!((ut.unwrap() - 0.2).abs() < 1e-12, "{ut:?}");
        assert!(
            (rt.unwrap() - (0.1 / 0.6 - 0.4f64).abs() / 0.4).abs() < 1e-12,
            "{rt:?}"
        );
        // A fold whose rows give no R error makes the method's R error
        // unknown, not the other folds' mean.
        let sc = Scorer {
            test: vec![vec![0], vec![1]],
            ..scorer(&quiet, 1.0)
        };
        let (rt, ut) = sc.cv_errors(&[Some(vec![0.1]), Some(vec![0.1])]);
        assert_eq!((rt, ut), (None, None));
        // A fold that did not fit is left out; none fitted, no error.
        let (rt, _) = scorer(&obs, 1.0).cv_errors(&[None, Some(vec![0.1])]);
        assert_eq!(rt, errors(&obs, &[0.1], &[1]).0);
        assert_eq!(scorer(&obs, 1.0).cv_errors(&[None, None]), (None, None));
    }

    #[test]
    fn combined_is_the_mean_of_its_parts_everywhere_and_fails_with_them() {
        let run = |full: f64, fold: Option<f64>, draw: f64| MethodRun {
            full: Ok(vec![full]),
            per_fold: vec![fold.map(|f| vec![f])],
            draws: vec![Some(vec![draw])],
        };
        let (a, b) = (run(1.0, Some(2.0), 3.0), run(3.0, Some(4.0), 5.0));
        let c = combined(&[&a, &b], 1).unwrap();
        assert_eq!(c.full.unwrap(), vec![2.0]);
        assert_eq!(c.per_fold, vec![Some(vec![3.0])]);
        assert_eq!(c.draws, vec![Some(vec![4.0])]);
        // A fold where one part failed has no combined value.
        let b2 = run(3.0, None, 5.0);
        assert_eq!(combined(&[&a, &b2], 1).unwrap().per_fold, vec![None]);
        let failed = MethodRun {
            full: Err(EstimateError::NoServers),
            per_fold: vec![None],
            draws: vec![None],
        };
        assert!(combined(&[&a, &failed], 1).is_none());
    }

    #[test]
    fn the_recommended_method_has_the_least_summed_error_of_the_trusted() {
        // A generated-like trace: demands 0.1 s at loads 0.2–0.7.
        let rows: Vec<Row> = (0..60)
            .map(|i| {
                let x = 2.0 + 5.0 * ((i as f64 * 0.37).sin() + 1.0) / 2.0;
                let u = 0.1 * x * (1.0 + 0.02 * (i as f64 * 1.7).cos());
                let r = 0.1 / (1.0 - u);
                Row {
                    length: 30.0,
                    throughput: vec![x],
                    response: vec![Some(r * (1.0 + 0.05 * (i as f64 * 0.9).sin()))],
                    completions: vec![(x * 30.0) as u64],
                    utilization: u,
                    in_system: vec![x * r],
                    arrived: Vec::new(),
                }
            })
            .collect();
        let obs = Observations::new(vec!["a".into()], 1, rows);
        let cfg = Config {
            bootstrap: 0,
            ..Config::default()
        };
        let r = estimate(&obs, Diagnostics::default(), &cfg, "cpu", 30.0);
        let score = |e: &Estimate| e.rel_rt_error.unwrap() + e.rel_util_error.unwrap();
        let best = r
            .estimates
            .iter()
            .filter(|e| e.distrusted.is_none())
            .min_by(|a, b| score(a).total_cmp(&score(b)))
            .unwrap();
        assert_eq!(r.recommended.as_deref(), Some(best.method.as_str()));
        let v = r.verdicts.iter().find(|v| v.recommended).unwrap();
        assert_eq!(v.method, best.method);
        // Every other trusted method's verdict names the winner.
        for v in r.verdicts.iter().filter(|v| !v.recommended) {
            assert!(
                v.reason.contains(&best.method) || v.reason.starts_with("not trusted"),
                "{v:?}"
            );
        }
    }

    #[test]
    fn intervals_widen_by_t_over_z_at_the_blocks_less_the_parameters() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        // 120 rows: blocks of round(120^(1/3)) = 5, 24 blocks; two classes
        // leave 22 degrees of freedom: t(0.975, 22) = 2.0739.
        let boot = Resamples::new(std::slice::from_ref(&(0..120)), 10, &mut rng);
        assert!((boot.widening(0.95, 2) - 2.073_873 / 1.959_964).abs() < 1e-5);
        // Two runs of 8 rows (blocks of 2, 4 each): 8 blocks, 1 class, 7
        // degrees of freedom.
        let boot = Resamples::new(&[0..8, 8..16], 10, &mut rng);
        assert!((boot.widening(0.95, 1) - 2.364_624 / 1.959_964).abs() < 1e-5);
        // A long trace: the normal quantile.
        let boot = Resamples::new(std::slice::from_ref(&(0..1_000_000)), 10, &mut rng);
        assert!((boot.widening(0.95, 1) - 1.0).abs() < 1e-3);
    }

    #[test]
    fn bootstrap_blocks_stay_inside_their_run_and_keep_its_size() {
        let runs = [0..30, 30..37, 37..100];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let boot = Resamples::new(&runs, 50, &mut rng);
        for starts in &boot.starts {
            let rows = boot.rows(starts);
            assert_eq!(rows.len(), 100);
            let mut at = 0;
            for r in &runs {
                let part = &rows[at..at + r.len()];
                assert!(part.iter().all(|i| r.contains(i)), "{r:?}: {part:?}");
                at += r.len();
            }
        }
    }

    #[test]
    fn an_interval_always_holds_its_estimate_with_the_draws_spread() {
        // Resampled fits all above the full fit (a biased method on a
        // short trace): the raw percentile interval would miss the
        // estimate; the re-centred one keeps the draws' spread around it.
        let obs = Observations::new(vec!["a".into()], 1, Vec::new());
        let scorer = Scorer {
            obs: &obs,
            test: Vec::new(),
            confidence: 0.95,
            ident: None,
            widen: 1.0,
        };
        let run = MethodRun {
            full: Ok(vec![1.0]),
            per_fold: Vec::new(),
            draws: (0..=100)
                .map(|i| Some(vec![2.0 + 0.01 * f64::from(i)]))
                .collect(),
        };
        let (lo, hi) = scorer.interval(&run, 1.0, &|d| d[0]);
        // Draws 2.00..3.00: median 2.5, 2.5 % at 2.025, 97.5 % at 2.975.
        assert!((lo.unwrap() - 0.525).abs() < 1e-12, "{lo:?}");
        assert!((hi.unwrap() - 1.475).abs() < 1e-12, "{hi:?}");
    }

    #[test]
    fn one_run_resamples_as_before_runs_existed() {
        // The draws of a single run are the moving-block bootstrap of the
        // whole trace: block length round(n^(1/3)), ceil(n/len) blocks.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let one_run = std::iter::once(0..64).collect::<Vec<_>>();
        let boot = Resamples::new(&one_run, 3, &mut rng);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        for starts in &boot.starts {
            assert_eq!(starts.len(), 16);
            for &s in starts {
                assert_eq!(s, rng.random_range(0..=60));
            }
        }
    }

    /// Two classes (0.05 and 0.02 s) on one processor-sharing server, 60
    /// rows of 30 s at throughputs `mix(i)`: U = Σ X·D (±1 %), each class's
    /// response D·f(U) with a ±5 % wobble, as the discipline says.
    fn two_classes(mix: impl Fn(usize) -> (f64, f64)) -> Observations {
        two_classes_over(60, mix)
    }

    /// [`two_classes`] over `n` rows.
    fn two_classes_over(n: usize, mix: impl Fn(usize) -> (f64, f64)) -> Observations {
        let rows = (0..n)
            .map(|i| {
                let (xa, xb) = mix(i);
                let u = (0.05 * xa + 0.02 * xb) * (1.0 + 0.01 * (i as f64 * 1.7).cos());
                let f = 1.0 / (1.0 - u);
                let wobble = 1.0 + 0.05 * (i as f64 * 0.9).sin();
                Row {
                    length: 30.0,
                    throughput: vec![xa, xb],
                    response: vec![Some(0.05 * f * wobble), Some(0.02 * f * wobble)],
                    completions: vec![(xa * 30.0) as u64, (xb * 30.0) as u64],
                    utilization: u,
                    in_system: vec![xa * 0.05 * f, xb * 0.02 * f],
                    arrived: Vec::new(),
                }
            })
            .collect();
        let mut obs = Observations::new(vec!["a".into(), "b".into()], 1, rows);
        obs.discipline = crate::estimate::Discipline::Ps;
        obs
    }

    /// Mixes that vary from row to row (2–6 and 3–13 requests/s).
    fn varying(i: usize) -> (f64, f64) {
        let t = i as f64;
        (4.0 + 2.0 * (t * 0.37).sin(), 8.0 + 5.0 * (t * 0.61).cos())
    }

    /// [`estimate`] of `obs` with `cfg` (a CPU, 30 s intervals).
    fn estimated(obs: &Observations, cfg: &Config) -> Report {
        estimate(obs, Diagnostics::default(), cfg, "cpu", 30.0)
    }

    fn quick(methods: &[Method]) -> Config {
        Config {
            methods: methods.to_vec(),
            bootstrap: 0,
            ..Config::default()
        }
    }

    #[test]
    fn a_constant_mix_gets_advice_and_a_mix_row_and_a_varying_one_neither() {
        let run = |obs: &Observations| estimated(obs, &quick(&[Method::Ur]));
        // 2:8 in every row, the load moving: only the mix is determined.
        let constant = run(&two_classes(|i| {
            let s = 1.0 + 0.5 * (i as f64 * 0.37).sin();
            (2.0 * s, 8.0 * s)
        }));
        let advice = constant.advice.expect("advice");
        assert!(
            advice.contains("the demands of a, b cannot be told apart"),
            "{advice}"
        );
        assert!(constant.estimates.iter().any(|e| e.class == MIX));
        let varying = run(&two_classes(varying));
        assert_eq!(varying.advice, None);
        assert!(varying.identifiability.expect("two classes").all());
        assert!(varying.estimates.iter().all(|e| e.class != MIX));
        // One class: nothing to separate, nothing asked.
        let one = run(&two_rows());
        assert!(one.identifiability.is_none() && one.advice.is_none());
    }

    #[test]
    fn cross_validation_fits_on_the_other_folds_and_scores_on_the_fold() {
        let obs = two_classes(varying);
        let cfg = quick(&[Method::Ur, Method::Rr]);
        let report = estimated(&obs, &cfg);
        // The folds estimate() draws: the first use of its seed.
        let (n, k) = (obs.rows.len(), cfg.folds);
        let fold_of = folds(n, k, &mut Xoshiro256PlusPlus::seed_from_u64(cfg.seed));
        let scorer = Scorer {
            obs: &obs,
            test: (0..k)
                .map(|f| (0..n).filter(|&i| fold_of[i] == f).collect())
                .collect(),
            confidence: 0.95,
            ident: None,
            widen: 1.0,
        };
        for m in [Method::Ur, Method::Rr] {
            let per_fold: Vec<Option<Vec<f64>>> = (0..k)
                .map(|f| {
                    let train: Vec<usize> = (0..n).filter(|&i| fold_of[i] != f).collect();
                    m.estimator(false).estimate(&obs, &train).ok()
                })
                .collect();
            let (rt, ut) = scorer.cv_errors(&per_fold);
            let row = report
                .estimates
                .iter()
                .find(|e| e.method == m.id())
                .unwrap();
            assert!(
                (row.rel_rt_error.unwrap() - rt.unwrap()).abs() < 1e-12,
                "{m:?}"
            );
            assert!(
                (row.rel_util_error.unwrap() - ut.unwrap()).abs() < 1e-12,
                "{m:?}"
            );
        }
    }

    #[test]
    fn combined_averages_methods_that_need_not_be_listed() {
        let obs = two_classes(varying);
        let cfg = Config {
            combine: vec![Method::Ur, Method::Rr],
            ..quick(&[Method::Sdl])
        };
        let report = estimated(&obs, &cfg);
        assert!(
            report
                .estimates
                .iter()
                .all(|e| e.method != "ur" && e.method != "rr")
        );
        let parts = estimated(&obs, &quick(&[Method::Ur, Method::Rr]));
        let demand = |r: &Report, m: &str, c: &str| {
            r.estimates
                .iter()
                .find(|e| e.method == m && e.class == c)
                .unwrap_or_else(|| panic!("{m} {c}"))
                .demand_s
        };
        for c in ["a", "b"] {
            let mean = 0.5 * (demand(&parts, "ur", c) + demand(&parts, "rr", c));
            assert!((demand(&report, "combined(ur+rr)", c) - mean).abs() < 1e-12);
        }
    }

    #[test]
    fn verdicts_give_each_method_its_own_summed_error_and_the_winners() {
        let obs = two_classes(varying);
        let cfg = quick(&[Method::Sdl, Method::Ur, Method::Rr, Method::Rort]);
        let report = estimated(&obs, &cfg);
        let score = |m: &str| {
            let e = report.estimates.iter().find(|e| e.method == m).unwrap();
            100.0 * (e.rel_rt_error.unwrap() + e.rel_util_error.unwrap())
        };
        let best = report.recommended.clone().expect("a recommendation");
        let mut others = 0;
        for v in &report.verdicts {
            assert_eq!(v.recommended, v.method == best);
            let want = if v.method == best {
                format!(
                    "the least cross-validated error of the trusted methods (relative R + U error {:.1} %)",
                    score(&best)
                )
            } else if v.reason.starts_with("not trusted") {
                continue;
            } else {
                others += 1;
                format!(
                    "cross-validated relative R + U error {:.1} %, more than {best}'s {:.1} %",
                    score(&v.method),
                    score(&best)
                )
            };
            assert_eq!(v.reason, want);
        }
        assert!(others >= 2, "{:?}", report.verdicts);
        // No response times: a response-time method fails, and says so.
        let mut silent = two_classes(varying);
        silent
            .rows
            .iter_mut()
            .for_each(|r| r.response = vec![None, None]);
        let report = estimated(&silent, &quick(&[Method::Rr]));
        assert!(
            report.verdicts[0].reason.starts_with("failed: "),
            "{:?}",
            report.verdicts
        );
    }

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
            let draws = boot
                .starts
                .iter()
                .map(|b| match n >= ONE_STEP_FROM {
                    true => step.step(&boot.rows(b)),
                    false => est.refit(&obs, &boot.rows(b), &full).ok(),
                })
                .collect();
            let run = MethodRun {
                full: Ok(full),
                per_fold: Vec::new(),
                draws,
            };
            let want = joint_draws(&obs, &run, 21, boot.widening(0.95, 2));
            assert_eq!(report.draws.len(), want.len());
            for (got, want) in report.draws.iter().zip(&want) {
                for c in ["a", "b"] {
                    assert!((got[c] - want[c]).abs() <= 1e-12 * want[c], "{n}: {c}");
                }
            }
        }
    }
}
