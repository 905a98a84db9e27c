//! Traces → intervals, once for every caller: utilization samples into a
//! series, then requests (from one or several files) into an
//! [`IntervalTable`] on the utilization's grid.
//!
//! The interval rule lives here: an explicit width, else the utilization
//! sampling interval, else [`DEFAULT_INTERVAL_S`]; intervals are aligned
//! to the first utilization sample (or, without utilization, to the first
//! request).

use std::io::BufRead;

use super::interval_input::starts_with_intervals_header;
use super::{
    Aggregator, HeaderProblem, IntervalReader, IntervalTable, LabelId, Labels, OriginLabels,
    OriginSummary, Request, RequestReader, TraceError, UtilSample, UtilSeries, UtilizationReader,
};

/// What a request input held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Per-request rows (`requests.csv`).
    Requests,
    /// Interval-level rows (`intervals.csv`): no percentiles, no exact
    /// overlaps.
    Intervals,
}

/// Class ids are per file: a file's ids mapped onto the pipeline's table,
/// each looked up by name once.
#[derive(Default)]
struct ClassMap(Vec<Option<LabelId>>);

impl ClassMap {
    /// The table's id of the file's class `id` (named in `file`).
    fn id(&mut self, table: &mut Labels, file: &Labels, id: LabelId) -> LabelId {
        let i = id.0 as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        *self.0[i].get_or_insert_with(|| table.intern(file.name(id)))
    }
}

/// Requests parsed per batch handed to the aggregating thread.
const BATCH: usize = 4096;

/// Batches that may wait for the aggregating thread (memory stays bounded).
const QUEUED_BATCHES: usize = 8;

/// Parsed requests, with the class names the file introduced since the
/// previous batch (the requests' class ids index the file's names).
struct Batch {
    requests: Vec<Request>,
    new_classes: Vec<String>,
}

/// The parsing thread: sends batches until the end of the file, its first
/// error or the receiver's end, and returns the file's origin labels.
fn parse_batches<R: BufRead>(
    mut reader: RequestReader<R>,
    tx: &std::sync::mpsc::SyncSender<Result<Batch, TraceError>>,
) -> OriginLabels {
    let mut named = 0;
    let mut requests = Vec::with_capacity(BATCH);
    let mut done = false;
    while !done {
        match reader.next_request() {
            Some(Ok(r)) => requests.push(r),
            Some(Err(e)) => {
                let _ = tx.send(Err(e));
                break;
            }
            None => done = true,
        }
        if requests.len() == BATCH || (done && !requests.is_empty()) {
            let names = reader.classes().names();
            let batch = Batch {
                requests: std::mem::replace(&mut requests, Vec::with_capacity(BATCH)),
                new_classes: names[named..].to_vec(),
            };
            named = names.len();
            if tx.send(Ok(batch)).is_err() {
                break;
            }
        }
    }
    reader.origin_labels().clone()
}

/// Interval width, seconds, when neither the caller nor the utilization
/// samples give one.
pub const DEFAULT_INTERVAL_S: f64 = 30.0;

/// Reads every sample of one canonical utilization file.
///
/// # Errors
/// [`TraceError`] with the line of the first bad row.
pub fn read_utilization<R: BufRead>(input: R) -> Result<Vec<UtilSample>, TraceError> {
    UtilizationReader::new(input)?.collect()
}

/// Aggregates requests into intervals on a utilization series' grid.
pub struct Pipeline {
    width: f64,
    util: UtilSeries,
    agg: Aggregator,
    labels: Labels,
    /// The origin columns of every file read, merged.
    origins: Option<OriginLabels>,
    /// The last requests file's own origin labels (the ids its requests
    /// carried).
    last_origins: Option<OriginLabels>,
    /// The requests' column their class is read from [default: `class`].
    group_by: Option<String>,
}

impl Pipeline {
    /// The interval width for `util` and an optional explicit `interval`.
    pub fn width(util: &UtilSeries, interval: Option<f64>) -> f64 {
        interval
            .or_else(|| util.grid(None).map(|g| g.width))
            .unwrap_or(DEFAULT_INTERVAL_S)
    }

    /// A pipeline on `util`'s grid with intervals of `interval` seconds
    /// (see [`Pipeline::width`]); failed requests count only with
    /// `include_failed`.
    pub fn new(util: UtilSeries, interval: Option<f64>, include_failed: bool) -> Self {
        let width = Self::width(&util, interval);
        let agg = Aggregator::new(util.grid(Some(width)), width, include_failed);
        Self {
            width,
            util,
            agg,
            labels: Labels::new(),
            origins: None,
            last_origins: None,
            group_by: None,
        }
    }

    /// Reads each request's class from `column` of the requests files
    /// (e.g. `user_class`) instead of `class`; `None` keeps `class`.
    /// Interval-level input has no such column and is refused.
    pub fn group_by(mut self, column: Option<&str>) -> Self {
        self.group_by = column.map(str::to_string);
        self
    }

    /// The interval width, seconds.
    pub fn interval(&self) -> f64 {
        self.width
    }

    /// The utilization series.
    pub fn utilization(&self) -> &UtilSeries {
        &self.util
    }

    /// The id of class `name` in the table being built.
    pub fn class(&mut self, name: &str) -> LabelId {
        self.labels.intern(name)
    }

    /// Adds one request whose class is an id from [`Pipeline::class`].
    pub fn push(&mut self, r: &Request) {
        self.agg.push(r);
    }

    /// Adds every request of one canonical `requests.csv`, or every row of
    /// an interval-level `intervals.csv` (told apart by the header; see
    /// [`super::interval_input`]); `each` sees each request (with its
    /// class id mapped onto this table's), never an interval-level row.
    /// Returns what the file was.
    ///
    /// # Errors
    /// [`TraceError`] with the line of the first bad row.
    pub fn add_requests<R: BufRead + Send>(
        &mut self,
        mut input: R,
        each: impl FnMut(&Request),
    ) -> Result<InputKind, TraceError> {
        self.last_origins = None;
        if starts_with_intervals_header(&mut input)? {
            // Interval-level rows are already per `class`: grouping by it
            // is what they are; any other column is not there.
            if let Some(g) = self.group_by.as_ref().filter(|g| g.as_str() != "class") {
                return Err(TraceError::Header {
                    problem: HeaderProblem::MissingColumn(g.clone()),
                    expected: format!(
                        "per-request rows with a `{g}` column to group by (interval-level rows cannot be regrouped)"
                    ),
                    found: None,
                });
            }
            self.add_interval_rows(input)?;
            return Ok(InputKind::Intervals);
        }
        self.add_request_rows(input, each)?;
        Ok(InputKind::Requests)
    }

    fn add_interval_rows<R: BufRead>(&mut self, input: R) -> Result<(), TraceError> {
        let mut reader = IntervalReader::new(input)?;
        let mut map = ClassMap::default();
        while let Some(row) = reader.next() {
            let mut row = row?;
            row.class = map.id(&mut self.labels, reader.classes(), row.class);
            self.agg.push_interval(&row);
        }
        Ok(())
    }

    /// Parses on a thread of its own while this one aggregates: on two
    /// cores reading a large trace is bound by the slower of the two
    /// halves, not by their sum. Batches keep the order, so the table is
    /// the same as from one thread.
    fn add_request_rows<R: BufRead + Send>(
        &mut self,
        input: R,
        mut each: impl FnMut(&Request),
    ) -> Result<(), TraceError> {
        let reader = match &self.group_by {
            Some(g) => RequestReader::grouped(input, g)?,
            None => RequestReader::new(input)?,
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUED_BATCHES);
        std::thread::scope(|s| {
            let parser = s.spawn(move || parse_batches(reader, &tx));
            let mut file_classes = Labels::new();
            let mut map = ClassMap::default();
            for batch in rx {
                let batch: Batch = batch?;
                for name in &batch.new_classes {
                    file_classes.intern(name);
                }
                for mut r in batch.requests {
                    r.class = map.id(&mut self.labels, &file_classes, r.class);
                    each(&r);
                    self.agg.push(&r);
                }
            }
            match parser.join() {
                Ok(origins) => {
                    self.merge_origins(&origins);
                    self.last_origins = Some(origins);
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
            Ok(())
        })
    }

    /// Adds one file's user classes, users and sessions (by name) and its
    /// empty-field counts to the pipeline's.
    fn merge_origins(&mut self, file: &OriginLabels) {
        if !file.present.iter().any(|&p| p) {
            return;
        }
        let all = self.origins.get_or_insert_with(OriginLabels::default);
        for (mine, theirs) in [
            (&mut all.user_classes, &file.user_classes),
            (&mut all.users, &file.users),
            (&mut all.sessions, &file.sessions),
        ] {
            for name in theirs.names() {
                mine.intern(name);
            }
        }
        for i in 0..3 {
            all.present[i] |= file.present[i];
            all.empty[i].0 += file.empty[i].0;
            if file.empty[i].0 > 0 {
                log::warn!(
                    "`{}` is empty in {} row(s) (first at line {}): those requests have no {}",
                    OriginLabels::COLUMNS[i],
                    file.empty[i].0,
                    file.empty[i].1.unwrap_or(0),
                    OriginLabels::COLUMNS[i].replace('_', " ")
                );
            }
        }
    }

    /// The origin labels of the last requests file added: the names of
    /// the user-class, user and session ids its requests carried (ids are
    /// per file; `None` after interval-level input).
    pub fn last_origins(&self) -> Option<&OriginLabels> {
        self.last_origins.as_ref()
    }

    /// The interval table.
    ///
    /// # Errors
    /// [`TraceError`] when the requests and samples make no usable table.
    pub fn finish(self) -> Result<IntervalTable, TraceError> {
        let mut table = self.agg.finish(&self.labels, &self.util)?;
        table.summary.origins = self.origins.map(|o| OriginSummary {
            user_classes: o.user_classes.names().to_vec(),
            users: o.users.len(),
            sessions: o.sessions.len(),
            empty_rows: (0..3)
                .filter(|&i| o.present[i])
                .map(|i| (OriginLabels::COLUMNS[i].to_string(), o.empty[i].0))
                .collect(),
        });
        Ok(table)
    }
}
