//! Importers: the files that load testers and monitors write, turned into
//! canonical records.
//!
//! Each importer takes a reader and hands every record to a sink closure,
//! so a file of any size streams through in constant memory. Errors name
//! the line and the field and say what was expected; the caller adds the
//! file name.

pub mod access_log;
pub mod jmeter;
pub mod k6;
pub mod librede;
pub mod locust;
pub mod lodestone;
pub mod prometheus;
pub mod prometheus_histogram;
pub mod sadf;
pub mod wessbas;

pub use crate::trace::TraceError;

/// The unit of a file's times, where the file does not say (LibReDE's
/// timestamps, QPME's model times).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeUnit {
    /// Milliseconds: divided by 1000.
    Milliseconds,
    /// Seconds: taken as they are.
    #[default]
    Seconds,
}

impl TimeUnit {
    /// Seconds per time unit.
    pub fn seconds(self) -> f64 {
        match self {
            Self::Milliseconds => 1e-3,
            Self::Seconds => 1.0,
        }
    }

    /// `milliseconds` or `seconds`.
    pub fn words(self) -> &'static str {
        match self {
            Self::Milliseconds => "milliseconds",
            Self::Seconds => "seconds",
        }
    }

    /// `ms` or `s`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Milliseconds => "ms",
            Self::Seconds => "s",
        }
    }
}

use crate::trace::UtilSample;

pub use crate::trace::RequestRow;

/// Where importers put requests.
pub type RequestSink<'s> = dyn FnMut(RequestRow<'_>) -> Result<(), TraceError> + 's;
/// Where importers put utilization samples.
pub type UtilSink<'s> = dyn FnMut(UtilSample) -> Result<(), TraceError> + 's;

/// Parses epoch seconds or milliseconds written as a number; values above
/// 1e11 are taken as milliseconds (1e11 s is the year 5138).
pub(crate) fn epoch_auto(v: f64) -> f64 {
    if v.abs() > 1e11 { v / 1000.0 } else { v }
}

/// Parses an RFC 3339 / ISO 8601 date-time to epoch seconds.
pub(crate) fn rfc3339(s: &str) -> Option<f64> {
    let dt = chrono::DateTime::parse_from_rfc3339(s.trim()).ok()?;
    Some(dt.timestamp() as f64 + dt.timestamp_subsec_nanos() as f64 * 1e-9)
}

/// Checks a response time read from a foreign format.
pub(crate) fn check_duration(v: f64, line: u64, field: &str, raw: &str) -> Result<f64, TraceError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(TraceError::bad_value(
            line,
            field,
            raw.as_bytes(),
            "a finite, non-negative duration",
        ))
    }
}
