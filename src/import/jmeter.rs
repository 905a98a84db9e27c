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

use std::io::BufRead;

use regex::Regex;

use super::{RequestRow, RequestSink, TraceError};
use crate::trace::{HeaderProblem, parse_bool, parse_f64};

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
    let thread = match &opts.session_start {
        Some(_) => Some(col("threadName").ok_or_else(|| missing("threadName"))?),
        None => None,
    };
    let mut iteration: std::collections::HashMap<Vec<u8>, u32> = std::collections::HashMap::new();
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
        let (user, session) = match (thread, &opts.session_start) {
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
