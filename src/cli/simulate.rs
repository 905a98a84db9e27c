//! `demandsim simulate`, and the model loading and run options that
//! `generate` and `solve` share.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use demandsim::compare::{AnalyticBeside, AnalyticProbe, SimulationDoc, analytic_beside};
use demandsim::model::{Model, ModelError, ParamValue, Params, Stability, Template};
use demandsim::qpn::{
    Control, RunConfig, RunError, SimError, SimReport, StopRule, Warmup, simulate,
};
use demandsim::trace::{RequestReader, in_system_at_end};
use rand::RngExt;

use super::table::{Table, num};
use super::{Format, UsageError};

/// Arguments shared by commands that load a model.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Model file (YAML; see models/).
    #[arg(value_name = "MODEL.yaml")]
    pub model: PathBuf,
    /// Override a parameter: NAME=VALUE (a number or an expression).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Accept an open model whose offered load reaches a place's capacity.
    #[arg(long)]
    pub allow_unstable: bool,
}

/// `--set NAME=VALUE` settings (a value is an expression, numbers too).
pub fn settings(set: &[String]) -> Result<Params> {
    let mut params = Params::new();
    for s in set {
        let Some((k, v)) = s.split_once('=') else {
            return Err(UsageError(format!("--set {s}: expected NAME=VALUE")).into());
        };
        // `nan` and `inf` would be read as names of parameters.
        if v.trim().parse::<f64>().is_ok_and(|x| !x.is_finite()) {
            return Err(UsageError(format!("--set {s}: the value must be a finite number")).into());
        }
        params.set(k.trim(), ParamValue::Expr(v.trim().to_string()));
    }
    Ok(params)
}

/// Reads, parses and instantiates a model file with its `--set` values.
pub fn load_model(a: &ModelArgs) -> Result<Model> {
    let params = settings(&a.set)?;
    let stability = if a.allow_unstable {
        Stability::Allow
    } else {
        Stability::Reject
    };
    load_template(&a.model)?
        .instantiate(&params, stability)
        .map_err(|e| model_error(e, &a.model))
}

/// The model file parsed once (sample files read beside it).
pub fn load_template(path: &Path) -> Result<Template> {
    let text = super::io::read_document(path)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let read_file = move |name: &str| super::io::read_text(&base.join(name));
    Template::parse(&text, &read_file).map_err(|e| model_error(e, path))
}

/// A model error as the CLI says it: settings are usage errors; an
/// unstable model suggests the flag that accepts it.
fn model_error(e: ModelError, path: &Path) -> anyhow::Error {
    match e {
        e if e.is_setting() => anyhow::Error::new(UsageError(format!("--set {e}"))),
        e @ ModelError::Unstable { .. } => {
            anyhow::anyhow!("{e}, or pass --allow-unstable").context(path.display().to_string())
        }
        e => anyhow::Error::new(e).context(path.display().to_string()),
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Probe passages to measure after warm-up [default: 100000].
    #[arg(long, value_name = "N", group = "stop")]
    requests: Option<u64>,
    /// Simulated seconds to measure after warm-up.
    #[arg(long, value_name = "SECONDS", group = "stop")]
    time: Option<f64>,
    /// Stop when every probe's 95 % CI half-width is at most R × its mean.
    #[arg(long, value_name = "R", group = "stop")]
    precision: Option<f64>,
    /// Warm-up: `auto` (MSER-5), `none`, a passage count (`5000`) or a
    /// time (`300s`) [default: the model's `run: warmup`, else auto].
    #[arg(long, value_name = "WARMUP")]
    warmup: Option<String>,
    /// Independent replications, run in parallel; CIs across them.
    #[arg(long, default_value_t = 1, value_name = "K")]
    replications: usize,
    /// Random seed [default: drawn and printed].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Start from the number in system per class at the end of a run: a
    /// canonical requests.csv (or a run folder holding one), whose
    /// requests started by its last start and not finished by then are
    /// put, as tokens of the colour named like their class, in the queue
    /// of the first queueing place serving it, at time 0 [warm-up then
    /// defaults to none].
    #[arg(long, value_name = "RUN")]
    initial_from: Option<PathBuf>,
    /// Events per replication after which the run stops with an error
    /// [default: 1,000 per passage asked for, at least 10^9].
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
    #[command(flatten)]
    out: super::OutputArgs,
}

pub fn parse_warmup(s: &str) -> Result<Warmup> {
    s.parse()
        .map_err(|m| UsageError(format!("--warmup {m}")).into())
}

pub fn seed_or_draw(seed: Option<u64>) -> u64 {
    seed.unwrap_or_else(|| {
        let s = rand::rng().random::<u64>() >> 11;
        eprintln!("seed: {s}");
        s
    })
}

/// Sets the worker threads, at most one per core: results do not depend on
/// the count, and thousands of threads only wait on each other (100,000
/// did not start in a minute).
pub fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(asked) = threads {
        if asked == 0 {
            return Err(UsageError("--threads must be at least 1".into()).into());
        }
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        if asked > cores {
            log::warn!("--threads {asked}: this machine has {cores} cores; using {cores}");
        }
        let n = asked.min(cores);
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .ok();
    }
    Ok(())
}

/// Runs `work` with a progress bar on stderr that appears after a second
/// (hidden when stderr is not a terminal) and Ctrl-C wired to `interrupt`.
fn with_progress<T>(target: Option<u64>, unit: &str, work: impl FnOnce(Control<'_>) -> T) -> T {
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    // The first Ctrl-C ends the run cleanly; a second one ends the process.
    super::staging::stop_cleanly_on_interrupt(flag);
    let progress = Arc::new(AtomicU64::new(0));
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let (p2, unit) = (progress.clone(), unit.to_string());
    let bar_thread = std::thread::spawn(move || {
        let start = Instant::now();
        let mut bar: Option<indicatif::ProgressBar> = None;
        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            finished.recv_timeout(Duration::from_millis(100))
        {
            if bar.is_none() && start.elapsed() > Duration::from_secs(1) {
                let b = match target {
                    Some(n) => indicatif::ProgressBar::new(n),
                    None => indicatif::ProgressBar::no_length(),
                };
                b.set_style(indicatif::ProgressStyle::with_template(&format!("{{elapsed_precise}} [{{bar:40}}] {{human_pos}}/{{human_len}} {unit} {{per_sec}}")).unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()));
                bar = Some(b);
            }
            if let Some(b) = &bar {
                b.set_position(p2.load(Ordering::Relaxed));
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
    });
    let out = work(Control {
        interrupt: Some(&interrupt),
        progress: Some(&progress),
    });
    drop(done);
    bar_thread.join().ok();
    if interrupt.load(Ordering::Relaxed) {
        log::warn!("interrupted: the results cover the run so far");
    }
    out
}

pub fn run(a: Args) -> Result<()> {
    let mut model = load_model(&a.model)?;
    set_threads(a.threads)?;
    let stop = stop_rule(&a, &model)?;
    if a.replications == 0 {
        return Err(UsageError("--replications must be at least 1".into()).into());
    }
    if let Some(run) = &a.initial_from {
        warm_start(&mut model, run)?;
    }
    let warmup = match (&a.warmup, model.run.warmup_s) {
        (Some(w), _) => parse_warmup(w)?,
        (None, _) if a.initial_from.is_some() => Warmup::None,
        (None, Some(t)) => Warmup::Time(t),
        (None, None) => Warmup::Auto,
    };
    let cfg = RunConfig {
        stop,
        warmup,
        replications: a.replications,
        seed: seed_or_draw(a.seed),
        max_events: a.max_events,
        ..RunConfig::default()
    };
    let (target, unit) = match stop {
        StopRule::Requests(n) => (Some(n * a.replications as u64), "requests"),
        StopRule::Time(t) => (
            Some((t * 1000.0) as u64 * a.replications as u64),
            "ms simulated",
        ),
        StopRule::Precision(_) => (None, "requests"),
    };
    let t0 = Instant::now();
    let report = with_progress(target, unit, |ctl| simulate(&model.net, &cfg, ctl))
        .map_err(|e| with_analytic_load(e, &model))
        .with_context(|| a.model.model.display().to_string())?;
    let wall = t0.elapsed().as_secs_f64();
    warn_correlated(&report);
    let analytic = analytic_beside(&model.net, &report.probes);
    let mut out = a.out.create()?;
    match a.out.format {
        Format::Json => {
            let version = env!("CARGO_PKG_VERSION");
            let doc = SimulationDoc::new(&model, &report, &analytic, wall, version);
            out.write_all(&demandsim::report::json(&doc)?)?;
        }
        Format::Csv => write_csv(&mut out, &report)?,
        Format::Table => write!(out, "{}", render(&model, &report, wall, &analytic))?,
    }
    out.commit()
}

/// `model` started from the number in system at the end of `run` (a
/// requests file, or a folder holding `requests.csv[.gz]`), said on
/// stderr.
fn warm_start(model: &mut Model, run: &Path) -> Result<()> {
    let file = match run.is_dir() {
        true => ["requests.csv", "requests.csv.gz"]
            .iter()
            .map(|f| run.join(f))
            .find(|p| p.exists())
            .with_context(|| format!("{}: no requests.csv in this folder", run.display()))?,
        false => run.to_path_buf(),
    };
    let name = || file.display().to_string();
    let mut reader = RequestReader::new(super::io::open_input(&file)?).with_context(name)?;
    let end = in_system_at_end(&mut reader).with_context(name)?;
    let counts: Vec<(String, u64)> = reader
        .classes()
        .names()
        .iter()
        .zip(end.per_class.iter().chain(std::iter::repeat(&0)))
        .map(|(c, &n)| (c.clone(), n))
        .collect();
    let net = model.net.clone();
    let (net, placed) = demandsim::qpn::warm_start(net, &counts).with_context(name)?;
    model.net = net;
    eprintln!(
        "initial: {} request(s) in system at {} s (the last start of {}){}",
        placed.iter().map(|p| p.tokens).sum::<u64>(),
        num(Some(end.at)),
        name(),
        placed
            .iter()
            .map(|p| format!("; {} of {} in {}", p.tokens, p.class, p.place))
            .collect::<String>()
    );
    Ok(())
}

/// A run stopped as unstable, with the offered load the model's flows give
/// the place that grew (open models whose flows follow from routing).
fn with_analytic_load(e: RunError, model: &Model) -> anyhow::Error {
    let place = match &e {
        RunError::Sim {
            error: SimError::Unstable { place, .. },
            ..
        } => place,
        _ => return e.into(),
    };
    match model.open_loads.iter().flatten().find(|l| &l.0 == place) {
        Some((_, load, servers)) => anyhow::anyhow!(
            "{e}; analytically, {place} is offered {} of its {} servers' work (utilization {})",
            num(Some(*load)),
            num(Some(*servers)),
            num(Some(load / servers))
        ),
        None => e.into(),
    }
}

/// The stopping rule: the flags', else the model's `run: time`, else
/// 100,000 passages.
fn stop_rule(a: &Args, model: &Model) -> Result<StopRule> {
    Ok(match (a.requests, a.time, a.precision) {
        (Some(n), _, _) => StopRule::Requests(n),
        (_, Some(t), _) if t.is_finite() && t > 0.0 => StopRule::Time(t),
        (_, Some(t), _) => {
            return Err(UsageError(format!("--time must be positive, got {t}")).into());
        }
        (_, _, Some(r)) if r.is_finite() && r > 0.0 => StopRule::Precision(r),
        (_, _, Some(r)) => {
            return Err(UsageError(format!("--precision must be positive, got {r}")).into());
        }
        _ => match model.run.time_s {
            Some(t) => StopRule::Time(t),
            None => StopRule::Requests(100_000),
        },
    })
}

/// Warns of batch means too correlated for their CI (one replication).
fn warn_correlated(report: &SimReport) {
    if report.replications != 1 {
        return;
    }
    for p in &report.probes {
        if let Some(l) = p.batch_lag1.filter(|l| *l > 0.3) {
            log::warn!(
                "probe {} ({}): batch means are correlated (lag-1 autocorrelation {l:.2}); the CI may be too narrow: run longer or use --replications",
                p.name,
                p.color
            );
        }
    }
}

fn write_csv(out: &mut impl Write, r: &SimReport) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let o = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    w.write_record([
        "kind",
        "name",
        "color",
        "mean_s",
        "ci_half_width_s",
        "p50_s",
        "p90_s",
        "p95_s",
        "p99_s",
        "count",
        "throughput",
        "mean_population",
        "utilization",
    ])?;
    for p in &r.probes {
        w.write_record([
            "probe",
            &p.name,
            &p.color,
            &o(p.mean_s),
            &o(p.ci_half_width_s),
            &o(p.p50_s),
            &o(p.p90_s),
            &o(p.p95_s),
            &o(p.p99_s),
            &p.count.to_string(),
            "",
            "",
            "",
        ])?;
    }
    for p in &r.places {
        w.write_record([
            "place",
            &p.place,
            &p.color,
            &o(p.mean_residence_s),
            &o(p.ci_half_width_s),
            "",
            "",
            "",
            "",
            "",
            &p.throughput.to_string(),
            &p.mean_population.to_string(),
            &o(p.utilization),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn render(model: &Model, r: &SimReport, wall: f64, analytic: &AnalyticBeside) -> String {
    let mut s = format!(
        "model {}: seed {}, {} replication(s), {} events in {:.3} s ({:.1} M events/s), {} simulated s measured\nwarm-up {}: {} s, {} passages discarded; CIs: {:.0} % by {}{}\n\n",
        model.name,
        r.seed,
        r.replications,
        r.events,
        wall,
        r.events as f64 / wall.max(1e-9) / 1e6,
        num(Some(r.measured_time_s)),
        r.warmup.method,
        num(Some(r.warmup.time_s)),
        r.warmup.passages,
        r.confidence * 100.0,
        r.ci_method,
        if r.interrupted { " (INTERRUPTED)" } else { "" },
    );
    s.push_str(&probe_table(r, analytic));
    s.push_str(&format!("analytic: {}\n", analytic.summary));
    s.push('\n');
    s.push_str(&place_table(r));
    if !r.queues.is_empty() {
        let mut q = Table::new(["shared queue", "U"]);
        for x in &r.queues {
            q.row(vec![x.queue.clone(), num(x.utilization)]);
        }
        s.push('\n');
        s.push_str(&q.render());
    }
    if !r.throttling.is_empty() {
        s.push('\n');
        s.push_str(&throttle_table(r));
    }
    s
}

/// The queues under a CPU limit, with cgroup `cpu.stat`'s counters per
/// replication.
fn throttle_table(r: &SimReport) -> String {
    let mut t = Table::new([
        "cpu limit",
        "CPUs",
        "period [s]",
        "nr_periods",
        "nr_throttled",
        "throttled_time [s]",
        "throttled / periods",
        "± CI",
        "throttled / time",
        "± CI",
    ]);
    for x in &r.throttling {
        t.row(vec![
            x.queue.clone(),
            num(Some(x.cpus)),
            num(Some(x.period_s)),
            num(Some(x.periods)),
            num(Some(x.throttled_periods)),
            num(Some(x.throttled_s)),
            num(x.throttled_fraction),
            num(x.throttled_fraction_ci_half_width),
            num(Some(x.throttled_time_fraction)),
            num(x.throttled_time_fraction_ci_half_width),
        ]);
    }
    t.render()
}

/// The probes, with the analytic mean beside each.
fn probe_table(r: &SimReport, analytic: &AnalyticBeside) -> String {
    let mut t = Table::new([
        "probe",
        "color",
        "mean [s]",
        "± CI [s]",
        "analytic [s]",
        "p50",
        "p90",
        "p95",
        "p99",
        "count",
    ]);
    for (p, an) in r.probes.iter().zip(&analytic.probes) {
        let an = match an {
            Some(AnalyticProbe {
                mean_s,
                inside_ci: Some(true),
            }) => format!("{} (in CI)", num(Some(*mean_s))),
            Some(AnalyticProbe {
                mean_s,
                inside_ci: Some(false),
            }) => format!("{} (outside CI)", num(Some(*mean_s))),
            Some(AnalyticProbe { mean_s, .. }) => num(Some(*mean_s)),
            None => "-".into(),
        };
        t.row(vec![
            p.name.clone(),
            p.color.clone(),
            num(p.mean_s),
            num(p.ci_half_width_s),
            an,
            num(p.p50_s),
            num(p.p90_s),
            num(p.p95_s),
            num(p.p99_s),
            p.count.to_string(),
        ]);
    }
    t.render()
}

fn place_table(r: &SimReport) -> String {
    let mut t = Table::new([
        "place",
        "color",
        "X in [1/s]",
        "X out [1/s]",
        "N",
        "U",
        "R [s]",
        "± CI [s]",
        "depository [s]",
    ]);
    for p in &r.places {
        t.row(vec![
            p.place.clone(),
            p.color.clone(),
            num(Some(p.arrival_throughput)),
            num(Some(p.throughput)),
            num(Some(p.mean_population)),
            num(p.utilization),
            num(p.mean_residence_s),
            num(p.ci_half_width_s),
            num(p.mean_depository_s),
        ]);
    }
    t.render()
}
