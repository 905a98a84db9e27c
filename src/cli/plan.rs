//! `demandsim plan`: run directories in, a capacity answer out.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use demandsim::capacity::Slo;
use demandsim::plan::{At, Find, Plan, PlanOptions, RunFacts, RunInput, plan};
use demandsim::report::json;
use demandsim::run_dir::RunMeta;

use super::io::{Output, open_input, read_text};
use super::study::StudyFiles;
use super::{Format, UsageError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run directories, each with requests.csv[.gz] (or interval-level
    /// intervals.csv[.gz]), utilization.csv[.gz] and optionally run.yaml (or the testbed's run.json); or a folder of
    /// them.
    #[arg(value_name = "RUN", required = true)]
    runs: Vec<PathBuf>,
    /// The runs to fit, by name, comma-separated [default: all].
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    fit: Option<Vec<String>>,
    /// The utilization series of the requests' CPU [default: the runs'
    /// run.yaml, else the only series].
    #[arg(long)]
    resource: Option<String>,
    /// The total CPU series of the same core or host, whose work beyond
    /// the requests' is background; `none` for no background even where
    /// run.yaml names one [default: the runs' run.yaml, else none].
    #[arg(long)]
    background: Option<String>,
    /// CPUs [default: the runs' metadata, else 1].
    #[arg(long)]
    servers: Option<u32>,
    /// The requests' column that names their class [default: the load
    /// generator's user classes where there are fewer of them than
    /// endpoints, else `class`].
    #[arg(long)]
    class_column: Option<String>,
    /// Fit each class's demand as a function of load (auto: the form that
    /// predicts the fitted runs best), or constant (none) [default: auto
    /// with two fitted runs or more].
    #[arg(long, value_enum)]
    load_dependence: Option<LoadDep>,
    /// The objective: STAT<=LIMIT, STAT one of mean, p50, p90, p95, p99,
    /// LIMIT a time in ms or s (p95<=50ms, mean<=1.2s).
    #[arg(long, value_name = "STAT<=LIMIT")]
    slo: String,
    /// The parameter to find [default: none: the statistic at --at].
    #[arg(long, value_enum)]
    find: Option<FindArg>,
    /// The what-if load: a multiple of the base run's (2x) or the load
    /// itself (users, or requests per second).
    #[arg(long, value_name = "2x|VALUE")]
    at: Option<String>,
    /// The run whose class mix, load and configuration the questions
    /// start from [default: the middle of the fitted runs].
    #[arg(long, value_name = "RUN")]
    mix_of: Option<String>,
    /// Directory for the model, plan.json and the report.
    #[arg(long, default_value = "plan")]
    out: PathBuf,
    /// Simulated requests per prediction.
    #[arg(long, default_value_t = 100_000)]
    requests: u64,
    /// Random seed [default: drawn and printed].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LoadDep {
    Auto,
    None,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
enum FindArg {
    ArrivalRate,
    Users,
    Containers,
    Cpus,
}

pub fn run(a: Args) -> Result<()> {
    super::simulate::set_threads(a.threads)?;
    let slo = Slo::parse(&a.slo).map_err(|e| UsageError(format!("--slo: {e}")))?;
    let at =
        a.at.as_deref()
            .map(At::parse)
            .transpose()
            .map_err(|e| UsageError(e.to_string()))?;
    if a.requests < 1_000 {
        return Err(UsageError("--requests: at least 1000".into()).into());
    }
    let runs = run_dirs(&a.runs)?
        .iter()
        .map(|d| read_run(d))
        .collect::<Result<Vec<_>>>()?;
    let opts = PlanOptions {
        fit: a.fit.clone(),
        resource: a.resource.clone(),
        background: a.background.clone(),
        servers: a.servers,
        class_column: a.class_column.clone(),
        load_dependence: a.load_dependence.map(|l| matches!(l, LoadDep::Auto)),
        slo,
        find: a.find.map(|f| match f {
            FindArg::ArrivalRate => Find::ArrivalRate,
            FindArg::Users => Find::Users,
            FindArg::Containers => Find::Containers,
            FindArg::Cpus => Find::Cpus,
        }),
        at,
        mix_of: a.mix_of.clone(),
        requests: a.requests,
        model_file: a.out.join("model.yaml"),
    };
    let seed = super::simulate::seed_or_draw(a.seed);
    let t0 = std::time::Instant::now();
    let files = StudyFiles {
        base: PathBuf::new(),
    };
    let p = plan(&runs, &opts, &files, seed).map_err(|e| match e {
        demandsim::plan::PlanError::UnknownRun { .. } => UsageError(e.to_string()).into(),
        e => anyhow::Error::from(e),
    })?;
    log::info!(
        "plan: {} runs in {:.1} s, seed {seed}",
        runs.len(),
        t0.elapsed().as_secs_f64()
    );
    write_out(&a.out, &p)?;
    let mut out = Output::create(None)?;
    match a.format {
        Format::Json => out.write_all(&json(&p)?)?,
        Format::Csv => return Err(UsageError("plan: --format table or json".into()).into()),
        Format::Table => write!(out, "{}", render(&p))?,
    }
    out.commit()
}

/// The request trace's file names a run directory may hold, in the order
/// they are looked for: per-request rows, then interval-level rows (a load
/// tester's or monitor's aggregates, e.g. `import locust`'s).
const REQUEST_FILES: [&str; 4] = [
    "requests.csv.gz",
    "requests.csv",
    "intervals.csv.gz",
    "intervals.csv",
];

/// Whether `dir` holds a request trace.
fn is_run(dir: &Path) -> bool {
    REQUEST_FILES.iter().any(|f| dir.join(f).is_file())
}

/// The run directories: each one given, or, for a folder of runs (no
/// request trace of its own), its subfolders that hold one, by name.
fn run_dirs(given: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for d in given {
        if !d.is_dir() || is_run(d) {
            out.push(d.clone());
            continue;
        }
        let entries =
            std::fs::read_dir(d).with_context(|| format!("cannot read {}", d.display()))?;
        let mut subs: Vec<PathBuf> = entries
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.is_dir() && is_run(p))
            .collect();
        if subs.is_empty() {
            anyhow::bail!(
                "{}: no requests.csv[.gz] or intervals.csv[.gz] in it or in its subfolders (a run directory, or a folder of them)",
                d.display()
            );
        }
        subs.sort();
        log::info!("{}: {} run directories", d.display(), subs.len());
        out.extend(subs);
    }
    Ok(out)
}

/// A run directory: its traces, its metadata (run.yaml over run.json),
/// what its traces hold.
fn read_run(dir: &Path) -> Result<RunInput> {
    if !dir.is_dir() {
        anyhow::bail!("{}: not a run directory", dir.display());
    }
    let find = |stem: &str| -> Option<PathBuf> {
        [format!("{stem}.csv.gz"), format!("{stem}.csv")]
            .into_iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_file())
    };
    let requests = REQUEST_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
        .with_context(|| {
            format!("{}: no requests.csv[.gz] or intervals.csv[.gz] (per-request or interval-level rows; `demandsim import` writes them)", dir.display())
        })?;
    let utilization = find("utilization").with_context(|| {
        format!(
            "{}: no utilization.csv or utilization.csv.gz",
            dir.display()
        )
    })?;
    let (yaml, json) = (dir.join("run.yaml"), dir.join("run.json"));
    let mut meta = RunMeta::default();
    if yaml.is_file() {
        let text = read_text(&yaml).with_context(|| yaml.display().to_string())?;
        meta = RunMeta::from_yaml(&text).with_context(|| yaml.display().to_string())?;
    }
    if json.is_file() {
        let text = read_text(&json).with_context(|| json.display().to_string())?;
        meta =
            meta.or(RunMeta::from_testbed_json(&text).with_context(|| json.display().to_string())?);
    }
    let metadata = [&json, &yaml].into_iter().find(|p| p.is_file()).cloned();
    let facts = RunFacts::read(&mut open_input(&requests)?, &mut open_input(&utilization)?)
        .map_err(|(which, e)| {
            let f = if which == "requests" {
                &requests
            } else {
                &utilization
            };
            anyhow::anyhow!("{}: {e}", f.display())
        })?;
    let name = match RunMeta::from_yaml(&read_text(&yaml).unwrap_or_default())
        .ok()
        .and_then(|m| m.name)
    {
        Some(n) => n,
        None => dir_name(dir),
    };
    Ok(RunInput {
        name,
        requests,
        utilization,
        metadata,
        meta,
        facts,
    })
}

fn dir_name(dir: &Path) -> String {
    let d = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    d.file_name().map_or_else(
        || d.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The model(s) and plan.json into `dir`.
fn write_out(dir: &Path, p: &Plan) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Output::write_whole(&dir.join("model.yaml"), p.model_yaml.as_bytes())?;
    if let Some(open) = &p.open_model_yaml {
        Output::write_whole(&dir.join("model-open.yaml"), open.as_bytes())?;
    }
    Output::write_whole(&dir.join("plan.json"), &json(p)?)?;
    let page = demandsim::report::plan_html(p)?;
    Output::write_whole(&dir.join("report.html"), page.as_bytes())?;
    eprintln!(
        "wrote {0}/report.html, {0}/model.yaml and {0}/plan.json",
        dir.display()
    );
    Ok(())
}

/// The answer first, then what it rests on.
fn render(p: &Plan) -> String {
    let mut s = String::new();
    for a in &p.answers {
        for (i, line) in a.lines().iter().enumerate() {
            s += if i == 0 { "" } else { "  " };
            s += line;
            s += "\n";
        }
    }
    s += &format!(
        "\nHeld out, each run predicted from a fit on the others ({} runs",
        p.validation.runs.len()
    );
    if let (Some(c), Some(n)) = (p.validation.coverage, p.validation.nominal) {
        s += &format!(
            "; bands covered {:.0} %, stated {:.0} %",
            100.0 * c,
            100.0 * n
        );
    }
    s += "):\n";
    for r in &p.validation.runs {
        let pct = |x: Option<f64>| x.map_or("—".into(), |e| format!("{:+.0} %", 100.0 * e));
        let ms = |x: Option<f64>| x.map_or("—".into(), |v| format!("{:.1} ms", 1e3 * v));
        s += &format!(
            "  {:<22} U {:<5} measured {:<9} predicted {:<9} error {}\n",
            r.name,
            r.utilization.map_or("—".into(), |u| format!("{u:.2}")),
            ms(r.measured_mean_s),
            ms(r.predicted_mean_s),
            pct(r.error)
        );
    }
    s += "\nDecisions:\n";
    for d in &p.decisions {
        s += &format!("  {}: {} ({})\n", d.what, d.chosen, d.why);
    }
    s += &format!("\nmodel: {}   seed: {}\n", p.model_file, p.seed);
    s
}
