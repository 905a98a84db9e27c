//! `sadf -d` output of sar's CPU report (`sadf -d -U saFILE -- -u`).
//!
//! `;`-separated, with a header `# hostname;interval;timestamp;CPU;%user;
//! ...;%idle` (or `-u ALL` columns). The timestamp is the interval end,
//! epoch seconds with `-U`, or `YYYY-MM-DD HH:MM:SS UTC` without.
//! Utilization = 1 − %idle/100; `CPU` −1 (all CPUs) becomes resource `cpu`,
//! CPU N becomes `cpuN`.

use std::io::BufRead;

use super::{Imported, Importer, OptionError, Reader, TraceError, UtilSink, Values};
use crate::trace::{HeaderProblem, UtilSample};

/// The importer of sar's CPU report.
#[derive(Debug)]
pub struct Sadf;

impl Importer for Sadf {
    fn name(&self) -> &'static str {
        "sadf"
    }

    fn about(&self) -> &'static str {
        "`sadf -d -U saFILE -- -u` → utilization."
    }

    fn configure(&self, _: &Values) -> Result<Reader, OptionError> {
        Ok(Reader::utilization(|input, _, sink| {
            read(input, sink).map(Imported::from)
        }))
    }
}

fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        return Some(v);
    }
    let s = s.strip_suffix(" UTC").unwrap_or(s);
    let dt = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok()?;
    Some(dt.and_utc().timestamp() as f64)
}

/// Where the columns read are: interval, timestamp, CPU, %idle.
#[derive(Clone, Copy)]
struct Columns {
    interval: usize,
    timestamp: usize,
    cpu: usize,
    idle: usize,
}

/// Streams samples into `sink`; returns the number imported.
///
/// # Errors
/// Rows before a header, a header without `%idle`, malformed values.
pub fn read<R: BufRead>(input: R, sink: &mut UtilSink<'_>) -> Result<u64, TraceError> {
    let mut cols: Option<Columns> = None;
    let mut n = 0;
    for (i, line) in input.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line.map_err(|e| super::line_error(e, line_no))?;
        if line.trim().is_empty() {
            continue;
        }
        if let Some(h) = line.strip_prefix('#') {
            cols = header(h);
            if cols.is_none() && n == 0 && !h.split(';').any(|x| x.trim().starts_with('%')) {
                return Err(TraceError::Header {
                    problem: HeaderProblem::Foreign,
                    expected: "sadf's header `# hostname;interval;timestamp;CPU;...;%idle`".into(),
                    found: Some(line.trim().to_string()),
                });
            }
            continue;
        }
        let fields: Vec<&str> = line.split(';').collect();
        if fields.iter().any(|f| f.contains("RESTART")) {
            continue;
        }
        let Some(c) = cols else {
            if n == 0 {
                return Err(TraceError::Malformed {
                    line: line_no,
                    message: "a data row before sadf's `# hostname;interval;timestamp;CPU;...;%idle` header (run `sadf -d -U FILE -- -u`)".into(),
                });
            }
            continue;
        };
        sink(sample(&fields, c, line_no)?)?;
        n += 1;
    }
    Ok(n)
}

/// The columns of a header line (after its `#`); `None` for another
/// report (memory, disks), whose rows are skipped.
fn header(h: &str) -> Option<Columns> {
    let names: Vec<&str> = h.trim().split(';').map(str::trim).collect();
    let pos = |n: &str| names.iter().position(|x| *x == n);
    Some(Columns {
        interval: pos("interval")?,
        timestamp: pos("timestamp")?,
        cpu: pos("CPU")?,
        idle: pos("%idle")?,
    })
}

/// The sample of one data row.
fn sample(fields: &[&str], c: Columns, line_no: u64) -> Result<UtilSample, TraceError> {
    let get = |k: usize, name: &str| {
        fields.get(k).copied().ok_or_else(|| TraceError::Malformed {
            line: line_no,
            message: format!(
                "missing field `{name}` (expected {} `;`-separated fields)",
                c.idle.max(c.cpu).max(c.timestamp) + 1
            ),
        })
    };
    let ts_raw = get(c.timestamp, "timestamp")?;
    let timestamp = parse_time(ts_raw).ok_or_else(|| {
        TraceError::bad_value(
            line_no,
            "timestamp",
            ts_raw.as_bytes(),
            "epoch seconds or YYYY-MM-DD HH:MM:SS UTC",
        )
    })?;
    let iv_raw = get(c.interval, "interval")?;
    let interval = iv_raw.trim().parse::<f64>().ok().filter(|v| *v > 0.0);
    let idle_raw = get(c.idle, "%idle")?;
    let idle = idle_raw
        .trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| (0.0..=100.0 + 1e-6).contains(v))
        .ok_or_else(|| {
            TraceError::bad_value(
                line_no,
                "%idle",
                idle_raw.as_bytes(),
                "a percentage between 0 and 100",
            )
        })?;
    let resource = match get(c.cpu, "CPU")?.trim() {
        "-1" | "all" => "cpu".to_string(),
        other => format!("cpu{other}"),
    };
    Ok(UtilSample {
        timestamp,
        utilization: (1.0 - idle / 100.0).clamp(0.0, 1.0),
        resource,
        interval,
    })
}
