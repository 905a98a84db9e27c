//! What an estimation says: the [`Report`], its rows ([`Estimate`]), the
//! verdicts and the runs it fitted.

use serde::Serialize;

use super::background::BackgroundFit;
use super::discipline::Discipline;
use super::identify::{Identifiability, RunIdentifiability};
use super::load::RunDemand;
use super::load_model::LoadModel;
use super::observations::{Diagnostics, Observations, RunSpan};
use super::trust::{Background, DisciplineFit};

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
    pub(super) fn of(obs: &Observations, span: &RunSpan) -> Self {
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
    /// [`Identifiability`]); an undetermined class has no interval.
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

/// The outcome of [`estimate`](super::estimate).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Resource.
    pub resource: String,
    /// Servers.
    pub servers: u32,
    /// The discipline the per-class equations assumed.
    pub discipline: Discipline,
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
    pub identifiability: Option<Identifiability>,
    /// With several runs: what the runs' means determine (the design with
    /// one row per run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_identifiability: Option<RunIdentifiability>,
    /// What to do when the data cannot separate the classes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    /// Utilization the traced requests do not explain, when there is some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<Background>,
    /// With `background`: the fitted background law and each run's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background_work: Option<BackgroundFit>,
    /// With several classes: how the response times follow each
    /// discipline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discipline_fit: Option<DisciplineFit>,
    /// Per method, why it was or was not recommended.
    pub verdicts: Vec<Verdict>,
    /// With several runs: each run's demands by the utilization law.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_run: Vec<RunDemand>,
    /// With `load_dependence`: each class's load form, chosen among
    /// the candidates by leave-one-run-out error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_dependence: Option<LoadModel>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::Row;

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
        let span = |name: &str, rows| RunSpan {
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
}
