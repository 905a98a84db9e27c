//! Input plumbing: transparent gzip by magic bytes, inflated on its own
//! thread where the reader can move to one.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use flate2::bufread::MultiGzDecoder;

/// Wraps `reader` in a buffered reader, decompressing it when it starts with
/// the gzip magic bytes (`1f 8b`), whatever its name. Concatenated gzip
/// members (as `cat a.gz b.gz` makes) are read as one stream.
pub fn decompress<'a, R: Read + Send + 'a>(reader: R) -> io::Result<Box<dyn BufRead + Send + 'a>> {
    let mut buffered = BufReader::with_capacity(1 << 16, reader);
    if is_gzip(buffered.fill_buf()?) {
        Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(buffered),
        )))
    } else {
        Ok(Box::new(buffered))
    }
}

/// As [`decompress`], but gzip is inflated on a thread of its own while the
/// caller parses: on two cores this halves the time to read a large
/// `.csv.gz` (inflating is about half of it). Memory stays bounded: at most
/// [`QUEUED`] chunks of [`CHUNK`] bytes wait between the two threads. The
/// thread stops at the end of the stream, at its first error (which the
/// reader then returns) or when the reader is dropped.
pub fn decompress_in_background<R: Read + Send + 'static>(
    reader: R,
) -> io::Result<Box<dyn BufRead + Send>> {
    let mut buffered = BufReader::with_capacity(1 << 16, reader);
    if !is_gzip(buffered.fill_buf()?) {
        return Ok(Box::new(buffered));
    }
    let (tx, rx) = sync_channel(QUEUED);
    let decoder = MultiGzDecoder::new(buffered);
    std::thread::Builder::new()
        .name("inflate".into())
        .spawn(move || inflate_into(decoder, &tx))?;
    Ok(Box::new(BufReader::with_capacity(
        1 << 16,
        Inflated {
            rx,
            chunk: Vec::new(),
            at: 0,
        },
    )))
}

/// The longest line a line-oriented reader takes (1 MiB): a record in
/// any trace, log or CSV this tool reads is a few hundred bytes, so a
/// longer line is a file of another kind (binary, or without newlines),
/// which would otherwise be buffered whole.
pub const MAX_LINE_BYTES: u64 = 1 << 20;

/// The largest file read whole (64 MiB): a model, a study, a QPME model,
/// a JSON document, an empirical distribution's samples.
pub const MAX_DOCUMENT_BYTES: u64 = 64 << 20;

/// A size limit an input broke; carried inside the [`io::Error`] that
/// [`Bounded`] returns, so every reader above it reports it as it reports
/// any read error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// A line longer than its limit, counted from 1.
    #[error(
        "line {line} is longer than {}, the limit for one line: not a text file with one record per line",
        mib(*.limit)
    )]
    Line {
        /// The line's number, from 1.
        line: u64,
        /// The limit, bytes.
        limit: u64,
    },
    /// More bytes than a file read whole may have.
    #[error("larger than {}, the limit for a file read whole", mib(*.limit))]
    Document {
        /// The limit, bytes.
        limit: u64,
    },
}

impl LimitError {
    /// The limit `e` carries, when a [`Bounded`] reader raised it.
    pub fn of(e: &io::Error) -> Option<Self> {
        e.get_ref()?.downcast_ref::<Self>().copied()
    }
}

/// `bytes` in MiB when whole ones.
fn mib(bytes: u64) -> String {
    match bytes % (1 << 20) {
        0 => format!("{} MiB", bytes >> 20),
        _ => format!("{bytes} bytes"),
    }
}

/// A reader that stops with a [`LimitError`] at the first line longer than
/// `max_line` or when more than `max_total` bytes have been read, without
/// holding more than its inner reader's buffer: nothing above it can
/// buffer a record without a newline whole. Exact when `max_line` is at
/// least the inner buffer's capacity (a shorter line than that is only
/// checked where it continues into the next buffer).
pub struct Bounded<R> {
    inner: R,
    max_line: u64,
    max_total: u64,
    /// Newlines consumed.
    lines: u64,
    /// Bytes consumed since the last newline.
    since_newline: u64,
    /// Bytes consumed.
    total: u64,
}

impl<R: BufRead> Bounded<R> {
    /// Lines of at most [`MAX_LINE_BYTES`], any number of them.
    pub fn lines(inner: R) -> Self {
        Self::new(inner, MAX_LINE_BYTES, u64::MAX)
    }

    /// At most [`MAX_DOCUMENT_BYTES`] in all, lines of any length.
    pub fn document(inner: R) -> Self {
        Self::new(inner, u64::MAX, MAX_DOCUMENT_BYTES)
    }

    /// Lines of at most `max_line` bytes, at most `max_total` bytes in all.
    pub fn new(inner: R, max_line: u64, max_total: u64) -> Self {
        Self {
            inner,
            max_line,
            max_total,
            lines: 0,
            since_newline: 0,
            total: 0,
        }
    }
}

impl<R: BufRead> BufRead for Bounded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let line_room = self.max_line - self.since_newline;
        let total_room = self.max_total - self.total;
        let (max_line, max_total, line) = (self.max_line, self.max_total, self.lines + 1);
        let buf = self.inner.fill_buf()?;
        if buf.is_empty() {
            return Ok(buf);
        }
        if total_room == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                LimitError::Document { limit: max_total },
            ));
        }
        // Up to the limit, or past it when the line ends within it.
        let window = buf
            .len()
            .min(usize::try_from(line_room).unwrap_or(usize::MAX));
        let ends = buf[..buf.len().min(window + 1)].contains(&b'\n');
        let n = match ends {
            true => buf.len(),
            false if window == 0 => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    LimitError::Line {
                        line,
                        limit: max_line,
                    },
                ));
            }
            false => window,
        };
        let n = n.min(usize::try_from(total_room).unwrap_or(usize::MAX));
        Ok(&buf[..n])
    }

    fn consume(&mut self, amt: usize) {
        self.total += amt as u64;
        if self.max_line == u64::MAX {
            return self.inner.consume(amt);
        }
        let buf = match self.inner.fill_buf() {
            Ok(b) => &b[..amt.min(b.len())],
            Err(_) => &[],
        };
        let newlines = count_newlines(buf);
        self.since_newline = match buf.iter().rposition(|&b| b == b'\n') {
            Some(i) => (buf.len() - i - 1) as u64,
            None => self.since_newline + buf.len() as u64,
        };
        self.lines += newlines;
        self.inner.consume(amt);
    }
}

/// The newlines in `buf`, counted in bytes 255 at a time (a tenth of a
/// busy log's import counted them one by one).
fn count_newlines(buf: &[u8]) -> u64 {
    buf.chunks(255)
        .map(|c| c.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n')))
        .map(u64::from)
        .sum()
}

impl<R: BufRead> Read for Bounded<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buf = self.fill_buf()?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// Size of one inflated chunk handed from the inflating thread.
const CHUNK: usize = 1 << 18;

/// Chunks that may wait for the parser.
const QUEUED: usize = 4;

fn is_gzip(head: &[u8]) -> bool {
    head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b
}

/// The inflating thread's loop.
fn inflate_into(mut decoder: impl Read, tx: &SyncSender<io::Result<Vec<u8>>>) {
    loop {
        let mut chunk = vec![0; CHUNK];
        let sent = match read_some(&mut decoder, &mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                chunk.truncate(n);
                tx.send(Ok(chunk))
            }
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        if sent.is_err() {
            return; // the reader is gone
        }
    }
}

/// Fills `buf` as far as the stream allows (short reads are joined).
fn read_some(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The parser's end of the channel.
struct Inflated {
    rx: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for Inflated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => (self.chunk, self.at) = (chunk, 0),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0), // the stream has ended
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_detected_by_magic_bytes_not_by_name() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"timestamp,response_time\n1,2\n").unwrap();
        let gz = enc.finish().unwrap();
        let mut out = String::new();
        decompress(&gz[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "timestamp,response_time\n1,2\n");

        let mut plain = String::new();
        decompress(&b"a,b\n"[..])
            .unwrap()
            .read_to_string(&mut plain)
            .unwrap();
        assert_eq!(plain, "a,b\n");
    }

    #[test]
    fn a_truncated_gzip_stream_is_an_error() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&[b'x'; 10_000]).unwrap();
        let gz = enc.finish().unwrap();
        let mut out = Vec::new();
        let err = decompress(&gz[..gz.len() / 2])
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);

        let err = decompress_in_background(io::Cursor::new(gz[..gz.len() / 2].to_vec()))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn background_inflation_gives_the_same_bytes() {
        // Several chunks and two gzip members, as `cat a.gz b.gz` makes.
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("{i},{}\n", i % 7).into_bytes())
            .collect();
        let mut gz = Vec::new();
        for half in text.chunks(text.len() / 2 + 1) {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(half).unwrap();
            gz.extend(enc.finish().unwrap());
        }
        assert!(text.len() > 3 * CHUNK);
        let mut out = Vec::new();
        decompress_in_background(io::Cursor::new(gz))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert!(
            out == text,
            "inflated {} bytes of {}",
            out.len(),
            text.len()
        );
        let mut plain = Vec::new();
        decompress_in_background(io::Cursor::new(b"a,b\n".to_vec()))
            .unwrap()
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, b"a,b\n");
    }

    /// Reads `text` through a [`Bounded`] of the limits over a buffer of
    /// `capacity` bytes: the text, or the limit broken.
    fn bounded(text: &[u8], capacity: usize, line: u64, total: u64) -> Result<Vec<u8>, LimitError> {
        let inner = BufReader::with_capacity(capacity, text);
        let mut out = Vec::new();
        match Bounded::new(inner, line, total).read_to_end(&mut out) {
            Ok(_) => Ok(out),
            Err(e) => Err(LimitError::of(&e).expect("a limit, not another error")),
        }
    }

    #[test]
    fn a_line_longer_than_the_limit_is_refused_by_number_whatever_the_buffer() {
        let text = b"ab\nabcde\nabcdef\nab\n";
        for capacity in [1, 2, 3, 5] {
            assert_eq!(bounded(text, capacity, 6, u64::MAX), Ok(text.to_vec()));
            assert_eq!(
                bounded(text, capacity, 5, u64::MAX),
                Err(LimitError::Line { line: 3, limit: 5 }),
                "buffer of {capacity}"
            );
            // The last line has no newline.
            assert_eq!(
                bounded(b"ab\nabcdef", capacity, 5, u64::MAX),
                Err(LimitError::Line { line: 2, limit: 5 })
            );
        }
        let lines: Vec<String> = Bounded::lines(&b"x\ny\n"[..])
            .lines()
            .collect::<io::Result<_>>()
            .unwrap();
        assert_eq!(lines, ["x", "y"]);
    }

    #[test]
    fn a_document_larger_than_the_limit_is_refused_and_one_as_large_is_read() {
        let text = b"{\"a\": [1, 2, 3]}";
        let n = text.len() as u64;
        for capacity in [1, 4, 64] {
            assert_eq!(bounded(text, capacity, u64::MAX, n), Ok(text.to_vec()));
            assert_eq!(
                bounded(text, capacity, u64::MAX, n - 1),
                Err(LimitError::Document { limit: n - 1 })
            );
        }
        assert_eq!(
            LimitError::Line {
                line: 7,
                limit: MAX_LINE_BYTES
            }
            .to_string(),
            "line 7 is longer than 1 MiB, the limit for one line: not a text file with one record per line"
        );
    }

    #[test]
    fn dev_zero_through_gzip_stops_at_the_line_limit_in_bounded_memory() {
        // 64 MiB of NULs inflate from 64 KB; the reader stops after 1 MiB.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            enc.write_all(&zeros).unwrap();
        }
        let gz = enc.finish().unwrap();
        let mut line = String::new();
        let err = Bounded::lines(decompress_in_background(io::Cursor::new(gz)).unwrap())
            .read_line(&mut line)
            .unwrap_err();
        assert_eq!(
            LimitError::of(&err),
            Some(LimitError::Line {
                line: 1,
                limit: MAX_LINE_BYTES
            })
        );
        assert_eq!(line.len() as u64, MAX_LINE_BYTES);
    }
}
