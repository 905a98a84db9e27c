//! Interval-level request input, `intervals.csv`: per interval and class,
//! the completed requests and their mean response time. This is what load
//! testers and monitors that keep no per-request rows report (Locust's
//! `--csv` history, Prometheus latency histograms), and it goes wherever a
//! `requests.csv` goes: the header tells them apart.
//!
//! Header `timestamp,interval,class,completions,mean_response_time`, plus
//! optional `failures`; `timestamp` is the end of the interval, `interval`
//! its length, both in seconds; `mean_response_time` is empty when nothing
//! completed. Rows may carry several classes per interval, in any order.
//!
//! What is lost against per-request rows: percentiles (none are reported),
//! the exact overlap of each request with the intervals (time in system is
//! taken as completions × mean response time, Little's law over the
//! interval), and the queue each request found at its arrival (the
//! response-time equations use the intervals' averages instead).

use std::io::{BufRead, Write};

use super::canonical::ryu_like;
use super::{LabelId, Labels, TraceError, parse_seconds};

/// Columns an `intervals.csv` must have.
pub const INTERVALS_HEADER: &str =
    "timestamp,interval,class,completions,mean_response_time[,failures]";

/// One row of an `intervals.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalRecord {
    /// End of the interval, seconds.
    pub end: f64,
    /// Its length, seconds.
    pub width: f64,
    /// The class (an id into the reader's [`Labels`]).
    pub class: LabelId,
    /// Successful requests completed in it.
    pub completions: u64,
    /// Failed requests completed in it.
    pub failures: u64,
    /// Mean response time of the completed requests, seconds.
    pub mean_response_s: Option<f64>,
}

/// Whether the first line of a file is an `intervals.csv` header (a
/// `completions` column and no `response_time`).
pub fn is_intervals_header(line: &str) -> bool {
    let fields: Vec<&str> = line.trim_end().split(',').map(str::trim).collect();
    fields.contains(&"completions") && !fields.contains(&"response_time")
}

/// Whether `input` starts with an `intervals.csv` header, looking at the
/// buffered bytes without consuming them (`#` comment lines skipped).
pub fn starts_with_intervals_header<R: BufRead>(input: &mut R) -> std::io::Result<bool> {
    let buf = input.fill_buf()?;
    let text = String::from_utf8_lossy(&buf[..buf.len().min(64 * 1024)]);
    Ok(text
        .lines()
        .find(|l| !l.starts_with('#'))
        .is_some_and(is_intervals_header))
}

/// Streams [`IntervalRecord`]s from an `intervals.csv`.
pub struct IntervalReader<R: BufRead> {
    csv: csv::Reader<R>,
    record: csv::ByteRecord,
    cols: [usize; 5],
    failures: Option<usize>,
    classes: Labels,
}

impl<R: BufRead> IntervalReader<R> {
    /// Reads and checks the header.
    ///
    /// # Errors
    /// [`TraceError::Header`] naming the first missing column.
    pub fn new(input: R) -> Result<Self, TraceError> {
        let mut csv = super::canonical::csv_reader(input);
        let header = super::canonical::read_header(&mut csv, "intervals", INTERVALS_HEADER)?;
        let mut cols = [0; 5];
        for (slot, name) in cols.iter_mut().zip([
            "timestamp",
            "interval",
            "class",
            "completions",
            "mean_response_time",
        ]) {
            *slot = super::canonical::column(&header, name).ok_or_else(|| TraceError::Header {
                problem: super::HeaderProblem::MissingColumn(name.to_string()),
                expected: format!("a header `{INTERVALS_HEADER}`"),
                found: Some(super::canonical::header_text(&header)),
            })?;
        }
        Ok(Self {
            failures: super::canonical::column(&header, "failures"),
            csv,
            record: csv::ByteRecord::new(),
            cols,
            classes: Labels::new(),
        })
    }

    /// Class names seen so far.
    pub fn classes(&self) -> &Labels {
        &self.classes
    }

    fn line(&self) -> u64 {
        self.record.position().map(|p| p.line()).unwrap_or(0)
    }

    /// A count of requests: a whole number up to 2^53, where counts stay
    /// exact as numbers and their sums cannot wrap (u64::MAX completions
    /// wrapped to a few when added up).
    fn whole_number(&self, idx: usize, field: &str) -> Result<u64, TraceError> {
        let raw = &self.record[idx];
        let bad = |expected| TraceError::bad_value(self.line(), field, raw, expected);
        let n = std::str::from_utf8(raw)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| bad("a whole number >= 0"))?;
        if n > 1 << 53 {
            return Err(bad("a count up to 2^53"));
        }
        Ok(n)
    }

    fn decode(&mut self) -> Result<IntervalRecord, TraceError> {
        let line = self.line();
        let [ts, iv, class, done, mean] = self.cols;
        let end = parse_seconds(&self.record[ts], line, "timestamp")?;
        let width = parse_seconds(&self.record[iv], line, "interval")?;
        if width == 0.0 {
            let raw = &self.record[iv];
            return Err(TraceError::bad_value(
                line,
                "interval",
                raw,
                "a positive number of seconds",
            ));
        }
        let name = std::str::from_utf8(&self.record[class])
            .map_err(|_| TraceError::bad_value(line, "class", &self.record[class], "UTF-8 text"))?
            .trim();
        let class = self
            .classes
            .intern(if name.is_empty() { "default" } else { name });
        let completions = self.whole_number(done, "completions")?;
        let failures = match self.failures {
            Some(i) if !self.record[i].is_empty() => self.whole_number(i, "failures")?,
            _ => 0,
        };
        let raw = &self.record[mean];
        let mean_response_s = if raw.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(parse_seconds(raw, line, "mean_response_time")?)
        };
        if mean_response_s.is_none() && completions + failures > 0 {
            return Err(TraceError::bad_value(
                line,
                "mean_response_time",
                raw,
                "the mean response time of the requests completed in the interval",
            ));
        }
        Ok(IntervalRecord {
            end,
            width,
            class,
            completions,
            failures,
            mean_response_s,
        })
    }
}

impl<R: BufRead> Iterator for IntervalReader<R> {
    type Item = Result<IntervalRecord, TraceError>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => Some(self.decode()),
            Err(e) => Some(Err(TraceError::from_csv(e))),
        }
    }
}

/// Writes an `intervals.csv`.
pub struct IntervalWriter<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> IntervalWriter<W> {
    /// Writes the header (with `failures`).
    pub fn new(out: W) -> Result<Self, TraceError> {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record([
            "timestamp",
            "interval",
            "class",
            "completions",
            "mean_response_time",
            "failures",
        ])?;
        Ok(Self { csv })
    }

    /// Writes one row; `class` is the class's name.
    pub fn write(&mut self, r: &IntervalRecord, class: &str) -> Result<(), TraceError> {
        let mean = r.mean_response_s.map(ryu_like).unwrap_or_default();
        self.csv.write_record([
            ryu_like(r.end).as_str(),
            ryu_like(r.width).as_str(),
            class,
            r.completions.to_string().as_str(),
            mean.as_str(),
            r.failures.to_string().as_str(),
        ])?;
        Ok(())
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> Result<W, TraceError> {
        super::canonical::finish_csv(self.csv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<(Vec<IntervalRecord>, Labels), TraceError> {
        let mut r = IntervalReader::new(text.as_bytes())?;
        let v = r.by_ref().collect::<Result<Vec<_>, _>>()?;
        Ok((v, r.classes().clone()))
    }

    #[test]
    fn rows_are_read_with_their_classes_and_written_back() {
        let text = "timestamp,interval,class,completions,mean_response_time,failures\n\
                    11,1,buy,3,0.25,0\n11,1,rate,0,,0\n12,1,buy,2,0.5,1\n";
        let (v, classes) = read(text).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(classes.names(), ["buy", "rate"]);
        assert_eq!((v[0].end, v[0].width, v[0].completions), (11.0, 1.0, 3));
        assert_eq!(v[1].mean_response_s, None);
        assert_eq!((v[2].failures, v[2].mean_response_s), (1, Some(0.5)));
        let mut w = IntervalWriter::new(Vec::new()).unwrap();
        for r in &v {
            w.write(r, classes.name(r.class)).unwrap();
        }
        assert_eq!(String::from_utf8(w.finish().unwrap()).unwrap(), text);
    }

    #[test]
    fn the_header_tells_intervals_from_requests() {
        assert!(is_intervals_header(
            "timestamp,interval,class,completions,mean_response_time"
        ));
        assert!(!is_intervals_header("timestamp,response_time,class"));
        let mut input =
            "# from locust\ntimestamp,interval,class,completions,mean_response_time\n".as_bytes();
        assert!(starts_with_intervals_header(&mut input).unwrap());
        assert_eq!(input.len(), 70, "nothing was consumed");
    }

    #[test]
    fn bad_rows_name_line_field_and_expectation() {
        let h = "timestamp,interval,class,completions,mean_response_time\n";
        let err = read(&format!("{h}10,1,a,2.5,0.1\n"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "line 2, field `completions`: found \"2.5\", expected a whole number >= 0"
        );
        // u64::MAX completions and failures wrapped to 0 when added.
        let max = u64::MAX;
        let err = read(&format!("{h}10,1,a,{max},0.1\n"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!("line 2, field `completions`: found \"{max}\", expected a count up to 2^53")
        );
        let err = read(&format!("{h}10,1,a,2,\n")).unwrap_err().to_string();
        assert!(
            err.starts_with("line 2, field `mean_response_time`"),
            "{err}"
        );
        let err = read(&format!("{h}10,0,a,2,0.1\n")).unwrap_err().to_string();
        assert!(err.contains("positive number of seconds"), "{err}");
        let err = read("timestamp,class,completions,mean_response_time\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`interval`"), "{err}");
    }
}
