//! Importers: the files that load testers and monitors write, turned into
//! canonical records.
//!
//! Each format is one file holding its reader and its [`Importer`] (name,
//! options, what it produces), its `mod` line, and one line of the table
//! below, which lists the importer in [`ALL`]; the command line offers what
//! [`ALL`] holds. (The `mod` lines stay outside the macro so that rustfmt,
//! which skips modules a macro declares, formats the importers.)
//!
//! A reader takes a reader and hands every record to a sink closure, so a
//! file of any size streams through in constant memory. Errors name the line and the field and say what was
//! expected; the caller adds the file name.

mod importer;
mod lines;

use crate::trace::{IntervalRecord, UtilSample};
pub use crate::trace::{RequestRow, TraceError};
pub use importer::{
    ClassSummary, Imported, Importer, InFile, Note, Opt, OptionError, OptionProblem, ReadIntervals,
    ReadMerged, ReadRequests, ReadUtilization, Reader, Source, Takes, Value, Values,
};

pub mod access_log;
pub mod jmeter;
pub mod k6;
pub mod librede;
pub mod locust;
pub mod lodestone;
pub mod otlp;
pub mod pgbench;
pub mod prometheus;
pub mod sadf;
pub mod wessbas;

/// Lists the importers in [`ALL`]: adding one is its file, its `mod` line
/// above and one line here.
macro_rules! importers {
    ($($module:ident :: $importer:ident,)*) => {
        /// Every importer, in the order the command line lists them.
        pub static ALL: &[&dyn Importer] = &[$(&$module::$importer,)*];
    };
}

importers! {
    jmeter::Jmeter,
    k6::K6,
    access_log::AccessLog,
    sadf::Sadf,
    prometheus::Prometheus,
    librede::Librede,
    locust::Locust,
    wessbas::Wessbas,
    lodestone::Lodestone,
    otlp::Otlp,
    pgbench::Pgbench,
}

// Read by `prometheus` with its `histogram` switch.
pub mod prometheus_histogram;
mod prometheus_matrix;

/// The importer called `name`.
pub fn find(name: &str) -> Option<&'static dyn Importer> {
    ALL.iter().copied().find(|i| i.name() == name)
}

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

/// Where importers put requests.
pub type RequestSink<'s> = dyn FnMut(RequestRow<'_>) -> Result<(), TraceError> + 's;
/// Where importers put interval-level rows (with the class's name).
pub type IntervalSink<'s> = dyn FnMut(&IntervalRecord, &str) -> Result<(), TraceError> + 's;
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

/// A line that cannot be read: text that is not UTF-8 is named by its
/// line (1-based), other failures are the reader's.
pub(crate) fn line_error(e: std::io::Error, line: u64) -> TraceError {
    if let Some(limit) = crate::trace::LimitError::of(&e) {
        TraceError::Limit(limit)
    } else if e.kind() == std::io::ErrorKind::InvalidData {
        TraceError::Malformed {
            line,
            message: "not valid UTF-8 text; is this a binary file?".into(),
        }
    } else {
        TraceError::Io(e)
    }
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
