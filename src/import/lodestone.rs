//! Lodestone session records: one JSON object per session, as JSON lines
//! (streamed) or one JSON array (read whole),
//! `{"event_chain": ["login", "role_view", "logout"], "session": "…",
//! "session_start": 1500000087, "session_end": 1500000137, "uid": "…"}`
//! (epoch seconds; the per-event counts and `session_length` are not
//! needed).
//!
//! A record holds no time per request, only the session's start and end,
//! so its n requests are spread evenly over it: request i starts at
//! start + i·(end − start)/(n − 1) and takes no time. The think time
//! between two requests is then the session length over its transitions,
//! as Lodestone itself reckons it.

use std::io::BufRead;

use serde::Deserialize;

use super::{Imported, Importer, OptionError, Reader, RequestRow, RequestSink, TraceError, Values};

/// The importer of Lodestone's session records.
#[derive(Debug)]
pub struct Lodestone;

impl Importer for Lodestone {
    /// A JSON document is often one line.
    fn max_line(&self) -> u64 {
        crate::trace::MAX_DOCUMENT_BYTES
    }

    fn name(&self) -> &'static str {
        "lodestone"
    }

    fn about(&self) -> &'static str {
        "Lodestone session records (JSON lines or an array) → requests with sessions, spread \
         evenly over each session."
    }

    fn configure(&self, _: &Values) -> Result<Reader, OptionError> {
        Ok(Reader::requests(true, |input, _, sink| {
            read(input, sink).map(Imported::from)
        }))
    }
}

#[derive(Debug, Deserialize)]
struct Record {
    event_chain: Vec<String>,
    session: serde_json::Value,
    session_start: f64,
    session_end: f64,
    #[serde(default)]
    uid: Option<serde_json::Value>,
}

/// A JSON string or number as text.
fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Streams session records into `sink`; returns the requests imported.
///
/// # Errors
/// A record that is not a session record (with its position), or whose
/// end precedes its start.
pub fn read<R: BufRead>(mut input: R, sink: &mut RequestSink<'_>) -> Result<u64, TraceError> {
    let first = loop {
        let buf = input.fill_buf()?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break Some(buf[i]),
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    };
    let bad = |e: serde_json::Error| TraceError::Malformed {
        line: e.line() as u64,
        message: format!(
            "not a Lodestone session record ({}); expected a record with `event_chain`, `session`, `session_start` and `session_end`",
            crate::words::serde_words(&e.to_string())
        ),
    };
    let mut n = 0;
    match first {
        None => {}
        Some(b'[') => {
            let all: Vec<Record> = serde_json::from_reader(input).map_err(bad)?;
            for (i, r) in all.iter().enumerate() {
                n += emit(r, i as u64 + 1, sink)?;
            }
        }
        Some(_) => {
            for (i, r) in serde_json::Deserializer::from_reader(input)
                .into_iter::<Record>()
                .enumerate()
            {
                n += emit(&r.map_err(bad)?, i as u64 + 1, sink)?;
            }
        }
    }
    Ok(n)
}

/// The requests of record number `k`.
fn emit(r: &Record, k: u64, sink: &mut RequestSink<'_>) -> Result<u64, TraceError> {
    // NaN never reaches here: JSON has no NaN; 1e308 and -5 do.
    let readable = crate::words::readable;
    if !(r.session_start >= 0.0 && r.session_end < 1e15) {
        return Err(TraceError::Malformed {
            line: k,
            message: format!(
                "record {k}: session_start {} and session_end {} are not epoch seconds",
                readable(r.session_start),
                readable(r.session_end)
            ),
        });
    }
    if r.session_end < r.session_start {
        return Err(TraceError::Malformed {
            line: k,
            message: format!(
                "record {k}: session_end {} is before session_start {}",
                readable(r.session_end),
                readable(r.session_start)
            ),
        });
    }
    let (session, user) = (text(&r.session), r.uid.as_ref().map(text));
    let steps = r.event_chain.len().saturating_sub(1).max(1) as f64;
    let gap = (r.session_end - r.session_start) / steps;
    for (i, event) in r.event_chain.iter().enumerate() {
        sink(RequestRow {
            start: r.session_start + i as f64 * gap,
            response_time: 0.0,
            class: event,
            success: true,
            user: user.as_deref(),
            session: Some(&session),
            ..RequestRow::default()
        })?;
    }
    Ok(r.event_chain.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (class, start, session, user).
    type Row = (String, f64, String, Option<String>);

    fn rows(text: &str) -> Result<Vec<Row>, TraceError> {
        let mut out = Vec::new();
        read(text.as_bytes(), &mut |r: RequestRow<'_>| {
            out.push((
                r.class.to_string(),
                r.start,
                r.session.unwrap().to_string(),
                r.user.map(str::to_string),
            ));
            Ok(())
        })?;
        Ok(out)
    }

    const ONE: &str = r#"{"event_chain": ["login", "role_view", "logout"], "login": 1, "role_view": 1, "logout": 1, "session": "9474dec4-f3f8", "session_start": 1500000087, "session_end": 1500000137, "session_length": 50, "uid": "bbicke"}"#;

    #[test]
    fn events_are_spread_over_the_session() {
        let lines = format!("{ONE}\n{}\n", ONE.replace("9474dec4-f3f8", "s2"));
        let r = rows(&lines).unwrap();
        assert_eq!(r.len(), 6);
        assert_eq!(
            r[1],
            (
                "role_view".into(),
                1500000112.0,
                "9474dec4-f3f8".into(),
                Some("bbicke".into())
            )
        );
        assert_eq!(r[2].1, 1500000137.0);
        assert_eq!(r[3].2, "s2");
        let array = format!("[{ONE}, {ONE}]");
        assert_eq!(rows(&array).unwrap().len(), 6);
    }

    #[test]
    fn a_record_that_is_not_a_session_is_refused() {
        let e = rows("{\"session\": 1}\n").unwrap_err();
        assert!(
            e.to_string().contains("not a Lodestone session record"),
            "{e}"
        );
        let back = ONE.replace("1500000137", "1500000000");
        let e = rows(&back).unwrap_err();
        assert!(e.to_string().contains("is before session_start"), "{e}");
    }
}
