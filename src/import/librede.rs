//! LibReDE's CSV layout: headerless `timestamp,value` lines, one file per
//! class (response times, stamped at completion) or per resource
//! (utilization, 0–1). `#` lines are comments; `;` also separates.

use std::io::{BufRead, Write};

pub use super::TimeUnit;
use super::{RequestRow, RequestSink, TraceError, UtilSink};
use crate::trace::UtilSample;

fn rows<R: BufRead>(
    input: R,
    unit: TimeUnit,
    mut f: impl FnMut(u64, f64, f64) -> Result<(), TraceError>,
) -> Result<u64, TraceError> {
    let scale = unit.seconds();
    let mut n = 0;
    for (i, line) in input.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line.map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => TraceError::Malformed {
                line: line_no,
                message: "not valid UTF-8 text; is this a binary file?".into(),
            },
            _ => TraceError::Io(e),
        })?;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut parts = t.split([',', ';']);
        let (Some(a), Some(b)) = (parts.next(), parts.next()) else {
            return Err(TraceError::Malformed {
                line: line_no,
                message: format!("expected `timestamp,value`, found {t:?}"),
            });
        };
        let ts = a
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                TraceError::bad_value(line_no, "timestamp", a.as_bytes(), "a non-negative number")
            })?;
        let v = b
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                TraceError::bad_value(line_no, "value", b.as_bytes(), "a non-negative number")
            })?;
        f(line_no, ts * scale, v)?;
        n += 1;
    }
    Ok(n)
}

/// Reads a response-time file (seconds, stamped at completion) of `class`.
pub fn read_response_times<R: BufRead>(
    input: R,
    class: &str,
    unit: TimeUnit,
    sink: &mut RequestSink<'_>,
) -> Result<u64, TraceError> {
    rows(input, unit, |_, t, v| {
        sink(RequestRow {
            start: (t - v).max(0.0),
            response_time: v,
            class,
            success: true,
            ..RequestRow::default()
        })
    })
}

/// Reads a utilization file (0–1) of `resource`.
pub fn read_utilization<R: BufRead>(
    input: R,
    resource: &str,
    unit: TimeUnit,
    sink: &mut UtilSink<'_>,
) -> Result<u64, TraceError> {
    rows(input, unit, |line, t, v| {
        if v > 1.0 + 1e-6 {
            return Err(TraceError::bad_value(
                line,
                "value",
                v.to_string().as_bytes(),
                "a utilization between 0 and 1",
            ));
        }
        sink(UtilSample {
            timestamp: t,
            utilization: v.min(1.0),
            resource: resource.to_string(),
            interval: None,
        })
    })
}

/// Writes one LibReDE line, `timestamp,value`.
pub fn write_line<W: Write>(out: &mut W, timestamp: f64, value: f64) -> std::io::Result<()> {
    writeln!(out, "{timestamp},{value}")
}

/// The file name LibReDE's examples use for a class's response times.
pub fn response_time_file(class: &str) -> String {
    format!("{}_RESPONSE_TIME.csv", sanitize(class))
}

/// The file name LibReDE's examples use for a resource's utilization.
pub fn utilization_file(resource: &str) -> String {
    format!("{}_CPU_UTILIZATION.csv", sanitize(resource))
}

/// Derives a class or resource name from a LibReDE file name.
pub fn name_from_file(stem: &str) -> &str {
    for suffix in ["_RESPONSE_TIME", "_CPU_UTILIZATION", "_UTILIZATION"] {
        if let Some(s) = stem.strip_suffix(suffix) {
            return s;
        }
    }
    stem
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
