//! `requests.csv`: header `timestamp,response_time` plus optional `class`
//! (default `default`), `success` (true/false/1/0, default true),
//! `resource`, and who sent the request: `user_class`, `user` and
//! `session` (kept by every reader and written back by every writer that
//! has them). `timestamp` is the request start.

use std::io::{BufRead, Write};

use super::canonical::{
    column, csv_reader, finish_csv, header_text, intern_text, read_header, write_number,
};
use super::{
    HeaderProblem, LabelId, Labels, Origin, Request, TraceError, parse_bool, parse_seconds,
};

/// Streams [`Request`]s from a canonical `requests.csv`.
pub struct RequestReader<R: BufRead> {
    csv: csv::Reader<R>,
    record: csv::ByteRecord,
    ts: usize,
    rt: usize,
    class: Option<usize>,
    /// The column the class is read from (`class` unless grouped).
    class_column: String,
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
        Self::open(input, None)
    }

    /// Reads and checks the header; each request's class is the value of
    /// `column` (e.g. `user_class`: the requests grouped by the user class
    /// that sent them), an empty field class `default`.
    ///
    /// # Errors
    /// [`TraceError::Header`] when `timestamp`, `response_time` or
    /// `column` is missing.
    pub fn grouped(input: R, column: &str) -> Result<Self, TraceError> {
        Self::open(input, Some(column))
    }

    fn open(input: R, group_by: Option<&str>) -> Result<Self, TraceError> {
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
        let class_column = group_by.unwrap_or("class");
        let class = match group_by {
            Some(g) => Some(column(&header, g).ok_or_else(|| TraceError::Header {
                problem: HeaderProblem::MissingColumn(g.to_string()),
                expected: format!("a `{g}` column to group the requests by"),
                found: Some(header_text(&header)),
            })?),
            None => column(&header, "class"),
        };
        Ok(Self {
            ts,
            rt,
            class,
            class_column: class_column.to_string(),
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
            (self.class_column.as_str(), &mut self.classes)
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

/// One request as plain fields (times in seconds), for writing: what an
/// importer reads or a generator makes. The optional fields are the
/// optional columns of `requests.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RequestRow<'a> {
    /// Start, seconds.
    pub start: f64,
    /// Response time, seconds.
    pub response_time: f64,
    /// Class.
    pub class: &'a str,
    /// Success.
    pub success: bool,
    /// The resource that served it.
    pub resource: Option<&'a str>,
    /// The load generator's user class.
    pub user_class: Option<&'a str>,
    /// The user.
    pub user: Option<&'a str>,
    /// The session.
    pub session: Option<&'a str>,
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
    /// A number's text, written field by field.
    number: String,
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
        Ok(Self {
            csv,
            columns,
            number: String::new(),
        })
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
        self.write_row(&RequestRow {
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
    pub fn write_row(&mut self, r: &RequestRow<'_>) -> Result<(), TraceError> {
        write_number(&mut self.csv, &mut self.number, r.start)?;
        write_number(&mut self.csv, &mut self.number, r.response_time)?;
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

    #[test]
    fn grouped_requests_take_their_class_from_the_column_named() {
        let text = "timestamp,response_time,class,user_class\n\
                    1,0.1,buy,ActiveUser\n\
                    2,0.2,rate,ReadOnlyUser\n\
                    3,0.3,rate,\n";
        let mut r = RequestReader::grouped(text.as_bytes(), "user_class").unwrap();
        let v = r.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
        let names: Vec<&str> = v.iter().map(|q| r.classes().name(q.class)).collect();
        assert_eq!(names, ["ActiveUser", "ReadOnlyUser", "default"]);
        // The origin is still read.
        assert_eq!(r.origin_labels().user_classes.len(), 2);
        let e = RequestReader::grouped(text.as_bytes(), "tenant")
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "line 1: no `tenant` column; expected a `tenant` column to group the requests by, found `timestamp,response_time,class,user_class`"
        );
    }
}
