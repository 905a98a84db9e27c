//! `demandsim validate`: every run of a study predicted from a fit on the
//! others, the held-out errors, and the prediction bands they calibrate.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use demandsim::report::json;
use demandsim::validate::{ErrorSummary, HoldOut, RunRow, Validation, band, validate};

use super::Format;
use super::study::{StudyFiles, load};
use super::table::Table;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Study file (YAML); its `validate:` section, if any, sets the
    /// defaults of the options below.
    #[arg(value_name = "STUDY.yaml")]
    study: PathBuf,
    /// Which runs each run is predicted from [default: the study's
    /// `validate: {hold_out}`, else estimate-from when the experiments
    /// have estimation runs].
    #[arg(long, value_enum)]
    hold_out: Option<HoldOutArg>,
    /// The prediction band's level (inner order statistics of the held-out
    /// errors) [default: their smallest and largest, (n − 1)/(n + 1)].
    #[arg(long)]
    level: Option<f64>,
    /// Random seed [default: the study's, or drawn and printed].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    output: super::OutputArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum HoldOutArg {
    /// Each estimation run fitted on the other estimation runs; the other
    /// runs by the study's own fit.
    EstimateFrom,
    /// Each experiment with traces fitted on all the others.
    Experiments,
}

pub fn run(a: Args) -> Result<()> {
    super::simulate::set_threads(a.threads)?;
    if let Some(l) = a.level
        && !(l > 0.0 && l < 1.0)
    {
        return Err(super::UsageError(format!(
            "--level: expected a fraction between 0 and 1, got {l}"
        ))
        .into());
    }
    let study = load(&a.study)?;
    let mut spec = study.validate.clone().unwrap_or_default();
    if let Some(h) = a.hold_out {
        spec.hold_out = Some(match h {
            HoldOutArg::EstimateFrom => HoldOut::EstimateFrom,
            HoldOutArg::Experiments => HoldOut::Experiments,
        });
    }
    spec.level = a.level.or(spec.level);
    let seed = super::simulate::seed_or_draw(a.seed.or(study.seed));
    let files = StudyFiles {
        base: a.study.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let v = validate(&study, &files, seed, &spec)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.study.display()))?;
    let mut out = a.output.create()?;
    match a.output.format {
        Format::Json => out.write_all(&json(&v)?)?,
        Format::Csv => write_csv(&mut out, &v)?,
        Format::Table => write!(out, "{}", render(&v))?,
    }
    out.commit()
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{:+.1} %", 100.0 * x))
}

fn ms(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{:.2}", 1000.0 * x))
}

fn util(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{x:.2}"))
}

/// A band's ends in ms; an upper end beyond [`band::UNBOUNDED_S`] (widened far
/// beyond the calibration loads, near saturation) says so instead of
/// printing a number of twenty digits.
fn range_ms(lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (None, None) => "-".into(),
        (_, Some(h)) if h > band::UNBOUNDED_S => format!("{}–unbounded", ms(lo)),
        _ => format!("{}–{}", ms(lo), ms(hi)),
    }
}

fn place(r: &RunRow) -> String {
    match (r.position, r.fit_loads) {
        (Some(p), Some((lo, hi))) => {
            format!("{} {lo:.2}–{hi:.2}", name_of(&p))
        }
        _ => "-".into(),
    }
}

fn run_table(rows: &[RunRow], level: bool) -> String {
    let mut t = Table::new([
        "run",
        "role",
        "U",
        "measured ms",
        "p95 ms",
        "predicted ms",
        "error",
        "fit loads",
        "estimation band ms",
        "prediction band ms",
        "covered",
    ]);
    for r in rows {
        let role = match (&r.level, level) {
            (Some(l), true) => l.clone(),
            _ => name_of(&r.role).replace('_', " "),
        };
        let covered = covered(r.covered, &r.failed);
        let est = r
            .estimation_band_s
            .map(|[lo, hi]| (lo, hi))
            .unwrap_or((None, None));
        t.row(vec![
            r.name.clone(),
            role,
            util(r.utilization),
            ms(r.measured_mean_s),
            ms(r.measured_p95_s),
            ms(r.predicted_mean_s),
            pct(r.error),
            place(r),
            range_ms(est.0, est.1),
            range_ms(r.band_low_s, r.band_high_s),
            covered,
        ]);
    }
    t.render()
}

/// The p95 rows (runs whose traces are per request): predicted, error,
/// prediction band calibrated on the other runs' p95 errors.
fn p95_table(rows: &[RunRow]) -> String {
    let mut t = Table::new([
        "run",
        "measured p95 ms",
        "predicted p95 ms",
        "p95 error",
        "p95 prediction band ms",
        "covered",
    ]);
    for r in rows.iter().filter(|r| r.p95_error.is_some()) {
        let band = r.p95_prediction_band.as_ref();
        t.row(vec![
            r.name.clone(),
            ms(r.measured_p95_s),
            ms(r.predicted_p95_s),
            pct(r.p95_error),
            range_ms(band.map(|b| b.low_s), band.map(|b| b.high_s)),
            covered(r.p95_covered, &r.failed),
        ]);
    }
    t.render()
}

/// The p95 part of the report, where runs have a p95 error.
fn p95_lines(v: &Validation) -> String {
    if !v.runs.iter().any(|r| r.p95_error.is_some()) {
        return String::new();
    }
    let mut out = "
the 95th percentile (runs with per-request traces)
"
    .to_string();
    out.push_str(&p95_table(&v.runs));
    if let (Some(c), Some(n)) = (v.p95_coverage, v.p95_nominal) {
        out.push_str(&format!(
            "p95 prediction band: covers {} of {} runs ({:.0} %), nominal {:.0} %\n",
            v.p95_covered,
            v.p95_with_band,
            100.0 * c,
            100.0 * n
        ));
    }
    let mut abs: Vec<f64> = v
        .runs
        .iter()
        .filter_map(|r| r.p95_error)
        .map(f64::abs)
        .collect();
    abs.sort_by(f64::total_cmp);
    out.push_str(&format!(
        "|p95 error| over {} runs: median {:.1} %, max {:.1} %\n",
        abs.len(),
        100.0 * abs[abs.len() / 2],
        100.0 * abs[abs.len() - 1]
    ));
    out
}

fn covered(c: Option<bool>, failed: &Option<String>) -> String {
    match (c, failed) {
        (_, Some(_)) => "failed".into(),
        (Some(true), _) => "yes".into(),
        (Some(false), _) => "NO".into(),
        (None, _) => "-".into(),
    }
}

fn summary_lines(s: &ErrorSummary) -> String {
    let abs = |x: Option<f64>| x.map_or("-".into(), |x| format!("{:.1} %", 100.0 * x));
    let mut out = format!(
        "|error| over {} runs: median {}, max {}\n",
        s.runs,
        abs(s.median_abs_error),
        abs(s.max_abs_error)
    );
    for b in &s.by_distance {
        out.push_str(&format!(
            "  {}: {} run(s), median {:.1} %, p90 {:.1} %, max {:.1} %\n",
            b.distance,
            b.runs,
            100.0 * b.median_abs_error,
            100.0 * b.p90_abs_error,
            100.0 * b.max_abs_error
        ));
    }
    out
}

fn render(v: &Validation) -> String {
    let mut out = format!(
        "validate {} (seed {})\nfits: {}\n\nleave one run out\n",
        v.study, v.seed, v.protocol
    );
    out.push_str(&run_table(&v.runs, false));
    out.push_str("\nestimation band: the prediction at the ends of the demands' 95 % intervals (the estimate's noise only)\n");
    if let (Some(c), Some(n)) = (v.coverage, v.nominal) {
        let cal = v
            .runs
            .iter()
            .filter_map(|r| r.prediction_band.as_ref())
            .map(|b| b.calibration_runs)
            .max()
            .unwrap_or(0);
        out.push_str(&format!(
            "prediction band, calibrated on {cal} held-out runs (each run's on the others'): covers {} of {} runs ({:.0} %), nominal {:.0} %\n",
            v.covered,
            v.with_band,
            100.0 * c,
            100.0 * n
        ));
        let widths: Vec<f64> = v
            .runs
            .iter()
            .filter_map(|r| Some((r.band_high_s? - r.band_low_s?) / r.predicted_mean_s?))
            .collect();
        if !widths.is_empty() {
            let mut w = widths.clone();
            w.sort_by(f64::total_cmp);
            out.push_str(&format!(
                "prediction band width / predicted: median {:.0} %, max {:.0} %\n",
                100.0 * w[w.len() / 2],
                100.0 * w[w.len() - 1]
            ));
        }
    }
    out.push_str(&summary_lines(&v.summary));
    out.push_str(&p95_lines(v));
    if !v.load_out.is_empty() {
        out.push_str(
            "\nleave one load out (each level's runs predicted together from the other levels)\n",
        );
        out.push_str(&run_table(&v.load_out, true));
        if let Some(s) = &v.load_out_summary {
            out.push_str(&summary_lines(s));
        }
    }
    for r in v
        .runs
        .iter()
        .chain(&v.load_out)
        .filter(|r| r.failed.is_some())
    {
        out.push_str(&format!(
            "{}: failed: {}\n",
            r.name,
            r.failed.as_deref().unwrap_or_default()
        ));
    }
    for n in &v.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

fn write_csv(out: &mut impl Write, v: &Validation) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "part",
        "run",
        "role",
        "level",
        "utilization",
        "measured_mean_s",
        "measured_p95_s",
        "predicted_mean_s",
        "error",
        "position",
        "band_low_s",
        "band_high_s",
        "nominal",
        "covered",
        "predicted_p95_s",
        "p95_error",
        "p95_band_low_s",
        "p95_band_high_s",
        "p95_covered",
    ])?;
    let f = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
    for (part, rows) in [("run", &v.runs), ("load", &v.load_out)] {
        for r in rows {
            w.write_record([
                part.to_string(),
                r.name.clone(),
                name_of(&r.role),
                r.level.clone().unwrap_or_default(),
                f(r.utilization),
                f(r.measured_mean_s),
                f(r.measured_p95_s),
                f(r.predicted_mean_s),
                f(r.error),
                r.position.as_ref().map(name_of).unwrap_or_default(),
                f(r.band_low_s),
                f(r.band_high_s),
                f(r.prediction_band.as_ref().map(|b| b.nominal)),
                r.covered.map(|c| c.to_string()).unwrap_or_default(),
                f(r.predicted_p95_s),
                f(r.p95_error),
                f(r.p95_prediction_band.as_ref().map(|b| b.low_s)),
                f(r.p95_prediction_band.as_ref().map(|b| b.high_s)),
                r.p95_covered.map(|c| c.to_string()).unwrap_or_default(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// An enum's name as the JSON writes it.
fn name_of<T: serde::Serialize>(x: &T) -> String {
    serde_json::to_value(x)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
