//! `demandsim inspect`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use demandsim::trace::{self, IntervalRow, IntervalTable, Pipeline, UtilSeries};

use super::io::open_input;
use super::table::{num, time, write_streamed};
use super::{Format, UsageError, check_one_stdin};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Canonical requests.csv (`-` for stdin; gzip is detected).
    #[arg(long, value_name = "FILE")]
    requests: PathBuf,
    /// Canonical utilization.csv (`-` for stdin; gzip is detected).
    #[arg(long, value_name = "FILE")]
    utilization: Option<PathBuf>,
    /// Interval length in seconds [default: the utilization sampling
    /// interval, or 30 s].
    #[arg(long, value_name = "SECONDS")]
    interval: Option<f64>,
    /// Count failed requests too (they are left out by default).
    #[arg(long)]
    include_failed: bool,
    #[command(flatten)]
    out: super::OutputArgs,
}

/// Reads a utilization file (none: an empty series).
pub fn read_utilization(path: Option<&std::path::Path>) -> Result<UtilSeries> {
    let Some(path) = path else {
        return Ok(UtilSeries::default());
    };
    let ctx = || path.display().to_string();
    let samples = trace::read_utilization(open_input(path)?).with_context(ctx)?;
    UtilSeries::from_samples(samples).with_context(ctx)
}

/// The requests file aggregated on the utilization's grid (the library's
/// one pipeline; the file names go into the errors here).
pub fn aggregate(
    requests: &std::path::Path,
    util: UtilSeries,
    interval: Option<f64>,
    include_failed: bool,
) -> Result<IntervalTable> {
    aggregate_grouped(requests, util, interval, include_failed, None)
}

/// [`aggregate`] with each request's class read from `group_by` (a column
/// of the requests file) instead of `class`.
pub fn aggregate_grouped(
    requests: &std::path::Path,
    util: UtilSeries,
    interval: Option<f64>,
    include_failed: bool,
    group_by: Option<&str>,
) -> Result<IntervalTable> {
    let ctx = || requests.display().to_string();
    let mut pipeline = Pipeline::new(util, interval, include_failed).group_by(group_by);
    pipeline
        .add_requests(open_input(requests)?, |_| {})
        .with_context(ctx)?;
    pipeline.finish().with_context(ctx)
}

pub fn run(a: Args) -> Result<()> {
    check_one_stdin([&a.requests].into_iter().chain(a.utilization.as_ref()))?;
    if let Some(i) = a.interval
        && !(i.is_finite() && i > 0.0)
    {
        return Err(UsageError(format!(
            "--interval must be a positive number of seconds, got {i}"
        ))
        .into());
    }
    let util = read_utilization(a.utilization.as_deref())?;
    let table = aggregate(&a.requests, util, a.interval, a.include_failed)?;
    let mut out = a.out.create()?;
    match a.out.format {
        Format::Json => {
            // A struct, not `json!`: the rows stream out instead of being
            // built as a JSON tree first (2 M intervals: 2.3 GB that way).
            #[derive(serde::Serialize)]
            struct Doc<'a> {
                interval_s: f64,
                origin_s: f64,
                classes: &'a [String],
                resources: &'a [String],
                intervals: Rows<'a>,
                summary: &'a demandsim::trace::TraceSummary,
            }
            let doc = Doc {
                interval_s: table.grid.width,
                origin_s: table.grid.origin,
                classes: &table.classes,
                resources: &table.resources,
                intervals: Rows(&table),
                summary: &table.summary,
            };
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Csv => write_csv(&mut out, &table)?,
        Format::Table => render(&mut out, &table)?,
    }
    out.commit()
}

fn write_csv(out: &mut impl Write, t: &IntervalTable) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec![
        "start".to_string(),
        "end".into(),
        "class".into(),
        "arrivals".into(),
        "completions".into(),
        "throughput".into(),
        "mean_response_s".into(),
    ];
    header.extend(t.resources.iter().map(|r| format!("util_{r}")));
    header.push("saturated".into());
    w.write_record(&header)?;
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for r in t.rows() {
        let mut rec = vec![
            r.start.to_string(),
            r.end.to_string(),
            r.class.to_string(),
            r.arrivals.to_string(),
            r.completions.to_string(),
            r.throughput.to_string(),
            opt(r.mean_response_s),
        ];
        rec.extend(
            t.resources
                .iter()
                .map(|res| opt(r.utilization[res.as_str()])),
        );
        rec.push(r.saturated.to_string());
        w.write_record(&rec)?;
    }
    w.flush()?;
    Ok(())
}

/// The rows serialized one at a time, never collected.
struct Rows<'a>(&'a IntervalTable);

impl serde::Serialize for Rows<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.rows())
    }
}

/// The summary, then the intervals with something in them, streamed (a table of millions of
/// intervals is written without being held as text).
fn render(w: &mut impl Write, t: &IntervalTable) -> Result<()> {
    w.write_all(summary(t).as_bytes())?;
    let mut header = vec![
        "start [s]".to_string(),
        "end [s]".into(),
        "class".into(),
        "arrivals".into(),
        "done".into(),
        "X [1/s]".into(),
        "R [s]".into(),
    ];
    header.extend(t.resources.iter().map(|r| format!("U {r}")));
    let cells = |row: IntervalRow<'_>| {
        let mut cells = vec![
            time(row.start),
            time(row.end),
            row.class.to_string(),
            row.arrivals.to_string(),
            row.completions.to_string(),
            num(Some(row.throughput)),
            num(row.mean_response_s),
        ];
        cells.extend(t.resources.iter().map(|res| {
            let u = num(row.utilization[res.as_str()]);
            if row.saturated { format!("{u}*") } else { u }
        }));
        cells
    };
    // Rows of classes with nothing in the interval (no arrival, no
    // completion, nobody in the system) tell a reader nothing and, with a
    // class per path, outnumber the others by thousands; the machine
    // formats keep them.
    let busy =
        |row: &IntervalRow<'_>| row.arrivals > 0 || row.completions > 0 || row.mean_in_system > 0.0;
    write_streamed(w, &header, || t.rows().filter(busy).map(cells))?;
    Ok(())
}

/// The trace's summary lines, then a blank line.
fn summary(t: &IntervalTable) -> String {
    let s = &t.summary;
    let mut out = String::new();
    out.push_str(&format!(
        "requests {} ({} failed{}), classes {}, duration {} s, {} intervals of {} s\n",
        s.requests,
        s.failed,
        if s.used < s.requests {
            ", left out"
        } else {
            ""
        },
        t.classes.len(),
        num(Some(s.duration_s)),
        s.intervals,
        num(Some(t.grid.width)),
    ));
    let r = &s.response;
    out.push_str(&format!(
        "response time [s]: mean {}  p50 {}  p90 {}  p95 {}  p99 {}  max {}\n",
        num(r.mean_response_s),
        num(r.p50_response_s),
        num(r.p90_response_s),
        num(r.p95_response_s),
        num(r.p99_response_s),
        num(r.max_response_s)
    ));
    for (res, u) in &s.mean_utilization {
        out.push_str(&format!("mean utilization {res}: {}\n", num(Some(*u))));
    }
    if s.saturated_intervals > 0 {
        out.push_str(&format!(
            "saturated intervals (utilization >= 0.99): {}\n",
            s.saturated_intervals
        ));
    }
    if r.mean_response_s.is_some() && r.p50_response_s.is_none() {
        out.push_str("interval-level input: means only (no percentiles, no exact overlaps)\n");
    }
    if let Some(o) = &s.origins {
        let empty: Vec<String> = o
            .empty_rows
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| format!("{c} empty in {n} rows"))
            .collect();
        out.push_str(&format!(
            "user classes {} ({}), users {}, sessions {}{}\n",
            o.user_classes.len(),
            o.user_classes.join(", "),
            o.users,
            o.sessions,
            if empty.is_empty() {
                String::new()
            } else {
                format!("; {}", empty.join(", "))
            }
        ));
    }
    out.push('\n');
    out
}
