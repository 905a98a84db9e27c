//! pgbench's transaction logs (`pgbench -l`): one file per thread
//! (`pgbench_log.PID`, `pgbench_log.PID.N` for threads N ≥ 1), each line
//! `client_id transaction_no time script_no time_epoch time_us
//! [schedule_lag] [retries]`, as PostgreSQL's documentation gives it.
//!
//! `time` is the transaction's latency in microseconds (with `--rate`,
//! from its scheduled start: the wait for a free connection is in it),
//! `failed` for a transaction that ended in an error (PostgreSQL 15's
//! serialization and deadlock failures; with `--failures-detailed`
//! `serialization`, `deadlock` or `other`), `skipped` for one pgbench did
//! not send (`--rate` with `--latency-limit`);
//! `time_epoch`/`time_us` is its **completion**. So the request's start is
//! completion − latency, computed in whole microseconds and turned into
//! seconds once. The class is the script (`script_no`, named by
//! `--script-names`), the user the client. Skipped transactions are left
//! out and counted; failed ones are kept as failures with no duration (the
//! log has none), stamped at their completion.
//!
//! Each thread writes its file in completion order; the files are read
//! all at once and merged into one completion order as they stream (a
//! k-way merge holding one line per file).
//!
//! With `--aggregate-interval SECONDS` pgbench writes one line per
//! interval instead (`interval_start num_transactions sum_latency
//! sum_latency_2 min_latency max_latency`, then with `--rate` the lag's
//! four and `skipped`; from PostgreSQL 15 always 15 fields, `sum_lag …
//! skipped retried retries serialization_failures deadlock_failures`, 16
//! with `other_sql_failures` in later versions); these are read into
//! interval-level rows: the count and the exact mean of the successful
//! transactions, and the failures (which pgbench counts there only with
//! `--failures-detailed`, zeros otherwise). pgbench writes an interval
//! when a transaction ends after it, so the last one is never written.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;

use super::{
    Imported, Importer, InFile, IntervalSink, Note, Opt, OptionError, OptionProblem, Reader,
    RequestRow, RequestSink, Source, TraceError, Values, line_error,
};
use crate::trace::{IntervalRecord, Labels};

/// The importer of pgbench's logs.
#[derive(Debug)]
pub struct Pgbench;

const NAMES: Opt = Opt::text(
    "script-names",
    "NAME,...",
    "Class names of pgbench's scripts, in the order pgbench was given them (`-f`, `-b`): \
     script_no 0 is the first [default: script0, script1, ...].",
);
const SKIP: Opt = Opt::number(
    "skip",
    "SECONDS",
    "Leave out the transactions that started in the first SECONDS of the log (the warm-up), \
     counted from the earliest start among the files; aggregated: the intervals ending then.",
)
.default("0");
const AGGREGATE: Opt = Opt::number(
    "aggregate-interval",
    "SECONDS",
    "Read the aggregated log pgbench writes with `--aggregate-interval SECONDS` (give the same \
     SECONDS) into interval-level rows, all scripts as one class.",
);

impl Importer for Pgbench {
    fn name(&self) -> &'static str {
        "pgbench"
    }

    fn about(&self) -> &'static str {
        "pgbench's transaction logs (`-l`, one per thread, merged in time order) → requests; \
         its aggregated logs → interval-level intervals.csv."
    }

    fn options(&self) -> &'static [Opt] {
        &[NAMES, SKIP, AGGREGATE]
    }

    fn configure(&self, values: &Values) -> Result<Reader, OptionError> {
        let names = values.text(&NAMES).map(script_names).transpose()?;
        let skip_s = values.number(&SKIP).unwrap_or(0.0);
        if !(skip_s.is_finite() && skip_s >= 0.0) {
            return Err(invalid(
                &SKIP,
                format!("must be 0 or more seconds, not {skip_s}"),
            ));
        }
        if let Some(width) = values.number(&AGGREGATE) {
            if !(width.is_finite() && width > 0.0) {
                return Err(OptionError {
                    option: AGGREGATE.name,
                    problem: OptionProblem::NotPositive(width),
                });
            }
            let class = names.map_or_else(|| "all".to_string(), |n| n.join("+"));
            return Ok(Reader::intervals(move |input, _, sink| {
                read_aggregated(input, width, skip_s, &class, sink).map(Imported::from)
            }));
        }
        let mut classes = Classes::new(names);
        Ok(Reader::merged_requests(true, move |sources, sink| {
            merge(sources, &mut classes, skip_s, sink)
        }))
    }
}

fn invalid(opt: &Opt, message: String) -> OptionError {
    OptionError {
        option: opt.name,
        problem: OptionProblem::Invalid(message.into()),
    }
}

/// `a,b,c` → the names, none empty.
fn script_names(text: &str) -> Result<Vec<String>, OptionError> {
    let names: Vec<String> = text.split(',').map(|n| n.trim().to_string()).collect();
    if names.iter().any(String::is_empty) {
        return Err(invalid(
            &NAMES,
            format!("`{text}`: expected names separated by commas, none empty"),
        ));
    }
    Ok(names)
}

/// The scripts' class names: given, or `scriptN`.
struct Classes {
    given: Option<Vec<String>>,
    default: Vec<String>,
}

impl Classes {
    fn new(given: Option<Vec<String>>) -> Self {
        Self {
            given,
            default: Vec::new(),
        }
    }

    fn name(&mut self, script: usize, line: u64) -> Result<&str, TraceError> {
        match &self.given {
            Some(names) => names.get(script).map(String::as_str).ok_or_else(|| {
                TraceError::bad_value(
                    line,
                    "script_no",
                    script.to_string().as_bytes(),
                    format!(
                        "a script number below {} (the names given to --script-names)",
                        names.len()
                    ),
                )
            }),
            None => {
                while self.default.len() <= script {
                    self.default.push(format!("script{}", self.default.len()));
                }
                Ok(&self.default[script])
            }
        }
    }
}

/// One transaction of a log.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tx {
    client: u64,
    script: usize,
    /// Completion, epoch microseconds.
    end_us: u64,
    /// Latency, microseconds; `None`: failed.
    latency_us: Option<u64>,
    line: u64,
}

impl Tx {
    fn start_us(&self) -> u64 {
        self.end_us - self.latency_us.unwrap_or(0)
    }
}

/// What a line holds.
#[derive(Debug, PartialEq)]
enum Line {
    Tx(Tx),
    Skipped,
    Blank,
}

const FIELDS: &str =
    "`client_id transaction_no time script_no time_epoch time_us [schedule_lag] [retries]`";

/// Parses one line of a transaction log.
fn parse(text: &str, line: u64) -> Result<Line, TraceError> {
    let mut f = [""; 8];
    let mut n = 0;
    for word in text.split_ascii_whitespace() {
        if n == f.len() {
            return Err(fields(
                line,
                9,
                "; an aggregated log needs --aggregate-interval",
            ));
        }
        f[n] = word;
        n += 1;
    }
    match n {
        0 => return Ok(Line::Blank),
        1..6 => return Err(fields(line, n, "")),
        _ => {}
    }
    let client = whole(f[0], line, "client_id")?;
    whole(f[1], line, "transaction_no")?;
    let latency_us = match f[2] {
        "skipped" => return Ok(Line::Skipped),
        // With --failures-detailed, the kind of failure.
        "failed" | "serialization" | "deadlock" | "other" => None,
        t => Some(whole(t, line, "time")?),
    };
    let script = usize::try_from(whole(f[3], line, "script_no")?).unwrap_or(usize::MAX);
    let epoch = whole(f[4], line, "time_epoch")?;
    let us = whole(f[5], line, "time_us")?;
    if us >= 1_000_000 {
        return Err(TraceError::bad_value(
            line,
            "time_us",
            f[5].as_bytes(),
            "microseconds within the second, below 1000000",
        ));
    }
    for (word, name) in f[6..n].iter().zip(["schedule_lag", "retries"]) {
        whole(word, line, name)?;
    }
    let end_us = epoch
        .checked_mul(1_000_000)
        .and_then(|e| e.checked_add(us))
        .filter(|&e| latency_us.is_none_or(|l| l <= e))
        .ok_or_else(|| {
            TraceError::bad_value(
                line,
                "time_epoch",
                f[4].as_bytes(),
                "epoch seconds after the transaction's start",
            )
        })?;
    Ok(Line::Tx(Tx {
        client,
        script,
        end_us,
        latency_us,
        line,
    }))
}

fn fields(line: u64, n: usize, hint: &str) -> TraceError {
    let found = if n > 8 {
        "more".to_string()
    } else {
        n.to_string()
    };
    TraceError::Malformed {
        line,
        message: format!("expected 6 to 8 fields, {FIELDS}, found {found}{hint}"),
    }
}

fn whole(text: &str, line: u64, field: &str) -> Result<u64, TraceError> {
    text.parse::<u64>()
        .map_err(|_| TraceError::bad_value(line, field, text.as_bytes(), "a whole number >= 0"))
}

/// One file of a merge: its lines read one transaction ahead.
struct LogFile<'s, 'a> {
    source: &'s mut Source<'a>,
    line: u64,
    buf: String,
    skipped: u64,
}

impl LogFile<'_, '_> {
    /// The next transaction, skipped ones counted and passed over.
    fn next(&mut self) -> Result<Option<Tx>, TraceError> {
        loop {
            self.buf.clear();
            let read = self.source.input.read_line(&mut self.buf);
            if read.map_err(|e| line_error(e, self.line + 1))? == 0 {
                return Ok(None);
            }
            self.line += 1;
            match parse(&self.buf, self.line)? {
                Line::Tx(tx) => return Ok(Some(tx)),
                Line::Skipped => self.skipped += 1,
                Line::Blank => {}
            }
        }
    }
}

/// Reads every file at once and hands their transactions to `sink` in
/// completion order (ties in file order), leaving out those that started
/// within `skip_s` of the earliest first start.
fn merge(
    sources: &mut [Source<'_>],
    classes: &mut Classes,
    skip_s: f64,
    sink: &mut RequestSink<'_>,
) -> Result<Imported, InFile> {
    let mut files: Vec<LogFile> = sources
        .iter_mut()
        .map(|source| LogFile {
            source,
            line: 0,
            buf: String::new(),
            skipped: 0,
        })
        .collect();
    let at = |file: usize| move |error| InFile { file, error };
    let mut heads = Vec::with_capacity(files.len());
    let mut heap = BinaryHeap::new();
    for (i, f) in files.iter_mut().enumerate() {
        let head = f.next().map_err(at(i))?;
        if let Some(tx) = &head {
            heap.push(Reverse((tx.end_us, i)));
        }
        heads.push(head);
    }
    let first = heads.iter().flatten().map(Tx::start_us).min().unwrap_or(0);
    // Without a warm-up nothing is left out (a transaction may have
    // started before the files' first ones, completed later).
    let from_us = if skip_s > 0.0 {
        first.saturating_add((skip_s * 1e6).round() as u64)
    } else {
        0
    };
    let mut counts = Counts::default();
    let mut user = String::new();
    while let Some(Reverse((_, i))) = heap.pop() {
        let Some(tx) = heads[i].take() else { continue };
        if tx.start_us() >= from_us {
            emit(&tx, classes, &mut user, sink).map_err(at(i))?;
            counts.add(&tx);
        } else {
            counts.warmup += 1;
        }
        if let Some(next) = files[i].next().map_err(at(i))? {
            heap.push(Reverse((next.end_us, i)));
            heads[i] = Some(next);
        }
    }
    counts.skipped = files.iter().map(|f| f.skipped).sum();
    Ok(counts.imported(files.len(), skip_s))
}

fn emit(
    tx: &Tx,
    classes: &mut Classes,
    user: &mut String,
    sink: &mut RequestSink<'_>,
) -> Result<(), TraceError> {
    user.clear();
    let _ = write!(user, "{}", tx.client);
    sink(RequestRow {
        start: tx.start_us() as f64 / 1e6,
        response_time: tx.latency_us.unwrap_or(0) as f64 / 1e6,
        class: classes.name(tx.script, tx.line)?,
        success: tx.latency_us.is_some(),
        user: Some(user),
        ..RequestRow::default()
    })
}

/// What a merge read.
#[derive(Debug, Default)]
struct Counts {
    records: u64,
    failed: u64,
    warmup: u64,
    skipped: u64,
}

impl Counts {
    fn add(&mut self, tx: &Tx) {
        self.records += 1;
        self.failed += u64::from(tx.latency_us.is_none());
    }

    fn imported(&self, files: usize, skip_s: f64) -> Imported {
        let mut notes = vec![Note::Read(format!(
            "{files} log file(s) merged in completion order"
        ))];
        if self.warmup > 0 {
            notes.push(Note::Read(format!(
                "{} transactions that started in the first {skip_s} s (the warm-up) left out",
                self.warmup
            )));
        }
        if self.skipped > 0 {
            notes.push(Note::Read(format!(
                "{} transactions pgbench marked `skipped` (not sent: over --latency-limit) left out",
                self.skipped
            )));
        }
        if self.failed > 0 {
            notes.push(Note::Read(format!(
                "{} transactions `failed`: kept as failures, with no duration (the log has none)",
                self.failed
            )));
        }
        Imported {
            records: self.records,
            notes,
        }
    }
}

/// Reads an aggregated log into interval rows of one class.
///
/// # Errors
/// A line of another field count, a bad number, an interval that starts
/// before the previous one ended.
fn read_aggregated(
    input: &mut dyn std::io::BufRead,
    width: f64,
    skip_s: f64,
    class: &str,
    sink: &mut IntervalSink<'_>,
) -> Result<u64, TraceError> {
    let mut labels = Labels::default();
    let class_id = labels.intern(class);
    let (mut line, mut rows, mut buf) = (0u64, 0u64, String::new());
    let (mut first, mut last) = (None, None::<f64>);
    loop {
        buf.clear();
        if input
            .read_line(&mut buf)
            .map_err(|e| line_error(e, line + 1))?
            == 0
        {
            return Ok(rows);
        }
        line += 1;
        let Some(agg) = aggregated(&buf, line)? else {
            continue;
        };
        if let Some(prev) = last.filter(|&p| agg.start < p + width) {
            return Err(TraceError::Malformed {
                line,
                message: format!(
                    "interval_start {} comes {} s after the one before ({prev}), less than --aggregate-interval {width} s",
                    agg.start,
                    agg.start - prev
                ),
            });
        }
        last = Some(agg.start);
        let end = agg.start + width;
        if end - *first.get_or_insert(agg.start) <= skip_s {
            continue;
        }
        let record = IntervalRecord {
            end,
            width,
            class: class_id,
            completions: agg.count,
            failures: agg.failures,
            mean_response_s: (agg.count > 0).then(|| agg.sum_us / agg.count as f64 / 1e6),
        };
        sink(&record, class)?;
        rows += 1;
    }
}

/// One line of an aggregated log.
#[derive(Debug, PartialEq)]
struct Aggregated {
    start: f64,
    count: u64,
    sum_us: f64,
    failures: u64,
}

const AGGREGATED: &str = "6 fields `interval_start num_transactions sum_latency sum_latency_2 min_latency max_latency`, 10 or 11 with --rate, or PostgreSQL 15's 15 (16 later)";

/// The fields of an aggregated line from PostgreSQL 15 on: the last two or
/// three count failures.
const KINDS: [&str; 16] = [
    "interval_start",
    "num_transactions",
    "sum_latency",
    "sum_latency_2",
    "min_latency",
    "max_latency",
    "sum_lag",
    "sum_lag_2",
    "min_lag",
    "max_lag",
    "skipped",
    "retried",
    "retries",
    "serialization_failures",
    "deadlock_failures",
    "other_sql_failures",
];

fn aggregated(text: &str, line: u64) -> Result<Option<Aggregated>, TraceError> {
    let f: Vec<&str> = text.split_ascii_whitespace().collect();
    if f.is_empty() {
        return Ok(None);
    }
    if ![6, 10, 11, 15, 16].contains(&f.len()) {
        return Err(TraceError::Malformed {
            line,
            message: format!("expected {AGGREGATED}, found {}", f.len()),
        });
    }
    for (word, name) in f.iter().zip(KINDS) {
        number(word, line, name)?;
    }
    let mut failures = 0;
    for (word, name) in f.iter().zip(KINDS).skip(13) {
        failures += whole(word, line, name)?;
    }
    Ok(Some(Aggregated {
        start: whole(f[0], line, "interval_start")? as f64,
        count: whole(f[1], line, "num_transactions")?,
        sum_us: number(f[2], line, "sum_latency")?,
        failures,
    }))
}

fn number(text: &str, line: u64, field: &str) -> Result<f64, TraceError> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| TraceError::bad_value(line, field, text.as_bytes(), "a number >= 0"))
}

#[cfg(test)]
mod tests;
