//! `demandsim generate`: a simulation written out as ground-truth traces.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use demandsim::generate::{GenConfig, generate};
use demandsim::import::RequestRow;
use demandsim::qpn::choose_probe;
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
        return Err(UsageError("--interval must be positive".into()).into());
    }
    let seed = seed_or_draw(a.seed);
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let req_name = if a.gzip {
        "requests.csv.gz"
    } else {
        "requests.csv"
    };
    let req_path = a.out.join(req_name);
    let mut req_out = if a.gzip {
        Output::create_gzip(&req_path)?
    } else {
        Output::create(Some(&req_path))?
    };
    let mut util_out = if a.gzip {
        Output::create_gzip(&a.out.join("utilization.csv.gz"))?
    } else {
        Output::create(Some(&a.out.join("utilization.csv")))?
    };
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
    let report = {
        let mut rw = RequestWriter::new(&mut req_out, Columns::default())?;
        let mut uw = UtilizationWriter::new(&mut util_out)?;
        let interval = a.interval;
        let report = generate(
            net,
            &cfg,
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
        .with_context(|| a.model.model.display().to_string())?;
        rw.finish()?;
        uw.finish()?;
        report
    };
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

fn micro(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
