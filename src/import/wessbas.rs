//! WESSBAS session logs (`sessions.dat`): one session per line,
//! `SESSIONID;"useCase":start:end[:url:port:host:protocol:method:query:encoding];…`.
//!
//! Start and end are epoch nanoseconds in WESSBAS's own examples and
//! milliseconds in some exports; the unit is read off the first
//! timestamp's magnitude (above 1e17: nanoseconds, above 1e11:
//! milliseconds, else seconds) and returned, so the caller can say which;
//! a later start of another magnitude is refused (a log of mixed units
//! was read in the first one's, silently).
//! The use case is the class; the session id the session. Only start and
//! end are read from a request's fields; a request whose end precedes its
//! start is refused.

use std::io::BufRead;

use super::{
    Imported, Importer, Note, OptionError, Reader, RequestRow, RequestSink, TraceError, Values,
};

/// The importer of WESSBAS session logs.
#[derive(Debug)]
pub struct Wessbas;

impl Importer for Wessbas {
    fn name(&self) -> &'static str {
        "wessbas"
    }

    fn about(&self) -> &'static str {
        "WESSBAS session log (sessions.dat) → requests with sessions."
    }

    fn configure(&self, _: &Values) -> Result<Reader, OptionError> {
        Ok(Reader::requests(true, |input, _, sink| {
            let (records, unit) = read(input, sink)?;
            let notes = unit.map(|u| Note::Read(format!("timestamps read as epoch {}", u.name())));
            Ok(Imported {
                records,
                notes: notes.into_iter().collect(),
            })
        }))
    }
}

/// The unit the timestamps were read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Epoch nanoseconds (WESSBAS's own).
    Nanoseconds,
    /// Epoch milliseconds.
    Milliseconds,
    /// Epoch seconds.
    Seconds,
}

impl TimeUnit {
    fn of(first: f64) -> Self {
        match first.abs() {
            v if v > 1e17 => Self::Nanoseconds,
            v if v > 1e11 => Self::Milliseconds,
            _ => Self::Seconds,
        }
    }

    fn seconds(self, v: f64) -> f64 {
        match self {
            Self::Nanoseconds => v * 1e-9,
            Self::Milliseconds => v * 1e-3,
            Self::Seconds => v,
        }
    }

    /// Its name in a sentence.
    pub fn name(self) -> &'static str {
        match self {
            Self::Nanoseconds => "nanoseconds",
            Self::Milliseconds => "milliseconds",
            Self::Seconds => "seconds",
        }
    }
}

/// Streams a session log into `sink`; returns the requests imported and
/// the unit the timestamps were read in (`None` for an empty log).
///
/// # Errors
/// A line without a session id, a request not written `"name":start:end`,
/// or an end before its start, with the line.
pub fn read<R: BufRead>(
    input: R,
    sink: &mut RequestSink<'_>,
) -> Result<(u64, Option<TimeUnit>), TraceError> {
    let mut unit = None;
    let mut count = 0;
    for (i, line) in input.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line?;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let mut parts = line.split(';');
        let session = parts.next().unwrap_or_default().trim();
        if session.is_empty() || session.starts_with('"') || !line.contains(';') {
            return Err(TraceError::Malformed {
                line: line_no,
                message: "expected a session id, then `;\"useCase\":start:end` per request".into(),
            });
        }
        for part in parts.filter(|p| !p.trim().is_empty()) {
            let (name, start, duration) = request(part, line_no)?;
            let u = *unit.get_or_insert_with(|| TimeUnit::of(start));
            if TimeUnit::of(start) != u {
                return Err(TraceError::bad_value(
                    line_no,
                    "start",
                    part.as_bytes(),
                    format!("an epoch in {} as the log's first timestamp", u.name()),
                ));
            }
            if duration < 0.0 {
                return Err(TraceError::bad_value(
                    line_no,
                    "end",
                    part.as_bytes(),
                    "an end at or after the request's start",
                ));
            }
            sink(RequestRow {
                start: u.seconds(start),
                response_time: u.seconds(duration),
                class: name,
                success: true,
                session: Some(session),
                ..RequestRow::default()
            })?;
            count += 1;
        }
    }
    Ok((count, unit))
}

/// `"name":start:end[:…]` → (name, start, end − start) in the file's
/// unit; the difference of integer timestamps is taken exactly (a
/// nanosecond epoch is past f64's 53 bits).
fn request(part: &str, line: u64) -> Result<(&str, f64, f64), TraceError> {
    let bad =
        |field: &str, expected: &str| TraceError::bad_value(line, field, part.as_bytes(), expected);
    let rest = part
        .trim()
        .strip_prefix('"')
        .ok_or_else(|| bad("use case", "a quoted use case name, as \"login\":start:end"))?;
    let close = rest
        .find('"')
        .ok_or_else(|| bad("use case", "a closing quote after the use case name"))?;
    let name = &rest[..close];
    let mut fields = rest[close + 1..]
        .strip_prefix(':')
        .unwrap_or_default()
        .split(':');
    let mut next = |field: &str| {
        let raw = fields.next().unwrap_or_default().trim();
        raw.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| (raw, v))
            .ok_or_else(|| bad(field, "an epoch timestamp (nanoseconds or milliseconds)"))
    };
    let (start_raw, start) = next("start")?;
    let (end_raw, end) = next("end")?;
    let duration = match (start_raw.parse::<i64>(), end_raw.parse::<i64>()) {
        (Ok(a), Ok(b)) => b.saturating_sub(a) as f64,
        _ => end - start,
    };
    Ok((name, start, duration))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (class, start, response time, session).
    type Row = (String, f64, f64, String);

    fn rows(text: &str) -> Result<(Vec<Row>, Option<TimeUnit>), TraceError> {
        let mut out = Vec::new();
        let (n, unit) = read(text.as_bytes(), &mut |r: RequestRow<'_>| {
            out.push((
                r.class.to_string(),
                r.start,
                r.response_time,
                r.session.unwrap().to_string(),
            ));
            Ok(())
        })?;
        assert_eq!(n as usize, out.len());
        Ok((out, unit))
    }

    #[test]
    fn nanoseconds_and_milliseconds_are_told_apart() {
        let ns = "7;\"Login\":1324283446707872892:1324283446707872892;\"Akte\":1324283449513979584:1324284003591760857\n";
        let (r, unit) = rows(ns).unwrap();
        assert_eq!(unit, Some(TimeUnit::Nanoseconds));
        assert_eq!(r[0].0, "Login");
        assert_eq!(r[0].2, 0.0);
        assert!((r[1].1 - 1_324_283_449.513_98).abs() < 1e-6);
        assert!((r[1].2 - 554.077781273).abs() < 1e-6, "{}", r[1].2);
        assert_eq!(r[1].3, "7");
        let ms = "a.undefined;\"login\":1441634490000:1441634490010:/specj-web/app:80:192.168.22.142:no-encoding:GET:uid=3&action=login:no-encoding;\r\n";
        let (r, unit) = rows(ms).unwrap();
        assert_eq!(unit, Some(TimeUnit::Milliseconds));
        assert!((r[0].2 - 0.010).abs() < 1e-9);
        assert_eq!(r[0].3, "a.undefined");
    }

    #[test]
    fn a_start_of_another_unit_than_the_first_is_refused_with_its_line() {
        let mixed = "s1;\"a\":1441634490000:1441634490010\ns2;\"b\":1324283446707872892:1324283446707872900\n";
        let e = rows(mixed).unwrap_err().to_string();
        assert!(
            e.starts_with("line 2, field `start`")
                && e.ends_with("expected an epoch in milliseconds as the log's first timestamp"),
            "{e}"
        );
    }

    #[test]
    fn malformed_requests_are_refused_with_their_line() {
        let e = rows("s1;\"a\":1:2\ns2;login:1:2\n").unwrap_err();
        assert!(e.to_string().starts_with("line 2, field `use case`"), "{e}");
        let e = rows("s1;\"a\":5:2\n").unwrap_err();
        assert!(e.to_string().starts_with("line 1, field `end`"), "{e}");
        let e = rows("s1;\"a\":x:2\n").unwrap_err();
        assert!(e.to_string().contains("field `start`"), "{e}");
        let e = rows(";\"a\":1:2\n").unwrap_err();
        assert!(
            e.to_string().starts_with("line 1: expected a session id"),
            "{e}"
        );
        // Another format altogether (a behaviour CSV): refused at line 1.
        let e = rows(",\"Home\",\"$\"\n\"Home*\",0,1\n").unwrap_err();
        assert!(
            e.to_string().starts_with("line 1: expected a session id"),
            "{e}"
        );
    }
}
