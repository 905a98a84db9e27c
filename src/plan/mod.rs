//! From measured runs to a capacity answer in one call: the choices made
//! for the user ([`decide`]), the model built for the runs' classes
//! ([`model`]), every run predicted from a fit on the others
//! ([`crate::validate`]), and the questions answered at one run's mix with
//! the prediction band those held-out errors calibrate and the estimation
//! band of the demands ([`answer`]).
//!
//! `plan` is a study the tool writes for the user: each run an
//! experiment, the fitted runs its estimation runs, the protocol of the
//! fidelity study (per-class demands on the requests' CPU, background
//! work on the same CPUs, demands that move with load, the closed
//! workload the runs were, a constant non-CPU latency). It opens no files:
//! the caller finds the runs and reads their metadata and facts.

mod answer;
pub mod decide;
pub mod facts;
mod input;
pub mod model;
mod study;

use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

pub use answer::PlanAnswer;
pub use decide::{Decision, Protocol};
pub use facts::RunFacts;
pub use input::{At, Find, PlanError, PlanOptions, RunInput};

use crate::study::{Files, experiment_seed, run_experiment};
use crate::validate::{HoldOut, RunRow, ValidateSpec, Validation, validate};

/// Everything `plan` found.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The choices and their reasons.
    pub decisions: Vec<Decision>,
    /// The fit.
    pub fit: answer::Fit,
    /// The runs not fitted, predicted from the fit.
    pub held_out: Vec<RunRow>,
    /// Every run predicted from a fit on the others.
    pub validation: Validation,
    /// The answers.
    pub answers: Vec<PlanAnswer>,
    /// The model file.
    pub model_file: String,
    /// Its text (written by the caller).
    #[serde(skip)]
    pub model_yaml: String,
    /// The open model's text, when a question needed it.
    #[serde(skip)]
    pub open_model_yaml: Option<String>,
    /// The seed.
    pub seed: u64,
}

/// Runs the plan: decisions, validation, answers.
///
/// # Errors
/// [`PlanError`].
pub fn plan(
    runs: &[RunInput],
    o: &PlanOptions,
    files: &dyn Files,
    seed: u64,
) -> Result<Plan, PlanError> {
    if runs.is_empty() {
        return Err(PlanError::NoRuns);
    }
    for (i, r) in runs.iter().enumerate() {
        if runs[..i].iter().any(|x| x.name == r.name) {
            return Err(PlanError::DuplicateRun(r.name.clone()));
        }
    }
    let (mut p, mut decisions) = decide::decide(runs, o)?;
    if o.find == Some(Find::Users) && p.kind == model::Kind::Open {
        return Err(PlanError::Question("--find users needs closed runs (users and a think time in each run's metadata); for open runs ask --find arrival_rate".into()));
    }
    let model_yaml = model::doc(p.kind, &p.classes, p.pool).yaml();
    let files = WithModel {
        inner: files,
        path: &o.model_file,
        text: &model_yaml,
    };
    let (study, validation) = fit_and_validate(runs, &mut p, &mut decisions, o, &files, seed)?;
    let base = run_experiment(
        &study.experiments[p.base],
        &files,
        experiment_seed(seed, p.base),
    )
    .map_err(|e| PlanError::Experiment {
        run: runs[p.base].name.clone(),
        why: e.to_string(),
    })?;
    let (answers, fit, open_model_yaml) =
        answer::answers(&p, o, runs, &base, &validation, &model_yaml, seed)?;
    let fitted: Vec<&str> = p.fit.iter().map(|&i| runs[i].name.as_str()).collect();
    let held_out = validation
        .runs
        .iter()
        .filter(|r| !fitted.contains(&r.name.as_str()))
        .cloned()
        .collect();
    Ok(Plan {
        decisions,
        fit,
        held_out,
        validation,
        answers,
        model_file: o.model_file.display().to_string(),
        model_yaml,
        open_model_yaml,
        seed,
    })
}

/// The study and its validation, with the load dependence the user gave,
/// else the one whose held-out runs came closest (fewest failed runs, then
/// the smallest median |error|), the choice noted.
fn fit_and_validate(
    runs: &[RunInput],
    p: &mut Protocol,
    decisions: &mut [Decision],
    o: &PlanOptions,
    files: &dyn Files,
    seed: u64,
) -> Result<(crate::study::Study, Validation), PlanError> {
    let spec = ValidateSpec {
        hold_out: Some(HoldOut::EstimateFrom),
        ..ValidateSpec::default()
    };
    let candidates = match o.load_dependence {
        None if p.load_dependence => vec![false, true],
        _ => vec![p.load_dependence],
    };
    let mut tried = Vec::new();
    for l in candidates {
        p.load_dependence = l;
        let study = study::study(runs, p, o);
        let v = validate(&study, files, seed, &spec)?;
        let failed = v.runs.iter().filter(|r| r.error.is_none()).count();
        let median = v.summary.median_abs_error.unwrap_or(f64::INFINITY);
        tried.push((failed, median, l, study, v));
    }
    tried.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let words = |t: &(usize, f64, bool, crate::study::Study, Validation)| {
        format!(
            "{}: held-out median |error| {:.0} %, {} run(s) failed",
            if t.2 { "auto" } else { "constant" },
            100.0 * t.1,
            t.0
        )
    };
    if tried.len() > 1
        && let Some(d) = decisions.iter_mut().find(|d| d.what == "load dependence")
    {
        d.chosen = if tried[0].2 { "auto" } else { "none" }.into();
        d.why = format!(
            "each run predicted from a fit on the others both ways; {} against {}",
            words(&tried[0]),
            words(&tried[1])
        );
    }
    let (_, _, l, study, v) = tried.swap_remove(0);
    p.load_dependence = l;
    Ok((study, v))
}

/// The caller's files, and the plan's model under its file name.
struct WithModel<'a> {
    inner: &'a dyn Files,
    path: &'a Path,
    text: &'a str,
}

impl Files for WithModel<'_> {
    fn open(&self, path: &Path) -> std::io::Result<Box<dyn BufRead + Send + '_>> {
        if path == self.path {
            return Ok(Box::new(self.text.as_bytes()));
        }
        self.inner.open(path)
    }
}
