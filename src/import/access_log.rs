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

use std::io::BufRead;

use regex::Regex;

use super::{RequestRow, RequestSink, TraceError, check_duration};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    TimeEndEpoch, // $msec
    TimeEndLocal, // $time_local
    TimeEndIso,   // $time_iso8601
    TimeStartClf, // %t
    TimeStartMs,  // %{msec}t, %{begin:msec}t
    TimeEndMs,    // %{end:msec}t
    TimeStartSec, // %{sec}t
    DurationSec,  // $request_time, %T, %{s}T
    UpstreamSec,  // $upstream_response_time
    DurationUs,   // %D, %{us}T
    DurationMs,   // %{ms}T
    Request,      // $request, %r
    Path,         // $uri, $request_uri, %U
    Status,       // $status, %s, %>s
    Address,      // $remote_addr, %h, %a
    UserAgent,    // $http_user_agent, %{User-Agent}i
    Session,      // the variable named by Sessions::Field
    Client,       // the variable named by Sessions::Timeout's client
}

/// A compiled log format.
#[derive(Debug, Clone)]
pub struct LogFormat {
    regex: Regex,
    fields: Vec<Field>,
    source: String,
}

/// Error in a format string.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// A `%{` without its `}`.
    #[error("log format: unclosed `{{` in directive at character {0}")]
    Unclosed(usize),
    /// A `%` at the end.
    #[error("log format: a `%` directive at character {0} has no letter")]
    NoLetter(usize),
    /// No field gives the time.
    #[error(
        "log format: `{0}` has no time field; expected one of $msec, $time_local, $time_iso8601, %t, %{{msec}}t"
    )]
    NoTime(String),
    /// No field gives the duration.
    #[error(
        "log format: `{0}` has no duration field; expected one of $request_time, $upstream_response_time, %D, %T (nginx's `combined` format has no timing)"
    )]
    NoDuration(String),
    /// The variable sessions are read from is not in the format.
    #[error("log format: sessions need {0}, which `{1}` does not log")]
    NoSessionField(String, String),
    /// The pattern does not compile.
    #[error("log format: cannot compile `{format}`: {error}")]
    Regex {
        /// The format.
        format: String,
        /// The regex error (in the message, not a source: printed once).
        error: regex::Error,
    },
}

impl LogFormat {
    /// Compiles an nginx or Apache format string.
    ///
    /// # Errors
    /// When it lacks a time or a duration field, or cannot be compiled.
    pub fn new(format: &str) -> Result<Self, FormatError> {
        Self::with_sessions(format, &Sessions::None)
    }

    /// Compiles a format string that also captures what `sessions` reads
    /// (a variable written as in the format, `$cookie_sid` or `%{sid}C`).
    ///
    /// # Errors
    /// As [`LogFormat::new`], and when the format lacks the variable the
    /// sessions need.
    pub fn with_sessions(format: &str, sessions: &Sessions) -> Result<Self, FormatError> {
        let (session_var, client_var) = match sessions {
            Sessions::None => (None, None),
            Sessions::Field(v) => (Some(v.as_str()), None),
            Sessions::Timeout { client, .. } => (None, client.as_deref()),
        };
        let mut pattern = String::from("^");
        let mut fields = Vec::new();
        let chars: Vec<char> = format.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let token = if c == '$'
                && chars
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '_')
            {
                Some(nginx_variable(&chars, i))
            } else if c == '%' && chars.get(i + 1) == Some(&'%') {
                pattern.push('%');
                i += 2;
                continue;
            } else if c == '%' && i + 1 < chars.len() {
                Some(apache_directive(&chars, i)?)
            } else {
                None
            };
            let token = token.map(|(f, next)| {
                let text: String = chars[i..next].iter().collect();
                match () {
                    () if session_var == Some(text.as_str()) => (Some(Field::Session), next),
                    () if client_var == Some(text.as_str()) => (Some(Field::Client), next),
                    () => (f, next),
                }
            });
            match token {
                Some((f, next)) => {
                    pattern.push_str(capture(f, chars.get(next).copied()));
                    fields.extend(f);
                    i = next;
                }
                None => {
                    pattern.push_str(&regex::escape(&c.to_string()));
                    i += 1;
                }
            }
        }
        pattern.push_str(r"\s*$");
        check_fields(&fields, format)?;
        let needs = |f: Field, what: &str| -> Result<(), FormatError> {
            match fields.contains(&f) {
                true => Ok(()),
                false => Err(FormatError::NoSessionField(
                    what.to_string(),
                    format.to_string(),
                )),
            }
        };
        match sessions {
            Sessions::Field(v) => needs(Field::Session, v)?,
            Sessions::Timeout {
                client: Some(v), ..
            } => needs(Field::Client, v)?,
            Sessions::Timeout { client: None, .. } => {
                needs(Field::Address, "$remote_addr (or %h)")?
            }
            Sessions::None => {}
        }
        let regex = Regex::new(&pattern).map_err(|error| FormatError::Regex {
            format: format.to_string(),
            error,
        })?;
        Ok(Self {
            regex,
            fields,
            source: format.to_string(),
        })
    }
}

/// The pattern of a token's capture. Whether it stands inside [...] or
/// "..." decides how much it may swallow.
fn capture(f: Option<Field>, next: Option<char>) -> &'static str {
    match (f, next) {
        (Some(Field::TimeStartClf), _) => r"\[([^\]]+)\]",
        (Some(Field::TimeEndLocal), _) | (Some(Field::TimeEndIso), _) => {
            r"([^\]\s]+(?: [+-]\d{4})?)"
        }
        (Some(Field::Request), _) => r"(.*?)",
        (Some(Field::UserAgent | Field::Session | Field::Client), Some('"')) => r#"([^"]*?)"#,
        // nginx separates tries by ", " and internal redirects by " : ".
        (Some(Field::UpstreamSec), _) => r"(\S+(?:(?:, | : )\S+)*)",
        (Some(_), _) => r"(\S+(?:, \S+)*)",
        (None, Some('"')) => r#"(?:[^"]*?)"#,
        (None, _) => r"(?:.*?)",
    }
}

/// The nginx `$variable` at `i`: its field (if one we read) and where the
/// format goes on.
fn nginx_variable(chars: &[char], i: usize) -> (Option<Field>, usize) {
    let mut j = i + 1;
    while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
        j += 1;
    }
    let name: String = chars[i + 1..j].iter().collect();
    let f = match name.as_str() {
        "msec" => Some(Field::TimeEndEpoch),
        "time_local" => Some(Field::TimeEndLocal),
        "time_iso8601" => Some(Field::TimeEndIso),
        "request_time" => Some(Field::DurationSec),
        "upstream_response_time" => Some(Field::UpstreamSec),
        "request" => Some(Field::Request),
        "uri" | "request_uri" => Some(Field::Path),
        "status" => Some(Field::Status),
        "remote_addr" => Some(Field::Address),
        "http_user_agent" => Some(Field::UserAgent),
        _ => None,
    };
    (f, j)
}

/// The Apache `%...x` directive at `i` (modifiers, `{arg}`, letter): its
/// field (if one we read) and where the format goes on.
fn apache_directive(chars: &[char], i: usize) -> Result<(Option<Field>, usize), FormatError> {
    let mut j = i + 1;
    while j < chars.len()
        && (matches!(chars[j], '>' | '<' | '!' | ',') || chars[j].is_ascii_digit())
    {
        j += 1;
    }
    let mut arg = String::new();
    if j < chars.len() && chars[j] == '{' {
        let close = chars[j..]
            .iter()
            .position(|&c| c == '}')
            .ok_or(FormatError::Unclosed(i + 1))?;
        arg = chars[j + 1..j + close].iter().collect();
        j += close + 1;
    }
    let Some(&letter) = chars.get(j) else {
        return Err(FormatError::NoLetter(i + 1));
    };
    let f = match (letter, arg.as_str()) {
        ('t', "") => Some(Field::TimeStartClf),
        ('t', "msec" | "begin:msec") => Some(Field::TimeStartMs),
        ('t', "end:msec") => Some(Field::TimeEndMs),
        ('t', "sec" | "begin:sec") => Some(Field::TimeStartSec),
        ('D', _) => Some(Field::DurationUs),
        ('T', "" | "s") => Some(Field::DurationSec),
        ('T', "ms") => Some(Field::DurationMs),
        ('T', "us") => Some(Field::DurationUs),
        ('r', _) => Some(Field::Request),
        ('U', _) => Some(Field::Path),
        ('s', _) => Some(Field::Status),
        ('h' | 'a', _) => Some(Field::Address),
        ('i', a) if a.eq_ignore_ascii_case("user-agent") => Some(Field::UserAgent),
        _ => None,
    };
    Ok((f, j + 1))
}

/// A format must give a time and a duration.
fn check_fields(fields: &[Field], format: &str) -> Result<(), FormatError> {
    let has = |pred: &dyn Fn(&Field) -> bool| fields.iter().any(pred);
    if !has(&|f| {
        matches!(
            f,
            Field::TimeEndEpoch
                | Field::TimeEndLocal
                | Field::TimeEndIso
                | Field::TimeStartClf
                | Field::TimeStartMs
                | Field::TimeEndMs
                | Field::TimeStartSec
        )
    }) {
        return Err(FormatError::NoTime(format.to_string()));
    }
    if !has(&|f| {
        matches!(
            f,
            Field::DurationSec | Field::UpstreamSec | Field::DurationUs | Field::DurationMs
        )
    }) {
        return Err(FormatError::NoDuration(format.to_string()));
    }
    Ok(())
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
    let dt = chrono::DateTime::parse_from_str(s.trim(), "%d/%b/%Y:%H:%M:%S %z").ok()?;
    Some(dt.timestamp() as f64)
}

/// Streams a log into `sink`; returns the number of requests imported.
///
/// # Errors
/// The first line that does not match the format, or a malformed field.
pub fn read<R: BufRead>(
    input: R,
    format: &LogFormat,
    opts: &Options,
    sink: &mut RequestSink<'_>,
) -> Result<u64, TraceError> {
    let mut n = 0;
    let mut buf = String::new();
    let mut clients = Clients::default();
    let mut reader = input;
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let read = reader.read_line(&mut buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                TraceError::Malformed {
                    line: line_no + 1,
                    message: "not valid UTF-8 text; is this a binary file?".into(),
                }
            } else {
                TraceError::Io(e)
            }
        })?;
        if read == 0 {
            break;
        }
        line_no += 1;
        let line = buf.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let caps = format
            .regex
            .captures(line)
            .ok_or_else(|| TraceError::Malformed {
                line: line_no,
                message: format!("does not match the log format `{}`", format.source),
            })?;
        let mut parsed = Parsed::default();
        for (k, field) in format.fields.iter().enumerate() {
            let text = caps.get(k + 1).map_or("", |m| m.as_str());
            parsed.set(*field, text, line_no)?;
        }
        let Parsed {
            start,
            end,
            dur,
            upstream,
            path,
            failed: status_fail,
            address,
            user_agent,
            session,
            client,
        } = parsed;
        let Some(rt) = dur.or(upstream) else {
            // Only an upstream time was logged and it was "-": no backend
            // work to attribute.
            continue;
        };
        let rt = check_duration(rt, line_no, "duration", &rt.to_string())?;
        let start = match (start, end) {
            (Some(s), _) => s,
            (None, Some(e)) => e - rt,
            (None, None) => unreachable!("the format was checked to have a time field"),
        };
        let path = path
            .map(|p| p.split('?').next().unwrap_or(p))
            .unwrap_or("default");
        let class = match &opts.class_regex {
            None => path,
            Some(re) => match re.captures(path) {
                Some(c) => c.get(1).or(c.get(0)).map_or("other", |m| m.as_str()),
                None => "other",
            },
        };
        let session_buf;
        let (user, session) = match &opts.sessions {
            Sessions::None => (None, None),
            Sessions::Field(_) => (None, Some(session).filter(|s| !s.is_empty() && *s != "-")),
            Sessions::Timeout {
                seconds,
                client: by,
            } => {
                let key = match by {
                    Some(_) => client.to_string(),
                    None => format!("{address} {user_agent}"),
                };
                session_buf = clients.next(key, start, start + rt, *seconds);
                (Some(clients.last_key()), Some(session_buf.as_str()))
            }
        };
        sink(RequestRow {
            start,
            response_time: rt,
            class,
            success: !status_fail,
            user,
            session,
            ..RequestRow::default()
        })?;
        n += 1;
    }
    Ok(n)
}

/// Per client: when its last request ended and its session count, to
/// split its requests at idle gaps.
#[derive(Default)]
struct Clients {
    seen: std::collections::HashMap<String, (f64, u32)>,
    last: String,
}

impl Clients {
    /// The session of a request of `client` from `start` to `end`: a new
    /// one when it starts more than `gap` seconds after the client's last
    /// request ended.
    fn next(&mut self, client: String, start: f64, end: f64, gap: f64) -> String {
        let e = self
            .seen
            .entry(client.clone())
            .or_insert((f64::NEG_INFINITY, 0));
        if start - e.0 > gap {
            e.1 += 1;
        }
        e.0 = e.0.max(end);
        let id = format!("{client}#{}", e.1);
        self.last = client;
        id
    }

    fn last_key(&self) -> &str {
        &self.last
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
            e.to_string()
                .starts_with("log format: sessions need $cookie_user"),
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
