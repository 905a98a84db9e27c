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

use super::{Imported, Importer, IntervalSink, Opt, OptionError, Reader, TraceError, Values};
use crate::trace::{IntervalRecord, Labels};

/// The importer of Locust's history.
#[derive(Debug)]
pub struct Locust;

const SKIP: Opt = Opt::number(
    "skip",
    "SECONDS",
    "Leave out the intervals ending in the first SECONDS of the history (the warm-up).",
)
.default("0");

impl Importer for Locust {
    fn name(&self) -> &'static str {
        "locust"
    }

    fn about(&self) -> &'static str {
        "Locust `--csv PREFIX --csv-full-history` history (PREFIX_stats_history.csv) → \
         interval-level intervals.csv."
    }

    fn options(&self) -> &'static [Opt] {
        &[SKIP]
    }

    fn configure(&self, values: &Values) -> Result<Reader, OptionError> {
        let skip = values.number(&SKIP).unwrap_or(0.0);
        Ok(Reader::intervals(move |input, _, sink| {
            read(input, skip, sink).map(Imported::from)
        }))
    }
}

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
    sink: &mut IntervalSink<'_>,
) -> Result<u64, TraceError> {
    let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let header = csv.headers().map_err(TraceError::from_csv)?.clone();
    let mut history = History {
        columns: columns(&header)?,
        skip_s,
        ..History::default()
    };
    let mut rows = 0u64;
    let mut record = csv::StringRecord::new();
    while csv.read_record(&mut record).map_err(TraceError::from_csv)? {
        if let Some(row) = history.next(&record)? {
            sink(&row, history.classes.name(row.class))?;
            rows += 1;
        }
    }
    if history.resets > 0 {
        log::warn!(
            "Locust's statistics were reset {} time(s) (counts went down); counting restarted from each reset",
            history.resets
        );
    }
    Ok(rows)
}

/// Where the [`NEEDED`] columns are.
fn columns(header: &csv::StringRecord) -> Result<[usize; 6], TraceError> {
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
    Ok(cols)
}

/// A history read so far.
#[derive(Default)]
struct History {
    /// Where the [`NEEDED`] columns are.
    columns: [usize; 6],
    /// The warm-up left out, seconds.
    skip_s: f64,
    classes: Labels,
    /// Per (type, name): its figures at the last row that closed an
    /// interval.
    last: HashMap<(String, String), Cumulative>,
    /// The previous distinct timestamp: a name first seen at t completed
    /// its first requests after it.
    previous: Option<f64>,
    current: Option<f64>,
    first: Option<f64>,
    /// Statistics resets seen (counts going down).
    resets: u64,
}

impl History {
    /// Reads one row; returns the interval it closes, if any.
    fn next(&mut self, record: &csv::StringRecord) -> Result<Option<IntervalRecord>, TraceError> {
        let line = record.position().map_or(0, |p| p.line());
        let [ts, kind, name, ..] = self.columns;
        let at = number(&record[ts], line, "Timestamp")?;
        let first = *self.first.get_or_insert(at);
        self.advance(at, line)?;
        // The `Aggregated` rows repeat the sum; they still mark the time.
        if record[name].trim() == "Aggregated" && record[kind].trim().is_empty() {
            return Ok(None);
        }
        let now = self.cumulative(record, at, line)?;
        let key = (
            record[kind].trim().to_string(),
            record[name].trim().to_string(),
        );
        let Some(before) = self.before(&key, &now) else {
            // The first timestamp of the file is the baseline.
            self.last.insert(key, now);
            return Ok(None);
        };
        if now.at <= before.at {
            // Written twice in one second: the next row's difference
            // covers both.
            return Ok(None);
        }
        self.last.insert(key.clone(), now);
        let done = now.count - before.count;
        if done == 0 || now.at - first <= self.skip_s {
            return Ok(None);
        }
        let failed = (now.failures - before.failures).min(done);
        let class = self.classes.intern(&key.1);
        Ok(Some(IntervalRecord {
            end: now.at,
            width: now.at - before.at,
            class,
            completions: done - failed,
            failures: failed,
            mean_response_s: Some(((now.sum_ms - before.sum_ms) / done as f64 / 1000.0).max(0.0)),
        }))
    }

    /// Moves the clock to `at`, which must not go back.
    fn advance(&mut self, at: f64, line: u64) -> Result<(), TraceError> {
        if self.current == Some(at) {
            return Ok(());
        }
        if let Some(c) = self.current.filter(|&c| at < c) {
            return Err(TraceError::Malformed {
                line,
                message: format!(
                    "Timestamp {at} is earlier than the row before it ({c}); the history must be in time order"
                ),
            });
        }
        self.previous = self.current;
        self.current = Some(at);
        Ok(())
    }

    /// The row's cumulative figures.
    fn cumulative(
        &self,
        record: &csv::StringRecord,
        at: f64,
        line: u64,
    ) -> Result<Cumulative, TraceError> {
        let [_, _, _, count, failures, avg] = self.columns;
        let count = whole(&record[count], line, "Total Request Count")?;
        let failures = whole(&record[failures], line, "Total Failure Count")?;
        let mean_ms = match record[avg].trim() {
            "" | "N/A" if count == 0 => 0.0,
            text => number(text, line, "Total Average Response Time")?,
        };
        Ok(Cumulative {
            at,
            count,
            failures,
            sum_ms: count as f64 * mean_ms,
        })
    }

    /// The figures `now` is measured from: the name's last row, zero
    /// after a reset or for a name new since the previous timestamp;
    /// `None` on the file's first timestamp, the baseline.
    fn before(&mut self, key: &(String, String), now: &Cumulative) -> Option<Cumulative> {
        match self.last.get(key) {
            // Counts that go down: Locust's statistics were reset
            // (`--reset-stats`); count from zero again.
            Some(b) if now.count < b.count || now.failures < b.failures => {
                self.resets += 1;
                Some(Cumulative {
                    at: b.at,
                    ..Cumulative::default()
                })
            }
            Some(b) => Some(*b),
            None => self.previous.map(|p| Cumulative {
                at: p,
                ..Cumulative::default()
            }),
        }
    }
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
