//! What the canonical CSV files share: finding a column, reading and
//! checking the header, interning text fields, writing numbers so that
//! they read back exactly. The files themselves are
//! [`super::requests_csv`] (`requests.csv`), [`super::utilization_csv`]
//! (`utilization.csv`) and [`super::interval_input`] (`intervals.csv`).

use std::io::{BufRead, Write};

use super::decimal::push_shortest;
use super::{HeaderProblem, LabelId, Labels, TraceError};

/// Finds a column by name (case-sensitive, surrounding spaces ignored).
pub(super) fn column(header: &csv::ByteRecord, name: &str) -> Option<usize> {
    header
        .iter()
        .position(|f| std::str::from_utf8(f).map(str::trim) == Ok(name))
}

pub(super) fn header_text(header: &csv::ByteRecord) -> String {
    let fields: Vec<String> = header
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let text = fields.join(",");
    if text.chars().count() > 120 {
        text.chars().take(117).collect::<String>() + "..."
    } else {
        text
    }
}

pub(super) fn csv_reader<R: BufRead>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::None)
        .comment(Some(b'#'))
        .from_reader(input)
}

pub(super) fn read_header<R: BufRead>(
    reader: &mut csv::Reader<R>,
    what: &'static str,
    expected: &str,
) -> Result<csv::ByteRecord, TraceError> {
    let header = reader.byte_headers().map_err(TraceError::from_csv)?.clone();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(TraceError::Empty {
            what,
            expected: format!("a header line `{expected}`"),
        });
    }
    if std::str::from_utf8(header.as_slice()).is_err() {
        return Err(TraceError::Header {
            problem: HeaderProblem::NotText,
            expected: format!("`{expected}`"),
            found: None,
        });
    }
    Ok(header)
}

/// A text field interned into `table`; `None` when it is empty or blank.
pub(super) fn intern_text(
    table: &mut Labels,
    raw: &[u8],
    line: u64,
    field: &str,
) -> Result<Option<LabelId>, TraceError> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| TraceError::bad_value(line, field, raw, "UTF-8 text"))?
        .trim();
    Ok((!text.is_empty()).then(|| table.intern(text)))
}

impl From<csv::Error> for TraceError {
    fn from(e: csv::Error) -> Self {
        TraceError::from_csv(e)
    }
}

/// Shortest decimal text that reads back to the same `f64`
/// (`format!("{v}")`).
pub(super) fn ryu_like(v: f64) -> String {
    let mut s = String::new();
    push_shortest(&mut s, v);
    s
}

/// Writes [`ryu_like`]'s text of `v` as the next field of `csv`, through
/// `buf` (no allocation per number).
pub(super) fn write_number<W: Write>(
    csv: &mut csv::Writer<W>,
    buf: &mut String,
    v: f64,
) -> csv::Result<()> {
    buf.clear();
    push_shortest(buf, v);
    csv.write_field(buf.as_bytes())
}

/// Flushes a CSV writer and returns what it wrote into.
pub(super) fn finish_csv<W: Write>(csv: csv::Writer<W>) -> Result<W, TraceError> {
    csv.into_inner().map_err(|e| e.into_error().into())
}
