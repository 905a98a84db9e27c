//! JMeter JTL in CSV form.
//!
//! Columns are found by header name (5.x writes `timeStamp,elapsed,label,
//! responseCode,...,success,...`; older versions lack some). `timeStamp` is
//! the sample start in epoch milliseconds (JMeter's shipped
//! `sampleresult.timestamp.start=true`), `elapsed` is milliseconds,
//! `label` becomes the class and `success` the success flag. With
//! [`Options::session_start`], `threadName` is the user and each thread's
//! samples are cut into sessions where a label matching it (the first
//! request of the test plan's loop, a login) comes: `THREAD#k`.

use std::collections::HashMap;
use std::io::BufRead;

use regex::Regex;

use super::{
    Imported, Importer, Opt, OptionError, Reader, RequestRow, RequestSink, TraceError, Values,
};
use crate::trace::{HeaderProblem, parse_bool, parse_f64};

/// The importer of JMeter's JTL files.
#[derive(Debug)]
pub struct Jmeter;

const SESSION_START: Opt = Opt::text(
    "session-start",
    "REGEX",
    "A sample whose label matches starts a new session of its thread (`threadName` is the \
     user), e.g. the loop's first request.",
);
const EXCLUDE_LABEL: Opt = Opt::text(
    "exclude-label",
    "REGEX",
    "Skip samples whose label matches (e.g. transaction controllers).",
);

impl Importer for Jmeter {
    fn name(&self) -> &'static str {
        "jmeter"
    }

    fn about(&self) -> &'static str {
        "JMeter JTL (CSV with header) → requests."
    }

    fn options(&self) -> &'static [Opt] {
        &[SESSION_START, EXCLUDE_LABEL]
    }

    fn configure(&self, values: &Values) -> Result<Reader, OptionError> {
        let opts = Options {
            exclude_label: values.regex(&EXCLUDE_LABEL)?,
            session_start: values.regex(&SESSION_START)?,
        };
        Ok(Reader::requests(
            opts.session_start.is_some(),
            move |input, _, sink| read(input, &opts, sink).map(Imported::from),
        ))
    }
}

/// Options for [`read`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Rows whose label matches are skipped (e.g. transaction controllers).
    pub exclude_label: Option<Regex>,
    /// A sample whose label matches starts a new session of its thread.
    pub session_start: Option<Regex>,
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
    let cols = Columns::of(&header, opts.session_start.is_some())?;
    let mut iteration: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut rec = csv::ByteRecord::new();
    let mut n = 0;
    while csv
        .read_byte_record(&mut rec)
        .map_err(TraceError::from_csv)?
    {
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let class = cols.label(&rec, line)?;
        if let Some(re) = &opts.exclude_label
            && re.is_match(class)
        {
            continue;
        }
        let (start_ms, elapsed_ms, ok) = cols.sample(&rec, line)?;
        let (user, session) = match (cols.thread, &opts.session_start) {
            (Some(t), Some(re)) => {
                let name = std::str::from_utf8(&rec[t]).map_err(|_| {
                    TraceError::bad_value(line, "threadName", &rec[t], "UTF-8 text")
                })?;
                let k = iteration.entry(rec[t].to_vec()).or_insert(0);
                if *k == 0 || re.is_match(class) {
                    *k += 1;
                }
                (Some(name), Some(format!("{name}#{k}")))
            }
            _ => (None, None),
        };
        sink(RequestRow {
            start: start_ms / 1000.0,
            response_time: elapsed_ms / 1000.0,
            class: if class.is_empty() { "default" } else { class },
            success: ok,
            user,
            session: session.as_deref(),
            ..RequestRow::default()
        })?;
        n += 1;
    }
    Ok(n)
}

/// Where a JTL's columns are.
struct Columns {
    ts: usize,
    elapsed: usize,
    label: Option<usize>,
    success: Option<usize>,
    /// `threadName`, looked for when sessions are cut.
    thread: Option<usize>,
}

impl Columns {
    /// Finds the columns by name; `threadName` must be there for
    /// `sessions`.
    fn of(header: &csv::ByteRecord, sessions: bool) -> Result<Self, TraceError> {
        let col = |name: &str| header.iter().position(|h| h == name.as_bytes());
        let missing = |name: &str| {
            TraceError::Header {
            problem: HeaderProblem::MissingColumn(name.to_string()),
            expected: "a JMeter CSV header such as `timeStamp,elapsed,label,responseCode,...,success,...` (set jmeter.save.saveservice.print_field_names=true)".into(),
            found: None,
        }
        };
        Ok(Self {
            ts: col("timeStamp").ok_or_else(|| missing("timeStamp"))?,
            elapsed: col("elapsed").ok_or_else(|| missing("elapsed"))?,
            label: col("label"),
            success: col("success"),
            thread: match sessions {
                true => Some(col("threadName").ok_or_else(|| missing("threadName"))?),
                false => None,
            },
        })
    }

    /// The row's label (`default` without the column).
    fn label<'r>(&self, rec: &'r csv::ByteRecord, line: u64) -> Result<&'r str, TraceError> {
        match self.label {
            Some(i) => std::str::from_utf8(&rec[i])
                .map_err(|_| TraceError::bad_value(line, "label", &rec[i], "UTF-8 text")),
            None => Ok("default"),
        }
    }

    /// The row's start and elapsed time (milliseconds) and success.
    fn sample(&self, rec: &csv::ByteRecord, line: u64) -> Result<(f64, f64, bool), TraceError> {
        let millis = |i: usize, field: &str, expected: &str| {
            parse_f64(&rec[i])
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| TraceError::bad_value(line, field, &rec[i], expected))
        };
        let start_ms = millis(
            self.ts,
            "timeStamp",
            "epoch milliseconds (set jmeter.save.saveservice.timestamp_format=ms)",
        )?;
        let elapsed_ms = millis(self.elapsed, "elapsed", "non-negative milliseconds")?;
        let ok = match self.success {
            Some(i) => parse_bool(&rec[i])
                .ok_or_else(|| TraceError::bad_value(line, "success", &rec[i], "true or false"))?,
            None => true,
        };
        Ok((start_ms, elapsed_ms, ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_threads_loop_is_a_session_from_its_first_request() {
        let jtl = "timeStamp,elapsed,label,success,threadName
1000,10,login,true,TG 1-1
1100,10,login,true,TG 1-2
1500,10,view,true,TG 1-1
2000,10,login,true,TG 1-1
2100,10,view,true,TG 1-2
";
        let opts = Options {
            exclude_label: None,
            session_start: Some(Regex::new("^login$").unwrap()),
        };
        let mut got = Vec::new();
        read(jtl.as_bytes(), &opts, &mut |r: RequestRow<'_>| {
            got.push((r.user.unwrap().to_string(), r.session.unwrap().to_string()));
            Ok(())
        })
        .unwrap();
        let sessions: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
        assert_eq!(
            sessions,
            ["TG 1-1#1", "TG 1-2#1", "TG 1-1#1", "TG 1-1#2", "TG 1-2#1"]
        );
        assert_eq!(got[1].0, "TG 1-2");
        // Without threadName the split cannot be made.
        let e = read(
            "timeStamp,elapsed,label\n1,1,a\n".as_bytes(),
            &opts,
            &mut |_| Ok(()),
        )
        .unwrap_err();
        assert!(e.to_string().contains("threadName"), "{e}");
    }
}
