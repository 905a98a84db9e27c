//! `demandsim capacity`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use demandsim::capacity::{
    Answer, CapacityError, Query, Slo, Stat, calibrated_statistic, default_range, search,
};
use demandsim::load_scale::{LOAD_SCALE, is_load};
use demandsim::model::Params;
use demandsim::number::{shown, three_digits, to_precision};
use demandsim::report::format::TEXT;
use demandsim::validate::Calibration;

use super::bind::read_binds;
use super::simulate::{load_template, parse_warmup, seed_or_draw, settings};
use super::table::{Table, num};
use super::{Format, UsageError};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(value_name = "MODEL.yaml")]
    model: PathBuf,
    /// The parameter to search (a load, servers, containers), or
    /// `load_scale`: a multiplier of every load of the model at once.
    #[arg(long, value_name = "PARAM")]
    find: String,
    /// The objective: STAT<=LIMIT, STAT one of mean, p50, p90, p95, p99,
    /// LIMIT a time in ms or s (p95<=50ms, mean<=1.2s).
    #[arg(long, value_name = "STAT<=LIMIT")]
    slo: String,
    /// The probe [default: the model's first].
    #[arg(long)]
    probe: Option<String>,
    /// One request class (a colour of the probe) [default: all its
    /// classes together, each request counted once].
    #[arg(long, value_name = "CLASS")]
    class: Option<String>,
    /// Where to search, LO..HI [default: for a load, the bound estimates'
    /// measured loads halved and doubled; else a tenth of the parameter's
    /// value (1 with --integer) to four times it].
    #[arg(long, value_name = "LO..HI")]
    range: Option<String>,
    /// Whole values only (servers, containers).
    #[arg(long)]
    integer: bool,
    /// A fixed setting, NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Bind a parameter to an estimated demand: PARAM=estimates.json:CLASS
    /// (CLASS may be `(mix)`); repeatable, as `sweep --bind`. With draws,
    /// the answer carries its estimation band.
    #[arg(long, value_name = "PARAM=FILE:CLASS")]
    bind: Vec<String>,
    /// The method whose estimate `--bind` takes [default: the
    /// recommended one].
    #[arg(long, value_name = "METHOD")]
    estimate_method: Option<String>,
    /// The JSON of `demandsim validate --format json`: its held-out errors
    /// of the objective's statistic (mean or p95) give the answer's
    /// prediction band, the question solved at the band's ends.
    #[arg(long, value_name = "VALIDATE.json")]
    calibration: Option<PathBuf>,
    /// Multiply every load of the model (its arrival rates, or users in a
    /// closed model) by X while searching another parameter.
    #[arg(long, value_name = "X")]
    scale_load: Option<f64>,
    /// Always simulate (default: analytic where the model allows it).
    #[arg(long)]
    simulate: bool,
    /// Simulated requests per evaluation.
    #[arg(long, default_value_t = 200_000)]
    requests: u64,
    /// Warm-up of the simulations.
    #[arg(long, default_value = "auto")]
    warmup: String,
    #[arg(long)]
    seed: Option<u64>,
    #[command(flatten)]
    out: super::OutputArgs,
}

/// The JSON of `capacity`: the answer and where the range came from.
#[derive(serde::Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    answer: &'a Answer,
    #[serde(skip_serializing_if = "Option::is_none")]
    range_from: Option<&'a str>,
}

pub fn run(a: Args) -> Result<()> {
    let template = load_template(&a.model)?;
    let slo = Slo::parse(&a.slo).map_err(|e| UsageError(format!("--slo: {e}")))?;
    let seed = seed_or_draw(a.seed);
    let mut q = Query {
        param: a.find.clone(),
        slo,
        probe: a.probe.clone(),
        range: (0.0, 0.0),
        integer: a.integer,
        simulate_only: a.simulate,
        requests: a.requests,
        seed,
        warmup: parse_warmup(&a.warmup)?,
        base: base_settings(&template, &a)?,
        binds: Vec::new(),
        calibration: a
            .calibration
            .as_deref()
            .map(|p| read_calibration(p, slo.stat))
            .transpose()?,
        offset_s: 0.0,
        color: a.class.clone(),
    };
    let bound = read_binds(&a.bind, a.estimate_method.as_deref(), &template, seed)?;
    q.binds = bound.joined.binds;
    if !template.has_param(&q.param) && q.param != LOAD_SCALE {
        return Err(UsageError(format!(
            "--find: the model {} has no parameter `{}`",
            a.model.display(),
            q.param
        ))
        .into());
    }
    let mut range_from = None;
    q.range = match &a.range {
        Some(r) => parse_range(r)?,
        None => {
            let is_load = q.param == LOAD_SCALE || is_load(&q.param);
            let d = default_range(&template, &q, is_load, &bound.utilizations)?;
            range_from = Some(d.why);
            d.range
        }
    };
    let answer = match search(&template, &q) {
        Ok(x) => x,
        Err(e @ CapacityError::UnknownParam(_)) | Err(e @ CapacityError::LoadScale(_)) => {
            return Err(UsageError(format!("--find: {e}")).into());
        }
        Err(e @ CapacityError::Range { .. }) => {
            return Err(UsageError(format!("--range: {e}")).into());
        }
        Err(e @ CapacityError::Requests(_)) => {
            return Err(UsageError(format!("--requests: {e}")).into());
        }
        Err(e) => return Err(anyhow::Error::new(e).context(a.model.display().to_string())),
    };
    let mut out = a.out.create()?;
    match a.out.format {
        Format::Json => {
            let o = Output {
                answer: &answer,
                range_from: range_from.as_deref(),
            };
            serde_json::to_writer_pretty(&mut out, &o)?;
            writeln!(out)?;
        }
        Format::Csv => write_csv(&mut out, &answer)?,
        Format::Table => write!(out, "{}", render(&answer, range_from.as_deref()))?,
    }
    out.commit()
}

/// `--calibration FILE` for an objective of `stat`: the held-out errors of
/// that statistic.
fn read_calibration(path: &std::path::Path, stat: Stat) -> Result<Calibration> {
    let Some(statistic) = calibrated_statistic(stat) else {
        return Err(UsageError(format!(
            "--calibration: validate measures held-out errors of the mean and the p95 only, the objective is of the {stat}: ask --slo of mean or p95 for a prediction band"
        ))
        .into());
    };
    let text = super::io::read_document(path)?;
    Calibration::from_json(text.as_bytes(), statistic)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// `--set`, with `--scale-load` applied (refused when the search is over
/// the load itself).
fn base_settings(template: &demandsim::model::Template, a: &Args) -> Result<Params> {
    let base = settings(&a.set)?;
    let Some(x) = a.scale_load else {
        return Ok(base);
    };
    if a.find == LOAD_SCALE {
        return Err(
            UsageError("--scale-load: the search is over the load scale itself".into()).into(),
        );
    }
    demandsim::load_scale::check(template).map_err(|e| UsageError(format!("--scale-load: {e}")))?;
    Ok(demandsim::load_scale::scaled(template, &base, x)
        .map_err(|e| UsageError(format!("--scale-load: {e}")))?)
}

fn write_csv(out: &mut impl Write, answer: &Answer) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "value",
        "stat_s",
        "ci_half_width_s",
        "mean_s",
        "meets",
        "method",
    ])?;
    let o = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for s in &answer.steps {
        let meets = s.stat_s.is_some_and(|x| x <= answer.slo.limit_s);
        w.write_record([
            s.value.to_string(),
            o(s.stat_s),
            o(s.ci_half_width_s),
            o(s.mean_s),
            meets.to_string(),
            s.method.clone(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn parse_range(r: &str) -> Result<(f64, f64)> {
    let bad = || UsageError(format!("--range {r}: expected LO..HI"));
    let (lo, hi) = r.split_once("..").ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (
        lo.trim().parse().map_err(|_| bad())?,
        hi.trim().parse().map_err(|_| bad())?,
    );
    Ok((lo, hi))
}

/// The bisection's precision: the bracket's width (1 for whole numbers),
/// and the side that holds (below for a load, above for servers).
fn precision(a: &Answer) -> (f64, f64) {
    let width = (a.interval.1 - a.interval.0).abs();
    let width = if width > 0.0 {
        width
    } else {
        1e-4 * (a.range.1 - a.range.0)
    };
    let toward = if a.rising {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    };
    (width, toward)
}

/// The unit of a searched parameter, where its name says it.
fn unit(param: &str) -> &'static str {
    if param == LOAD_SCALE {
        "×"
    } else if is_load(param) && param != "users" && !param.starts_with("users_") {
        " req/s"
    } else {
        ""
    }
}

/// The answer's first line: `largest arrival_rate with p95 ≤ 50 ms: 80.1
/// req/s (prediction band 62.3–91.4 req/s, calibrated on 5 held-out runs,
/// 67 %; estimation band 75.2–84.0 req/s, 200 draws of the bound
/// demands)`.
fn headline(a: &Answer) -> String {
    let word = if a.rising { "largest" } else { "smallest" };
    let (width, toward) = precision(a);
    let u = unit(&a.param);
    // Three significant digits: the bisection is finer than the model.
    let show = |v: f64| to_precision(v, three_digits(v, width), toward);
    let mut s = match a.value {
        Some(v) => format!("{word} {} with {}: {}{u}", a.param, a.slo, show(v)),
        None => format!("no {} in the range meets {}", a.param, a.slo),
    };
    // An end at the range's far end met the objective there: it may lie
    // beyond.
    let end = |v: Option<f64>| match v {
        None => "none in the range".to_string(),
        Some(v) if a.rising && v >= a.range.1 => format!("≥ {}", show(v)),
        Some(v) if !a.rising && v <= a.range.0 => format!("≤ {}", show(v)),
        Some(v) => show(v),
    };
    let range = |[lo, hi]: [Option<f64>; 2]| format!("{}{}{}{u}", end(lo), TEXT.range, end(hi));
    let mut bands = Vec::new();
    if let (Some(b), Some(basis)) = (a.prediction_band, &a.prediction_basis) {
        bands.push(format!(
            "prediction band {}, calibrated on {} held-out runs, {:.0} %",
            range(b),
            basis.calibration_runs,
            100.0 * basis.nominal
        ));
    }
    if let (Some(b), Some(n)) = (a.estimation_band, a.estimation_draws) {
        bands.push(format!(
            "estimation band {}, {n} draws of the bound demands",
            range(b)
        ));
    }
    if !bands.is_empty() {
        s.push_str(&format!(" ({})", bands.join("; ")));
    }
    s
}

fn render(a: &Answer, range_from: Option<&str>) -> String {
    let stat = a.slo.stat.to_string();
    let (width, _) = precision(a);
    let mut s = format!("{}\n{}\n", headline(a), a.verdict);
    if let Some(why) = &a.no_prediction_band {
        s.push_str(&format!("{why}\n"));
    }
    if let Some(b) = &a.prediction_basis {
        let estimation = if a.estimation_band.is_some() {
            "; estimation band: the bound demands' draws (the estimate's noise only)"
        } else {
            ""
        };
        s.push_str(&format!(
            "prediction band: the {} corrected by the held-out errors {:+.1} % and {:+.1} % of `{}` (widened by the load amplification beyond their loads), the question solved at each{estimation}\n",
            b.statistic,
            100.0 * b.errors.0,
            100.0 * b.errors.1,
            b.study
        ));
    }
    let mean = match a.slo.stat {
        Stat::Mean => String::new(),
        Stat::P(_) => format!(", mean {} s", num(a.at.mean_s)),
    };
    s.push_str(&format!(
        "at {} = {}: {stat} {} s{mean} ({})\n",
        a.param,
        to_precision(a.at.value, width, a.at.value),
        num(a.at.stat_s),
        a.at.method
    ));
    if let Some(why) = range_from {
        s.push_str(&format!(
            "searched {}{}{}: {why}\n",
            shown(a.range.0),
            TEXT.range,
            shown(a.range.1)
        ));
    }
    s.push('\n');
    let mut t = Table::new([
        a.param.clone(),
        format!("{stat} [s]"),
        "± [s]".into(),
        "meets".into(),
    ]);
    for e in &a.steps {
        let meets = e.stat_s.is_some_and(|x| x <= a.slo.limit_s);
        t.row(vec![
            to_precision(e.value, width, e.value),
            num(e.stat_s),
            num(e.ci_half_width_s),
            if meets { "yes" } else { "no" }.into(),
        ]);
    }
    s.push_str(&t.render());
    s
}
