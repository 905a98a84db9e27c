//! `demandsim estimate`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use demandsim::estimate::{
    BackgroundFit, BackgroundUse, Config, Diagnostics, Discipline, LoadChoice, LoadForm, LoadModel,
    MAX_RESAMPLES, Method, Observations, Report, RunIdentifiability, estimate,
};
use demandsim::report::estimate_rows;
use demandsim::report::format::TEXT;
use demandsim::trace::IntervalTable;

use super::inspect::{aggregate_grouped, read_utilization};
use super::table::{Table, num};
use super::{Format, UsageError, check_one_stdin};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Canonical requests.csv (`-` for stdin; gzip is detected). Repeat
    /// with --utilization for several runs fitted together: the k-th
    /// requests file goes with the k-th utilization file, and each run is
    /// aggregated into its own intervals.
    #[arg(long, value_name = "FILE", required = true)]
    requests: Vec<PathBuf>,
    /// Canonical utilization.csv of the resource (one per --requests).
    #[arg(long, value_name = "FILE", required = true)]
    utilization: Vec<PathBuf>,
    /// Servers (cores) of the resource; utilization is a fraction of all.
    #[arg(long, default_value_t = 1)]
    servers: u32,
    #[arg(long, value_enum, default_value_t = DisciplineArg::Fcfs, help = format!(
        "How the resource shares itself among request classes, which the per-class split of {} assumes: fcfs (a queue, as in the shipped models) or ps (a time-sliced CPU)",
        Method::ids_with(|t| t.splits_by_discipline)
    ))]
    discipline: DisciplineArg,
    /// Interval length, seconds [default: the utilization sampling interval].
    #[arg(long, value_name = "SECONDS")]
    interval: Option<f64>,
    /// Use only the last N intervals.
    #[arg(long, value_name = "N")]
    window: Option<usize>,
    #[arg(long, value_delimiter = ',', help = format!(
        "Comma-separated methods: {} [default: all]. rta's estimate is R itself, biased upward by the waiting time (about 2x at 50 % utilization on one server)",
        Method::ids()
    ))]
    methods: Vec<String>,
    /// Also report the average of these methods (the study averaged
    /// rort,rortu).
    #[arg(long, value_delimiter = ',')]
    combine: Vec<String>,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Bootstrap resamples for the confidence intervals.
    #[arg(long, default_value_t = 200)]
    bootstrap: usize,
    /// The resource (utilization `resource`) [default: the only one].
    #[arg(long)]
    resource: Option<String>,
    /// Add a background-load intercept to the utilization regression.
    #[arg(long)]
    intercept: bool,
    /// Fit the background work that shares the resource's CPU, U_bg = b0 +
    /// Σ X_c·w_c / servers: RESOURCE is the total (host or core)
    /// utilization series, --resource the requests' part; without
    /// RESOURCE, the utilization regression's intercept stands in (a
    /// constant only). The demands stay the requests' own.
    #[arg(long, value_name = "RESOURCE", num_args = 0..=1, default_missing_value = "")]
    background: Option<String>,
    /// Keep intervals with utilization >= 0.99 (left out by default).
    #[arg(long)]
    keep_saturated: bool,
    /// With several runs, how each class's demand moves with load: auto
    /// (the default when the flag is given without a value: constant,
    /// linear_u D(U) = D̄·(1 + β·(U − Ū)) or inverse_x D(X) = a + b/X,
    /// chosen per class by leave-one-run-out error), or one form for every
    /// class with runs at two or more loads.
    #[arg(long, value_name = "FORM", num_args = 0..=1, default_missing_value = "auto")]
    load_dependence: Option<String>,
    /// The requests' column whose values are the classes (e.g.
    /// `user_class`: one demand per user class) [default: `class`].
    #[arg(long, value_name = "COLUMN")]
    group_by: Option<String>,
    /// Say why each method was or was not recommended.
    #[arg(long)]
    explain: bool,
    /// Write N joint bootstrap draws of the demands into the JSON
    /// (`draws`), to carry the uncertainty into predictions.
    #[arg(long, value_name = "N", default_value_t = 0)]
    draws: usize,
    /// The method whose draws to write [default: the recommended one].
    #[arg(long, value_name = "METHOD")]
    draws_method: Option<String>,
    /// Seed of folds and bootstrap [default: drawn and printed].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    out: super::OutputArgs,
}

fn methods(ids: &[String], flag: &str) -> Result<Vec<Method>> {
    ids.iter()
        .map(|s| {
            Method::from_id(s.trim()).ok_or_else(|| {
                UsageError(format!(
                    "{flag} {s}: unknown method; expected {}",
                    Method::ids()
                ))
                .into()
            })
        })
        .collect()
}

pub fn run(a: Args) -> Result<()> {
    let mut cfg = config(&a)?;
    super::simulate::set_threads(a.threads)?;
    let (obs, diag, resource, width, user_class) = observations(&a)?;
    let suggest_group = user_class && a.group_by.is_none();
    cfg.seed = super::simulate::seed_or_draw(a.seed);
    let report = estimate(&obs, diag, &cfg, &resource, width);
    for f in &report.failures {
        log::warn!("{f}");
    }
    if !report.drifting.is_empty() && a.out.format != Format::Table {
        log::warn!(
            "the runs' demands of {} differ by more than their errors allow: the demand may depend on load (--load-dependence fits it)",
            report.drifting.join(", ")
        );
    }
    let mut out = a.out.create()?;
    match a.out.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Csv => write_csv(&mut out, &report)?,
        Format::Table => write!(out, "{}", render(&report, a.explain, suggest_group))?,
    }
    out.commit()
}

/// The command line checked and turned into the estimation's settings
/// (the seed is drawn later, once the inputs have been read).
fn config(a: &Args) -> Result<Config> {
    check_one_stdin(a.requests.iter().chain(&a.utilization))?;
    if a.requests.len() != a.utilization.len() {
        return Err(UsageError(format!(
            "{} --requests but {} --utilization: give one utilization file per run",
            a.requests.len(),
            a.utilization.len()
        ))
        .into());
    }
    if a.servers == 0 {
        return Err(UsageError("--servers must be at least 1".into()).into());
    }
    if a.folds < 2 {
        return Err(UsageError("--folds must be at least 2".into()).into());
    }
    if let Some(i) = a.interval
        && !(i.is_finite() && i > 0.0)
    {
        return Err(UsageError(format!(
            "--interval must be a positive number of seconds, got {i}"
        ))
        .into());
    }
    for (flag, n) in [("--bootstrap", a.bootstrap), ("--draws", a.draws)] {
        if n > MAX_RESAMPLES {
            return Err(UsageError(format!(
                "{flag} {n}: at most {MAX_RESAMPLES} resamples (each refits every method)"
            ))
            .into());
        }
    }
    let mut ms = if a.methods.is_empty() {
        Method::ALL.to_vec()
    } else {
        methods(&a.methods, "--methods")?
    };
    ms.dedup();
    let draws_method = match &a.draws_method {
        Some(m) => Some(methods(std::slice::from_ref(m), "--draws-method")?[0]),
        None => None,
    };
    Ok(Config {
        methods: ms,
        folds: a.folds,
        seed: 0,
        // The draws are bootstrap fits: enough of them.
        bootstrap: a.bootstrap.max(a.draws),
        intercept: a.intercept,
        combine: methods(&a.combine, "--combine")?,
        confidence: 0.95,
        draws: a.draws,
        load_dependence: a.load_dependence.as_deref().map(load_choice).transpose()?,
        draws_method,
        background: a.background.is_some(),
    })
}

/// `--load-dependence FORM`.
fn load_choice(s: &str) -> Result<LoadChoice> {
    if s == "auto" {
        return Ok(LoadChoice::Auto);
    }
    LoadForm::from_id(s).map(LoadChoice::Only).ok_or_else(|| {
        UsageError(format!(
            "--load-dependence {s}: unknown form; expected auto, {}",
            LoadForm::ALL.map(LoadForm::id).join(", ")
        ))
        .into()
    })
}

/// One row per method and class, for machines.
fn write_csv(out: &mut impl Write, report: &Report) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "method",
        "class",
        "demand_s",
        "ci_low_s",
        "ci_high_s",
        "rel_rt_error",
        "rel_util_error",
        "recommended",
    ])?;
    for e in &report.estimates {
        let rec = report.recommended.as_deref() == Some(e.method.as_str());
        write_estimate(&mut w, e, rec)?;
    }
    if let Some(b) = &report.background_work {
        write_background(&mut w, b)?;
    }
    w.flush()?;
    Ok(())
}

/// One estimate's CSV row.
fn write_estimate<W: Write>(
    w: &mut csv::Writer<W>,
    e: &demandsim::estimate::Estimate,
    rec: bool,
) -> Result<()> {
    let o = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    w.write_record([
        e.method.as_str(),
        &e.class,
        &e.demand_s.to_string(),
        &o(e.ci_low_s),
        &o(e.ci_high_s),
        &o(e.rel_rt_error),
        &o(e.rel_util_error),
        &rec.to_string(),
    ])?;
    Ok(())
}

/// The background law's CSV rows (method `(background)`): class
/// `(constant)` holds b0 (a utilization), each class its CPU seconds of
/// background work per request, with their intervals.
fn write_background<W: Write>(w: &mut csv::Writer<W>, b: &BackgroundFit) -> Result<()> {
    let o = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let constant = std::iter::once(("(constant)", &b.constant));
    let classes = b.per_request.iter().map(|c| (c.class.as_str(), &c.cpu_s));
    for (class, band) in constant.chain(classes) {
        w.write_record([
            "(background)",
            class,
            &band.value.to_string(),
            &o(band.low),
            &o(band.high),
            "",
            "",
            "false",
        ])?;
    }
    Ok(())
}

/// The background law and each run's background, for people.
fn background_note(b: &BackgroundFit, resource: &str) -> String {
    let c = b.servers;
    let mut s = match &b.total {
        Some(total) => format!(
            "\nBackground work ({total} − {resource}, {} intervals{}): U_bg = b0 + Σ X_c·w_c / {c}\n",
            b.intervals,
            if b.deattenuated {
                "; slopes corrected for the throughputs' counting noise"
            } else {
                ""
            }
        ),
        None => format!(
            "\nBackground work (no total series: the utilization regression's intercept stands in, a constant only; {} intervals)\n",
            b.intervals
        ),
    };
    let mut t = Table::new(["term", "value", "95 % CI"]);
    t.row(vec![
        "b0 (utilization)".into(),
        num(Some(b.constant.value)),
        TEXT.range(b.constant.low, b.constant.high),
    ]);
    for w in &b.per_request {
        t.row(vec![
            format!("w {} [s/request]", w.class),
            num(Some(w.cpu_s.value)),
            TEXT.range(w.cpu_s.low, w.cpu_s.high),
        ]);
    }
    s.push_str(&t.render());
    let mut t = Table::new([
        "run",
        "measured U_bg",
        "fitted U_bg",
        "95 % CI",
        "share of total",
    ]);
    for r in &b.runs {
        t.row(vec![
            r.name.clone(),
            num(r.measured),
            num(Some(r.fitted.value)),
            TEXT.range(r.fitted.low, r.fitted.high),
            r.share_of_total
                .map_or(String::new(), |v| format!("{:.1} %", 100.0 * v)),
        ]);
    }
    s.push('\n');
    s.push_str(&t.render());
    s
}

/// The runs read and aggregated (each on its own) into one resource's
/// observations; the resource, the interval width, and whether the
/// requests name their user class.
fn observations(a: &Args) -> Result<(Observations, Diagnostics, String, f64, bool)> {
    let utils = a
        .utilization
        .iter()
        .map(|u| read_utilization(Some(u)))
        .collect::<Result<Vec<_>>>()?;
    let resource = match &a.resource {
        Some(r) => r.clone(),
        None => match utils[0].resources() {
            [one] => one.clone(),
            many => {
                return Err(UsageError(format!(
                    "the utilization file has several resources ({}); choose one with --resource",
                    many.join(", ")
                ))
                .into());
            }
        },
    };
    let mut tables = Vec::new();
    for (req, util) in a.requests.iter().zip(utils) {
        tables.push(aggregate_grouped(
            req,
            util,
            a.interval,
            false,
            a.group_by.as_deref(),
        )?);
    }
    let names: Vec<String> = a.requests.iter().map(|p| p.display().to_string()).collect();
    let runs: Vec<(&str, &IntervalTable)> = names.iter().map(String::as_str).zip(&tables).collect();
    let total = a.background.as_deref().filter(|t| !t.is_empty());
    if total == Some(resource.as_str()) {
        return Err(UsageError(format!(
            "--background {resource} is the --resource itself: name the total (host or core) series the requests' resource shares (the utilization file has: {})",
            tables[0].resources.join(", ")
        ))
        .into());
    }
    let (mut obs, diag) =
        Observations::with_total(&runs, &[&resource], total, a.servers, a.keep_saturated)
            .context("cannot estimate")?;
    obs.discipline = match a.discipline {
        DisciplineArg::Fcfs => Discipline::Fcfs,
        DisciplineArg::Ps => Discipline::Ps,
    };
    if diag.saturated > 0 {
        log::warn!(
            "{} interval(s) with utilization >= 0.99 left out: estimators break down on saturated data (--keep-saturated keeps them)",
            diag.saturated
        );
    }
    if let Some(w) = a.window {
        obs.keep_last(w);
    }
    let user_class = tables.iter().any(|t| {
        t.summary
            .origins
            .as_ref()
            .is_some_and(|o| !o.user_classes.is_empty())
    });
    Ok((obs, diag, resource, tables[0].grid.width, user_class))
}

/// `--discipline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DisciplineArg {
    Fcfs,
    Ps,
}

fn render(r: &Report, explain: bool, suggest_group: bool) -> String {
    let d = &r.diagnostics;
    let mut s = format!(
        "resource {}: {} server(s), {}, {} intervals of {} s used ({} saturated, {} empty left out); {}-fold CV, seed {}\n",
        r.resource,
        r.servers,
        match r.discipline {
            Discipline::Fcfs => "FCFS",
            Discipline::Ps => "processor sharing",
        },
        r.intervals,
        num(Some(r.interval_s)),
        d.saturated,
        d.empty,
        r.folds,
        r.seed
    );
    if let Some(k) = d.condition_number {
        s.push_str(&format!(
            "class-throughput condition number {}{}\n",
            num(Some(k)),
            if k > 30.0 {
                " (collinear: demands of classes are hard to separate)"
            } else {
                ""
            }
        ));
    }
    if let Some(id) = &r.run_identifiability {
        s.push_str(&run_level(id, id.identifiable.len(), suggest_group));
    }
    s.push('\n');
    let (header, rows) = estimate_rows(r, TEXT);
    let mut t = Table::new(header);
    for row in rows {
        t.row(row);
    }
    s.push_str(&t.render());
    s.push_str(&notes(r));
    if let Some(b) = &r.background_work {
        s.push_str(&background_note(b, &r.resource));
    }
    s.push_str(&why(r, explain));
    s
}

/// What the table cannot show: classes the design does not separate,
/// background load, the discipline the classes follow, load dependence,
/// drift between runs.
fn notes(r: &Report) -> String {
    let mut s = String::new();
    if let Some(advice) = &r.advice {
        s.push_str(&format!("\nNot identifiable: {advice}.\n"));
    }
    if let Some(b) = &r.background {
        s.push_str(&format!(
            "\nBackground load: a utilization of {} (± {} s.e.) is not explained by the traced requests; methods that count it as demand are not trusted ({} --intercept accounts for it).\n",
            num(Some(b.utilization)),
            num(Some(b.standard_error)),
            Method::ids_with(|t| t.background == BackgroundUse::CountedWithoutIntercept)
        ));
    }
    if let Some(f) = r.discipline_fit.as_ref().filter(|f| f.better.is_some()) {
        let (assumed, other) = match f.assumed {
            Discipline::Fcfs => ("FCFS", "processor sharing (--discipline ps)"),
            Discipline::Ps => ("processor sharing", "FCFS (--discipline fcfs)"),
        };
        s.push_str(&format!(
            "\nDiscipline: the per-class response times fit {other} better than {assumed} (mean relative residual {} % against {} %); the methods that split the classes by it are not trusted.\n",
            num(Some(100.0 * f.error_fcfs.min(f.error_ps))),
            num(Some(100.0 * f.error_fcfs.max(f.error_ps))),
        ));
    }
    if let Some(m) = &r.load_dependence {
        s.push_str(&load_model(m));
    }
    if !r.drifting.is_empty() {
        s.push_str(&format!(
            "\nThe runs' demands of {} differ by more than their errors allow: the demand may depend on load (--load-dependence fits it).\n",
            r.drifting.join(", ")
        ));
    }
    s
}

/// Each method's verdict with `--explain`, else a pointer to it when a
/// method was not trusted.
fn why(r: &Report, explain: bool) -> String {
    let mut s = String::new();
    if explain {
        s.push_str("\nWhy:\n");
        for v in &r.verdicts {
            let mark = if v.recommended {
                "recommended"
            } else {
                "not recommended"
            };
            s.push_str(&format!("  {}: {mark}: {}\n", v.method, v.reason));
        }
    } else if r
        .verdicts
        .iter()
        .any(|v| v.reason.starts_with("not trusted"))
    {
        s.push_str("\n(--explain says why each method was or was not recommended.)\n");
    }
    s
}

/// The run-mean design beside the interval one: rank, condition number,
/// the combinations the runs cannot separate, the classes that move
/// together (and `--group-by user_class` when the requests have it).
fn run_level(id: &RunIdentifiability, classes: usize, user_class: bool) -> String {
    let mut s = format!(
        "run-mean design ({} runs): rank {} of {} classes, condition number {}",
        id.runs,
        id.rank,
        classes,
        id.condition_number
            .map_or("infinite".to_string(), |k| num(Some(k)))
    );
    if id.identifiable.iter().all(|&b| b) {
        s.push_str(" (the runs separate every class)\n");
        return s;
    }
    s.push_str(" (the runs do not separate the classes)\n");
    for w in &id.weak_directions {
        let terms: Vec<String> = w
            .classes
            .iter()
            .map(|(c, v)| format!("{} {c}", num(Some(*v))))
            .collect();
        s.push_str(&format!(
            "  undetermined across runs: {} (relative singular value {})\n",
            terms.join(" + "),
            num(Some(w.relative_singular_value))
        ));
    }
    for g in &id.collinear_groups {
        s.push_str(&format!(
            "  move together across runs: {} (only their combined demand is determined)\n",
            g.join(", ")
        ));
    }
    if user_class {
        s.push_str("  the requests name their user class: --group-by user_class estimates one demand per user class\n");
    }
    s
}

/// The load model: the chosen forms with their parameters, each form's
/// leave-one-run-out error, what limited the choice.
fn load_model(m: &LoadModel) -> String {
    let mut s = format!(
        "\nLoad dependence ({} runs, Ū {}): chosen {}\n",
        m.runs.len(),
        num(Some(m.mean_utilization)),
        m.chosen
    );
    for c in &m.classes {
        let params: Vec<String> = c
            .parameters
            .iter()
            .map(|p| {
                format!(
                    "{} = {} ({} – {})",
                    p.name,
                    num(Some(p.value)),
                    num(Some(p.ci.0)),
                    num(Some(p.ci.1))
                )
            })
            .collect();
        let errors: Vec<String> = c
            .loro_error
            .iter()
            .map(|(f, e)| {
                format!(
                    "{} {}",
                    f.id(),
                    e.map_or("-".to_string(), |e| format!("{} %", num(Some(100.0 * e))))
                )
            })
            .collect();
        s.push_str(&format!(
            "  {}: {}: {}; {} run(s) at {} load(s); leave-one-run-out error: {}\n",
            c.class,
            c.form.id(),
            params.join(", "),
            c.runs,
            c.loads,
            errors.join(", ")
        ));
    }
    if let Some((f, p)) = &m.shared {
        s.push_str(&format!(
            "  shared {} slope {} = {} ({} – {})\n",
            f.id(),
            p.name,
            num(Some(p.value)),
            num(Some(p.ci.0)),
            num(Some(p.ci.1))
        ));
    }
    let candidates: Vec<String> = m
        .candidates
        .iter()
        .map(|c| {
            format!(
                "{}: {}",
                c.name,
                c.loro_error
                    .map_or("-".to_string(), |e| format!("{} %", num(Some(100.0 * e))))
            )
        })
        .collect();
    s.push_str(&format!("  candidates: {}\n", candidates.join("; ")));
    if m.dof == 0 {
        s.push_str(
            "  as many parameters as runs: the intervals are the runs' measurement noise only\n",
        );
    }
    for n in &m.notes {
        s.push_str(&format!("  {n}\n"));
    }
    s
}
