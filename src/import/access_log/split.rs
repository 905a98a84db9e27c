//! The fast path of a log format: the format's pieces matched by hand,
//! without the regular expression, on lines where that is sure to give
//! the regular expression's own groups.
//!
//! The regular expression (`format.rs`) is a sequence of literals and
//! field patterns, matched leftmost-first. Where every lazy field is
//! followed by a literal, the first choice of each field that lets the
//! next literal match is the one the regular expression tries first; when
//! that path matches the whole line it is the regular expression's match.
//! Anything else (no match on that path, a format without a literal after
//! a lazy field, a non-ASCII digit in a zone) returns `None`, and the
//! caller asks the regular expression, which decides. On a busy log this
//! is about five times faster than the regular expression's captures.

/// How one field's text is delimited (the regular expression of
/// `format::capture` it stands for).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// `\[([^\]]+)\]`
    Bracketed,
    /// `([^\]\s]+(?: [+-]\d{4})?)`
    Local,
    /// `(.*?)`
    Lazy,
    /// `([^"]*?)` before a `"`
    ToQuote,
    /// `(\S+(?:, \S+)*)`
    Run,
    /// `(\S+(?:(?:, | : )\S+)*)`
    Upstream,
}

/// A piece of a format: text to match as is, or a field (captured or not).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Piece {
    /// Literal text.
    Lit(String),
    /// A field; `true`: one of the groups read.
    Field(Kind, bool),
}

/// The most groups the fast path fills (a format with more takes the
/// regular expression).
pub(super) const MAX_GROUPS: usize = 24;

/// Whether the fast path can read lines of `pieces`: a lazy field must be
/// followed by a literal or end the format.
pub(super) fn usable(pieces: &[Piece]) -> bool {
    let groups = pieces
        .iter()
        .filter(|p| matches!(p, Piece::Field(_, true)))
        .count();
    groups <= MAX_GROUPS
        && pieces.windows(2).all(|w| match w {
            [Piece::Field(Kind::Lazy | Kind::ToQuote, _), next] => matches!(next, Piece::Lit(_)),
            _ => true,
        })
}

/// The groups of `line`, in order, where the fast path is sure of them.
pub(super) fn split<'a>(pieces: &[Piece], line: &'a str) -> Option<[&'a str; MAX_GROUPS]> {
    let mut groups = [""; MAX_GROUPS];
    let mut n = 0;
    let mut cur = 0;
    for (i, piece) in pieces.iter().enumerate() {
        let rest = &line[cur..];
        let (kind, captured) = match piece {
            Piece::Lit(s) => {
                starts(rest.as_bytes(), s.as_bytes()).then_some(())?;
                cur += s.len();
                continue;
            }
            Piece::Field(kind, captured) => (*kind, *captured),
        };
        let (from, to, next) = match kind {
            Kind::Bracketed => {
                let inner = rest.strip_prefix('[')?;
                let end = inner.find(']').filter(|&e| e > 0)?;
                (1, 1 + end, 2 + end)
            }
            Kind::Local => {
                let end = run_until(rest, b']');
                (end > 0).then_some(())?;
                let end = end + zone(&rest[end..])?;
                (0, end, end)
            }
            Kind::Lazy | Kind::ToQuote => {
                let end = match pieces.get(i + 1) {
                    Some(Piece::Lit(s)) => find(rest, s)?,
                    None => rest.trim_end().len(),
                    Some(Piece::Field(..)) => return None,
                };
                if kind == Kind::ToQuote && rest[..end].contains('"') {
                    return None;
                }
                (0, end, end)
            }
            Kind::Run => {
                let end = run(rest);
                (end > 0).then_some(())?;
                (0, end, end)
            }
            Kind::Upstream => {
                let mut end = run(rest);
                (end > 0).then_some(())?;
                while let Some(after) = rest[end..].strip_prefix(" : ")
                    && run(after) > 0
                {
                    end += 3 + run(after);
                }
                (0, end, end)
            }
        };
        if captured {
            groups[n] = &rest[from..to];
            n += 1;
        }
        cur += next;
    }
    line[cur..].trim_end().is_empty().then_some(groups)
}

/// Where `lit` first occurs in `s`: its first byte found by `memchr`,
/// then compared (the literals between fields are short: building a
/// substring searcher for each cost more than the search).
fn find(s: &str, lit: &str) -> Option<usize> {
    let (&first, tail) = lit.as_bytes().split_first()?;
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = b[from..].iter().position(|&c| c == first) {
        let at = from + i;
        if starts(&b[at + 1..], tail) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Whether `s` starts with `lit`, a byte at a time (a literal is a few
/// bytes: a call to `memcmp` for each cost more than comparing them).
fn starts(s: &[u8], lit: &[u8]) -> bool {
    s.len() >= lit.len() && s.iter().zip(lit).all(|(a, b)| a == b)
}

/// The length of the non-whitespace run `s` starts with.
fn run(s: &str) -> usize {
    run_until(s, b' ')
}

/// The length of the run `s` starts with before whitespace (Unicode's, as
/// the regular expression's `\s`) or `stop` (an ASCII byte), a byte at a
/// time while the text is ASCII.
fn run_until(s: &str, stop: u8) -> usize {
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' => return i,
            _ if c == stop => return i,
            0x80.. => {
                let end = s[i..].find(|c: char| c == char::from(stop) || c.is_whitespace());
                return i + end.unwrap_or(b.len() - i);
            }
            _ => {}
        }
    }
    b.len()
}

/// How much of ` +hhmm` (`(?: [+-]\d{4})?`, greedy) `s` starts with;
/// `None` where `\d` might match a digit that is not ASCII.
fn zone(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 6 || b[0] != b' ' || !matches!(b[1], b'+' | b'-') {
        return Some(0);
    }
    match &b[2..6] {
        d if d.iter().all(u8::is_ascii_digit) => Some(6),
        d if d.is_ascii() => Some(0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::LogFormat;
    use super::*;

    const COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time"#;
    const APACHE: &str = r#"%h %l %u %t "%r" %>s %b "%{User-Agent}i" %D"#;

    /// The fast path's groups, checked against the regular expression's
    /// where it answers; `None` where it leaves the line to it.
    fn fast(format: &str, line: &str) -> Option<Vec<String>> {
        let f = LogFormat::new(format).unwrap();
        let groups = split(
            f.pieces.as_ref().expect("a format the fast path reads"),
            line,
        )?;
        let caps = f
            .regex
            .captures(line)
            .expect("the regular expression matches too");
        let slow: Vec<String> = (1..=f.fields.len())
            .map(|k| caps.get(k).map_or("", |m| m.as_str()).to_string())
            .collect();
        let fast: Vec<String> = groups[..f.fields.len()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(fast, slow, "{line}");
        Some(fast)
    }

    #[test]
    fn runs_end_at_whitespace_as_the_regular_expressions_s_does() {
        assert_eq!(run("abc def"), 3);
        assert_eq!(run("abc"), 3);
        assert_eq!(run("a\u{b}b"), 1, "a vertical tab is whitespace");
        assert_eq!(run("é\u{a0}x"), 2, "so is a no-break space");
        assert_eq!(run("éé x"), 4);
        assert_eq!(run_until("09:30:31]", b']'), 8);
        assert_eq!(run_until("0é:31] x", b']'), 6);
        assert_eq!(run_until("0é:31 ]", b']'), 6);
        // As the regular expression would have it.
        let re = regex::Regex::new(r"^\S+").unwrap();
        for s in ["a\u{2003}b", "x\u{85}y", "日本 語", "\u{feff}z y"] {
            assert_eq!(run(s), re.find(s).map_or(0, |m| m.end()), "{s:?}");
        }
    }

    #[test]
    fn the_fast_path_reads_busy_log_lines_as_the_regular_expression_does() {
        let g = fast(
            COMBINED,
            r#"10.0.0.1 - - [22/Nov/2024:09:30:31 +0000] "GET /a?b=1 HTTP/1.1" 200 5 "-" "k6/0.54 (x; y)" 0.125 0.1 : 0.02"#,
        )
        .unwrap();
        assert_eq!(
            g,
            [
                "10.0.0.1",
                "22/Nov/2024:09:30:31 +0000",
                "GET /a?b=1 HTTP/1.1",
                "200",
                "k6/0.54 (x; y)",
                "0.125",
                "0.1 : 0.02"
            ]
        );
        let g = fast(
            APACHE,
            r#"::1 - bob [22/Nov/2024:09:30:31 +0100] "POST /x HTTP/1.1" 502 - "curl/8" 1500  "#,
        )
        .unwrap();
        assert_eq!(
            g,
            [
                "::1",
                "22/Nov/2024:09:30:31 +0100",
                "POST /x HTTP/1.1",
                "502",
                "curl/8",
                "1500"
            ]
        );
        // A request holding `" ` and a user agent with a quote: the first
        // choice fails later, the regular expression decides.
        for line in [
            r#"1.2.3.4 - - [22/Nov/2024:09:30:31 +0000] "GET /"x" HTTP/1.1" 200 5 "-" "a" 0.1 -"#,
            r#"1.2.3.4 - - [22/Nov/2024:09:30:31 +0000] "GET / HTTP/1.1" 200 5 "-" "a"b" 0.1 -"#,
            r#"1.2.3.4 - - [22/Nov/2024:09:30:31 +0000] "GET / HTTP/1.1" 200 5 "-" "a" 0.1"#,
            "",
            "garbage",
        ] {
            let _ = fast(COMBINED, line);
        }
    }
}
