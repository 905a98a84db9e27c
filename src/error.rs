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
}

/// A result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A number readable in a message: plain, or in scientific notation (four
/// significant digits) when huge or tiny, so that 1e300 is not printed
/// with its 300 digits.
pub fn readable(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-6..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:.3e}")
    }
}

/// A serde message (JSON or YAML) in the words of a file's reader: the
/// names of the Rust types it was read into (`expected struct Record`,
/// `untagged enum ArcColorsRaw`) become what the file should hold there,
/// and Rust's number types become "number".
pub fn serde_words(message: &str) -> String {
    static RULES: std::sync::LazyLock<Vec<(regex::Regex, &str)>> = std::sync::LazyLock::new(|| {
        [
            (
                r"expected (?:tuple )?struct \w+ with (\d+) elements?",
                "expected a list of $1 values",
            ),
            (
                r"data did not match any variant of untagged enum \w+",
                "not one of the forms this field takes",
            ),
            (
                r"expected (?:tuple |unit )?struct \w+",
                "expected a mapping of fields",
            ),
            (
                r"expected (?:a )?(?:unit )?enum \w+",
                "expected one of the names this field takes",
            ),
            (
                r"expected (?:a )?(?:variant|newtype variant) of \w+",
                "expected one of the names this field takes",
            ),
            (
                r"\b(?:u8|u16|u32|u64|usize|i32|i64|isize)\b",
                "whole number",
            ),
            (r"\bf(?:32|64)\b", "number"),
            (r"floating point `", "the number `"),
            (r"invalid type: ", "found "),
            (r"invalid value: ", "found "),
            (r"invalid length (\d+)", "a list of $1 values"),
            (r"\bsequence\b", "list"),
            (r"\ba map\b", "a mapping"),
            (r",? set \w+ in Options if acceptable", ""),
        ]
        .into_iter()
        .map(|(r, to)| (regex::Regex::new(r).expect("a valid pattern"), to))
        .collect()
    });
    RULES.iter().fold(message.to_string(), |m, (r, to)| {
        r.replace_all(&m, *to).into_owned()
    })
}

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
            assert_eq!(serde_words(from), to);
        }
    }
}
