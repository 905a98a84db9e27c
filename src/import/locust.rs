//! Locust's `--csv` history (`PREFIX_stats_history.csv`, with
//! `--csv-full-history` for one row per request name) → interval-level
//! rows ([`crate::trace::interval_input`]).
//!
//! Each row holds cumulative figures since the test started: `Total
//! Request Count`, `Total Failure Count` and `Total Average Response Time`
//! (milliseconds). The difference of two successive rows of one request
//! name gives the interval's completions and, from count × average, the
//! exact sum of their response times, so the interval means are exact.
//! The percentile columns are Locust's rolling window, not the interval's,
//! and are not used. `Aggregated` rows are skipped (they repeat the sum).

use std::collections::HashMap;
use std::io::BufRead;

use super::TraceError;
use crate::trace::{IntervalRecord, Labels};

/// The columns the history must have (Locust 1.2 and later write them).
const NEEDED: [&str; 6] = [
    "Timestamp",
    "Type",
    "Name",
    "Total Request Count",
    "Total Failure Count",
    "Total Average Response Time",
];

/// Cumulative figures of one request name at one timestamp.
#[derive(Debug, Clone, Copy, Default)]
struct Cumulative {
    at: f64,
    count: u64,
    failures: u64,
    /// count × average, milliseconds.
    sum_ms: f64,
}

/// Reads a Locust history and hands every interval of every request name
/// to `sink` (with the class's name); returns the number of rows.
/// Intervals ending within `skip_s` seconds of the history's first
/// timestamp (the warm-up) are left out; they still set the baseline.
///
/// # Errors
/// A header without the cumulative columns (an older Locust: the message
/// names the missing column), or a bad value with its line and field.
pub fn read<R: BufRead>(
    input: R,
    skip_s: f64,
    sink: &mut dyn FnMut(&IntervalRecord, &str) -> Result<(), TraceError>,
) -> Result<u64, TraceError> {
    let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let header = csv.headers().map_err(TraceError::from_csv)?.clone();
    let mut cols = [0usize; 6];
    for (slot, name) in cols.iter_mut().zip(NEEDED) {
        *slot = header.iter().position(|h| h.trim() == name).ok_or_else(|| {
            TraceError::Header {
                problem: crate::trace::HeaderProblem::MissingColumn(name.to_string()),
                expected: "the history Locust 1.2 or later writes with `--csv PREFIX --csv-full-history` (PREFIX_stats_history.csv), with the cumulative `Total Request Count`, `Total Failure Count` and `Total Average Response Time`".into(),
                found: Some(header.iter().take(8).collect::<Vec<_>>().join(",") + ",..."),
            }
        })?;
    }
    let [ts, kind, name, count, failures, avg] = cols;
    let mut classes = Labels::new();
    let mut last: HashMap<(String, String), Cumulative> = HashMap::new();
    // The previous distinct timestamp: a name first seen at t completed
    // its first requests after it.
    let (mut previous, mut current) = (None::<f64>, None::<f64>);
    let mut first = None::<f64>;
    let mut rows = 0u64;
    let mut resets = 0u64;
    let mut record = csv::StringRecord::new();
    while csv.read_record(&mut record).map_err(TraceError::from_csv)? {
        let line = record.position().map_or(0, |p| p.line());
        let at = number(&record[ts], line, "Timestamp")?;
        let first = *first.get_or_insert(at);
        if current != Some(at) {
            if current.is_some_and(|c| at < c) {
                return Err(TraceError::Malformed {
                    line,
                    message: format!(
                        "Timestamp {at} is earlier than the row before it ({}); the history must be in time order",
                        current.unwrap_or_default()
                    ),
                });
            }
            previous = current;
            current = Some(at);
        }
        // The `Aggregated` rows repeat the sum; they still mark the time.
        if record[name].trim() == "Aggregated" && record[kind].trim().is_empty() {
            continue;
        }
        let now = Cumulative {
            at,
            count: whole(&record[count], line, "Total Request Count")?,
            failures: whole(&record[failures], line, "Total Failure Count")?,
            sum_ms: 0.0,
        };
        let mean_ms = match record[avg].trim() {
            "" | "N/A" if now.count == 0 => 0.0,
            text => number(text, line, "Total Average Response Time")?,
        };
        let now = Cumulative {
            sum_ms: now.count as f64 * mean_ms,
            ..now
        };
        let key = (
            record[kind].trim().to_string(),
            record[name].trim().to_string(),
        );
        let before = match last.get(&key) {
            // Counts that go down: Locust's statistics were reset
            // (`--reset-stats`); count from zero again.
            Some(b) if now.count < b.count || now.failures < b.failures => {
                resets += 1;
                Cumulative {
                    at: b.at,
                    ..Cumulative::default()
                }
            }
            Some(b) => *b,
            None => match previous {
                Some(p) => Cumulative {
                    at: p,
                    ..Cumulative::default()
                },
                // The first timestamp of the file is the baseline.
                None => {
                    last.insert(key, now);
                    continue;
                }
            },
        };
        if now.at <= before.at {
            // Written twice in one second: the next row's difference
            // covers both.
            continue;
        }
        last.insert(key.clone(), now);
        let done = now.count - before.count;
        if done == 0 || now.at - first <= skip_s {
            continue;
        }
        let failed = (now.failures - before.failures).min(done);
        let class = classes.intern(&key.1);
        let row = IntervalRecord {
            end: now.at,
            width: now.at - before.at,
            class,
            completions: done - failed,
            failures: failed,
            mean_response_s: Some(((now.sum_ms - before.sum_ms) / done as f64 / 1000.0).max(0.0)),
        };
        sink(&row, classes.name(class))?;
        rows += 1;
    }
    if resets > 0 {
        log::warn!(
            "Locust's statistics were reset {resets} time(s) (counts went down); counting restarted from each reset"
        );
    }
    Ok(rows)
}

fn number(text: &str, line: u64, field: &str) -> Result<f64, TraceError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| TraceError::bad_value(line, field, text.as_bytes(), "a number >= 0"))
}

fn whole(text: &str, line: u64, field: &str) -> Result<u64, TraceError> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| TraceError::bad_value(line, field, text.as_bytes(), "a whole number >= 0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size";

    fn rows(text: &str) -> Result<Vec<(IntervalRecord, String)>, TraceError> {
        let mut out = Vec::new();
        read(text.as_bytes(), 0.0, &mut |r, c| {
            out.push((*r, c.to_string()));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn interval_means_come_exactly_from_the_cumulative_averages() {
        // buy: 2 requests of 10 and 20 ms by t=101, then 3 more of 30 ms
        // each (one failed) by t=103: cumulative mean (10+20+90)/5 = 24.
        let text = format!(
            "{HEADER}\n\
             100,0,,Aggregated,0,0,N/A,0,0,0,0.0,0,0,0\n\
             101,2,POST,buy,1,0,10,2,0,10,15.0,10,20,5\n\
             101,2,,Aggregated,1,0,10,2,0,10,15.0,10,20,5\n\
             102,2,POST,buy,1,0,10,2,0,10,15.0,10,20,5\n\
             103,2,POST,buy,1,0,10,5,1,10,24.0,10,30,5\n"
        );
        let v = rows(&text).unwrap();
        assert_eq!(v.len(), 2, "{v:?}");
        let (first, class) = &v[0];
        assert_eq!(class, "buy");
        assert_eq!((first.end, first.width, first.completions), (101.0, 1.0, 2));
        assert!((first.mean_response_s.unwrap() - 0.015).abs() < 1e-12);
        let second = &v[1].0;
        assert_eq!((second.end, second.width), (103.0, 1.0));
        assert_eq!((second.completions, second.failures), (2, 1));
        assert!((second.mean_response_s.unwrap() - 0.030).abs() < 1e-12);
    }

    #[test]
    fn an_older_history_without_cumulative_averages_is_refused_by_name() {
        let old = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,100%,Total Request Count,Total Failure Count\n1,1,GET,a,1,0,1,1,1,0\n";
        let err = rows(old).unwrap_err().to_string();
        assert!(err.contains("`Total Average Response Time`"), "{err}");
        assert!(err.contains("Locust 1.2 or later"), "{err}");
    }

    #[test]
    fn bad_counts_and_time_order_name_the_line() {
        let text = format!("{HEADER}\n101,2,GET,a,1,0,10,x,0,10,15.0,10,20,5\n");
        let err = rows(&text).unwrap_err().to_string();
        assert!(
            err.starts_with("line 2, field `Total Request Count`"),
            "{err}"
        );
        let text = format!(
            "{HEADER}\n101,2,GET,a,1,0,10,1,0,10,15.0,10,20,5\n100,2,GET,a,1,0,10,2,0,10,15.0,10,20,5\n"
        );
        let err = rows(&text).unwrap_err().to_string();
        assert!(err.starts_with("line 3: Timestamp 100"), "{err}");
    }
}
