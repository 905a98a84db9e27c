//! Canonical traces: per-request records and utilization samples, their CSV
//! form, gzip/stdin input, and interval aggregation.
//!
//! Units: every time is in seconds (`f64`, epoch or any origin); utilization
//! is a fraction of the resource's whole capacity (0–1).
//!
//! This module does not open files or print: it takes readers and writers.

mod canonical;
mod decimal;
mod in_system;
mod input;
pub mod interval_input;
mod interval_table;
mod intervals;
mod labels;
pub mod pipeline;
mod replay;
mod requests_csv;
mod util_series;
mod utilization_csv;

pub use in_system::{InSystem, in_system_at_end};
pub use input::{
    Bounded, LimitError, MAX_DOCUMENT_BYTES, MAX_LINE_BYTES, decompress, decompress_in_background,
};
pub use interval_input::{IntervalReader, IntervalRecord, IntervalWriter};
pub use interval_table::{
    Interval, IntervalRow, IntervalTable, OriginSummary, ResponseSummary, TraceSummary,
};
pub use intervals::{Aggregator, MAX_INTERVALS, SATURATION};
pub use labels::{LabelId, Labels};
pub use pipeline::{DEFAULT_INTERVAL_S, InputKind, Pipeline, read_utilization};
pub use replay::Arrivals;
pub use requests_csv::{Columns, OriginLabels, RequestReader, RequestRow, RequestWriter};
pub use util_series::{Grid, UtilSeries};
pub use utilization_csv::{UtilizationReader, UtilizationWriter};

/// One request as the canonical `requests.csv` holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// Start of the request, seconds.
    pub start: f64,
    /// Response time, seconds; completion is `start + response_time`.
    pub response_time: f64,
    /// Workload class (an id into the reader's [`Labels`]).
    pub class: LabelId,
    /// Whether the request succeeded; failed requests are excluded from
    /// estimation by default.
    pub success: bool,
    /// The resource (e.g. container) that served the request, if known.
    pub resource: Option<LabelId>,
    /// Who sent it, when the trace says.
    pub origin: Origin,
}

/// Who sent a request: the optional `user_class`, `user` and `session`
/// columns of `requests.csv`, as ids into the reader's tables
/// ([`RequestReader::origin_labels`]). `None` where the column is absent
/// or the row leaves it empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Origin {
    /// The load generator's user class (e.g. a Locust `User` subclass).
    pub user_class: Option<LabelId>,
    /// The user (a virtual user, an account).
    pub user: Option<LabelId>,
    /// The session (one visit: login to logout, or a run of requests
    /// without a long pause).
    pub session: Option<LabelId>,
}

impl Request {
    /// Completion time, seconds.
    pub fn end(&self) -> f64 {
        self.start + self.response_time
    }
}

/// One utilization sample: the mean utilization of `resource` over
/// `(timestamp - interval, timestamp]`.
#[derive(Debug, Clone, PartialEq)]
pub struct UtilSample {
    /// End of the sampling interval, seconds.
    pub timestamp: f64,
    /// Fraction 0–1 of the resource's whole capacity.
    pub utilization: f64,
    /// Resource name (default `cpu`).
    pub resource: String,
    /// Length of the sampling interval in seconds, when the source says it.
    pub interval: Option<f64>,
}

/// Errors from reading, importing or aggregating traces.
///
/// Line numbers are 1-based lines of the input (the header is line 1 of a
/// CSV). The caller adds the file name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// The reader failed (including a truncated or corrupt gzip stream).
    /// The cause is the error's source, so that a chain printer shows it
    /// once.
    #[error("cannot read the input (truncated or corrupt gzip, or an I/O failure)")]
    Io(#[source] std::io::Error),
    /// The input broke a size limit: a line longer than a record can be,
    /// a document larger than a file read whole may be.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// The header lacks a required column or cannot be understood.
    #[error("line 1: {problem}; expected {expected}{}", found.as_ref().map(|f| format!(", found `{f}`")).unwrap_or_default())]
    Header {
        /// What is wrong with it.
        problem: HeaderProblem,
        /// The header the format wants, in words.
        expected: String,
        /// The header found, when it is worth showing.
        found: Option<String>,
    },
    /// The input is empty.
    #[error("empty {what} file: expected {expected}")]
    Empty {
        /// What kind of file.
        what: &'static str,
        /// What it should start with.
        expected: String,
    },
    /// A field does not hold what the format requires.
    #[error("line {line}, field `{field}`: found {found:?}, expected {expected}")]
    BadValue {
        /// 1-based line.
        line: u64,
        /// Column or field name.
        field: String,
        /// The text found (truncated to 60 characters).
        found: String,
        /// What the field must hold.
        expected: String,
    },
    /// A line is malformed as a whole.
    #[error("line {line}: {message}")]
    Malformed {
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// Two utilization samples of one resource end at the same time.
    #[error(
        "two utilization samples of `{resource}` share the timestamp {timestamp}; each sample must end its own interval"
    )]
    SameTimestamp {
        /// The resource.
        resource: String,
        /// The shared timestamp, seconds.
        timestamp: f64,
    },
    /// One sample and no interval column: its length is unknown.
    #[error(
        "resource `{0}` has a single utilization sample and no `interval` column; its sampling interval cannot be inferred"
    )]
    SingleSample(String),
    /// The data span far more intervals than they fill.
    #[error("the traces span {} intervals of {width} s (from {} s to {} s){}; are milliseconds mixed with seconds{}?",
        readable(*intervals), readable(*from), readable(*to),
        occupied.map(|n| format!(" but only {n} of them hold data")).unwrap_or_default(),
        if occupied.is_some() { ", or are wider intervals meant" } else { "" })]
    Span {
        /// Intervals spanned.
        intervals: f64,
        /// Interval width, seconds.
        width: f64,
        /// First time, seconds.
        from: f64,
        /// Last time, seconds.
        to: f64,
        /// Intervals holding data, when the span is sparse rather than huge.
        occupied: Option<u64>,
    },
    /// A resource without utilization samples.
    #[error("no utilization for resource `{name}` (the utilization file has: {})", known.join(", "))]
    UnknownResource {
        /// The resource named.
        name: String,
        /// The resources there are.
        known: Vec<String>,
    },
    /// A foreign format's file that does not hold what the format does.
    #[error("{problem}")]
    Format {
        /// The format (`prometheus`, `k6`, ...).
        format: &'static str,
        /// What is wrong, in the format's own terms.
        problem: String,
    },
}

impl From<std::io::Error> for TraceError {
    /// A [`LimitError`] that a [`Bounded`] reader raised is itself; any
    /// other failure is the reader's.
    fn from(e: std::io::Error) -> Self {
        match LimitError::of(&e) {
            Some(limit) => TraceError::Limit(limit),
            None => TraceError::Io(e),
        }
    }
}

/// What is wrong with a header line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderProblem {
    /// A required column is missing.
    MissingColumn(String),
    /// The header is not UTF-8 text.
    NotText,
    /// The header is not the format's.
    Foreign,
}

impl std::fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingColumn(c) => write!(f, "no `{c}` column"),
            Self::NotText => f.write_str("the header is not UTF-8 text (is this a binary file?)"),
            Self::Foreign => f.write_str("an unknown header"),
        }
    }
}

/// `text` as a message shows what was found: at most 60 characters.
pub(crate) fn clip(text: &str) -> String {
    match text.chars().count() > 60 {
        true => text.chars().take(57).collect::<String>() + "...",
        false => text.to_string(),
    }
}

use crate::words::readable;

impl TraceError {
    pub(crate) fn bad_value(
        line: u64,
        field: &str,
        found: &[u8],
        expected: impl Into<String>,
    ) -> Self {
        TraceError::BadValue {
            line,
            field: field.to_string(),
            found: clip(&String::from_utf8_lossy(found)),
            expected: expected.into(),
        }
    }

    /// Converts a `csv` error, keeping its line number.
    pub(crate) fn from_csv(err: csv::Error) -> Self {
        let line = err.position().map(|p| p.line()).unwrap_or(0);
        match err.into_kind() {
            csv::ErrorKind::Io(e) => e.into(),
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => TraceError::Malformed {
                line,
                message: format!("expected {expected_len} fields like the header, found {len}"),
            },
            csv::ErrorKind::Utf8 { err, .. } => TraceError::Malformed {
                line,
                message: format!("not valid UTF-8 text ({err}); is this a binary file?"),
            },
            other => TraceError::Malformed {
                line,
                message: format!("{other:?}"),
            },
        }
    }
}

/// Parses a finite, non-negative number of seconds.
pub(crate) fn parse_seconds(bytes: &[u8], line: u64, field: &str) -> Result<f64, TraceError> {
    let v = parse_f64(bytes)
        .ok_or_else(|| TraceError::bad_value(line, field, bytes, "a number of seconds"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(TraceError::bad_value(
            line,
            field,
            bytes,
            "a finite, non-negative number of seconds",
        ));
    }
    Ok(v)
}

/// Parses an `f64` from ASCII bytes (surrounding spaces allowed).
pub(crate) fn parse_f64(bytes: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(bytes).ok()?.trim();
    if s.is_empty() {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Parses a boolean written as true/false/1/0 (any case); empty is `true`.
pub(crate) fn parse_bool(bytes: &[u8]) -> Option<bool> {
    let s = std::str::from_utf8(bytes).ok()?.trim();
    if s.is_empty() || s == "1" || s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s == "0" || s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}
