//! LibReDE's CSV layout: headerless `timestamp,value` lines, one file per
//! class (response times, stamped at completion) or per resource
//! (utilization, 0–1). `#` lines are comments; `;` also separates.

use std::io::{BufRead, Write};

pub use super::TimeUnit;
use super::{
    Imported, Importer, Opt, OptionError, OptionProblem, Reader, RequestRow, RequestSink,
    TraceError, UtilSink, Values,
};
use crate::trace::UtilSample;

/// The importer of LibReDE's files.
#[derive(Debug)]
pub struct Librede;

const METRIC: Opt = Opt::choice(
    "metric",
    "METRIC",
    &[
        (
            "response-time",
            "Response times in seconds, stamped at completion.",
        ),
        (
            "utilization",
            "Utilization 0–1, stamped at the interval end.",
        ),
    ],
    "What the files hold.",
)
.required();
const NAME: Opt = Opt::text(
    "name",
    "NAME",
    "Class or resource name [default: from the file name, e.g. `WC0` from \
     `WC0_RESPONSE_TIME.csv`].",
);
const TIME_UNIT: Opt = Opt::choice(
    "time-unit",
    "TIME_UNIT",
    &[("s", ""), ("ms", "")],
    "Unit of the timestamps [default: s].",
);

impl Importer for Librede {
    fn name(&self) -> &'static str {
        "librede"
    }

    fn about(&self) -> &'static str {
        "LibReDE headerless `timestamp,value` files, with --metric."
    }

    fn options(&self) -> &'static [Opt] {
        &[METRIC, NAME, TIME_UNIT]
    }

    fn configure(&self, values: &Values) -> Result<Reader, OptionError> {
        let metric = values.choice(&METRIC)?.ok_or(OptionError {
            option: METRIC.name,
            problem: OptionProblem::Missing,
        })?;
        let unit = match values.choice(&TIME_UNIT)? {
            Some("ms") => TimeUnit::Milliseconds,
            _ => TimeUnit::Seconds,
        };
        let name = values.text(&NAME).map(str::to_string);
        if metric == "utilization" {
            return Ok(Reader::utilization(move |input, file, sink| {
                let resource = name_of(name.as_deref(), file);
                read_utilization(input, &resource, unit, sink).map(Imported::from)
            }));
        }
        Ok(Reader::requests(false, move |input, file, sink| {
            let class = name_of(name.as_deref(), file);
            read_response_times(input, &class, unit, sink).map(Imported::from)
        }))
    }
}

/// The class or resource of `file`: `given`, or the file's name without
/// LibReDE's suffix (`WC0` from `WC0_RESPONSE_TIME.csv`), or `default`.
fn name_of(given: Option<&str>, file: &str) -> String {
    if let Some(n) = given {
        return n.to_string();
    }
    let stem = file.trim_end_matches(".gz").trim_end_matches(".csv");
    match name_from_file(stem) {
        "" | "-" => "default".into(),
        n => n.to_string(),
    }
}

fn rows<R: BufRead>(
    input: R,
    unit: TimeUnit,
    mut f: impl FnMut(u64, f64, f64) -> Result<(), TraceError>,
) -> Result<u64, TraceError> {
    let scale = unit.seconds();
    let mut n = 0;
    for (i, line) in input.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line.map_err(|e| super::line_error(e, line_no))?;
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
