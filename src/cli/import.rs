//! `demandsim import` and `demandsim export`.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use demandsim::import::{
    RequestRow, access_log, jmeter, k6, librede, locust, lodestone, prometheus,
    prometheus_histogram, sadf, wessbas,
};
use demandsim::report::format::TEXT;
use demandsim::trace::{
    Columns, IntervalWriter, RequestReader, RequestWriter, UtilSample, UtilizationWriter,
};
use regex::Regex;

use super::io::{Output, open_input};
use super::{UsageError, check_one_stdin};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    /// JMeter JTL (CSV with header) → requests.
    Jmeter,
    /// k6 `--out csv` or `--out json` (NDJSON) → requests.
    K6,
    /// nginx or Apache access log, with --log-format → requests.
    AccessLog,
    /// `sadf -d -U saFILE -- -u` → utilization.
    Sadf,
    /// Prometheus query_range matrix JSON → utilization; with --histogram,
    /// a latency histogram → interval-level intervals.csv.
    Prometheus,
    /// LibReDE headerless `timestamp,value` files, with --metric.
    Librede,
    /// Locust `--csv PREFIX --csv-full-history` history
    /// (PREFIX_stats_history.csv) → interval-level intervals.csv.
    Locust,
    /// WESSBAS session log (sessions.dat) → requests with sessions.
    Wessbas,
    /// Lodestone session records (JSON lines or an array) → requests with
    /// sessions, spread evenly over each session.
    Lodestone,
    /// Markov4JMeter / WESSBAS behaviour CSVs (and a behaviour mix
    /// `.txt`) → the behaviour model JSON of `behavior learn`.
    M4j,
    /// A QPME model (`.qpe`, QPME 2.x or 1.5) → a model file (YAML), with
    /// --time-unit.
    Qpe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    /// Response times in seconds, stamped at completion.
    ResponseTime,
    /// Utilization 0–1, stamped at the interval end.
    Utilization,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TimeUnit {
    S,
    Ms,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The input's format.
    #[arg(value_enum)]
    format: ImportFormat,
    /// Input files (`-` for stdin; gzip is detected); they are concatenated.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output canonical CSV [default: stdout].
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// access-log: the log's format, nginx (`$remote_addr ... $request_time`)
    /// or Apache (`%h ... %D`).
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<String>,
    /// access-log: regex mapping the request path to a class (first group,
    /// or whole match; non-matching paths become `other`).
    #[arg(long, value_name = "REGEX")]
    class_regex: Option<String>,
    /// access-log: the log variable that holds the session id, written as
    /// in the format (`$cookie_sid`, `%{sid}C`).
    #[arg(long, value_name = "VAR", conflicts_with = "session_timeout")]
    session_field: Option<String>,
    /// access-log: split each client's requests into sessions where they
    /// pause longer than SECONDS (30 min = 1800 is the web-analytics
    /// convention); the client is address + user agent, or --client-field.
    #[arg(long, value_name = "SECONDS")]
    session_timeout: Option<f64>,
    /// access-log with --session-timeout: the log variable naming the
    /// client instead of address + user agent.
    #[arg(long, value_name = "VAR", requires = "session_timeout")]
    client_field: Option<String>,
    /// jmeter: a sample whose label matches starts a new session of its
    /// thread (`threadName` is the user), e.g. the loop's first request.
    #[arg(long, value_name = "REGEX")]
    session_start: Option<String>,
    /// jmeter: skip samples whose label matches (e.g. transaction controllers).
    #[arg(long, value_name = "REGEX")]
    exclude_label: Option<String>,
    /// prometheus: the label naming the resource of each series.
    #[arg(long, default_value = "instance", value_name = "LABEL")]
    resource_label: String,
    /// prometheus: the file is a latency histogram (`_bucket`, `_sum`,
    /// `_count` counters) → interval-level intervals.csv.
    #[arg(long)]
    histogram: bool,
    /// prometheus --histogram: the label naming the class of each series.
    #[arg(long, default_value = "handler", value_name = "LABEL")]
    class_label: String,
    /// librede: what the files hold.
    #[arg(long, value_enum)]
    metric: Option<Metric>,
    /// librede: class or resource name [default: from the file name, e.g.
    /// `WC0` from `WC0_RESPONSE_TIME.csv`].
    #[arg(long)]
    name: Option<String>,
    /// locust: leave out the intervals ending in the first SECONDS of the
    /// history (the warm-up).
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS")]
    skip: f64,
    /// librede: unit of the timestamps [default: s]; qpe: unit of the
    /// model's times (QPME's examples use ms) [default: s, said].
    #[arg(long, value_enum)]
    time_unit: Option<TimeUnit>,
}

fn regex_arg(flag: &str, re: Option<&String>) -> Result<Option<Regex>> {
    re.map(|r| {
        Regex::new(r)
            .map_err(|e| UsageError(format!("{flag}: not a valid regular expression: {e}")).into())
    })
    .transpose()
}

fn produces_requests(a: &Args) -> Result<bool> {
    Ok(match a.format {
        ImportFormat::Jmeter
        | ImportFormat::K6
        | ImportFormat::AccessLog
        | ImportFormat::Wessbas
        | ImportFormat::Lodestone => true,
        ImportFormat::Sadf
        | ImportFormat::Prometheus
        | ImportFormat::Locust
        | ImportFormat::Qpe
        | ImportFormat::M4j => false,
        ImportFormat::Librede => match a.metric {
            Some(Metric::ResponseTime) => true,
            Some(Metric::Utilization) => false,
            None => {
                return Err(UsageError(
                    "librede needs --metric response-time or --metric utilization".into(),
                )
                .into());
            }
        },
    })
}

pub fn run(a: Args) -> Result<()> {
    check_one_stdin(&a.files)?;
    let requests = produces_requests(&a)?;
    if a.format == ImportFormat::AccessLog && a.log_format.is_none() {
        return Err(UsageError(
            "access-log needs --log-format, the format string the server logs with".into(),
        )
        .into());
    }
    if a.format == ImportFormat::M4j {
        return import_m4j(&a.files, a.output.as_deref());
    }
    if a.format == ImportFormat::Qpe {
        let [file] = a.files.as_slice() else {
            return Err(UsageError("qpe imports one model file at a time".into()).into());
        };
        return super::qpe::import(file, a.output.as_deref(), a.time_unit.map(unit));
    }
    let mut out = Output::create(a.output.as_deref())?;
    let mut total = 0u64;
    if a.format == ImportFormat::Prometheus && a.histogram {
        let mut w = IntervalWriter::new(&mut out)?;
        for path in &a.files {
            let classes =
                prometheus_histogram::read(open_input(path)?, &a.class_label, &mut |r, c| {
                    w.write(r, c)
                })
                .with_context(|| path.display().to_string())?;
            for c in &classes {
                let [p50, p95, p99] = c.percentiles_s.map(|p| TEXT.num(p));
                log::info!(
                    "{}: class {}: {} requests, mean {} s; from the buckets p50 {p50} s, p95 {p95} s, p99 {p99} s",
                    path.display(),
                    c.class,
                    c.requests,
                    TEXT.num(c.mean_s),
                );
                total += c.requests;
            }
        }
        w.finish()?;
    } else if a.format == ImportFormat::Locust {
        let mut w = IntervalWriter::new(&mut out)?;
        for path in &a.files {
            let n = locust::read(open_input(path)?, a.skip, &mut |r, class| w.write(r, class))
                .with_context(|| path.display().to_string())?;
            log::info!("{}: {n} interval rows", path.display());
            total += n;
        }
        w.finish()?;
    } else if requests {
        let sessions = sessions(&a)?;
        let columns = Columns {
            origin: matches!(a.format, ImportFormat::Wessbas | ImportFormat::Lodestone)
                || sessions != access_log::Sessions::None
                || a.session_start.is_some(),
            ..Columns::default()
        };
        let mut w = RequestWriter::new(&mut out, columns)?;
        let exclude_label = regex_arg("--exclude-label", a.exclude_label.as_ref())?;
        let session_start = regex_arg("--session-start", a.session_start.as_ref())?;
        let class_regex = regex_arg("--class-regex", a.class_regex.as_ref())?;
        let log_format = match &a.log_format {
            Some(f) if a.format == ImportFormat::AccessLog => Some(
                access_log::LogFormat::with_sessions(f, &sessions)
                    .map_err(|e| UsageError(e.to_string()))?,
            ),
            _ => None,
        };
        for path in &a.files {
            let input = open_input(path)?;
            let mut sink = |r: RequestRow<'_>| w.write_row(&r);
            let n = match a.format {
                ImportFormat::Jmeter => jmeter::read(
                    input,
                    &jmeter::Options {
                        exclude_label: exclude_label.clone(),
                        session_start: session_start.clone(),
                    },
                    &mut sink,
                ),
                ImportFormat::K6 => k6::read(input, &mut sink),
                ImportFormat::Lodestone => lodestone::read(input, &mut sink),
                ImportFormat::Wessbas => wessbas::read(input, &mut sink).map(|(n, unit)| {
                    if let Some(u) = unit {
                        log::info!("{}: timestamps read as epoch {}", path.display(), u.name());
                    }
                    n
                }),
                ImportFormat::AccessLog => access_log::read(
                    input,
                    log_format.as_ref().expect("checked above"),
                    &access_log::Options {
                        class_regex: class_regex.clone(),
                        sessions: sessions.clone(),
                    },
                    &mut sink,
                ),
                ImportFormat::Librede => {
                    let name = librede_name(a.name.as_deref(), path);
                    librede::read_response_times(
                        input,
                        &name,
                        a.time_unit.map(unit).unwrap_or_default(),
                        &mut sink,
                    )
                }
                _ => unreachable!("utilization formats handled below"),
            }
            .with_context(|| path.display().to_string())?;
            log::info!("{}: {n} requests", path.display());
            total += n;
        }
        w.finish()?;
    } else {
        let mut w = UtilizationWriter::new(&mut out)?;
        for path in &a.files {
            let input = open_input(path)?;
            let mut sink = |s: UtilSample| w.write(&s);
            let n = match a.format {
                ImportFormat::Sadf => sadf::read(input, &mut sink),
                ImportFormat::Prometheus => prometheus::read(input, &a.resource_label, &mut sink),
                ImportFormat::Librede => {
                    let name = librede_name(a.name.as_deref(), path);
                    librede::read_utilization(
                        input,
                        &name,
                        a.time_unit.map(unit).unwrap_or_default(),
                        &mut sink,
                    )
                }
                _ => unreachable!("request formats handled above"),
            }
            .with_context(|| path.display().to_string())?;
            log::info!("{}: {n} samples", path.display());
            total += n;
        }
        w.finish()?;
    }
    if total == 0 {
        log::warn!("no records were imported");
    }
    out.commit()
}

fn unit(u: TimeUnit) -> demandsim::import::TimeUnit {
    match u {
        TimeUnit::S => demandsim::import::TimeUnit::Seconds,
        TimeUnit::Ms => demandsim::import::TimeUnit::Milliseconds,
    }
}

fn librede_name(name: Option<&str>, path: &Path) -> String {
    if let Some(n) = name {
        return n.to_string();
    }
    let file = path
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("default");
    let stem = file.trim_end_matches(".gz").trim_end_matches(".csv");
    let n = librede::name_from_file(stem);
    if n.is_empty() || n == "-" {
        "default".into()
    } else {
        n.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// LibReDE: one `CLASS_RESPONSE_TIME.csv` per class, one
    /// `RESOURCE_CPU_UTILIZATION.csv` per resource.
    Librede,
    /// QPME 2.1 (`.qpe`) of a model file, for the models QPME can express.
    Qpe,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    format: ExportFormat,
    /// qpe: the model file.
    #[arg(value_name = "MODEL.yaml")]
    model: Option<PathBuf>,
    /// qpe: override a model parameter, NAME=VALUE.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// librede: canonical requests.csv.
    #[arg(long, value_name = "FILE")]
    requests: Option<PathBuf>,
    /// librede: canonical utilization.csv.
    #[arg(long, value_name = "FILE")]
    utilization: Option<PathBuf>,
    /// librede: directory to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// qpe: the .qpe file to write [default: stdout].
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn export(a: ExportArgs) -> Result<()> {
    if a.format == ExportFormat::Qpe {
        let Some(model) = a.model else {
            return Err(UsageError("export qpe needs a model file".into()).into());
        };
        let args = super::simulate::ModelArgs {
            model,
            set: a.set,
            allow_unstable: true,
        };
        return super::qpe::export(&args, a.output.as_deref());
    }
    let Some(out) = a.out else {
        return Err(UsageError("export librede needs --out DIR".into()).into());
    };
    check_one_stdin(a.requests.iter().chain(a.utilization.as_ref()))?;
    export_librede(a.requests.as_deref(), a.utilization.as_deref(), &out)
}

fn export_librede(requests: Option<&Path>, utilization: Option<&Path>, dir: &Path) -> Result<()> {
    if requests.is_none() && utilization.is_none() {
        return Err(UsageError("export needs --requests, --utilization or both".into()).into());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if let Some(path) = requests {
        let ctx = || path.display().to_string();
        let mut reader = RequestReader::new(open_input(path)?).with_context(ctx)?;
        let mut files: HashMap<u32, Output> = HashMap::new();
        while let Some(r) = reader.next_request() {
            let r = r.with_context(ctx)?;
            if !r.success {
                continue;
            }
            let out = match files.entry(r.class.0) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let name = librede::response_time_file(reader.classes().name(r.class));
                    e.insert(Output::create(Some(&dir.join(name)))?)
                }
            };
            librede::write_line(out, r.end(), r.response_time)?;
        }
        for (_, f) in files {
            f.commit()?;
        }
    }
    if let Some(path) = utilization {
        let ctx = || path.display().to_string();
        let samples =
            demandsim::trace::UtilizationReader::new(open_input(path)?).with_context(ctx)?;
        let mut files: HashMap<String, Output> = HashMap::new();
        for s in samples {
            let s = s.with_context(ctx)?;
            if !files.contains_key(&s.resource) {
                let f = Output::create(Some(&dir.join(librede::utilization_file(&s.resource))))?;
                files.insert(s.resource.clone(), f);
            }
            let f = files.get_mut(&s.resource).expect("inserted above");
            librede::write_line(f, s.timestamp, s.utilization)?;
        }
        for (_, f) in files {
            f.commit()?;
        }
    }
    Ok(())
}

/// Behaviour CSVs → the behaviour model JSON. A `.txt` among the files is
/// a behaviour mix: it names the profiles, their frequencies and their
/// CSVs (looked up beside it by file name); without one every CSV is a
/// profile of equal share, named by its file.
fn import_m4j(files: &[PathBuf], output: Option<&Path>) -> Result<()> {
    use demandsim::behavior::{BehaviorModel, m4j};
    let mut profiles: Vec<(String, f64, PathBuf)> = Vec::new();
    for f in files {
        if f.extension().is_some_and(|e| e == "txt") {
            let mix = m4j::read_mix(open_input(f)?).with_context(|| f.display().to_string())?;
            let dir = f.parent().unwrap_or(Path::new("."));
            profiles.extend(
                mix.into_iter()
                    .map(|e| (e.name, e.frequency, dir.join(e.file))),
            );
        }
    }
    if profiles.is_empty() {
        let share = 1.0 / files.len() as f64;
        for f in files {
            let name = f
                .file_stem()
                .map_or("profile".into(), |s| s.to_string_lossy().into_owned());
            profiles.push((name, share, f.clone()));
        }
    }
    let total: f64 = profiles.iter().map(|p| p.1).sum();
    let mut states = Vec::new();
    let mut read = Vec::new();
    for (name, freq, path) in &profiles {
        let p = m4j::read(
            open_input(path)?,
            name,
            freq / total.max(f64::MIN_POSITIVE),
            &mut states,
        )
        .with_context(|| path.display().to_string())?;
        read.push(p);
    }
    let model = BehaviorModel {
        sessions: 0,
        states,
        grouping: "imported from Markov4JMeter behaviour models".into(),
        profiles: read,
    };
    let mut out = Output::create(output)?;
    serde_json::to_writer_pretty(&mut out, &model)?;
    writeln!(out)?;
    out.commit()
}

/// Where an access log's sessions come from (`--session-field`,
/// `--session-timeout`, `--client-field`).
fn sessions(a: &Args) -> Result<access_log::Sessions> {
    let given = a.session_field.is_some() || a.session_timeout.is_some();
    if given && a.format != ImportFormat::AccessLog {
        return Err(
            UsageError("--session-field and --session-timeout are for access-log".into()).into(),
        );
    }
    Ok(match (&a.session_field, a.session_timeout) {
        (Some(v), _) => access_log::Sessions::Field(v.clone()),
        (None, Some(t)) if t > 0.0 && t.is_finite() => access_log::Sessions::Timeout {
            seconds: t,
            client: a.client_field.clone(),
        },
        (None, Some(t)) => {
            return Err(UsageError(format!(
                "--session-timeout must be a positive number of seconds, not {t}"
            ))
            .into());
        }
        (None, None) => access_log::Sessions::None,
    })
}
