//! A growing file read in pieces: [`LineFeed`] hands each run of complete
//! lines to a reader made for whole files (an importer's, the canonical
//! CSV readers), so every format the importers' table holds can be
//! followed. A format whose first line is a header (it gives no record on
//! its own) has that line put back before every later piece; error lines
//! are the file's, not the piece's.

use std::io::{BufRead, Read};

use crate::trace::TraceError;

/// What the first line was.
#[derive(Debug, Clone, PartialEq, Eq)]
enum First {
    /// Not read yet.
    Unread,
    /// A header: put back before every piece.
    Header(Vec<u8>),
    /// A record like the others.
    Record,
}

/// The state of one followed file.
#[derive(Debug, Clone)]
pub struct LineFeed {
    first: First,
    /// Lines of the file read so far.
    lines: u64,
}

impl Default for LineFeed {
    fn default() -> Self {
        Self::new()
    }
}

/// Reads one piece of a file (complete lines, a header first where the
/// format has one) and gives the number of records it read.
pub type ReadPiece<'r> = dyn FnMut(&mut dyn BufRead) -> Result<u64, TraceError> + 'r;

impl LineFeed {
    /// A file not read yet.
    pub fn new() -> Self {
        Self {
            first: First::Unread,
            lines: 0,
        }
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Reads `piece` (complete lines, each ending in a newline) through
    /// `read`.
    ///
    /// # Errors
    /// The reader's, its line numbers the file's.
    pub fn feed(&mut self, piece: &[u8], read: &mut ReadPiece<'_>) -> Result<(), TraceError> {
        let mut rest = piece;
        if self.first == First::Unread {
            let Some(end) = piece.iter().position(|&b| b == b'\n') else {
                return Ok(());
            };
            let (line, tail) = piece.split_at(end + 1);
            let records = read(&mut &line[..])?;
            self.first = if records == 0 {
                First::Header(line.to_vec())
            } else {
                First::Record
            };
            self.lines = 1;
            rest = tail;
        }
        if rest.is_empty() {
            return Ok(());
        }
        let result = match &self.first {
            First::Header(h) => {
                let mut both = (&h[..]).chain(rest);
                read(&mut both).map_err(|e| shift(e, self.lines - 1))
            }
            _ => read(&mut &rest[..]).map_err(|e| shift(e, self.lines)),
        };
        self.lines += rest.iter().filter(|&&b| b == b'\n').count() as u64;
        result.map(|_| ())
    }
}

/// `e` with its line numbers `by` lines further on.
fn shift(e: TraceError, by: u64) -> TraceError {
    match e {
        TraceError::BadValue {
            line,
            field,
            found,
            expected,
        } => TraceError::BadValue {
            line: line + by,
            field,
            found,
            expected,
        },
        TraceError::Malformed { line, message } => TraceError::Malformed {
            line: line + by,
            message,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::RequestReader;

    /// Reads canonical requests, keeping (start, class).
    fn canonical(
        out: &mut Vec<(f64, String)>,
    ) -> impl FnMut(&mut dyn BufRead) -> Result<u64, TraceError> + '_ {
        |input| {
            let mut reader = RequestReader::new(input)?;
            let mut n = 0;
            while let Some(r) = reader.next_request() {
                let r = r?;
                out.push((r.start, reader.classes().name(r.class).to_string()));
                n += 1;
            }
            Ok(n)
        }
    }

    #[test]
    fn a_header_is_put_back_before_each_piece_and_errors_name_the_files_line() {
        let mut got = Vec::new();
        let mut feed = LineFeed::new();
        let mut read = canonical(&mut got);
        feed.feed(b"timestamp,response_time,class\n1,0.5,a\n", &mut read)
            .unwrap();
        feed.feed(b"2,0.25,b\n3,0.5,a\n", &mut read).unwrap();
        let e = feed.feed(b"4,0.5,a\n5,x,a\n", &mut read).unwrap_err();
        assert_eq!(feed.lines(), 6);
        assert!(
            e.to_string().starts_with("line 6, field `response_time`"),
            "{e}"
        );
        drop(read);
        assert_eq!(
            got[..3],
            [(1.0, "a".into()), (2.0, "b".into()), (3.0, "a".into())]
        );
    }

    #[test]
    fn a_format_without_a_header_reads_its_first_line_once() {
        let mut starts = Vec::new();
        let mut feed = LineFeed::new();
        let mut read = |input: &mut dyn BufRead| -> Result<u64, TraceError> {
            let mut n = 0;
            for (i, line) in input.lines().enumerate() {
                let line = line?;
                let v: f64 = line.parse().map_err(|_| TraceError::Malformed {
                    line: i as u64 + 1,
                    message: "not a number".into(),
                })?;
                starts.push(v);
                n += 1;
            }
            Ok(n)
        };
        feed.feed(b"1\n2\n", &mut read).unwrap();
        feed.feed(b"3\n", &mut read).unwrap();
        let e = feed.feed(b"4\nx\n", &mut read).unwrap_err();
        assert_eq!(e.to_string(), "line 5: not a number");
        assert_eq!(starts, [1.0, 2.0, 3.0, 4.0]);
    }
}
