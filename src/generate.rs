//! Ground-truth traces from a simulation: every passage of a probe as a
//! canonical request, the exact busy-time utilization of every queueing
//! place per interval, and the true demands the estimators should recover.
//!
//! Writes through callbacks; opens no files.

use serde::Serialize;

use crate::qpn::{SimError, Simulation, ValidNet, replication_rng};
use crate::trace::{IntervalTable, Labels, Pipeline, Request, TraceError, UtilSample, UtilSeries};

/// Why a trace could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The probe index is out of range.
    #[error("the model has no probe to take requests from")]
    NoProbe,
    /// A non-positive or non-finite interval.
    #[error("the interval must be positive, got {0}")]
    Interval(f64),
    /// More intervals than a trace may span (the readers refuse more).
    #[error(
        "{} s intervals would number {}{}, more than the {} a trace may span: give a wider interval",
        crate::report::format::TEXT.num(Some(*interval)),
        crate::report::format::TEXT.num(Some(*intervals)),
        if *projected { " at the rate the run began with" } else { "" },
        crate::trace::MAX_INTERVALS
    )]
    TooManyIntervals {
        /// The interval, seconds.
        interval: f64,
        /// The intervals the request needs (or its run so far projects).
        intervals: f64,
        /// Whether projected from the run's first intervals.
        projected: bool,
    },
    /// Neither a request count nor a time.
    #[error("give a number of requests or a time")]
    NoStop,
    /// The simulation failed.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// A callback could not write, or the trace could not be aggregated.
    #[error(transparent)]
    Trace(#[from] TraceError),
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Probe whose passages become requests.
    pub probe: usize,
    /// Utilization sampling interval, seconds.
    pub interval: f64,
    /// Stop at the end of the interval in which this many passages are
    /// complete (or after `time`).
    pub requests: Option<u64>,
    /// Simulated seconds to cover.
    pub time: Option<f64>,
    /// Seed.
    pub seed: u64,
    /// Queued tokens above which the run stops as unstable.
    pub token_limit: u64,
}

/// A true mean demand and what the run realised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Truth {
    /// Queueing place (the resource in `utilization.csv`).
    pub place: String,
    /// Colour (the class in `requests.csv`).
    pub color: String,
    /// Mean of the service distribution, seconds.
    pub true_demand_s: f64,
    /// Squared coefficient of variation of the service distribution.
    pub scv: f64,
    /// Mean of the service times actually drawn, seconds.
    pub realised_demand_s: Option<f64>,
    /// Services completed.
    pub completions: u64,
    /// Servers of the place.
    pub servers: u32,
    /// Mean utilization over the run (fraction of all servers).
    pub mean_utilization: f64,
}

/// Summary of a generated trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenReport {
    /// Seed.
    pub seed: u64,
    /// Interval, seconds.
    pub interval_s: f64,
    /// Simulated seconds covered.
    pub duration_s: f64,
    /// Requests written.
    pub requests: u64,
    /// Per queueing place and colour.
    pub truth: Vec<Truth>,
}

/// Runs the net from time 0 and streams the trace out.
///
/// `request(start, response_time, color)` receives each passage of the
/// probe; `utilization(end, place, value)` each interval's busy fraction of
/// every queueing place that is not IS.
///
/// # Errors
/// [`GenerateError`]: configuration problems, simulation failures, or an
/// error from a callback.
pub fn generate(
    net: &ValidNet,
    cfg: &GenConfig,
    request: &mut dyn FnMut(f64, f64, &str) -> Result<(), TraceError>,
    utilization: &mut dyn FnMut(f64, &str, f64) -> Result<(), TraceError>,
) -> Result<GenReport, GenerateError> {
    if cfg.probe >= net.probes.len() {
        return Err(GenerateError::NoProbe);
    }
    if !(cfg.interval.is_finite() && cfg.interval > 0.0) {
        return Err(GenerateError::Interval(cfg.interval));
    }
    if cfg.requests.is_none() && cfg.time.is_none() {
        return Err(GenerateError::NoStop);
    }
    let too_many = |intervals: f64, projected| GenerateError::TooManyIntervals {
        interval: cfg.interval,
        intervals,
        projected,
    };
    let max = crate::trace::MAX_INTERVALS as f64;
    if let Some(t) = cfg.time
        && t / cfg.interval > max
    {
        return Err(too_many((t / cfg.interval).ceil(), false));
    }
    let mut sim = Simulation::new(net, replication_rng(cfg.seed, 0));
    sim.set_token_limit(cfg.token_limit);
    sim.record_probes(true);
    sim.start()?;
    let resources: Vec<(usize, f64)> = net
        .places
        .iter()
        .enumerate()
        .filter_map(|(p, pl)| {
            let q = pl.queue.as_ref()?;
            q.capacity().map(|servers| (p, servers))
        })
        .collect();
    let mut last_busy = vec![0.0; resources.len()];
    let mut written = 0u64;
    let mut k = 0u64;
    loop {
        k += 1;
        let t = k as f64 * cfg.interval;
        sim.run_until_time(t)?;
        for r in sim.records.drain(..) {
            if r.probe == cfg.probe {
                request(r.start, r.end - r.start, &net.colors[r.color])?;
                written += 1;
            }
        }
        for (i, &(p, servers)) in resources.iter().enumerate() {
            let busy = sim.busy_area(p);
            let u = ((busy - last_busy[i]) / (servers * cfg.interval)).clamp(0.0, 1.0);
            last_busy[i] = busy;
            utilization(t, &net.places[p].name, u)?;
        }
        // From the 16,384th interval on, refused as soon as the requests'
        // rate so far says the run will need too many.
        if let Some(n) = cfg.requests
            && k >= 1 << 14
            && k.is_power_of_two()
        {
            let projected = k as f64 * n as f64 / written.max(1) as f64;
            if projected > max {
                return Err(too_many(projected.ceil(), true));
            }
        }
        let done_requests = cfg.requests.is_some_and(|n| written >= n);
        let done_time = cfg.time.is_some_and(|d| t >= d - 1e-9);
        if done_requests || done_time {
            break;
        }
    }
    let duration = sim.now();
    let mut truth = Vec::new();
    for (p, servers) in &resources {
        let q = net.places[*p].queue.as_ref().unwrap();
        for (c, d) in q.service.iter().enumerate() {
            let Some(d) = d else { continue };
            let s = sim.place_stats(*p, c);
            truth.push(Truth {
                place: net.places[*p].name.clone(),
                color: net.colors[c].clone(),
                true_demand_s: d.mean(),
                scv: d.scv(),
                realised_demand_s: s.service.mean(),
                completions: s.departures,
                servers: *servers as u32,
                mean_utilization: sim.busy_area(*p) / (servers * duration),
            });
        }
    }
    Ok(GenReport {
        seed: cfg.seed,
        interval_s: cfg.interval,
        duration_s: duration,
        requests: written,
        truth,
    })
}

/// Generates a trace and aggregates it in memory into an interval table on
/// the utilization grid, the ground truth for estimator tests and
/// accuracy studies. `perturb(utilization)` may add measurement noise to
/// each sample.
///
/// # Errors
/// As [`generate`], or when the trace cannot be aggregated.
pub fn table(
    net: &ValidNet,
    cfg: &GenConfig,
    perturb: &mut dyn FnMut(f64) -> f64,
) -> Result<(IntervalTable, GenReport), GenerateError> {
    let mut labels = Labels::new();
    let mut requests = Vec::new();
    let mut samples = Vec::new();
    let report = generate(
        net,
        cfg,
        &mut |start, response_time, class| {
            requests.push(Request {
                start,
                response_time,
                class: labels.intern(class),
                success: true,
                resource: None,
                origin: Default::default(),
            });
            Ok(())
        },
        &mut |t, place, u| {
            samples.push(UtilSample {
                timestamp: t,
                utilization: perturb(u).clamp(0.0, 1.0),
                resource: place.to_string(),
                interval: Some(cfg.interval),
            });
            Ok(())
        },
    )?;
    let util = UtilSeries::from_samples(samples)?;
    let mut pipeline = Pipeline::new(util, Some(cfg.interval), false);
    // Interned in the same order, the classes keep their ids.
    for name in labels.names() {
        pipeline.class(name);
    }
    for r in &requests {
        pipeline.push(r);
    }
    Ok((pipeline.finish()?, report))
}
