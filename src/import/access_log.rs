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
//! - status: `$status`, `%s`, `%>s` (≥ 500 is a failure).
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
        sink(RequestRow {
            start,
            response_time: rt,
            class,
            success: !status_fail,
            ..RequestRow::default()
        })?;
        n += 1;
    }
    Ok(n)
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
}

impl<'a> Parsed<'a> {
    /// Reads `field` from its captured `text`, in seconds.
    fn set(&mut self, field: Field, text: &'a str, line_no: u64) -> Result<(), TraceError> {
        let num = || text.trim().parse::<f64>().ok();
        let bad = |what: &str, expected: &str| {
            TraceError::bad_value(line_no, what, text.as_bytes(), expected)
        };
        match field {
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
                    bad("$upstream_response_time", "seconds, `-` or a comma list")
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
