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
    /// Exit with code 3 when |error| of the mean or of a percentile exceeds
    /// PCT percent (for CI gates).
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

/// Streams the response times of successful requests of every file.
pub fn measured(paths: &[PathBuf]) -> Result<Accumulator> {
    let mut acc = Accumulator::default();
    for path in paths {
        let ctx = || path.display().to_string();
        let mut reader = RequestReader::new(open_input(path)?).with_context(ctx)?;
        while let Some(r) = reader.next_request() {
            let r = r.with_context(ctx)?;
            if r.success {
                acc.push(r.response_time);
            }
        }
    }
    Ok(acc)
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

pub fn run(a: Args) -> Result<ExitCode> {
    check_one_stdin(a.requests.iter().chain([&a.simulated]))?;
    if let Some(m) = a.max_error
        && !(m.is_finite() && m >= 0.0)
    {
        return Err(UsageError(format!("--max-error must be a percentage >= 0, got {m}")).into());
    }
    let text = {
        let mut s = String::new();
        open_input(&a.simulated)?
            .read_to_string(&mut s)
            .with_context(|| format!("cannot read {}", a.simulated.display()))?;
        s
    };
    let doc: SimDoc = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: expected the JSON of `demandsim simulate --format json`",
            a.simulated.display()
        )
    })?;
    let probe = pick(&doc, &a, &a.simulated)?;
    let acc = measured(&a.requests)?;
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
    let mut out = a.out.create()?;
    match a.out.format {
        Format::Json => {
            let v = serde_json::json!({
                "model": doc.model,
                "seed": doc.seed,
                "probe": probe.name,
                "color": probe.color,
                "measured": meas,
                "simulated": sim,
                "comparison": c,
            });
            serde_json::to_writer_pretty(&mut out, &v)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
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
        }
        Format::Table => write!(
            out,
            "{}",
            render(&c, &meas, doc.model.as_deref(), probe, a.requests.len())
        )?,
    }
    out.commit()?;
    if let (Some(limit), Some(worst)) = (a.max_error, c.max_abs_error_pct)
        && worst > limit
    {
        eprintln!("error: the largest |error| is {worst:.1} %, above --max-error {limit} %");
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
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
