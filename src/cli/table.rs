//! Plain-text tables for people.

/// A table with a header; columns after the first are right-aligned.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Self {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        write_streamed(&mut out, &self.header, || self.rows.iter()).expect("writing to memory");
        String::from_utf8(out).expect("UTF-8 cells")
    }
}

/// One line of cells padded to `width`, the first left-aligned.
fn line(out: &mut String, r: &[String], width: &[usize]) {
    for (i, c) in r.iter().enumerate().take(width.len()) {
        if i > 0 {
            out.push_str("  ");
        }
        let pad = width[i] - c.chars().count();
        if i == 0 {
            out.push_str(c);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(c);
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
}

/// Writes a table like [`Table::render`] without holding its rows: `rows`
/// is called twice, once to size the columns and once to write, so a table
/// of millions of rows costs one row of memory.
pub fn write_streamed<R: AsRef<[String]>, I: Iterator<Item = R>>(
    out: &mut impl std::io::Write,
    header: &[String],
    rows: impl Fn() -> I,
) -> std::io::Result<()> {
    let mut width: Vec<usize> = header.iter().map(|c| c.chars().count()).collect();
    for r in rows() {
        for (w, c) in width.iter_mut().zip(r.as_ref()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut buf = String::new();
    line(&mut buf, header, &width);
    let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    line(&mut buf, &rule, &width);
    out.write_all(buf.as_bytes())?;
    for r in rows() {
        buf.clear();
        line(&mut buf, r.as_ref(), &width);
        out.write_all(buf.as_bytes())?;
    }
    Ok(())
}

/// A number with 4 significant digits, or `-` when missing (the library's
/// one formatter, in its terminal notation).
pub fn num(v: Option<f64>) -> String {
    demandsim::report::format::TEXT.num(v)
}

/// A time in seconds with millisecond resolution, trailing zeros trimmed.
pub fn time(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}
