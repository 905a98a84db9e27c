//! `demandsim sweep` and `demandsim merge`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use demandsim::capacity::Slo;
use demandsim::number::short;
use demandsim::study::{OneOrSeveral, StudySummary, merge_shards, read_summaries};
use demandsim::sweep::{self, Axis, Calibration, Config, Grid, Method, Point, Shard, Statistic};
use demandsim::validate::CalibrationError;
use serde::{Deserialize, Serialize};

use super::bind::read_binds;
use super::shard::{SweepSettings, bind_with_fingerprint, file_fingerprint};
use super::simulate::{load_template, parse_warmup, seed_or_draw, set_threads, settings};
use super::table::{Table, num};
use super::{Format, UsageError};
use demandsim::report::format::TEXT;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(value_name = "MODEL.yaml")]
    model: PathBuf,
    /// A swept parameter: NAME=V1,V2,… or NAME=LO..HI:STEPS (repeatable:
    /// the grid is the Cartesian product, the last one varying fastest).
    #[arg(long, value_name = "SPEC")]
    grid: Vec<String>,
    /// A fixed setting, NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Bind a parameter to an estimated demand and its bootstrap draws:
    /// PARAM=estimates.json:CLASS (from `estimate --format json --draws
    /// N`; CLASS may be `(mix)`, the mix-weighted mean). Repeatable:
    /// classes of one file take the same draw (their correlation kept),
    /// different files independent draws.
    #[arg(long, value_name = "PARAM=FILE:CLASS")]
    bind: Vec<String>,
    /// The method whose estimate `--bind` takes [default: the
    /// recommended one].
    #[arg(long, value_name = "METHOD")]
    estimate_method: Option<String>,
    /// The JSON of `demandsim validate --format json`: its held-out errors
    /// give every point a prediction band of its mean (and of its p95
    /// where the validated runs had per-request traces).
    #[arg(long, value_name = "VALIDATE.json")]
    calibration: Option<PathBuf>,
    /// How each point is solved.
    #[arg(long, value_enum, default_value = "auto")]
    method: MethodArg,
    /// Simulated requests per point.
    #[arg(long, default_value_t = 100_000)]
    requests: u64,
    /// Warm-up of the simulations: auto, none, or a number of requests.
    #[arg(long, default_value = "auto")]
    warmup: String,
    /// Independent replications per simulated point.
    #[arg(long, default_value_t = 1, value_name = "K")]
    replications: usize,
    /// Only shard I of N (points whose index is I − 1 modulo N); `merge`
    /// puts the shards back together.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Also d ln R / d ln θ of every probe's mean for every parameter
    /// (JSON `elasticities`).
    #[arg(long)]
    sensitivity: bool,
    /// Write a plot (sweep.svg) and a page (index.html) of the first
    /// probe's mean against the first swept parameter into DIR.
    #[arg(long = "out", value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Multiply every load of the model (its arrival rates, or users in a
    /// closed model) by X; `--grid load_scale=…` sweeps it.
    #[arg(long, value_name = "X")]
    scale_load: Option<f64>,
    /// A response-time objective to draw on the plot: STAT<=LIMIT, e.g.
    /// p95<=50ms or mean<=1.2s.
    #[arg(long, value_name = "STAT<=LIMIT")]
    slo: Option<String>,
    /// A measured run to draw on the plot: requests.csv@PARAM=VALUE, its
    /// mean response time at that value of the first swept parameter
    /// (repeatable).
    #[arg(long, value_name = "FILE@PARAM=VALUE")]
    measured: Vec<String>,
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    out: super::OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum MethodArg {
    Auto,
    Analytic,
    Simulate,
}

/// The JSON of a sweep (or of one shard of it).
#[derive(Debug, Serialize, Deserialize)]
struct Output {
    model: String,
    seed: u64,
    #[serde(serialize_with = "demandsim::number::whole_map_seq")]
    grid: BTreeMap<String, Vec<f64>>,
    /// Grid order (the JSON object above is sorted by name).
    axes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    shard: Option<Shard>,
    /// A part's settings, which `merge` holds the parts to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    settings: Option<SweepSettings>,
    /// With `--calibration`: what each statistic's prediction band is
    /// calibrated on, or why it has none.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    prediction_bands: Vec<BandBasis>,
    points: Vec<Point>,
}

/// What a statistic's prediction bands are calibrated on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct BandBasis {
    /// `mean` or `p95`.
    statistic: String,
    /// The validated study.
    study: String,
    /// Held-out runs.
    calibration_runs: usize,
    /// The level the bands claim (`None`: no band).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    nominal: Option<f64>,
    /// `prediction band, calibrated on N held-out runs (L %)`, or why
    /// there is none.
    label: String,
}

/// `--calibration FILE`: the mean's held-out errors and, where the runs
/// had per-request traces, the p95's.
fn read_calibrations(path: &Path) -> Result<Vec<Calibration>> {
    let text = super::io::read_document(path)?;
    let named = |e: CalibrationError| anyhow::anyhow!("{}: {e}", path.display());
    let mean = Calibration::from_json(text.as_bytes(), Statistic::Mean).map_err(named)?;
    let mut out = vec![mean];
    match Calibration::from_json(text.as_bytes(), Statistic::P95) {
        Ok(p95) => out.push(p95),
        Err(e) => log::warn!("{}: {e}; the p95 has no prediction band", path.display()),
    }
    Ok(out)
}

/// Each calibration's basis, as the output says it.
fn bases(calibrations: &[Calibration]) -> Vec<BandBasis> {
    calibrations
        .iter()
        .map(|c| {
            let (nominal, label) = match c.band(1.0, None) {
                Ok(b) => (Some(b.nominal), b.label()),
                Err(why) => (None, why.to_string()),
            };
            BandBasis {
                statistic: c.statistic.to_string(),
                study: c.study.clone(),
                calibration_runs: c.runs(),
                nominal,
                label,
            }
        })
        .collect()
}

pub fn run(a: Args) -> Result<()> {
    set_threads(a.threads)?;
    let template = load_template(&a.model)?;
    let axes = a
        .grid
        .iter()
        .map(|g| Axis::parse(g).map_err(|e| UsageError(format!("--grid {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let grid = Grid::new(axes, &template).map_err(|e| UsageError(format!("--grid: {e}")))?;
    let shard = a
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|e| UsageError(format!("--shard: {e}")))?;
    let slo = a
        .slo
        .as_deref()
        .map(Slo::parse)
        .transpose()
        .map_err(|e| UsageError(format!("--slo: {e}")))?;
    let seed = seed_or_draw(a.seed);
    let binds = read_binds(&a.bind, a.estimate_method.as_deref(), &template, seed)?
        .joined
        .binds;
    let calibrations = match &a.calibration {
        Some(p) => read_calibrations(p)?,
        None => Vec::new(),
    };
    let prediction_bands = bases(&calibrations);
    if a.scale_load.is_some() {
        demandsim::load_scale::check(&template)
            .map_err(|e| UsageError(format!("--scale-load: {e}")))?;
    }
    let cfg = Config {
        method: match a.method {
            MethodArg::Auto => Method::Auto,
            MethodArg::Analytic => Method::Analytic,
            MethodArg::Simulate => Method::Simulate,
        },
        requests: a.requests,
        replications: a.replications,
        warmup: parse_warmup(&a.warmup)?,
        seed,
        base: settings(&a.set)?,
        binds,
        load_scale: a.scale_load,
        shard,
        sensitivity: a.sensitivity,
        calibrations,
    };
    let points = with_bar(grid.len(), shard, |tick| {
        sweep::run(&template, &grid, &cfg, tick)
    });
    let out = Output {
        model: template.name().to_string(),
        seed,
        grid: grid
            .axes
            .iter()
            .map(|x| (x.name.clone(), x.values.clone()))
            .collect(),
        axes: grid.axes.iter().map(|x| x.name.clone()).collect(),
        shard,
        settings: shard.map(|_| shard_settings(&a)).transpose()?,
        prediction_bands,
        points,
    };
    if let Some(dir) = &a.out_dir {
        let measured = a
            .measured
            .iter()
            .map(|m| read_measured(m, &out.axes[0]))
            .collect::<Result<Vec<_>>>()?;
        write_page(dir, &out, slo.map(|s| s.limit_s), &measured)?;
    }
    write(&out, &a.out)
}

/// What a shard records of its settings.
fn shard_settings(a: &Args) -> Result<SweepSettings> {
    let mut set = a.set.clone();
    set.sort();
    Ok(SweepSettings {
        model_file: file_fingerprint(&a.model)?,
        set,
        method: format!("{:?}", a.method).to_lowercase(),
        requests: a.requests,
        warmup: a.warmup.clone(),
        replications: a.replications,
        bind: a
            .bind
            .iter()
            .map(|b| bind_with_fingerprint(b))
            .collect::<Result<_>>()?,
        estimate_method: a.estimate_method.clone(),
        sensitivity: a.sensitivity,
        calibration: a
            .calibration
            .as_ref()
            .map(|p| Ok::<_, anyhow::Error>(format!("{}@{}", p.display(), file_fingerprint(p)?)))
            .transpose()?,
        scale_load: a.scale_load,
    })
}

/// `FILE@PARAM=VALUE`: (VALUE, mean response time of FILE's successful
/// requests).
fn read_measured(spec: &str, x_name: &str) -> Result<(f64, f64)> {
    let usage = || UsageError(format!("--measured {spec}: expected FILE@PARAM=VALUE"));
    let (file, at) = spec.rsplit_once('@').ok_or_else(usage)?;
    let (param, value) = at.split_once('=').ok_or_else(usage)?;
    if param != x_name {
        return Err(UsageError(format!(
            "--measured {spec}: the plot's x axis is `{x_name}`, not `{param}`"
        ))
        .into());
    }
    let value: f64 = value.parse().map_err(|_| usage())?;
    let input = super::io::open_input(Path::new(file))?;
    let mut reader =
        demandsim::trace::RequestReader::new(input).with_context(|| file.to_string())?;
    let (mut sum, mut n) = (0.0, 0u64);
    while let Some(r) = reader.next_request() {
        let r = r.with_context(|| file.to_string())?;
        if r.success {
            sum += r.response_time;
            n += 1;
        }
    }
    anyhow::ensure!(n > 0, "{file}: no successful request");
    Ok((value, sum / n as f64))
}

/// The plot and the page of a sweep in `dir`.
fn write_page(dir: &Path, out: &Output, slo: Option<f64>, measured: &[(f64, f64)]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let x_name = &out.axes[0];
    let mut lines: Vec<demandsim::report::plots::SweepLine> = Vec::new();
    for p in &out.points {
        let others: Vec<String> = out.axes[1..]
            .iter()
            .map(|a| format!("{a} = {}", short(p.params[a])))
            .collect();
        let label = if others.is_empty() {
            "predicted".to_string()
        } else {
            others.join(", ")
        };
        let Some(q) = p.probes.first() else { continue };
        let Some(mean) = q.mean_s else { continue };
        let point = (p.params[x_name], mean, q.band_low_s, q.band_high_s);
        match lines.iter_mut().find(|l| l.0 == label) {
            Some(l) => l.1.push(point),
            None => lines.push((label, vec![point])),
        }
    }
    let svg = demandsim::report::plots::sweep_curve(x_name, &lines, slo, measured)?;
    let unstable = out.points.iter().filter(|p| p.probes.is_empty()).count();
    let headline = format!(
        "{}: {} points over {}; {} without a steady state or an answer.",
        out.model,
        out.points.len(),
        out.axes.join(" × "),
        unstable
    );
    let predicted = has_band(out, "mean");
    let mut header: Vec<&str> = out.axes.iter().map(String::as_str).collect();
    header.extend(["mean [s]", "± [s]", "p95 [s]", "estimation band [s]"]);
    if predicted {
        header.push("prediction band [s]");
    }
    header.push("method");
    let rows: Vec<Vec<String>> = out
        .points
        .iter()
        .map(|p| {
            let mut row: Vec<String> = out.axes.iter().map(|a| short(p.params[a])).collect();
            let q = p.probes.first();
            row.push(num(q.and_then(|q| q.mean_s)));
            row.push(num(q.and_then(|q| q.ci_half_width_s)));
            row.push(num(q.and_then(|q| q.p95_s)));
            row.push(q.map_or("-".into(), |q| TEXT.range(q.band_low_s, q.band_high_s)));
            if predicted {
                let band = q.map(|q| (q.prediction_low_s, q.prediction_high_s));
                row.push(band.map_or("-".into(), |(l, h)| TEXT.range(l, h)));
            }
            row.push(p.method.clone());
            row
        })
        .collect();
    if let Some(svg) = &svg {
        super::io::Output::write_whole(&dir.join("sweep.svg"), svg.as_bytes())?;
    }
    let page = demandsim::report::sweep_html(
        &format!("Sweep of {}", out.model),
        &headline,
        svg.as_deref(),
        &header,
        &rows,
    );
    super::io::Output::write_whole(&dir.join("index.html"), page.as_bytes())
}

/// Runs `work` with a progress bar on stderr over this shard's points.
fn with_bar<T>(len: usize, shard: Option<Shard>, work: impl FnOnce(&(dyn Fn() + Sync)) -> T) -> T {
    let n = shard.map_or(len, |s| (len + s.of - s.index) / s.of);
    let bar = indicatif::ProgressBar::new(n as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} points, {eta} left")
            .expect("a valid template"),
    );
    if log::max_level() < log::LevelFilter::Warn {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let out = work(&|| bar.inc(1));
    bar.finish_and_clear();
    out
}

fn write(out: &Output, args: &super::OutputArgs) -> Result<()> {
    let mut o = args.create()?;
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut o, out)?;
            writeln!(o)?;
        }
        Format::Csv => write_csv(&mut o, out)?,
        Format::Table => write!(o, "{}", render(out))?,
    }
    o.commit()
}

/// Whether the output has prediction bands of `statistic`.
fn has_band(out: &Output, statistic: &str) -> bool {
    out.prediction_bands
        .iter()
        .any(|b| b.statistic == statistic)
}

fn write_csv(o: &mut impl Write, out: &Output) -> Result<()> {
    let mut w = csv::Writer::from_writer(o);
    let mut header = vec!["index".to_string()];
    header.extend(out.axes.iter().cloned());
    let mut cols = vec![
        "method",
        "probe",
        "color",
        "mean_s",
        "ci_half_width_s",
        "p95_s",
        "band_low_s",
        "band_high_s",
    ];
    let (mean_band, p95_band) = (has_band(out, "mean"), has_band(out, "p95"));
    if mean_band {
        cols.extend(["prediction_low_s", "prediction_high_s"]);
    }
    if p95_band {
        cols.extend(["p95_prediction_low_s", "p95_prediction_high_s"]);
    }
    header.extend(cols.iter().map(|c| c.to_string()));
    w.write_record(&header)?;
    let o = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for p in &out.points {
        let mut row = vec![p.index.to_string()];
        row.extend(out.axes.iter().map(|a| p.params[a].to_string()));
        row.push(p.method.clone());
        if p.probes.is_empty() {
            row.extend(std::iter::repeat_n(String::new(), cols.len() - 1));
            w.write_record(&row)?;
        }
        for q in &p.probes {
            let mut r = row.clone();
            r.extend([q.name.clone(), q.color.clone()]);
            let mut values = vec![
                q.mean_s,
                q.ci_half_width_s,
                q.p95_s,
                q.band_low_s,
                q.band_high_s,
            ];
            if mean_band {
                values.extend([q.prediction_low_s, q.prediction_high_s]);
            }
            if p95_band {
                values.extend([q.p95_prediction_low_s, q.p95_prediction_high_s]);
            }
            r.extend(values.into_iter().map(o));
            w.write_record(&r)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// A band's cell: `lo – hi`, `lo – ∞` without a high end, `-` without one.
fn band_cell(lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(l), Some(h)) => format!("{} – {}", num(Some(l)), num(Some(h))),
        (Some(l), None) => format!("{} – ∞", num(Some(l))),
        _ => "-".into(),
    }
}

/// The table's lines under it: what each band is.
fn band_notes(out: &Output) -> String {
    let mut s = String::new();
    for b in &out.prediction_bands {
        let what = if b.nominal.is_some() {
            format!(
                "{} of `{}`: the prediction corrected by the held-out errors at the band's ends, widened by the load amplification beyond their loads",
                b.label, b.study
            )
        } else {
            b.label.clone()
        };
        s.push_str(&format!("{} {what}\n", b.statistic));
    }
    let estimated = out
        .points
        .iter()
        .flat_map(|p| &p.probes)
        .any(|q| q.band_low_s.is_some());
    if !out.prediction_bands.is_empty() && estimated {
        s.push_str("estimation band: the bound demands' draws through the model (the estimate's noise only)\n");
    }
    s
}

fn render(out: &Output) -> String {
    let mut s = format!(
        "model {}: {} points, seed {}\n\n",
        out.model,
        out.points.len(),
        out.seed
    );
    let (mean_band, p95_band) = (has_band(out, "mean"), has_band(out, "p95"));
    let mut header: Vec<String> = out.axes.clone();
    header.extend(
        [
            "probe",
            "mean [s]",
            "± [s]",
            "p95 [s]",
            "estimation band [s]",
        ]
        .map(String::from),
    );
    if mean_band {
        header.push("prediction band [s]".into());
    }
    if p95_band {
        header.push("p95 prediction band [s]".into());
    }
    header.push("method".into());
    let width = header.len() - out.axes.len();
    let mut t = Table::new(header);
    for p in &out.points {
        let values: Vec<String> = out.axes.iter().map(|a| short(p.params[a])).collect();
        if p.probes.is_empty() {
            let mut row = values.clone();
            row.extend(std::iter::repeat_n("-".to_string(), width - 1));
            row.push(p.method.clone());
            t.row(row);
        }
        for q in &p.probes {
            let mut row = values.clone();
            row.extend([
                format!("{} {}", q.name, q.color),
                num(q.mean_s),
                num(q.ci_half_width_s),
                num(q.p95_s),
                band_cell(q.band_low_s, q.band_high_s),
            ]);
            if mean_band {
                row.push(band_cell(q.prediction_low_s, q.prediction_high_s));
            }
            if p95_band {
                row.push(band_cell(q.p95_prediction_low_s, q.p95_prediction_high_s));
            }
            row.push(p.method.clone());
            t.row(row);
        }
    }
    s.push_str(&t.render());
    s.push_str(&band_notes(out));
    s
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' `sweep --format json` outputs.
    #[arg(value_name = "PART.json", required = true)]
    parts: Vec<PathBuf>,
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// What a part given to `merge` is.
enum Part {
    Sweep(Box<Output>),
    Studies(Vec<StudySummary>),
}

/// `demandsim merge`: the shards of one sweep back into the whole, the
/// same bytes as the unsharded `--format json`; or the shards of a study
/// run (`study --shard I/N --format json`), the same bytes as the whole
/// study's.
pub fn merge(a: MergeArgs) -> Result<()> {
    let mut sweeps = Vec::new();
    let mut studies = Vec::new();
    for p in &a.parts {
        match read_part(p)? {
            Part::Sweep(o) => sweeps.push(*o),
            Part::Studies(s) => studies.push(s),
        }
    }
    if !studies.is_empty() && !sweeps.is_empty() {
        anyhow::bail!("the parts mix sweeps and studies: give the parts of one run");
    }
    if sweeps.is_empty() {
        let merged = merge_shards(studies).map_err(|e| match e.part() {
            Some(k) => anyhow::Error::new(e).context(a.parts[k - 1].display().to_string()),
            None => e.into(),
        })?;
        let mut o = super::io::Output::create(a.output.as_deref())?;
        o.write_all(&demandsim::report::json(&OneOrSeveral::of(&merged))?)?;
        return o.commit();
    }
    let out = merge_sweeps(&a.parts, sweeps)?;
    write(
        &out,
        &super::OutputArgs {
            format: Format::Json,
            output: a.output,
        },
    )
}

/// The shards of one sweep back into the whole.
fn merge_sweeps(paths: &[PathBuf], parts: Vec<Output>) -> Result<Output> {
    let first = &parts[0];
    let same = |o: &Output| {
        o.model == first.model
            && o.seed == first.seed
            && o.grid == first.grid
            && o.axes == first.axes
            && o.prediction_bands == first.prediction_bands
    };
    if let Some((p, _)) = paths.iter().zip(&parts).find(|(_, o)| !same(o)) {
        anyhow::bail!(
            "{} is not a part of the same sweep as {} (model, seed, grid and --calibration must match)",
            p.display(),
            paths[0].display()
        );
    }
    for (p, o) in paths.iter().zip(&parts) {
        let differ = match (&o.settings, &first.settings) {
            (Some(s), Some(f)) => s.differences(f),
            (None, None) => continue,
            _ => vec!["settings (one part records none: a whole run, or from an older version)"],
        };
        if !differ.is_empty() {
            anyhow::bail!(
                "{} was run with other settings than {}: {} differ; run every part with the same ones",
                p.display(),
                paths[0].display(),
                differ.join(", ")
            );
        }
    }
    let len = first.axes.iter().map(|n| first.grid[n].len()).product();
    let (model, seed, grid, axes, prediction_bands) = (
        first.model.clone(),
        first.seed,
        first.grid.clone(),
        first.axes.clone(),
        first.prediction_bands.clone(),
    );
    let points = sweep::merge(len, parts.into_iter().map(|o| o.points).collect())?;
    Ok(Output {
        model,
        seed,
        grid,
        axes,
        shard: None,
        settings: None,
        prediction_bands,
        points,
    })
}

/// A part: a study's JSON when it names a study (`study` or `studies`),
/// else a sweep's.
fn read_part(p: &Path) -> Result<Part> {
    /// The keys that tell a study's JSON from a sweep's.
    #[derive(serde::Deserialize)]
    struct Kind {
        study: Option<serde::de::IgnoredAny>,
        studies: Option<serde::de::IgnoredAny>,
    }
    let text = super::io::read_document(p)?;
    let what = || {
        format!(
            "{}: not the JSON of `sweep --format json` or of `study --shard I/N --format json`",
            p.display()
        )
    };
    let kind: Kind = serde_json::from_str(&text).with_context(what)?;
    if kind.study.is_some() || kind.studies.is_some() {
        return Ok(Part::Studies(read_summaries(&text).with_context(what)?));
    }
    Ok(Part::Sweep(Box::new(
        serde_json::from_str(&text).with_context(what)?,
    )))
}
