//! An access log's format string, compiled into one regular expression
//! whose groups are the fields read.

use regex::Regex;

use super::Sessions;
use super::split::{self, Kind, Piece};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Field {
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
    pub(super) regex: Regex,
    pub(super) fields: Vec<Field>,
    pub(super) source: String,
    /// The format as pieces for the fast path, where it can take it.
    pub(super) pieces: Option<Vec<Piece>>,
}

/// Error in a format string.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// A `%{` without its `}`.
    #[error("unclosed `{{` in directive at character {0}")]
    Unclosed(usize),
    /// A `%` at the end.
    #[error("a `%` directive at character {0} has no letter")]
    NoLetter(usize),
    /// No field gives the time.
    #[error(
        "`{0}` has no time field; expected one of $msec, $time_local, $time_iso8601, %t, %{{msec}}t"
    )]
    NoTime(String),
    /// No field gives the duration.
    #[error(
        "`{0}` has no duration field; expected one of $request_time, $upstream_response_time, %D, %T (nginx's `combined` format has no timing)"
    )]
    NoDuration(String),
    /// The variable sessions are read from is not in the format.
    #[error("sessions need {0}, which `{1}` does not log")]
    NoSessionField(String, String),
    /// The pattern does not compile.
    #[error("cannot compile `{format}`: {error}")]
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
        let mut pieces: Vec<Piece> = Vec::new();
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
                literal(&mut pieces, '%');
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
                    pieces.push(piece(f, chars.get(next).copied()));
                    fields.extend(f);
                    i = next;
                }
                None => {
                    pattern.push_str(&regex::escape(&c.to_string()));
                    literal(&mut pieces, c);
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
            pieces: split::usable(&pieces).then_some(pieces),
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

/// The piece of [`capture`]'s pattern for the fast path.
fn piece(f: Option<Field>, next: Option<char>) -> Piece {
    let kind = match (f, next) {
        (Some(Field::TimeStartClf), _) => Kind::Bracketed,
        (Some(Field::TimeEndLocal | Field::TimeEndIso), _) => Kind::Local,
        (Some(Field::Request), _) => Kind::Lazy,
        (Some(Field::UserAgent | Field::Session | Field::Client), Some('"')) => Kind::ToQuote,
        (Some(Field::UpstreamSec), _) => Kind::Upstream,
        (Some(_), _) => Kind::Run,
        (None, Some('"')) => Kind::ToQuote,
        (None, _) => Kind::Lazy,
    };
    Piece::Field(kind, f.is_some())
}

/// Appends `c` to the literal the pieces end with, or starts one.
fn literal(pieces: &mut Vec<Piece>, c: char) {
    match pieces.last_mut() {
        Some(Piece::Lit(s)) => s.push(c),
        _ => pieces.push(Piece::Lit(c.to_string())),
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
