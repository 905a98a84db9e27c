//! `demandsim capacity`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use demandsim::capacity::{Answer, Query, Slo, Stat, search};
use demandsim::report::format::TEXT;

use super::simulate::{load_template, parse_warmup, seed_or_draw, settings};
use super::table::{Table, num};
use super::{Format, UsageError};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(value_name = "MODEL.yaml")]
    model: PathBuf,
    /// The parameter to search (a load, servers, containers).
    #[arg(long, value_name = "PARAM")]
    find: String,
    /// The objective: STAT<=SECONDS, STAT one of mean, p50, p90, p95, p99.
    #[arg(long, value_name = "STAT<=SECONDS")]
    slo: String,
    /// The probe [default: the model's first].
    #[arg(long)]
    probe: Option<String>,
    /// Where to search, LO..HI [default: from a tenth of the parameter's
    /// value (1 with --integer) to four times it].
    #[arg(long, value_name = "LO..HI")]
    range: Option<String>,
    /// Whole values only (servers, containers).
    #[arg(long)]
    integer: bool,
    /// A fixed setting, NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
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

pub fn run(a: Args) -> Result<()> {
    let template = load_template(&a.model)?;
    let slo = Slo::parse(&a.slo).map_err(|e| UsageError(format!("--slo: {e}")))?;
    let base = settings(&a.set)?;
    let range = match &a.range {
        Some(r) => parse_range(r)?,
        None => default_range(&template, &base, &a.find, a.integer)?,
    };
    let q = Query {
        param: a.find.clone(),
        slo,
        probe: a.probe.clone(),
        range,
        integer: a.integer,
        simulate_only: a.simulate,
        requests: a.requests,
        seed: seed_or_draw(a.seed),
        warmup: parse_warmup(&a.warmup)?,
        base,
    };
    let answer = match search(&template, &q) {
        Ok(x) => x,
        Err(e @ demandsim::capacity::CapacityError::UnknownParam(_)) => {
            return Err(UsageError(format!("--find: {e}")).into());
        }
        Err(e @ demandsim::capacity::CapacityError::Range { .. }) => {
            return Err(UsageError(format!("--range: {e}")).into());
        }
        Err(e) => return Err(e.into()),
    };
    let mut out = a.out.create()?;
    match a.out.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &answer)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
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
        }
        Format::Table => write!(out, "{}", render(&answer, &a.slo))?,
    }
    out.commit()
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

/// A tenth (1 with `integer`) to four times the parameter's value.
fn default_range(
    template: &demandsim::model::Template,
    base: &demandsim::model::Params,
    name: &str,
    integer: bool,
) -> Result<(f64, f64)> {
    if !template.has_param(name) {
        return Err(UsageError(format!("--find: the model has no parameter `{name}`")).into());
    }
    let values = template.resolve(base)?;
    let v = values[name];
    Ok(if integer {
        (1.0, (4.0 * v).ceil().max(2.0))
    } else {
        (0.1 * v, 4.0 * v)
    })
}

/// A searched value: whole numbers as such, others to 4 digits.
fn show(v: f64) -> String {
    if v.fract() == 0.0 {
        TEXT.value(v)
    } else {
        num(Some(v))
    }
}

fn render(a: &Answer, slo: &str) -> String {
    let stat = match a.slo.stat {
        Stat::Mean => "mean".to_string(),
        Stat::P(p) => format!("p{p}"),
    };
    let mut s = match a.value {
        Some(v) => format!(
            "{} = {} meets {slo}: {}\n",
            a.param,
            TEXT.value(v),
            a.verdict
        ),
        None => format!("no {} meets {slo}: {}\n", a.param, a.verdict),
    };
    s.push_str(&format!(
        "at {} = {}: {stat} {} s, mean {} s ({})\n\n",
        a.param,
        show(a.at.value),
        num(a.at.stat_s),
        num(a.at.mean_s),
        a.at.method
    ));
    let mut t = Table::new([
        a.param.clone(),
        format!("{stat} [s]"),
        "± [s]".into(),
        "meets".into(),
    ]);
    for e in &a.steps {
        let meets = e.stat_s.is_some_and(|x| x <= a.slo.limit_s);
        t.row(vec![
            TEXT.value(e.value),
            num(e.stat_s),
            num(e.ci_half_width_s),
            if meets { "yes" } else { "no" }.into(),
        ]);
    }
    s.push_str(&t.render());
    s
}
