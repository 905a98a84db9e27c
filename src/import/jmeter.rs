//! JMeter JTL in CSV form.
//!
//! Columns are found by header name (5.x writes `timeStamp,elapsed,label,
//! responseCode,...,success,...`; older versions lack some). `timeStamp` is
//! the sample start in epoch milliseconds (JMeter's shipped
//! `sampleresult.timestamp.start=true`), `elapsed` is milliseconds,
//! `label` becomes the class and `success` the success flag.

use std::io::BufRead;

use regex::Regex;

use super::{RequestRow, RequestSink, TraceError};
use crate::trace::{HeaderProblem, parse_bool, parse_f64};

/// Options for [`read`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Rows whose label matches are skipped (e.g. transaction controllers).
    pub exclude_label: Option<Regex>,
}

/// Streams a JTL CSV into `sink`; returns the number of rows imported.
///
/// # Errors
/// A missing `timeStamp` or `elapsed` column, or a malformed value.
pub fn read<R: BufRead>(
    input: R,
    opts: &Options,
    sink: &mut RequestSink<'_>,
) -> Result<u64, TraceError> {
    let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let header = csv.byte_headers().map_err(TraceError::from_csv)?.clone();
    let col = |name: &str| header.iter().position(|h| h == name.as_bytes());
    let missing = |name: &str| {
        TraceError::Header {
        problem: HeaderProblem::MissingColumn(name.to_string()),
        expected: "a JMeter CSV header such as `timeStamp,elapsed,label,responseCode,...,success,...` (set jmeter.save.saveservice.print_field_names=true)".into(),
        found: None,
    }
    };
    let ts = col("timeStamp").ok_or_else(|| missing("timeStamp"))?;
    let el = col("elapsed").ok_or_else(|| missing("elapsed"))?;
    let label = col("label");
    let success = col("success");
    let mut rec = csv::ByteRecord::new();
    let mut n = 0;
    while csv
        .read_byte_record(&mut rec)
        .map_err(TraceError::from_csv)?
    {
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let class = match label {
            Some(i) => std::str::from_utf8(&rec[i])
                .map_err(|_| TraceError::bad_value(line, "label", &rec[i], "UTF-8 text"))?,
            None => "default",
        };
        if let Some(re) = &opts.exclude_label
            && re.is_match(class)
        {
            continue;
        }
        let start_ms = parse_f64(&rec[ts])
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                TraceError::bad_value(
                    line,
                    "timeStamp",
                    &rec[ts],
                    "epoch milliseconds (set jmeter.save.saveservice.timestamp_format=ms)",
                )
            })?;
        let elapsed_ms = parse_f64(&rec[el])
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                TraceError::bad_value(line, "elapsed", &rec[el], "non-negative milliseconds")
            })?;
        let ok = match success {
            Some(i) => parse_bool(&rec[i])
                .ok_or_else(|| TraceError::bad_value(line, "success", &rec[i], "true or false"))?,
            None => true,
        };
        sink(RequestRow {
            start: start_ms / 1000.0,
            response_time: elapsed_ms / 1000.0,
            class: if class.is_empty() { "default" } else { class },
            success: ok,
            ..RequestRow::default()
        })?;
        n += 1;
    }
    Ok(n)
}
