//! Validation on the user's own runs: each run predicted from a fit on the
//! others with the study's protocol (methods, grouping, background, load
//! dependence, latency offset, closed reading, model), the held-out
//! relative errors of the mean (and of the p95 where the traces are per
//! request), and the prediction bands they calibrate
//! ([`band::prediction_band`]); [`Calibration`] carries them to `sweep`,
//! `capacity` and the plan.
//!
//! Which runs are fitted: with `hold_out: estimate_from` (the default when
//! the study's experiments estimate from other runs) each experiment that
//! is one of its own estimation runs is predicted from a fit on the other
//! estimation runs (a calibration run), and every other experiment from
//! the study's own fit (a held-out run, exactly the study's prediction).
//! With `hold_out: experiments` (the default when the experiments estimate
//! from their own traces) every experiment with traces is a calibration
//! run, predicted from a fit on all the others. A calibration run's band
//! is calibrated on the other calibration runs' errors, a held-out run's
//! on all of them: no run's band sees its own error.
//!
//! Leave-one-load-out: the calibration runs grouped by load level (given,
//! or by utilization: a new level where the sorted utilizations jump by
//! more than `level_gap`), each level's runs predicted together from a fit
//! on the other levels' runs: the test of extrapolation.
//!
//! The experiments run with the study's seeds (experiment `i` with
//! [`crate::study::experiment_seed`] of its place), so a held-out run's
//! prediction is the study's own, bit for bit.

pub mod band;
pub mod calibration;
mod levels;
mod summary;

use rayon::prelude::*;
use serde::Serialize;

use crate::study::{
    Experiment, ExperimentResult, Files, RunFiles, Study, StudyResult, experiment_seed,
};
pub use crate::study::{HoldOut, ValidateSpec};
pub use band::{HeldOut, NoBand, PredictionBand, prediction_band};
use calibration::RunErrors;
pub use calibration::{Calibration, CalibrationError, Role, Statistic, relative_error};
pub use summary::{DistanceBin, ErrorSummary};

/// A problem that stops the validation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// No experiment has request traces.
    #[error("no experiment has request traces: there is nothing to hold out")]
    NoRuns,
    /// A load level names a run that is not a calibration run.
    #[error(
        "validate: load level `{level}` names `{run}`, which is not one of the calibration runs ({known})"
    )]
    UnknownRun {
        /// The level.
        level: String,
        /// The name.
        run: String,
        /// The calibration runs, comma-separated.
        known: String,
    },
}

/// Where a run's load lies against its fit's runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Within the fit runs' utilizations.
    Inside,
    /// Below the lowest.
    Below,
    /// Above the highest (extrapolation).
    Beyond,
}

/// One run predicted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    /// The experiment.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its load level (leave-one-load-out rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Measured mean utilization of its resources.
    pub utilization: Option<f64>,
    /// The model's utilization at its load (for the amplification).
    pub model_utilization: Option<f64>,
    /// Measured mean response time, seconds.
    pub measured_mean_s: Option<f64>,
    /// Measured 95th percentile, seconds (per-request traces only).
    pub measured_p95_s: Option<f64>,
    /// Predicted mean (the study's: simulated, with the latency offset).
    pub predicted_mean_s: Option<f64>,
    /// Predicted 95th percentile, seconds.
    pub predicted_p95_s: Option<f64>,
    /// (measured − predicted) / measured.
    pub error: Option<f64>,
    /// The same of the 95th percentile.
    pub p95_error: Option<f64>,
    /// The runs it was predicted from.
    pub fit_runs: Vec<String>,
    /// Their lowest and highest mean utilization.
    pub fit_loads: Option<(f64, f64)>,
    /// Each fit run's mean utilization as the estimation read it (the
    /// load levels of runs that failed).
    #[serde(skip)]
    pub fit_utilization: Vec<(String, f64)>,
    /// Its load against theirs.
    pub position: Option<Position>,
    /// Utilization beyond the fit's highest (below its lowest: negative;
    /// inside: 0).
    pub distance: Option<f64>,
    /// The estimation band: the prediction at the ends of the demands'
    /// 95 % intervals, seconds.
    pub estimation_band_s: Option<[Option<f64>; 2]>,
    /// The prediction band, calibrated on the other runs' errors.
    pub prediction_band: Option<PredictionBand>,
    /// Why there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_band: Option<String>,
    /// The prediction band's low end, seconds.
    pub band_low_s: Option<f64>,
    /// Its high end, seconds.
    pub band_high_s: Option<f64>,
    /// Whether the measured mean lies in the prediction band.
    pub covered: Option<bool>,
    /// The prediction band of the 95th percentile, calibrated on the other
    /// runs' p95 errors (runs with per-request traces).
    pub p95_prediction_band: Option<PredictionBand>,
    /// Whether the measured p95 lies in it.
    pub p95_covered: Option<bool>,
    /// Why the run could not be predicted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

impl RunRow {
    /// A row with its name and role, and nothing measured or predicted.
    fn empty(name: &str, role: Role, level: Option<String>) -> Self {
        Self {
            name: name.to_string(),
            role,
            level,
            utilization: None,
            model_utilization: None,
            measured_mean_s: None,
            measured_p95_s: None,
            predicted_mean_s: None,
            predicted_p95_s: None,
            error: None,
            p95_error: None,
            fit_runs: Vec::new(),
            fit_loads: None,
            fit_utilization: Vec::new(),
            position: None,
            distance: None,
            estimation_band_s: None,
            prediction_band: None,
            no_band: None,
            band_low_s: None,
            band_high_s: None,
            covered: None,
            p95_prediction_band: None,
            p95_covered: None,
            failed: None,
        }
    }
}

/// A load level of leave-one-load-out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level {
    /// Its name.
    pub name: String,
    /// Its runs.
    pub runs: Vec<String>,
}

/// Everything `validate` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Validation {
    /// The study.
    pub study: String,
    /// Seed.
    pub seed: u64,
    /// Which runs were fitted.
    pub hold_out: HoldOut,
    /// The same, in words.
    pub protocol: String,
    /// Leave-one-run-out: every experiment with traces.
    pub runs: Vec<RunRow>,
    /// Share of the runs with a band whose measured mean it covers.
    pub coverage: Option<f64>,
    /// The level the bands claim, averaged over those runs.
    pub nominal: Option<f64>,
    /// Runs with a band.
    pub with_band: usize,
    /// Of them, covered.
    pub covered: usize,
    /// The level asked of the bands (`None`: the smallest and largest
    /// error).
    pub level: Option<f64>,
    /// The same for the 95th percentile: share of the runs with a p95 band
    /// whose measured p95 it covers.
    pub p95_coverage: Option<f64>,
    /// The level the p95 bands claim, averaged over those runs.
    pub p95_nominal: Option<f64>,
    /// Runs with a p95 band.
    pub p95_with_band: usize,
    /// Of them, covered.
    pub p95_covered: usize,
    /// The errors of leave-one-run-out.
    pub summary: ErrorSummary,
    /// The load levels.
    pub levels: Vec<Level>,
    /// Leave-one-load-out rows.
    pub load_out: Vec<RunRow>,
    /// Their errors.
    pub load_out_summary: Option<ErrorSummary>,
    /// What could not be done, in words.
    pub notes: Vec<String>,
}

/// One experiment to run: its place in the study, the experiment with its
/// fit runs, its role.
struct Job {
    index: usize,
    experiment: Experiment,
    role: Role,
    level: Option<String>,
}

/// Validates a study with `seed`: leave-one-run-out, the bands, and
/// leave-one-load-out.
///
/// # Errors
/// [`ValidateError`]: no experiment with traces, a load level naming an
/// unknown run. A run that fails is a row with its error.
pub fn validate(
    study: &Study,
    files: &dyn Files,
    seed: u64,
    spec: &ValidateSpec,
) -> Result<Validation, ValidateError> {
    validate_after(study, files, seed, spec, None)
}

/// [`validate`] after the study itself has run with the same `seed`
/// (`done`): a held-out run's prediction is the study's own, bit for bit,
/// so its result is taken from `done` instead of being run again.
///
/// # Errors
/// As [`validate`].
pub fn validate_after(
    study: &Study,
    files: &dyn Files,
    seed: u64,
    spec: &ValidateSpec,
    done: Option<&StudyResult>,
) -> Result<Validation, ValidateError> {
    let with_traces: Vec<usize> = (0..study.experiments.len())
        .filter(|&i| !study.experiments[i].requests.is_empty())
        .collect();
    if with_traces.is_empty() {
        return Err(ValidateError::NoRuns);
    }
    let has_from = with_traces
        .iter()
        .any(|&i| !study.experiments[i].estimate_from.is_empty());
    let hold_out = match spec.hold_out {
        Some(HoldOut::EstimateFrom) | None if has_from => HoldOut::EstimateFrom,
        _ => HoldOut::Experiments,
    };
    let mut notes = Vec::new();
    if spec.hold_out == Some(HoldOut::EstimateFrom) && !has_from {
        notes.push("the experiments have no estimation runs (`estimate_from`): every experiment with traces was held out in turn".to_string());
    }
    let jobs = run_jobs(study, &with_traces, hold_out);
    let mut runs = rows(files, seed, jobs, done);
    bands(&mut runs, spec.level, &mut notes);
    let mean = coverage(&runs, |r| (r.covered, r.prediction_band.as_ref()));
    let p95 = coverage(&runs, |r| (r.p95_covered, r.p95_prediction_band.as_ref()));
    let levels = levels::levels(&runs, spec)?;
    let load_out = load_out_rows(study, files, seed, &with_traces, hold_out, &levels);
    if levels.len() < 2 {
        notes.push("leave-one-load-out needs calibration runs at two load levels or more".into());
    }
    Ok(Validation {
        study: study.name.clone(),
        seed,
        hold_out,
        protocol: protocol(hold_out),
        summary: ErrorSummary::of(&runs),
        load_out_summary: (!load_out.is_empty()).then(|| ErrorSummary::of(&load_out)),
        runs,
        coverage: mean.share,
        nominal: mean.nominal,
        with_band: mean.with_band,
        covered: mean.covered,
        level: spec.level,
        p95_coverage: p95.share,
        p95_nominal: p95.nominal,
        p95_with_band: p95.with_band,
        p95_covered: p95.covered,
        levels,
        load_out,
        notes,
    })
}

/// Which runs were fitted, in words.
fn protocol(hold_out: HoldOut) -> String {
    match hold_out {
        HoldOut::EstimateFrom => "each estimation run (`estimate_from`) predicted from a fit on the other estimation runs (calibration); every other run predicted by the study's own fit on all of them (held out)".into(),
        HoldOut::Experiments => "each experiment with traces predicted from a fit on all the other experiments with traces".into(),
    }
}

/// The bands' coverage of one statistic.
struct Coverage {
    share: Option<f64>,
    nominal: Option<f64>,
    with_band: usize,
    covered: usize,
}

/// The coverage of the bands `of` reads (whether covered, the band).
fn coverage(
    runs: &[RunRow],
    of: impl Fn(&RunRow) -> (Option<bool>, Option<&PredictionBand>),
) -> Coverage {
    let judged: Vec<(bool, Option<&PredictionBand>)> = runs
        .iter()
        .map(&of)
        .filter_map(|(c, b)| Some((c?, b)))
        .collect();
    let covered = judged.iter().filter(|(c, _)| *c).count();
    let with_band = judged.len();
    Coverage {
        share: (with_band > 0).then(|| covered as f64 / with_band as f64),
        nominal: mean(judged.iter().filter_map(|(_, b)| b.map(|b| b.nominal))),
        with_band,
        covered,
    }
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = xs.collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Whether `run` is experiment `e`'s own traces (by name, or by its
/// request files).
fn is_run(run: &RunFiles, e: &Experiment) -> bool {
    run.name == e.name || (!run.requests.is_empty() && run.requests == e.requests)
}

/// An experiment's traces as a run to fit.
fn as_run(e: &Experiment) -> RunFiles {
    RunFiles {
        name: e.name.clone(),
        requests: e.requests.clone(),
        utilization: e.utilization.clone(),
        metadata: e.metadata.clone(),
    }
}

/// The runs experiment `i` is fitted on with nothing held out but itself.
fn fit_runs(study: &Study, with_traces: &[usize], hold_out: HoldOut, i: usize) -> Vec<RunFiles> {
    let e = &study.experiments[i];
    match hold_out {
        HoldOut::EstimateFrom => e.estimate_from.clone(),
        HoldOut::Experiments => with_traces
            .iter()
            .filter(|&&j| j != i)
            .map(|&j| as_run(&study.experiments[j]))
            .collect(),
    }
}

/// Whether experiment `i` is a calibration run.
fn is_calibration(study: &Study, hold_out: HoldOut, i: usize) -> bool {
    let e = &study.experiments[i];
    hold_out == HoldOut::Experiments || e.estimate_from.iter().any(|r| is_run(r, e))
}

/// Leave-one-run-out: every experiment with traces, fitted without itself.
fn run_jobs(study: &Study, with_traces: &[usize], hold_out: HoldOut) -> Vec<Job> {
    with_traces
        .iter()
        .map(|&i| {
            let e = &study.experiments[i];
            let calibration = is_calibration(study, hold_out, i);
            let mut experiment = e.clone();
            experiment.estimate_from = fit_runs(study, with_traces, hold_out, i)
                .into_iter()
                .filter(|r| !is_run(r, e))
                .collect();
            Job {
                index: i,
                experiment,
                role: if calibration {
                    Role::Calibration
                } else {
                    Role::HeldOut
                },
                level: None,
            }
        })
        .collect()
}

/// Leave-one-load-out: each level's calibration runs fitted without the
/// level's runs.
fn load_out_rows(
    study: &Study,
    files: &dyn Files,
    seed: u64,
    with_traces: &[usize],
    hold_out: HoldOut,
    levels: &[Level],
) -> Vec<RunRow> {
    if levels.len() < 2 {
        return Vec::new();
    }
    let mut jobs = Vec::new();
    for level in levels {
        for name in &level.runs {
            let Some(&i) = with_traces
                .iter()
                .find(|&&i| &study.experiments[i].name == name)
            else {
                continue;
            };
            let mut experiment = study.experiments[i].clone();
            experiment.estimate_from = fit_runs(study, with_traces, hold_out, i)
                .into_iter()
                .filter(|r| {
                    !level.runs.iter().any(|n| {
                        r.name == *n
                            || study
                                .experiments
                                .iter()
                                .any(|x| &x.name == n && is_run(r, x))
                    })
                })
                .collect();
            jobs.push(Job {
                index: i,
                experiment,
                role: Role::LoadLevel,
                level: Some(level.name.clone()),
            });
        }
    }
    rows(files, seed, jobs, None)
}

/// Runs the jobs in parallel and reads their rows. A job that estimates
/// but has no fit runs left fails with a row that says so (the study
/// would fit it on its own traces: in-sample). A held-out job is the
/// study's own experiment at the study's seed: its result in `done` (the
/// study's run) is taken as it is.
fn rows(files: &dyn Files, seed: u64, jobs: Vec<Job>, done: Option<&StudyResult>) -> Vec<RunRow> {
    jobs.into_par_iter()
        .map(|job| {
            let e = &job.experiment;
            let known = done
                .filter(|_| job.role == Role::HeldOut)
                .and_then(|d| d.experiments.iter().find(|x| x.name == e.name));
            let outcome = if let Some(x) = known {
                Ok(x.clone())
            } else if e.estimate.is_some() && e.estimate_from.is_empty() {
                Err(RunFailure::NothingToFit)
            } else {
                crate::study::run_experiment(e, files, experiment_seed(seed, job.index))
                    .map_err(RunFailure::Experiment)
            };
            row(&job, outcome)
        })
        .collect()
}

/// Why a held-out run has no prediction.
#[derive(Debug, thiserror::Error)]
enum RunFailure {
    /// It estimates, and every other run is held out with it.
    #[error("no runs are left to fit it on (its own traces would be in-sample)")]
    NothingToFit,
    /// The experiment failed.
    #[error(transparent)]
    Experiment(crate::study::ExperimentError),
}

/// A job's row from its experiment's result.
fn row(job: &Job, outcome: Result<ExperimentResult, RunFailure>) -> RunRow {
    let e = &job.experiment;
    let mut r = RunRow::empty(&e.name, job.role, job.level.clone());
    r.fit_runs = e.estimate_from.iter().map(|r| r.name.clone()).collect();
    let x = match outcome {
        Ok(x) => x,
        Err(why) => {
            r.failed = Some(why.to_string());
            return r;
        }
    };
    r.utilization = x.traces.as_ref().and_then(|t| t.mean_utilization);
    r.model_utilization = x.simulated_utilization;
    r.measured_mean_s = x.measured_s;
    r.measured_p95_s = x.measured.as_ref().and_then(|m| m.percentiles_s[2]);
    r.predicted_mean_s = x.simulated_s;
    r.predicted_p95_s = x.simulated.percentiles_s[2];
    r.error = relative_error(x.measured_s, x.simulated_s);
    r.p95_error = relative_error(r.measured_p95_s, r.predicted_p95_s);
    r.estimation_band_s = x.prediction_band_s;
    if let Some(est) = &x.estimation {
        r.fit_runs = est.runs.iter().map(|s| s.name.clone()).collect();
        r.fit_utilization = est
            .runs
            .iter()
            .map(|s| (s.name.clone(), s.mean_utilization))
            .collect();
        let us = est.runs.iter().map(|s| s.mean_utilization);
        let lo = us.clone().fold(f64::INFINITY, f64::min);
        let hi = us.fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() {
            r.fit_loads = Some((lo, hi));
        }
    }
    if let (Some(u), Some((lo, hi))) = (r.utilization, r.fit_loads) {
        let (p, d) = match u {
            u if u > hi => (Position::Beyond, u - hi),
            u if u < lo => (Position::Below, u - lo),
            _ => (Position::Inside, 0.0),
        };
        r.position = Some(p);
        r.distance = Some(d);
    }
    r
}

/// The load the band's amplification reads: the model's utilization at
/// the run's load, else the measured one.
fn amplification_load(r: &RunRow) -> Option<f64> {
    r.model_utilization.or(r.utilization)
}

/// What a calibration reads of each row.
fn run_errors(runs: &[RunRow]) -> Vec<RunErrors> {
    runs.iter()
        .map(|r| RunErrors {
            role: r.role,
            mean: r.error,
            p95: r.p95_error,
            load: amplification_load(r),
        })
        .collect()
}

impl Validation {
    /// The band of a prediction of `statistic` for experiment `name`
    /// (`predicted_s`, at the model's utilization `load`), calibrated on
    /// the calibration runs other than `name` (a held-out run's: on all
    /// of them, exactly its row's band); `None` when no run has that
    /// statistic's error.
    pub fn band_for(
        &self,
        name: &str,
        predicted_s: f64,
        load: Option<f64>,
        statistic: Statistic,
    ) -> Option<Result<PredictionBand, NoBand>> {
        let others: Vec<RunErrors> = (self.runs.iter())
            .zip(run_errors(&self.runs))
            .filter_map(|(r, e)| (r.name != name).then_some(e))
            .collect();
        let c = Calibration::of_runs(&self.study, self.level, &others, statistic);
        Some(c.ok()?.band(predicted_s, load))
    }
}

impl Calibration {
    /// The calibration of `statistic` from a validation in memory: its
    /// calibration runs' errors (leave-one-run-out) and its level.
    ///
    /// # Errors
    /// [`CalibrationError::Missing`]: the p95 of runs without per-request
    /// traces.
    pub fn from_validation(v: &Validation, statistic: Statistic) -> Result<Self, CalibrationError> {
        Self::of_runs(&v.study, v.level, &run_errors(&v.runs), statistic)
    }
}

/// A band of one run, or why none: (the calibration runs it had, the
/// band).
type RunBand = (usize, Result<PredictionBand, NoBand>);

/// Each run's prediction band of `statistic` from the other calibration
/// runs' errors; `None` for a run without that prediction, or when no
/// run has that statistic's error.
fn stat_bands(runs: &[RunRow], level: Option<f64>, statistic: Statistic) -> Vec<Option<RunBand>> {
    let errors = run_errors(runs);
    runs.iter()
        .enumerate()
        .map(|(i, r)| {
            let predicted = match statistic {
                Statistic::Mean => r.predicted_mean_s,
                Statistic::P95 => r.predicted_p95_s,
            }?;
            let mut others = errors.clone();
            others.remove(i);
            let c = Calibration::of_runs("", level, &others, statistic).ok()?;
            Some((c.runs(), c.band(predicted, amplification_load(r))))
        })
        .collect()
}

/// Each run's prediction bands (mean and p95) from the other calibration
/// runs' errors; the note says why there are none, for the run that came
/// closest to one.
fn bands(runs: &mut [RunRow], level: Option<f64>, notes: &mut Vec<String>) {
    let mean = stat_bands(runs, level, Statistic::Mean);
    let p95 = stat_bands(runs, level, Statistic::P95);
    let mut closest: [Option<(usize, String)>; 2] = [None, None];
    let mut note = |k: usize, n: usize, why: &NoBand| {
        if closest[k].as_ref().is_none_or(|(m, _)| *m < n) {
            closest[k] = Some((n, why.to_string()));
        }
    };
    for ((r, mean), p95) in runs.iter_mut().zip(mean).zip(p95) {
        match mean {
            Some((_, Ok(b))) => {
                r.band_low_s = Some(b.low_s);
                r.band_high_s = Some(b.high_s);
                r.covered = r.measured_mean_s.map(|m| b.covers(m));
                r.prediction_band = Some(b);
            }
            Some((n, Err(why))) => {
                note(0, n, &why);
                r.no_band = Some(why.to_string());
            }
            None => {}
        }
        match p95 {
            Some((_, Ok(b))) => {
                r.p95_covered = r.measured_p95_s.map(|m| b.covers(m));
                r.p95_prediction_band = Some(b);
            }
            Some((n, Err(why))) => note(1, n, &why),
            None => {}
        }
    }
    let [mean, p95] = closest;
    notes.extend(mean.map(|(_, why)| why));
    notes.extend(p95.map(|(_, why)| format!("p95: {why}")));
}
