//! One error type for the whole crate: each module's own error, wrapped.
//!
//! Library functions return their module's error, which says exactly what
//! can go wrong there; [`Error`] is for callers that chain several steps
//! with `?` and want one type. Every variant is transparent: the message
//! is the module error's own.

use crate::estimate::EstimateError;
use crate::generate::GenerateError;
use crate::import::access_log::FormatError;
use crate::model::ModelError;
use crate::qpn::{DistError, NetError, RunError, SimError, WarmupError};
use crate::report::PlotError;
use crate::solve::{NotProductForm, SolveError};
use crate::study::ExperimentError;
use crate::study_file::StudyFileError;
use crate::trace::TraceError;
use crate::watch::WatchError;

/// Any error of the crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading, importing or aggregating traces.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// An access-log format string.
    #[error(transparent)]
    LogFormat(#[from] FormatError),
    /// A model file or a parameter setting.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A net built in code that breaks a rule.
    #[error(transparent)]
    Net(#[from] NetError),
    /// Distribution parameters.
    #[error(transparent)]
    Dist(#[from] DistError),
    /// A warm-up setting.
    #[error(transparent)]
    Warmup(#[from] WarmupError),
    /// A simulation run.
    #[error(transparent)]
    Run(#[from] RunError),
    /// One replication.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// Trace generation.
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// Demand estimation.
    #[error(transparent)]
    Estimate(#[from] EstimateError),
    /// A model with no analytic solution.
    #[error(transparent)]
    NotProductForm(#[from] NotProductForm),
    /// A product-form network that cannot be solved.
    #[error(transparent)]
    Solve(#[from] SolveError),
    /// A study file.
    #[error(transparent)]
    StudyFile(#[from] StudyFileError),
    /// A study experiment.
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
    /// A plot.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// Live estimation (`watch`).
    #[error(transparent)]
    Watch(#[from] WatchError),
}

/// A result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Steps of several modules chain with `?` into one error, whose
    /// message is the step's own.
    fn chained(yaml: &str) -> Result<f64> {
        let model = crate::model::load(yaml, &crate::model::LoadOptions::default())?;
        let a = crate::solve::analyse(&model.net)?;
        Ok(a.probes[0].mean_s.unwrap_or(f64::NAN))
    }

    #[test]
    fn module_errors_convert_and_keep_their_messages() {
        let e = chained("colors: []\nplaces: {}\n").unwrap_err();
        assert!(matches!(e, Error::Model(ModelError::NoColors)));
        assert_eq!(e.to_string(), "the model lists no `colors`");
        let ok = "colors: [a]\nplaces:\n  Q: {queue: ps, service: {a: {exponential: 0.5}}}\ntransitions:\n  in: {delay: {exponential: 1}, out: {Q: a}}\n  out: {in: {Q: a}}\nprobes:\n  r: {start: {transition: in}, end: {transition: out}}\n";
        // M/M/1-PS at ρ = 0.5: R = 0.5 / (1 − 0.5) = 1 s.
        assert!((chained(ok).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn serde_messages_lose_their_type_names() {
        for (from, to) in [
            (
                "invalid type: floating point `1.5`, expected struct Record at line 2 column 0",
                "found the number `1.5`, expected a mapping of fields at line 2 column 0",
            ),
            (
                "invalid length 2, expected struct Output with 6 elements",
                "a list of 2 values, expected a list of 6 values",
            ),
            (
                "data did not match any variant of untagged enum ArcColorsRaw",
                "not one of the forms this field takes",
            ),
            (
                "invalid type: string \"x\", expected f64",
                "found string \"x\", expected number",
            ),
            (
                "invalid type: map, expected usize",
                "found map, expected whole number",
            ),
            ("missing field `probes`", "missing field `probes`"),
        ] {
            assert_eq!(crate::words::serde_words(from), to);
        }
    }
}
