//! nginx and Apache access logs, read through the log's own format string.
//!
//! The format string (nginx `log_format` with `$variables`, or Apache
//! `LogFormat` with `%` directives) is compiled into one regular
//! expression. Fields used:
//! - time: `$msec` (end, epoch s), `$time_local` and `$time_iso8601` (end,
//!   1 s resolution), Apache `%t` (start, 1 s), `%{msec}t` /
//!   `%{begin:msec}t` (start, ms), `%{end:msec}t` (end, ms), `%{sec}t`;
//! - duration: `$request_time` (s), else `$upstream_response_time` (s; `-`
//!   or a comma list of tries, summed), Apache `%D` (µs), `%T` (s),
//!   `%{ms}T`, `%{us}T`;
//! - request: `$request` / `%r` (its path, without the query, is the
//!   class), or `$uri` / `$request_uri` / `%U`;
//! - status: `$status`, `%s`, `%>s` (≥ 500 is a failure);
//! - sessions ([`Sessions`]): a variable named by the caller (a cookie,
//!   `$cookie_sid` or `%{sid}C`; a header), or idle gaps in each client's
//!   requests, the client being `$remote_addr`/`%h`/`%a` with
//!   `$http_user_agent`/`%{User-Agent}i`, or a variable named by the
//!   caller.
//!
//! Where the log stamps the end, start = end − duration.

mod format;
mod split;

use std::io::BufRead;

use regex::Regex;

use format::Field;
pub use format::{FormatError, LogFormat};

use super::{
    Imported, Importer, Opt, OptionError, OptionProblem, Reader, RequestRow, RequestSink,
    TraceError, Values, check_duration,
};

/// The importer of access logs.
#[derive(Debug)]
pub struct AccessLog;

const LOG_FORMAT: Opt = Opt::text(
    "log-format",
    "FORMAT",
    "The log's format, nginx (`$remote_addr ... $request_time`) or Apache (`%h ... %D`).",
)
.required();
const CLASS_REGEX: Opt = Opt::text(
    "class-regex",
    "REGEX",
    "Regex mapping the request path to a class (first group, or whole match; non-matching \
     paths become `other`).",
);
const SESSION_FIELD: Opt = Opt::text(
    "session-field",
    "VAR",
    "The log variable that holds the session id, written as in the format (`$cookie_sid`, \
     `%{sid}C`).",
)
.conflicts(&["session-timeout"]);
const SESSION_TIMEOUT: Opt = Opt::number(
    "session-timeout",
    "SECONDS",
    "Split each client's requests into sessions where they pause longer than SECONDS (30 min \
     = 1800 is the web-analytics convention); the client is address + user agent, or \
     --client-field.",
);
const CLIENT_FIELD: Opt = Opt::text(
    "client-field",
    "VAR",
    "With --session-timeout: the log variable naming the client instead of address + user \
     agent.",
)
.requires(&["session-timeout"]);

impl Importer for AccessLog {
    fn name(&self) -> &'static str {
        "access-log"
    }

    fn about(&self) -> &'static str {
        "nginx or Apache access log, read with the server's own format string → requests."
    }

    fn options(&self) -> &'static [Opt] {
        &[
            LOG_FORMAT,
            CLASS_REGEX,
            SESSION_FIELD,
            SESSION_TIMEOUT,
            CLIENT_FIELD,
        ]
    }

    fn configure(&self, values: &Values) -> Result<Reader, OptionError> {
        let sessions = sessions(values)?;
        let class_regex = values.regex(&CLASS_REGEX)?;
        let format = LogFormat::with_sessions(values.required_text(&LOG_FORMAT)?, &sessions)
            .map_err(|e| OptionError {
                option: LOG_FORMAT.name,
                problem: OptionProblem::Invalid(Box::new(e)),
            })?;
        let origin = sessions != Sessions::None;
        let opts = Options {
            class_regex,
            sessions,
        };
        Ok(Reader::requests(origin, move |input, _, sink| {
            read(input, &format, &opts, sink).map(Imported::from)
        }))
    }
}

/// Where sessions come from, as the options say.
fn sessions(values: &Values) -> Result<Sessions, OptionError> {
    Ok(
        match (values.text(&SESSION_FIELD), values.number(&SESSION_TIMEOUT)) {
            (Some(v), _) => Sessions::Field(v.to_string()),
            (None, Some(t)) if t > 0.0 && t.is_finite() => Sessions::Timeout {
                seconds: t,
                client: values.text(&CLIENT_FIELD).map(str::to_string),
            },
            (None, Some(t)) => {
                return Err(OptionError {
                    option: SESSION_TIMEOUT.name,
                    problem: OptionProblem::NotPositive(t),
                });
            }
            (None, None) => Sessions::None,
        },
    )
}

/// Options for [`read`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Maps the request path to a class: the first capture group (or the
    /// whole match); paths that do not match become class `other`.
    pub class_regex: Option<Regex>,
    /// Where sessions come from (the format must be compiled with the
    /// same, [`LogFormat::with_sessions`]).
    pub sessions: Sessions,
}

/// Where an access log's sessions come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Sessions {
    /// None: no session column.
    #[default]
    None,
    /// A variable of the format holds the session id (`-` or empty: none).
    Field(String),
    /// Each client's requests split where they pause longer than
    /// `seconds`; the client is the address and user agent, or `client`
    /// (a variable of the format). Sessions are named `CLIENT#k`.
    Timeout {
        /// Idle gap that ends a session, seconds.
        seconds: f64,
        /// The variable naming the client.
        client: Option<String>,
    },
}

fn parse_clf_time(s: &str) -> Option<f64> {
    if let Some(t) = clf_time_fast(s.trim().as_bytes()) {
        return Some(t);
    }
    let dt = chrono::DateTime::parse_from_str(s.trim(), "%d/%b/%Y:%H:%M:%S %z").ok()?;
    Some(dt.timestamp() as f64)
}

/// `dd/Mon/yyyy:HH:MM:SS +hhmm` written exactly so, without chrono's
/// format parser (a third of the import's time on a busy log); anything
/// else is left to it.
fn clf_time_fast(b: &[u8]) -> Option<f64> {
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    if b.len() != 26 || [b[2], b[6], b[11], b[14], b[17], b[20]] != *b"//::: " {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let month = MONTHS.iter().position(|m| *m == &b[3..6])? as u32 + 1;
    let date = chrono::NaiveDate::from_ymd_opt(num(7..11)? as i32, month, num(0..2)?)?;
    let time = date.and_hms_opt(num(12..14)?, num(15..17)?, num(18..20)?)?;
    let (hh, mm) = (num(22..24)?, num(24..26)?);
    if hh > 23 || mm > 59 {
        return None;
    }
    let offset = i64::from(hh * 3600 + mm * 60);
    let offset = match b[21] {
        b'+' => offset,
        b'-' => -offset,
        _ => return None,
    };
    Some((time.and_utc().timestamp() - offset) as f64)
}

/// Streams a log into `sink`; returns the number of requests imported.
///
/// # Errors
/// The first line that does not match the format, or a malformed field.
pub fn read<R: BufRead>(
    mut input: R,
    format: &LogFormat,
    opts: &Options,
    sink: &mut RequestSink<'_>,
) -> Result<u64, TraceError> {
    let mut n = 0;
    let mut clients = Clients::default();
    super::lines::each_line(&mut input, |line, line_no| {
        if line.trim().is_empty() {
            return Ok(());
        }
        let parsed = Parsed::of(format, line, line_no)?;
        let Some(rt) = parsed.dur.or(parsed.upstream) else {
            // Only an upstream time was logged and it was "-": no backend
            // work to attribute.
            return Ok(());
        };
        // Its text only for the message (made on every line, it cost a
        // tenth of the import).
        if !(rt.is_finite() && rt >= 0.0) {
            check_duration(rt, line_no, "duration", &rt.to_string())?;
        }
        let start = match (parsed.start, parsed.end) {
            (Some(s), _) => s,
            (None, Some(e)) => e - rt,
            (None, None) => unreachable!("the format was checked to have a time field"),
        };
        let class = class_of(parsed.path, opts.class_regex.as_ref());
        let (user, session) = clients.who(&opts.sessions, &parsed, start, start + rt);
        sink(RequestRow {
            start,
            response_time: rt,
            class,
            success: !parsed.failed,
            user,
            session,
            ..RequestRow::default()
        })?;
        n += 1;
        Ok(())
    })?;
    Ok(n)
}

/// The class of a request for `path`: the path without its query, or
/// what `class_regex` makes of it (its first group, or the whole match;
/// `other` where it does not match).
fn class_of<'a>(path: Option<&'a str>, class_regex: Option<&'a Regex>) -> &'a str {
    let path = path
        .map(|p| p.split('?').next().unwrap_or(p))
        .unwrap_or("default");
    match class_regex {
        None => path,
        Some(re) => match re.captures(path) {
            Some(c) => c.get(1).or(c.get(0)).map_or("other", |m| m.as_str()),
            None => "other",
        },
    }
}

/// Per client: when its last request ended and its session count, to
/// split its requests at idle gaps.
#[derive(Default)]
struct Clients {
    seen: std::collections::HashMap<String, (f64, u32)>,
    /// The client and the session of the request last split.
    last: (String, String),
}

impl Clients {
    /// Who sent the request `p` from `start` to `end`, as `sessions`
    /// says: (user, session).
    fn who<'a>(
        &'a mut self,
        sessions: &Sessions,
        p: &Parsed<'a>,
        start: f64,
        end: f64,
    ) -> (Option<&'a str>, Option<&'a str>) {
        match sessions {
            Sessions::None => (None, None),
            Sessions::Field(_) => (None, Some(p.session).filter(|s| !s.is_empty() && *s != "-")),
            Sessions::Timeout { seconds, client } => {
                let key = match client {
                    Some(_) => p.client.to_string(),
                    None => format!("{} {}", p.address, p.user_agent),
                };
                self.next(key, start, end, *seconds);
                (Some(&self.last.0), Some(&self.last.1))
            }
        }
    }

    /// The session of a request of `client` from `start` to `end`: a new
    /// one when it starts more than `gap` seconds after the client's last
    /// request ended.
    fn next(&mut self, client: String, start: f64, end: f64, gap: f64) {
        let e = self
            .seen
            .entry(client.clone())
            .or_insert((f64::NEG_INFINITY, 0));
        if start - e.0 > gap {
            e.1 += 1;
        }
        e.0 = e.0.max(end);
        self.last.1 = format!("{client}#{}", e.1);
        self.last.0 = client;
    }
}

/// The fields of one log line.
#[derive(Default)]
struct Parsed<'a> {
    start: Option<f64>,
    end: Option<f64>,
    dur: Option<f64>,
    upstream: Option<f64>,
    path: Option<&'a str>,
    failed: bool,
    address: &'a str,
    user_agent: &'a str,
    session: &'a str,
    client: &'a str,
}

impl<'a> Parsed<'a> {
    /// Reads `line` (number `line_no`) through `format`.
    fn of(format: &LogFormat, line: &'a str, line_no: u64) -> Result<Self, TraceError> {
        let mut parsed = Parsed::default();
        let fast = format.pieces.as_ref().and_then(|p| split::split(p, line));
        #[cfg(debug_assertions)]
        if let Some(groups) = fast {
            let caps = format.regex.captures(line).expect("the fast path matched");
            for k in 0..format.fields.len() {
                assert_eq!(
                    caps.get(k + 1).map_or("", |m| m.as_str()),
                    groups[k],
                    "{line}"
                );
            }
        }
        if let Some(groups) = fast {
            for (field, text) in format.fields.iter().zip(groups) {
                parsed.set(*field, text, line_no)?;
            }
            return Ok(parsed);
        }
        let caps = format
            .regex
            .captures(line)
            .ok_or_else(|| TraceError::Malformed {
                line: line_no,
                message: format!("does not match the log format `{}`", format.source),
            })?;
        for (k, field) in format.fields.iter().enumerate() {
            let text = caps.get(k + 1).map_or("", |m| m.as_str());
            parsed.set(*field, text, line_no)?;
        }
        Ok(parsed)
    }

    /// Reads `field` from its captured `text`, in seconds.
    fn set(&mut self, field: Field, text: &'a str, line_no: u64) -> Result<(), TraceError> {
        let num = || text.trim().parse::<f64>().ok();
        let bad = |what: &str, expected: &str| {
            TraceError::bad_value(line_no, what, text.as_bytes(), expected)
        };
        match field {
            Field::Address => self.address = text,
            Field::UserAgent => self.user_agent = text,
            Field::Session => self.session = text,
            Field::Client => self.client = text,
            Field::TimeEndEpoch => {
                self.end = Some(num().ok_or_else(|| bad("$msec", "epoch seconds"))?)
            }
            Field::TimeEndLocal => {
                self.end = Some(
                    parse_clf_time(text)
                        .ok_or_else(|| bad("$time_local", "dd/Mon/yyyy:HH:MM:SS +zzzz"))?,
                )
            }
            Field::TimeEndIso => {
                self.end = Some(
                    super::rfc3339(text).ok_or_else(|| bad("$time_iso8601", "an ISO 8601 time"))?,
                )
            }
            Field::TimeStartClf => {
                self.start = Some(
                    parse_clf_time(text)
                        .ok_or_else(|| bad("%t", "[dd/Mon/yyyy:HH:MM:SS +zzzz]"))?,
                )
            }
            Field::TimeStartMs => {
                self.start =
                    Some(num().ok_or_else(|| bad("%{msec}t", "epoch milliseconds"))? / 1000.0)
            }
            Field::TimeEndMs => {
                self.end =
                    Some(num().ok_or_else(|| bad("%{end:msec}t", "epoch milliseconds"))? / 1000.0)
            }
            Field::TimeStartSec => {
                self.start = Some(num().ok_or_else(|| bad("%{sec}t", "epoch seconds"))?)
            }
            Field::DurationSec => self.dur = Some(num().ok_or_else(|| bad("duration", "seconds"))?),
            Field::DurationUs => {
                self.dur = Some(num().ok_or_else(|| bad("%D", "microseconds"))? * 1e-6)
            }
            Field::DurationMs => {
                self.dur = Some(num().ok_or_else(|| bad("%{ms}T", "milliseconds"))? * 1e-3)
            }
            Field::UpstreamSec => {
                // "-" (no upstream) or "0.012, 0.034" (several tries).
                let parts: Option<Vec<f64>> = text
                    .split([',', ':'])
                    .map(str::trim)
                    .filter(|p| *p != "-" && !p.is_empty())
                    .map(|p| p.parse::<f64>().ok())
                    .collect();
                let parts = parts.ok_or_else(|| {
                    bad(
                        "$upstream_response_time",
                        "seconds, `-`, or a list by `, ` and ` : `",
                    )
                })?;
                if !parts.is_empty() {
                    self.upstream = Some(parts.iter().sum());
                }
            }
            Field::Request => self.path = Some(text.split_whitespace().nth(1).unwrap_or(text)),
            Field::Path => self.path = Some(text),
            Field::Status => {
                let s: u32 = text
                    .trim()
                    .parse()
                    .map_err(|_| bad("status", "an HTTP status code"))?;
                self.failed = s >= 500;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMAT: &str =
        r#"$remote_addr [$msec] "$request" $status $request_time "$http_user_agent" "$cookie_sid""#;

    /// (class, start, user, session) of each line.
    fn sessions_of(
        log: &str,
        sessions: Sessions,
    ) -> Vec<(String, f64, Option<String>, Option<String>)> {
        let format = LogFormat::with_sessions(FORMAT, &sessions).unwrap();
        let opts = Options {
            class_regex: None,
            sessions,
        };
        let mut out = Vec::new();
        read(log.as_bytes(), &format, &opts, &mut |r: RequestRow<'_>| {
            out.push((
                r.class.to_string(),
                r.start,
                r.user.map(str::to_string),
                r.session.map(str::to_string),
            ));
            Ok(())
        })
        .unwrap();
        out
    }

    const LOG: &str = r#"10.0.0.1 [100.5] "GET /login HTTP/1.1" 200 0.500 "Firefox 1" "abc"
10.0.0.1 [102.0] "GET /rate HTTP/1.1" 200 0.100 "Chrome 2" "-"
10.0.0.1 [110.0] "GET /rate HTTP/1.1" 200 0.100 "Firefox 1" "abc"
10.0.0.1 [4000.0] "GET /buy HTTP/1.1" 200 1.000 "Firefox 1" "xyz"
"#;

    #[test]
    fn a_cookie_names_the_session() {
        let got = sessions_of(LOG, Sessions::Field("$cookie_sid".into()));
        let s: Vec<Option<&str>> = got.iter().map(|g| g.3.as_deref()).collect();
        assert_eq!(s, [Some("abc"), None, Some("abc"), Some("xyz")]);
        assert!(got.iter().all(|g| g.2.is_none()), "no user from a cookie");
    }

    #[test]
    fn idle_gaps_split_each_clients_requests() {
        let got = sessions_of(
            LOG,
            Sessions::Timeout {
                seconds: 1800.0,
                client: None,
            },
        );
        let s: Vec<&str> = got.iter().map(|g| g.3.as_deref().unwrap()).collect();
        // Firefox: 100 → 110 (one session), then 3.9 ks later a second;
        // Chrome on the same address is another client.
        assert_eq!(
            s,
            [
                "10.0.0.1 Firefox 1#1",
                "10.0.0.1 Chrome 2#1",
                "10.0.0.1 Firefox 1#1",
                "10.0.0.1 Firefox 1#2"
            ]
        );
        assert_eq!(got[0].2.as_deref(), Some("10.0.0.1 Firefox 1"));
        // The cookie as the client instead.
        let got = sessions_of(
            LOG,
            Sessions::Timeout {
                seconds: 1800.0,
                client: Some("$cookie_sid".into()),
            },
        );
        assert_eq!(got[3].3.as_deref(), Some("xyz#1"));
    }

    #[test]
    fn a_format_without_the_session_variable_is_refused() {
        let e =
            LogFormat::with_sessions(FORMAT, &Sessions::Field("$cookie_user".into())).unwrap_err();
        assert!(
            e.to_string().starts_with("sessions need $cookie_user"),
            "{e}"
        );
        let e = LogFormat::with_sessions(
            "[$msec] \"$request\" $request_time",
            &Sessions::Timeout {
                seconds: 60.0,
                client: None,
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("$remote_addr"), "{e}");
    }
}
