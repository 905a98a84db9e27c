//! `demandsim compare`.

use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use demandsim::compare::{Accumulator, Comparison, Summary, compare};
use demandsim::qpn::{ProbeResult, choose_probe};
use demandsim::trace::RequestReader;

use super::io::open_input;
use super::table::{Table, num};
use super::{Format, UsageError, check_one_stdin};
use demandsim::report::format::TEXT;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Measured canonical requests.csv (repeat for several; `-` for stdin;
    /// gzip is detected). Failed requests are left out.
    #[arg(long, value_name = "FILE", required = true)]
    requests: Vec<PathBuf>,
    /// Simulation result: the JSON of `demandsim simulate --format json`.
    #[arg(long, value_name = "SIM.json")]
    simulated: PathBuf,
    /// Probe of the simulation [default: `response`, or the first].
    #[arg(long)]
    probe: Option<String>,
    /// Colour of the probe [default: its first].
    #[arg(long)]
    color: Option<String>,
    /// Also compare each request class with the probe's colour of the same
    /// name (a model with one colour per class).
    #[arg(long)]
    by_class: bool,
    /// Exit with code 3 when |error| of the mean or of a percentile exceeds
    /// PCT percent (for CI gates; with --by-class, of every class too).
    #[arg(long, value_name = "PCT")]
    max_error: Option<f64>,
    #[command(flatten)]
    out: super::OutputArgs,
}

#[derive(serde::Deserialize)]
struct SimDoc {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    seed: Option<u64>,
    probes: Vec<ProbeResult>,
}

/// The successful requests of every file: all of them, and per class (in
/// order of first appearance).
fn measured_by_class(paths: &[PathBuf]) -> Result<(Accumulator, Vec<(String, Accumulator)>)> {
    let mut acc = Accumulator::default();
    let mut classes: Vec<(String, Accumulator)> = Vec::new();
    for path in paths {
        let ctx = || path.display().to_string();
        let mut reader = RequestReader::new(open_input(path)?).with_context(ctx)?;
        while let Some(r) = reader.next_request() {
            let r = r.with_context(ctx)?;
            if r.success {
                acc.push(r.response_time);
                let name = reader.classes().name(r.class);
                match classes.iter_mut().find(|(n, _)| n == name) {
                    Some((_, a)) => a.push(r.response_time),
                    None => {
                        let mut a = Accumulator::default();
                        a.push(r.response_time);
                        classes.push((name.to_string(), a));
                    }
                }
            }
        }
    }
    Ok((acc, classes))
}

/// One class measured against the probe's colour of its name.
#[derive(serde::Serialize)]
struct ClassLine {
    class: String,
    measured: Summary,
    simulated: Option<Summary>,
    comparison: Option<Comparison>,
}

/// Per class, the comparison with the probe's colour of the class's name
/// (none when the simulation lacks it).
fn by_class(doc: &SimDoc, probe: &str, classes: Vec<(String, Accumulator)>) -> Vec<ClassLine> {
    classes
        .into_iter()
        .map(|(class, acc)| {
            let measured = acc.summary();
            let simulated = doc
                .probes
                .iter()
                .find(|p| p.name == probe && p.color == class)
                .map(Summary::from)
                .filter(|s| s.mean_s.is_some());
            let comparison = simulated.as_ref().map(|s| compare(&measured, s));
            ClassLine {
                class,
                measured,
                simulated,
                comparison,
            }
        })
        .collect()
}

fn pick<'a>(doc: &'a SimDoc, a: &Args, path: &Path) -> Result<&'a ProbeResult> {
    if doc.probes.is_empty() {
        anyhow::bail!("{}: the simulation has no probes", path.display());
    }
    let rows: Vec<&ProbeResult> = doc
        .probes
        .iter()
        .filter(|p| a.color.as_ref().is_none_or(|c| &p.color == c))
        .collect();
    let names: Vec<&str> = rows.iter().map(|p| p.name.as_str()).collect();
    choose_probe(&names, a.probe.as_deref())
        .map(|i| rows[i])
        .map_err(|_| {
            let name = a.probe.as_deref().unwrap_or("response");
            UsageError(format!(
                "{}: no probe `{name}`{} (it has: {})",
                path.display(),
                a.color
                    .as_ref()
                    .map(|c| format!(" of colour `{c}`"))
                    .unwrap_or_default(),
                doc.probes
                    .iter()
                    .map(|p| format!("{} ({})", p.name, p.color))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into()
        })
}

/// What `compare --format json` writes.
#[derive(serde::Serialize)]
struct CompareDoc<'a> {
    model: Option<&'a str>,
    seed: Option<u64>,
    probe: &'a str,
    color: &'a str,
    measured: &'a Summary,
    simulated: &'a Summary,
    comparison: &'a Comparison,
    classes: &'a [ClassLine],
}

pub fn run(a: Args) -> Result<ExitCode> {
    check_one_stdin(a.requests.iter().chain([&a.simulated]))?;
    if let Some(m) = a.max_error
        && !(m.is_finite() && m >= 0.0)
    {
        return Err(UsageError(format!("--max-error must be a percentage >= 0, got {m}")).into());
    }
    let doc = read_simulation(&a.simulated)?;
    let probe = pick(&doc, &a, &a.simulated)?;
    let (acc, per_class) = measured_by_class(&a.requests)?;
    if acc.count() == 0 {
        anyhow::bail!("the measured traces hold no successful request");
    }
    let meas = acc.summary();
    let sim = Summary::from(probe);
    if sim.mean_s.is_none() {
        anyhow::bail!(
            "{}: probe {} ({}) has no measured passage",
            a.simulated.display(),
            probe.name,
            probe.color
        );
    }
    let c = compare(&meas, &sim);
    let classes = if a.by_class {
        by_class(&doc, &probe.name, per_class)
    } else {
        Vec::new()
    };
    let mut out = a.out.create()?;
    match a.out.format {
        Format::Json => {
            let doc = CompareDoc {
                model: doc.model.as_deref(),
                seed: doc.seed,
                probe: &probe.name,
                color: &probe.color,
                measured: &meas,
                simulated: &sim,
                comparison: &c,
                classes: &classes,
            };
            out.write_all(&demandsim::report::json(&doc)?)?;
        }
        Format::Csv => write_csv(&mut out, &c)?,
        Format::Table => {
            let text = render(&c, &meas, doc.model.as_deref(), probe, a.requests.len());
            write!(out, "{text}{}", render_classes(&classes))?;
        }
    }
    out.commit()?;
    let worst = classes
        .iter()
        .filter_map(|l| l.comparison.as_ref()?.max_abs_error_pct)
        .chain(c.max_abs_error_pct)
        .reduce(f64::max);
    if let (Some(limit), Some(worst)) = (a.max_error, worst)
        && worst > limit
    {
        eprintln!("error: the largest |error| is {worst:.1} %, above --max-error {limit} %");
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON of `simulate --format json` (`-` is stdin).
fn read_simulation(path: &Path) -> Result<SimDoc> {
    let mut text = String::new();
    super::io::open_document(path)?
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: expected the JSON of `demandsim simulate --format json`",
            path.display()
        )
    })
}

fn write_csv(out: &mut impl Write, c: &Comparison) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "statistic",
        "measured_s",
        "simulated_s",
        "simulated_ci_half_width_s",
        "error_pct",
    ])?;
    for l in &c.lines {
        w.write_record([
            l.statistic,
            &l.measured_s.to_string(),
            &l.simulated_s.to_string(),
            &l.simulated_ci_half_width_s
                .map(|x| x.to_string())
                .unwrap_or_default(),
            &l.error_pct.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// The comparison as a table.
pub fn render(
    c: &Comparison,
    meas: &Summary,
    model: Option<&str>,
    probe: &ProbeResult,
    files: usize,
) -> String {
    let mut s = format!(
        "measured: {} request(s) from {files} file(s), mean ± {} s; simulated: model {}, probe {} ({}), {} passages\nerror % = (measured − simulated) / measured × 100\n\n",
        meas.count,
        num(meas.ci_half_width_s),
        model.unwrap_or("?"),
        probe.name,
        probe.color,
        probe.count
    );
    let (header, rows) = demandsim::report::comparison_rows(c, TEXT);
    let mut t = Table::new(header);
    for row in rows {
        t.row(row);
    }
    s.push_str(&t.render());
    if let (Some(ks), Some(w)) = (c.ks, c.wasserstein_s) {
        s.push_str(&format!(
            "\ndistribution: Kolmogorov–Smirnov distance {ks:.3}, Wasserstein {} s\n",
            num(Some(w))
        ));
    }
    s
}

/// The per-class lines as a table (empty without --by-class).
fn render_classes(classes: &[ClassLine]) -> String {
    if classes.is_empty() {
        return String::new();
    }
    let mut t = Table::new(vec![
        "class",
        "requests",
        "measured mean [s]",
        "simulated mean [s]",
        "error",
        "measured p95 [s]",
        "simulated p95 [s]",
        "p95 error",
    ]);
    let pct = |v: Option<f64>| TEXT.pct(v);
    for l in classes {
        let sim = l.simulated.as_ref();
        let err = |stat: &str| {
            l.comparison
                .as_ref()
                .and_then(|c| c.lines.iter().find(|x| x.statistic == stat))
                .map(|x| x.error_pct)
        };
        t.row(vec![
            l.class.clone(),
            l.measured.count.to_string(),
            num(l.measured.mean_s),
            num(sim.and_then(|s| s.mean_s)),
            pct(err("mean")),
            num(l.measured.percentiles_s[2]),
            num(sim.and_then(|s| s.percentiles_s[2])),
            pct(err("p95")),
        ]);
    }
    let none = if classes.iter().all(|l| l.simulated.is_none()) {
        "no class has a colour of its name in the simulation's probe: --by-class needs a model with one colour per request class\n"
    } else {
        ""
    };
    format!(
        "\nper class (the probe's colour of the class's name):\n{}{none}",
        t.render()
    )
}
