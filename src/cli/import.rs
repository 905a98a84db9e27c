//! `demandsim import` and `demandsim export`.
//!
//! `import` has one subcommand per importer of the library's table
//! ([`import::ALL`]), whose flags are that importer's options, and two for
//! documents that are not traces: `m4j` (behaviour models, [`import_m4j`])
//! and `qpe` (QPME models, [`super::qpe::import`]).

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Arg, ArgAction, ArgMatches, Command, ValueEnum};
use demandsim::import::{
    self, Imported, Importer, Note, Opt, OptionError, Reader, Source, Takes, Value, Values, librede,
};
use demandsim::report::format::TEXT;
use demandsim::trace::{
    Columns, IntervalWriter, RequestReader, RequestWriter, TraceError, UtilizationWriter,
};

use super::io::{Output, open_input, open_raw};
use super::{UsageError, check_one_stdin};
use demandsim::trace::Bounded;

/// `import`'s subcommands for documents, beside the table's importers.
const M4J: &str = "m4j";
const QPE: &str = "qpe";

/// What `import` was asked to do.
#[derive(Debug)]
pub struct Args {
    what: What,
    files: Vec<PathBuf>,
    output: Option<PathBuf>,
}

#[derive(Debug)]
enum What {
    /// A trace, read by an importer of the table with these values.
    Trace(&'static dyn Importer, Values),
    /// Markov4JMeter / WESSBAS behaviour CSVs → a behaviour model.
    M4j,
    /// A QPME model → a model file, its times in this unit.
    Qpe(Option<TimeUnit>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimeUnit {
    S,
    Ms,
}

impl clap::Args for Args {
    fn augment_args(cmd: Command) -> Command {
        let traces = import::ALL.iter().map(|i| {
            let options = i.options().iter().map(flag);
            with_files(
                Command::new(i.name())
                    .about(sentence(i.about()))
                    .args(options),
            )
        });
        let documents = [
            with_files(Command::new(M4J).about(
                "Markov4JMeter / WESSBAS behaviour CSVs (and a behaviour mix `.txt`) → the \
                 behaviour model JSON of `behavior learn`",
            )),
            with_files(
                Command::new(QPE)
                    .about("A QPME model (`.qpe`, QPME 2.x or 1.5) → a model file (YAML)")
                    .arg(
                        Arg::new("time-unit")
                            .long("time-unit")
                            .value_name("TIME_UNIT")
                            .value_parser(clap::value_parser!(TimeUnit))
                            .help(
                                "Unit of the model's times (QPME's examples use ms) [default: \
                                 s, said]",
                            ),
                    ),
            ),
        ];
        cmd.subcommand_required(true)
            .disable_help_subcommand(true)
            // An unknown format reaches `from_arg_matches`, which lists the
            // formats.
            .allow_external_subcommands(true)
            .subcommand_value_name("FORMAT")
            .subcommand_help_heading("Formats")
            .arg(
                Arg::new("output")
                    .short('o')
                    .long("output")
                    .value_name("FILE")
                    .value_parser(clap::value_parser!(PathBuf))
                    .global(true)
                    .help("Write to FILE instead of stdout (atomically: whole or not at all)"),
            )
            .subcommands(traces)
            .subcommands(documents)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for Args {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let Some((name, sub)) = m.subcommand() else {
            return Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand));
        };
        let what = match (name, import::find(name)) {
            (_, Some(importer)) => What::Trace(importer, values(importer, sub)),
            (M4J, None) => What::M4j,
            (QPE, None) => What::Qpe(sub.get_one::<TimeUnit>("time-unit").copied()),
            (_, None) => {
                let formats: Vec<&str> = import::ALL.iter().map(|i| i.name()).collect();
                return Err(clap::Error::raw(
                    clap::error::ErrorKind::InvalidValue,
                    format!(
                        "invalid value '{name}' for '<FORMAT>'\n  [possible values: {}, {M4J}, {QPE}]",
                        formats.join(", ")
                    ),
                ));
            }
        };
        Ok(Self {
            what,
            files: sub
                .get_many::<PathBuf>("files")
                .map(|f| f.cloned().collect())
                .unwrap_or_default(),
            output: sub.get_one::<PathBuf>("output").cloned(),
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// A subcommand with its input files.
fn with_files(cmd: Command) -> Command {
    cmd.arg(
        Arg::new("files")
            .value_name("FILE")
            .required(true)
            .num_args(1..)
            .value_parser(clap::value_parser!(PathBuf))
            .help("Input files (`-` for stdin; gzip is detected); they are concatenated"),
    )
}

/// The flag of an importer's option.
fn flag(opt: &Opt) -> Arg {
    let arg = Arg::new(opt.name)
        .long(opt.name)
        .help(sentence(opt.help))
        .help_heading("Format options")
        .required(opt.required)
        .conflicts_with_all(opt.conflicts);
    let arg = opt
        .requires
        .iter()
        .fold(arg, |arg, other| arg.requires(*other));
    let arg = match opt.takes {
        Takes::Nothing => arg.action(ArgAction::SetTrue),
        Takes::Text => arg.value_name(opt.placeholder),
        Takes::Number => arg
            .value_name(opt.placeholder)
            .value_parser(clap::value_parser!(f64)),
        Takes::Choice(choices) => {
            arg.value_name(opt.placeholder)
                .value_parser(PossibleValuesParser::new(choices.iter().map(
                    |&(word, help)| match help {
                        "" => PossibleValue::new(word),
                        _ => PossibleValue::new(word).help(help),
                    },
                )))
        }
    };
    match opt.default {
        Some(d) => arg.default_value(d),
        None => arg,
    }
}

/// Help text as clap's derive writes it: without the final full stop.
fn sentence(text: &'static str) -> &'static str {
    text.strip_suffix('.').unwrap_or(text)
}

/// The values given to `importer`'s flags.
fn values(importer: &dyn Importer, m: &ArgMatches) -> Values {
    let mut values = Values::new();
    for opt in importer.options() {
        let value = match opt.takes {
            Takes::Nothing => m.get_flag(opt.name).then_some(Value::Set),
            Takes::Number => m.get_one::<f64>(opt.name).map(|x| Value::Number(*x)),
            Takes::Text | Takes::Choice(_) => m
                .get_one::<String>(opt.name)
                .map(|t| Value::Text(t.clone())),
        };
        if let Some(v) = value {
            values.set(opt.name, v);
        }
    }
    values
}

/// An option's value the importer refuses: a usage error naming the flag.
fn usage(e: OptionError) -> anyhow::Error {
    UsageError(format!("--{}: {}", e.option, e.problem)).into()
}

pub fn run(a: Args) -> Result<()> {
    check_one_stdin(&a.files)?;
    match a.what {
        What::Trace(importer, values) => {
            let reader = importer.configure(&values).map_err(usage)?;
            let files = Files {
                paths: &a.files,
                format: importer.name(),
                max_line: importer.max_line(),
            };
            import_trace(reader, &files, a.output.as_deref())
        }
        What::M4j => import_m4j(&a.files, a.output.as_deref()),
        What::Qpe(unit) => {
            let [file] = a.files.as_slice() else {
                return Err(UsageError("qpe imports one model file at a time".into()).into());
            };
            super::qpe::import(file, a.output.as_deref(), unit.map(qpe_unit))
        }
    }
}

/// Streams every file through `reader` into the canonical CSV of what it
/// produces.
fn import_trace(reader: Reader, files: &Files, output: Option<&Path>) -> Result<()> {
    let mut out = Output::create(output)?;
    let total = match reader {
        Reader::Requests {
            origin,
            resource,
            mut read,
        } => {
            let columns = Columns { resource, origin };
            let mut w = RequestWriter::new(&mut out, columns)?;
            let n = each_file(files, "requests", |input, file| {
                read(input, file, &mut |r| w.write_row(&r))
            })?;
            w.finish()?;
            n
        }
        Reader::MergedRequests { origin, mut read } => {
            let columns = Columns {
                resource: false,
                origin,
            };
            let mut w = RequestWriter::new(&mut out, columns)?;
            let n = merged_files(files, |sources| read(sources, &mut |r| w.write_row(&r)))?;
            w.finish()?;
            n
        }
        Reader::Intervals(mut read) => {
            let mut w = IntervalWriter::new(&mut out)?;
            let n = each_file(files, "interval rows", |input, file| {
                read(input, file, &mut |r, class| w.write(r, class))
            })?;
            w.finish()?;
            n
        }
        Reader::Utilization(mut read) => {
            let mut w = UtilizationWriter::new(&mut out)?;
            let n = each_file(files, "samples", |input, file| {
                read(input, file, &mut |s| w.write(&s))
            })?;
            w.finish()?;
            n
        }
    };
    if total == 0 {
        // An empty result is an error: most often the wrong format.
        let names: Vec<String> = files
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        anyhow::bail!(
            "{}: no records found; is it a {} file?",
            names.join(", "),
            files.format
        );
    }
    out.commit()
}

/// The files to import and the longest line their format takes.
struct Files<'a> {
    paths: &'a [PathBuf],
    /// The importer's name.
    format: &'static str,
    max_line: u64,
}

/// Reads the files in turn (with their names), saying what each held;
/// returns the records read.
fn each_file(
    files: &Files,
    what: &str,
    mut read: impl FnMut(&mut dyn BufRead, &str) -> Result<Imported, TraceError>,
) -> Result<u64> {
    let mut total = 0;
    for path in files.paths {
        let mut input = Bounded::new(open_raw(path)?, files.max_line, u64::MAX);
        let name = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
        let imported = read(&mut input, name).with_context(|| path.display().to_string())?;
        for note in &imported.notes {
            log_note(path, note);
        }
        log::info!("{}: {} {what}", path.display(), imported.records);
        total += imported.records;
    }
    Ok(total)
}

/// Reads the files all at once (a format whose files are merged as they
/// stream), saying what they held; returns the records read.
fn merged_files(
    files: &Files,
    mut read: impl FnMut(&mut [Source<'_>]) -> Result<Imported, import::InFile>,
) -> Result<u64> {
    let mut inputs = Vec::with_capacity(files.paths.len());
    for path in files.paths {
        inputs.push(Bounded::new(open_raw(path)?, files.max_line, u64::MAX));
    }
    let names: Vec<&str> = files
        .paths
        .iter()
        .map(|p| p.file_name().and_then(|f| f.to_str()).unwrap_or(""))
        .collect();
    let mut sources: Vec<Source> = inputs
        .iter_mut()
        .zip(&names)
        .map(|(input, name)| Source { input, name })
        .collect();
    let imported = read(&mut sources).map_err(|e| {
        let path = files.paths.get(e.file).map(|p| p.display().to_string());
        anyhow::Error::new(e.error).context(path.unwrap_or_default())
    })?;
    let all = files
        .paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    for note in &imported.notes {
        log_note(Path::new(&all), note);
    }
    log::info!("{all}: {} requests", imported.records);
    Ok(imported.records)
}

fn log_note(path: &Path, note: &Note) {
    match note {
        Note::Read(how) => log::info!("{}: {how}", path.display()),
        Note::Class(c) => {
            let [p50, p95, p99] = c.percentiles_s.map(|p| TEXT.num(p));
            log::info!(
                "{}: class {}: {} requests, mean {} s; from the buckets p50 {p50} s, p95 {p95} s, p99 {p99} s",
                path.display(),
                c.class,
                c.requests,
                TEXT.num(c.mean_s),
            );
        }
    }
}

fn qpe_unit(u: TimeUnit) -> demandsim::import::TimeUnit {
    match u {
        TimeUnit::S => demandsim::import::TimeUnit::Seconds,
        TimeUnit::Ms => demandsim::import::TimeUnit::Milliseconds,
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

/// LibReDE's files of the traces into `out`, staged in a temporary folder
/// and moved there only when all are written (a utilization file that
/// failed left the response-time files of a half-written folder).
fn export_librede(requests: Option<&Path>, utilization: Option<&Path>, out: &Path) -> Result<()> {
    if requests.is_none() && utilization.is_none() {
        return Err(UsageError("export needs --requests, --utilization or both".into()).into());
    }
    let stage = super::staging::stage_for(out)?;
    let dir = stage.path();
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
    super::staging::publish(stage, out)
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
