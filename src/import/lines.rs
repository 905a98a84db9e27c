//! The lines of a text input, read where they lie in the reader's buffer:
//! no copy of a line, no allocation per line, one UTF-8 check and one
//! newline search over each buffer (a busy access log's import spent a
//! fifth of its time copying lines into a `String` and counting them).

use std::io::BufRead;

use super::{TraceError, line_error};

/// Calls `f` with each line of `input` (without its `\n` and the `\r`s
/// before it) and its number, from 1; returns the number of lines. A line
/// is read in place where the buffer holds it whole, else gathered from
/// the buffers it spans. Text that is not UTF-8 is refused naming its
/// line, as are the reader's errors (a [`crate::trace::Bounded`]
/// reader's line limit among them).
///
/// # Errors
/// The reader's, a line that is not UTF-8, and the first of `f`'s.
pub(crate) fn each_line(
    input: &mut dyn BufRead,
    mut f: impl FnMut(&str, u64) -> Result<(), TraceError>,
) -> Result<u64, TraceError> {
    let mut line_no = 0u64;
    // The start of a line that continues into the next buffer.
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let buf = input.fill_buf().map_err(|e| line_error(e, line_no + 1))?;
        if buf.is_empty() {
            break;
        }
        let mut used = 0;
        if !carry.is_empty() {
            let Some(end) = buf.iter().position(|&b| b == b'\n') else {
                carry.extend_from_slice(buf);
                let n = buf.len();
                input.consume(n);
                continue;
            };
            carry.extend_from_slice(&buf[..end]);
            line_no += 1;
            f(text(&carry, line_no)?, line_no)?;
            carry.clear();
            used = end + 1;
        }
        let rest = &buf[used..];
        // The valid prefix; past it, a byte that is no UTF-8 (its line is
        // refused) or a character the next buffer completes.
        let (valid, invalid) = match std::str::from_utf8(rest) {
            Ok(s) => (s, false),
            Err(e) => (
                std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
                e.error_len().is_some(),
            ),
        };
        let mut at = 0;
        while let Some(end) = valid[at..].find('\n') {
            line_no += 1;
            f(valid[at..at + end].trim_end_matches('\r'), line_no)?;
            at += end + 1;
        }
        if invalid {
            return Err(not_utf8(line_no + 1));
        }
        carry.extend_from_slice(&rest[at..]);
        let n = buf.len();
        input.consume(n);
    }
    if !carry.is_empty() {
        line_no += 1;
        f(text(&carry, line_no)?, line_no)?;
    }
    Ok(line_no)
}

/// A gathered line as text, without the `\r`s it ends with.
fn text(bytes: &[u8], line: u64) -> Result<&str, TraceError> {
    std::str::from_utf8(bytes)
        .map(|s| s.trim_end_matches('\r'))
        .map_err(|_| not_utf8(line))
}

fn not_utf8(line: u64) -> TraceError {
    TraceError::Malformed {
        line,
        message: "not valid UTF-8 text; is this a binary file?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    /// The lines `each_line` gives of `bytes` read `cap` bytes at a time.
    fn lines(bytes: &[u8], cap: usize) -> Result<Vec<(String, u64)>, TraceError> {
        let mut input = BufReader::with_capacity(cap, bytes);
        let mut got = Vec::new();
        let n = each_line(&mut input, |l, k| {
            got.push((l.to_string(), k));
            Ok(())
        })?;
        assert_eq!(n, got.len() as u64);
        Ok(got)
    }

    /// What `read_line` gives, the `\n` and `\r`s at the end removed.
    fn by_read_line(bytes: &[u8]) -> Vec<(String, u64)> {
        let mut input = bytes;
        let mut got = Vec::new();
        let mut buf = String::new();
        while input.read_line(&mut buf).unwrap() > 0 {
            let k = got.len() as u64 + 1;
            got.push((buf.trim_end_matches(['\n', '\r']).to_string(), k));
            buf.clear();
        }
        got
    }

    #[test]
    fn lines_across_buffers_are_those_read_line_gives() {
        let text = "a,b\r\n\nnaïve café ☕ line\nlast without newline".as_bytes();
        // Buffers of 1 to 9 bytes split lines, `\r\n` and characters of
        // two and three bytes everywhere.
        for cap in 1..10 {
            assert_eq!(lines(text, cap).unwrap(), by_read_line(text), "{cap}");
        }
        assert_eq!(lines(text, 1 << 16).unwrap(), by_read_line(text));
        assert_eq!(lines(b"", 4).unwrap(), []);
        assert_eq!(lines(b"\n", 4).unwrap(), [(String::new(), 1)]);
    }

    #[test]
    fn a_line_that_is_not_utf8_is_named() {
        let text = b"ok\nstill ok\nbad \xff byte\nok\n";
        for cap in [1, 3, 5, 64] {
            let e = lines(text, cap).unwrap_err();
            assert_eq!(
                e.to_string(),
                "line 3: not valid UTF-8 text; is this a binary file?",
                "{cap}"
            );
        }
        // A character cut short by the end of the input.
        let e = lines(b"ok\n\xe2\x98", 2).unwrap_err();
        assert!(e.to_string().starts_with("line 2: not valid UTF-8"), "{e}");
    }

    #[test]
    fn the_line_limit_of_a_bounded_reader_is_named() {
        let long = format!("short\n{}\n", "x".repeat(100));
        let inner = BufReader::with_capacity(16, long.as_bytes());
        let mut input = crate::trace::Bounded::new(inner, 50, u64::MAX);
        let e = each_line(&mut input, |_, _| Ok(())).unwrap_err();
        assert!(
            e.to_string().contains("line 2 is longer than 50 bytes"),
            "{e}"
        );
    }
}
