//! The canonical CSV files: `requests.csv` and `utilization.csv`.
//!
//! `requests.csv`: header `timestamp,response_time` plus optional `class`
//! (default `default`), `success` (true/false/1/0, default true),
//! `resource`, and who sent the request: `user_class`, `user` and
//! `session` (kept by every reader and written back by every writer that
//! has them). `timestamp` is the request start.
//!
//! `utilization.csv`: header `timestamp,utilization` (or `utilization_pct`,
//! read as percent) plus optional `resource` (default `cpu`) and `interval`.
//! `timestamp` is the end of the sampling interval.

use std::io::{BufRead, Write};

use super::{
    HeaderProblem, LabelId, Labels, Origin, Request, TraceError, UtilSample, parse_bool, parse_f64,
    parse_seconds,
};

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
fn intern_text(
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

/// Streams [`Request`]s from a canonical `requests.csv`.
pub struct RequestReader<R: BufRead> {
    csv: csv::Reader<R>,
    record: csv::ByteRecord,
    ts: usize,
    rt: usize,
    class: Option<usize>,
    success: Option<usize>,
    resource: Option<usize>,
    origin_columns: [Option<usize>; 3],
    classes: Labels,
    resources: Labels,
    origins: OriginLabels,
}

/// The names behind a trace's [`Origin`] ids, and the rows that left a
/// present origin column empty.
#[derive(Debug, Clone, Default)]
pub struct OriginLabels {
    /// User classes.
    pub user_classes: Labels,
    /// Users.
    pub users: Labels,
    /// Sessions.
    pub sessions: Labels,
    /// Which of `user_class`, `user`, `session` the header has.
    pub present: [bool; 3],
    /// Per column (same order): rows that leave it empty, and the first
    /// such line.
    pub empty: [(u64, Option<u64>); 3],
}

impl OriginLabels {
    /// The origin columns' names, in the order of [`Self::present`].
    pub const COLUMNS: [&'static str; 3] = ["user_class", "user", "session"];

    fn table(&mut self, i: usize) -> &mut Labels {
        match i {
            0 => &mut self.user_classes,
            1 => &mut self.users,
            _ => &mut self.sessions,
        }
    }
}

const REQUESTS_HEADER: &str =
    "timestamp,response_time[,class,success,resource,user_class,user,session]";

impl<R: BufRead> RequestReader<R> {
    /// Reads and checks the header.
    ///
    /// # Errors
    /// [`TraceError::Header`] when `timestamp` or `response_time` is missing.
    pub fn new(input: R) -> Result<Self, TraceError> {
        let mut csv = csv_reader(input);
        let header = read_header(&mut csv, "requests", REQUESTS_HEADER)?;
        let need = |name: &str| {
            column(&header, name).ok_or_else(|| TraceError::Header {
                problem: HeaderProblem::MissingColumn(name.to_string()),
                expected: format!("a header `{REQUESTS_HEADER}`"),
                found: Some(header_text(&header)),
            })
        };
        let ts = need("timestamp")?;
        let rt = need("response_time")?;
        Ok(Self {
            ts,
            rt,
            class: column(&header, "class"),
            success: column(&header, "success"),
            resource: column(&header, "resource"),
            origin_columns: OriginLabels::COLUMNS.map(|c| column(&header, c)),
            origins: OriginLabels {
                present: OriginLabels::COLUMNS.map(|c| column(&header, c).is_some()),
                ..OriginLabels::default()
            },
            csv,
            record: csv::ByteRecord::new(),
            classes: Labels::new(),
            resources: Labels::new(),
        })
    }

    /// User classes, users and sessions seen so far.
    pub fn origin_labels(&self) -> &OriginLabels {
        &self.origins
    }

    /// The origin of the current row; an empty field is counted, not an
    /// error (a trace may know the session of only some requests).
    fn origin(&mut self) -> Result<Origin, TraceError> {
        let mut ids = [None; 3];
        for (i, col) in self.origin_columns.into_iter().enumerate() {
            let Some(col) = col else { continue };
            let line = self.line();
            let table = self.origins.table(i);
            ids[i] = intern_text(table, &self.record[col], line, OriginLabels::COLUMNS[i])?;
            if ids[i].is_none() {
                let (n, first) = &mut self.origins.empty[i];
                *n += 1;
                first.get_or_insert(line);
            }
        }
        Ok(Origin {
            user_class: ids[0],
            user: ids[1],
            session: ids[2],
        })
    }

    /// Class names seen so far.
    pub fn classes(&self) -> &Labels {
        &self.classes
    }

    /// Resource names seen so far.
    pub fn resources(&self) -> &Labels {
        &self.resources
    }

    /// Consumes the reader, returning its class names.
    pub fn into_classes(self) -> Labels {
        self.classes
    }

    /// Interns field `idx` (empty → `None`) into the class or resource table.
    fn label(&mut self, idx: usize, resource: bool) -> Result<Option<LabelId>, TraceError> {
        let line = self.line();
        let (field, table) = if resource {
            ("resource", &mut self.resources)
        } else {
            ("class", &mut self.classes)
        };
        intern_text(table, &self.record[idx], line, field)
    }

    /// The line of the request last read (1-based; the header is line 1).
    pub fn line(&self) -> u64 {
        self.record.position().map(|p| p.line()).unwrap_or(0)
    }

    /// The next request, or `None` at the end.
    pub fn next_request(&mut self) -> Option<Result<Request, TraceError>> {
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => Some(self.decode()),
            Err(e) => Some(Err(TraceError::from_csv(e))),
        }
    }

    fn decode(&mut self) -> Result<Request, TraceError> {
        let line = self.line();
        let start = parse_seconds(&self.record[self.ts], line, "timestamp")?;
        let response_time = parse_seconds(&self.record[self.rt], line, "response_time")?;
        let class = match self.class {
            Some(i) => self.label(i, false)?,
            None => None,
        };
        let class = class.unwrap_or_else(|| self.classes.intern("default"));
        let success = match self.success {
            Some(i) => parse_bool(&self.record[i]).ok_or_else(|| {
                TraceError::bad_value(line, "success", &self.record[i], "true, false, 1 or 0")
            })?,
            None => true,
        };
        let resource = match self.resource {
            Some(i) => self.label(i, true)?,
            None => None,
        };
        let origin = if self.origin_columns.iter().any(Option::is_some) {
            self.origin()?
        } else {
            Origin::default()
        };
        Ok(Request {
            start,
            response_time,
            class,
            success,
            resource,
            origin,
        })
    }
}

impl<R: BufRead> Iterator for RequestReader<R> {
    type Item = Result<Request, TraceError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_request()
    }
}

/// Streams [`UtilSample`]s from a canonical `utilization.csv`.
pub struct UtilizationReader<R: BufRead> {
    csv: csv::Reader<R>,
    record: csv::ByteRecord,
    ts: usize,
    util: usize,
    percent: bool,
    resource: Option<usize>,
    interval: Option<usize>,
}

/// The largest utilization read as a (clamped) fraction: see
/// `UtilizationReader::decode`.
const MAX_UTILIZATION: f64 = 1.05;

const UTIL_HEADER: &str = "timestamp,utilization[,resource,interval]";

impl<R: BufRead> UtilizationReader<R> {
    /// Reads and checks the header.
    ///
    /// # Errors
    /// [`TraceError::Header`] when `timestamp` or `utilization`
    /// (`utilization_pct`) is missing.
    pub fn new(input: R) -> Result<Self, TraceError> {
        let mut csv = csv_reader(input);
        let header = read_header(&mut csv, "utilization", UTIL_HEADER)?;
        let missing = |name: &str| TraceError::Header {
            problem: HeaderProblem::MissingColumn(name.to_string()),
            expected: format!("a header `{UTIL_HEADER}` (or `utilization_pct` for percent)"),
            found: Some(header_text(&header)),
        };
        let ts = column(&header, "timestamp").ok_or_else(|| missing("timestamp"))?;
        let (util, percent) = match (
            column(&header, "utilization"),
            column(&header, "utilization_pct"),
        ) {
            (Some(i), _) => (i, false),
            (None, Some(i)) => (i, true),
            (None, None) => return Err(missing("utilization")),
        };
        Ok(Self {
            ts,
            util,
            percent,
            resource: column(&header, "resource"),
            interval: column(&header, "interval"),
            csv,
            record: csv::ByteRecord::new(),
        })
    }

    fn decode(&self) -> Result<UtilSample, TraceError> {
        let line = self.record.position().map(|p| p.line()).unwrap_or(0);
        let timestamp = parse_seconds(&self.record[self.ts], line, "timestamp")?;
        let raw = &self.record[self.util];
        let (field, scale, expected) = if self.percent {
            ("utilization_pct", 0.01, "a percentage between 0 and 100")
        } else {
            (
                "utilization",
                1.0,
                "a fraction between 0 and 1 (use a `utilization_pct` column for percent)",
            )
        };
        let value = parse_f64(raw)
            .filter(|v| v.is_finite())
            .ok_or_else(|| TraceError::bad_value(line, field, raw, expected))?;
        let utilization = value * scale;
        // A sampler may overshoot a little: CPU time from /proc is counted
        // in 10 ms ticks per process, so a busy 1 s sample summed over a
        // service's processes can read a few percent above 1 (the
        // testbed's did, up to 1.021). Anything more is a unit mistake
        // that would silently wreck every estimate. Kept values are
        // clamped to 1.
        if !(-1e-6..=MAX_UTILIZATION).contains(&utilization) {
            return Err(TraceError::bad_value(line, field, raw, expected));
        }
        let resource = match self.resource {
            Some(i) if !self.record[i].is_empty() => std::str::from_utf8(&self.record[i])
                .map_err(|_| {
                    TraceError::bad_value(line, "resource", &self.record[i], "UTF-8 text")
                })?
                .trim()
                .to_string(),
            _ => "cpu".to_string(),
        };
        let interval = match self.interval {
            Some(i) if !self.record[i].is_empty() => {
                let v = parse_seconds(&self.record[i], line, "interval")?;
                if v == 0.0 {
                    return Err(TraceError::bad_value(
                        line,
                        "interval",
                        &self.record[i],
                        "a positive number of seconds",
                    ));
                }
                Some(v)
            }
            _ => None,
        };
        Ok(UtilSample {
            timestamp,
            utilization: utilization.clamp(0.0, 1.0),
            resource,
            interval,
        })
    }
}

impl<R: BufRead> Iterator for UtilizationReader<R> {
    type Item = Result<UtilSample, TraceError>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => Some(self.decode()),
            Err(e) => Some(Err(TraceError::from_csv(e))),
        }
    }
}

/// Which optional columns a [`RequestWriter`] writes besides
/// `timestamp,response_time,class,success`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Columns {
    /// `resource`.
    pub resource: bool,
    /// `user_class`, `user` and `session`.
    pub origin: bool,
}

/// Writes a canonical `requests.csv`.
pub struct RequestWriter<W: Write> {
    csv: csv::Writer<W>,
    columns: Columns,
}

impl<W: Write> RequestWriter<W> {
    /// Writes the header with the optional `columns`.
    pub fn new(out: W, columns: Columns) -> Result<Self, TraceError> {
        let mut csv = csv::Writer::from_writer(out);
        let mut header = vec!["timestamp", "response_time", "class", "success"];
        if columns.resource {
            header.push("resource");
        }
        if columns.origin {
            header.extend(OriginLabels::COLUMNS);
        }
        csv.write_record(&header).map_err(TraceError::from_csv)?;
        Ok(Self { csv, columns })
    }

    /// Writes one request; names are resolved through the reader's tables.
    pub fn write(
        &mut self,
        r: &Request,
        classes: &Labels,
        resources: &Labels,
        origins: &OriginLabels,
    ) -> Result<(), TraceError> {
        let o = &r.origin;
        self.write_row(&crate::import::RequestRow {
            start: r.start,
            response_time: r.response_time,
            class: classes.name(r.class),
            success: r.success,
            resource: r.resource.map(|id| resources.name(id)),
            user_class: o.user_class.map(|id| origins.user_classes.name(id)),
            user: o.user.map(|id| origins.users.name(id)),
            session: o.session.map(|id| origins.sessions.name(id)),
        })
    }

    /// Writes one request given as plain fields (columns the writer was not
    /// asked for are left out).
    pub fn write_row(&mut self, r: &crate::import::RequestRow<'_>) -> Result<(), TraceError> {
        let start = ryu_like(r.start);
        let response_time = ryu_like(r.response_time);
        self.csv.write_field(start.as_str())?;
        self.csv.write_field(response_time.as_str())?;
        self.csv.write_field(r.class)?;
        self.csv
            .write_field(if r.success { "true" } else { "false" })?;
        if self.columns.resource {
            self.csv.write_field(r.resource.unwrap_or(""))?;
        }
        if self.columns.origin {
            for v in [r.user_class, r.user, r.session] {
                self.csv.write_field(v.unwrap_or(""))?;
            }
        }
        self.csv.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> Result<W, TraceError> {
        finish_csv(self.csv)
    }
}

impl From<csv::Error> for TraceError {
    fn from(e: csv::Error) -> Self {
        TraceError::from_csv(e)
    }
}

/// Shortest decimal text that reads back to the same `f64`.
pub(super) fn ryu_like(v: f64) -> String {
    format!("{v}")
}

/// Flushes a CSV writer and returns what it wrote into.
pub(super) fn finish_csv<W: Write>(csv: csv::Writer<W>) -> Result<W, TraceError> {
    csv.into_inner().map_err(|e| TraceError::Io(e.into_error()))
}

/// Writes a canonical `utilization.csv` (`timestamp,utilization,resource,interval`).
pub struct UtilizationWriter<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> UtilizationWriter<W> {
    /// Writes the header.
    pub fn new(out: W) -> Result<Self, TraceError> {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(["timestamp", "utilization", "resource", "interval"])?;
        Ok(Self { csv })
    }

    /// Writes one sample.
    pub fn write(&mut self, s: &UtilSample) -> Result<(), TraceError> {
        let interval = s.interval.map(ryu_like).unwrap_or_default();
        self.csv.write_record([
            ryu_like(s.timestamp).as_str(),
            ryu_like(s.utilization).as_str(),
            s.resource.as_str(),
            interval.as_str(),
        ])?;
        Ok(())
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> Result<W, TraceError> {
        finish_csv(self.csv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requests(text: &str) -> Result<(Vec<Request>, Labels, Labels), TraceError> {
        let mut r = RequestReader::new(text.as_bytes())?;
        let v = r.by_ref().collect::<Result<Vec<_>, _>>()?;
        let resources = r.resources().clone();
        Ok((v, r.into_classes(), resources))
    }

    #[test]
    fn optional_columns_default_to_class_default_and_success() {
        let (v, labels, _) = requests("response_time,timestamp\n0.5,10\n0.25,11.5\n").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].start, 10.0);
        assert_eq!(v[0].response_time, 0.5);
        assert_eq!(v[1].end(), 11.75);
        assert_eq!(labels.name(v[0].class), "default");
        assert!(v[0].success && v[0].resource.is_none());
    }

    #[test]
    fn class_success_and_resource_are_read() {
        let (v, labels, resources) = requests(
            "timestamp,response_time,class,success,resource\n1,0.1,buy,false,co1\n2,0.2,sell,1,\n",
        )
        .unwrap();
        assert_eq!(labels.name(v[0].class), "buy");
        assert!(!v[0].success);
        assert_eq!(resources.name(v[0].resource.unwrap()), "co1");
        assert_eq!(labels.len(), 2, "resources are not classes");
        assert_eq!(labels.name(v[1].class), "sell");
        assert!(v[1].success);
        assert!(v[1].resource.is_none());
    }

    #[test]
    fn a_missing_column_names_what_is_expected() {
        let err = requests("time,rt\n1,2\n").unwrap_err().to_string();
        assert!(
            err.contains("line 1") && err.contains("`timestamp`"),
            "{err}"
        );
        assert!(err.contains("found `time,rt`"), "{err}");
    }

    #[test]
    fn bad_values_name_line_field_and_expectation() {
        let err = requests("timestamp,response_time\n1,0.5\n2,abc\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "line 3, field `response_time`: found \"abc\", expected a number of seconds"
        );
        let err = requests("timestamp,response_time\n1,-0.5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("non-negative"), "{err}");
        let err = requests("timestamp,response_time\nNaN,0.5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2, field `timestamp`"), "{err}");
        let err = requests("timestamp,response_time,success\n1,0.5,maybe\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("true, false, 1 or 0"), "{err}");
    }

    #[test]
    fn a_short_row_is_reported_with_its_line() {
        let err = requests("timestamp,response_time\n1,0.5\n2\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "line 3: expected 2 fields like the header, found 1");
    }

    #[test]
    fn an_empty_file_says_what_header_is_expected() {
        let err = requests("").unwrap_err().to_string();
        assert!(err.contains("empty requests file"), "{err}");
    }

    fn utils(text: &str) -> Result<Vec<UtilSample>, TraceError> {
        UtilizationReader::new(text.as_bytes())?.collect()
    }

    #[test]
    fn utilization_pct_is_read_as_percent() {
        let v = utils("timestamp,utilization_pct,resource\n30,45,co1\n").unwrap();
        assert!((v[0].utilization - 0.45).abs() < 1e-12);
        assert_eq!(v[0].resource, "co1");
        let v = utils("timestamp,utilization\n30,0.5\n").unwrap();
        assert_eq!(v[0].resource, "cpu");
        assert_eq!(v[0].interval, None);
    }

    #[test]
    fn a_tick_counted_sample_a_little_above_one_is_clamped_and_more_refused() {
        let v = utils("timestamp,utilization\n1,1.021\n").unwrap();
        assert_eq!(v[0].utilization, 1.0);
        let err = utils("timestamp,utilization\n1,1.06\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn utilization_in_percent_by_mistake_is_rejected() {
        let err = utils("timestamp,utilization\n30,45\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("utilization_pct"),
            "{err}"
        );
    }

    #[test]
    fn written_requests_read_back_identically() {
        let mut labels = Labels::new();
        let a = labels.intern("a");
        let mut resources = Labels::new();
        let co = resources.intern("co1");
        let reqs = [
            Request {
                start: 0.1 + 0.2,
                response_time: 1e-7,
                class: a,
                success: false,
                resource: Some(co),
                origin: Origin::default(),
            },
            Request {
                start: 1.7e9,
                response_time: 12.5,
                class: a,
                success: true,
                resource: None,
                origin: Origin::default(),
            },
        ];
        let columns = Columns {
            resource: true,
            origin: false,
        };
        let mut w = RequestWriter::new(Vec::new(), columns).unwrap();
        for r in &reqs {
            w.write(r, &labels, &resources, &OriginLabels::default())
                .unwrap();
        }
        let bytes = w.finish().unwrap();
        let (back, l2, r2) = requests(std::str::from_utf8(&bytes).unwrap()).unwrap();
        assert_eq!(back.len(), 2);
        for (x, y) in reqs.iter().zip(&back) {
            assert_eq!(x.start, y.start);
            assert_eq!(x.response_time, y.response_time);
            assert_eq!(x.success, y.success);
            assert_eq!(labels.name(x.class), l2.name(y.class));
        }
        assert_eq!(r2.name(back[0].resource.unwrap()), "co1");
    }

    #[test]
    fn origin_columns_are_kept_and_empty_fields_counted() {
        let text = "timestamp,response_time,class,user_class,user,session\n\
                    1,0.1,buy,ActiveUser,u1,u1-s1\n\
                    2,0.2,rate,ActiveUser,u1,\n\
                    3,0.3,rate,ReadOnlyUser,u2,u2-s1\n";
        let mut r = RequestReader::new(text.as_bytes()).unwrap();
        let v = r.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
        let o = r.origin_labels().clone();
        assert_eq!(o.present, [true, true, true]);
        assert_eq!(o.user_classes.names(), ["ActiveUser", "ReadOnlyUser"]);
        assert_eq!(o.users.len(), 2);
        assert_eq!(o.sessions.names(), ["u1-s1", "u2-s1"]);
        assert_eq!(v[1].origin.session, None);
        assert_eq!(v[1].origin.user, v[0].origin.user);
        assert_eq!(o.empty[2], (1, Some(3)), "one empty session, on line 3");
        assert_eq!(o.empty[0], (0, None));
        // Written back with the origin columns, the same file comes out.
        let classes = r.classes().clone();
        let columns = Columns {
            resource: false,
            origin: true,
        };
        let mut w = RequestWriter::new(Vec::new(), columns).unwrap();
        for q in &v {
            w.write(q, &classes, &Labels::new(), &o).unwrap();
        }
        let back = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            back,
            "timestamp,response_time,class,success,user_class,user,session\n\
             1,0.1,buy,true,ActiveUser,u1,u1-s1\n\
             2,0.2,rate,true,ActiveUser,u1,\n\
             3,0.3,rate,true,ReadOnlyUser,u2,u2-s1\n"
        );
    }
}
