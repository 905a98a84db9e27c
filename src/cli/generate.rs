//! `demandsim generate`: a simulation written out as ground-truth traces.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use demandsim::generate::{GenConfig, GenReport, generate};
use demandsim::qpn::{ValidNet, choose_probe};
use demandsim::trace::RequestRow;
use demandsim::trace::{Columns, RequestWriter, UtilSample, UtilizationWriter};

use super::UsageError;
use super::io::Output;
use super::simulate::{ModelArgs, load_model, seed_or_draw};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Directory for requests.csv, utilization.csv and truth.json.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Utilization sampling interval, seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    interval: f64,
    /// Requests to write (the run ends with the interval in which the last
    /// completes) [default: 100000].
    #[arg(long, value_name = "N", group = "stop")]
    requests: Option<u64>,
    /// Simulated seconds to cover.
    #[arg(long, value_name = "SECONDS", group = "stop")]
    time: Option<f64>,
    /// Probe whose passages become requests [default: `response`, or the
    /// first probe].
    #[arg(long)]
    probe: Option<String>,
    /// Write requests.csv.gz and utilization.csv.gz instead of plain CSV.
    #[arg(long)]
    gzip: bool,
    /// Random seed [default: drawn and printed].
    #[arg(long)]
    seed: Option<u64>,
}

/// What truth.json holds: the generator's report, the model's name and
/// its parameters.
#[derive(serde::Serialize)]
struct TruthDoc<'a> {
    model: &'a str,
    params: &'a std::collections::BTreeMap<String, f64>,
    #[serde(flatten)]
    report: &'a demandsim::generate::GenReport,
}

pub fn run(a: Args) -> Result<()> {
    let model = load_model(&a.model)?;
    let net = &model.net;
    let names: Vec<&str> = net.probes.iter().map(|p| p.name.as_str()).collect();
    let probe = match choose_probe(&names, a.probe.as_deref()) {
        Ok(i) => i,
        Err(e) if a.probe.is_some() => return Err(UsageError(format!("--probe: {e}")).into()),
        // No probe: generate says so with the model's name.
        Err(_) => 0,
    };
    if !(a.interval.is_finite() && a.interval > 0.0) {
        return Err(UsageError(format!(
            "--interval must be a positive number of seconds, got {}",
            a.interval
        ))
        .into());
    }
    let seed = seed_or_draw(a.seed);
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let (mut req_out, mut util_out) = trace_outputs(&a)?;
    let cfg = GenConfig {
        probe,
        interval: a.interval,
        requests: a.requests.or(if a.time.is_none() {
            Some(100_000)
        } else {
            None
        }),
        time: a.time,
        seed,
        token_limit: demandsim::qpn::RunConfig::default().token_limit,
    };
    let report = write_traces(net, &cfg, &a.model.model, &mut req_out, &mut util_out)?;
    req_out.commit()?;
    util_out.commit()?;
    let mut truth = Output::create(Some(&a.out.join("truth.json")))?;
    let doc = TruthDoc {
        model: &model.name,
        params: &model.params,
        report: &report,
    };
    truth.write_all(&demandsim::report::json(&doc)?)?;
    truth.commit()?;
    log::info!(
        "{} requests over {} s written to {}",
        report.requests,
        report.duration_s,
        a.out.display()
    );
    Ok(())
}

/// requests.csv and utilization.csv in the output folder (gzipped with
/// `--gzip`), written whole or not at all.
fn trace_outputs(a: &Args) -> Result<(Output, Output)> {
    if a.gzip {
        Ok((
            Output::create_gzip(&a.out.join("requests.csv.gz"))?,
            Output::create_gzip(&a.out.join("utilization.csv.gz"))?,
        ))
    } else {
        Ok((
            Output::create(Some(&a.out.join("requests.csv")))?,
            Output::create(Some(&a.out.join("utilization.csv")))?,
        ))
    }
}

/// Runs the generator into the two trace writers (a failure of the run
/// named by the model file).
fn write_traces(
    net: &ValidNet,
    cfg: &GenConfig,
    model: &Path,
    req_out: &mut Output,
    util_out: &mut Output,
) -> Result<GenReport> {
    let mut rw = RequestWriter::new(req_out, Columns::default())?;
    let mut uw = UtilizationWriter::new(util_out)?;
    let interval = cfg.interval;
    let report = generate(
        net,
        cfg,
        // Microsecond resolution, like real request logs; keeps traces small.
        &mut |start, rt, class| {
            rw.write_row(&RequestRow {
                start: micro(start),
                response_time: micro(rt),
                class,
                success: true,
                ..RequestRow::default()
            })
        },
        &mut |t, place, u| {
            uw.write(&UtilSample {
                timestamp: t,
                // Like psutil's 0.1 %, only finer: six decimals.
                utilization: (u * 1e6).round() / 1e6,
                resource: place.to_string(),
                interval: Some(interval),
            })
        },
    )
    .with_context(|| model.display().to_string())?;
    rw.finish()?;
    uw.finish()?;
    Ok(report)
}

fn micro(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
