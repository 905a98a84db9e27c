//! Run control: warm-up, stopping rules, replications in parallel, and the
//! report with confidence intervals.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use super::engine::{DEFAULT_TOKEN_LIMIT, SimError, Simulation, replication_rng};
use super::net::{Net, ValidNet};
use crate::stats::{Moments, QuantileSketch, mser5, student_t_quantile};

/// When to stop measuring.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StopRule {
    /// After this many passages of the first probe (all colours).
    Requests(u64),
    /// After this much simulated time, seconds.
    Time(f64),
    /// When every probe's 95 % CI half-width is at most this fraction of
    /// its mean (checked every 1,000 passages).
    Precision(f64),
}

/// How long to run before measuring.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Warmup {
    /// Measure from the start.
    None,
    /// Discard this many passages of the first probe.
    Count(u64),
    /// Discard this much simulated time, seconds.
    Time(f64),
    /// Detect the end of the transient with MSER-5 on the first probe.
    Auto,
}

/// A warm-up that is not `auto`, `none`, a count or a time.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{text}`: expected auto, none, a count (5000) or a time (300s)")]
pub struct WarmupError {
    /// The text given.
    pub text: String,
}

impl std::str::FromStr for Warmup {
    type Err = WarmupError;

    /// `auto`, `none`, a passage count (`5000`) or a time (`300s`).
    fn from_str(s: &str) -> Result<Self, WarmupError> {
        let bad = || WarmupError {
            text: s.to_string(),
        };
        Ok(match s.trim() {
            "auto" => Warmup::Auto,
            "none" | "0" => Warmup::None,
            t if t.ends_with('s') => {
                let v: f64 = t.trim_end_matches('s').trim().parse().map_err(|_| bad())?;
                if !(v.is_finite() && v >= 0.0) {
                    return Err(bad());
                }
                Warmup::Time(v)
            }
            n => Warmup::Count(n.parse().map_err(|_| bad())?),
        })
    }
}

/// Everything a run needs besides the net.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Stopping rule.
    pub stop: StopRule,
    /// Warm-up.
    pub warmup: Warmup,
    /// Independent replications (run in parallel).
    pub replications: usize,
    /// Master seed; replication r uses the stream jumped r times.
    pub seed: u64,
    /// Queued tokens above which the run stops as unstable.
    pub token_limit: u64,
    /// Confidence level of intervals (0.95).
    pub confidence: f64,
}

impl RunConfig {
    /// Checks the configuration against `net`: the rules a run needs, once.
    ///
    /// # Errors
    /// [`ConfigError`] for the first rule broken.
    pub fn check(&self, net: &Net) -> Result<(), ConfigError> {
        if self.replications == 0 {
            return Err(ConfigError::ZeroReplications);
        }
        if net.probes.is_empty() && !matches!(self.stop, StopRule::Time(_)) {
            return Err(ConfigError::StopWithoutProbe);
        }
        if net.probes.is_empty() && matches!(self.warmup, Warmup::Auto | Warmup::Count(_)) {
            return Err(ConfigError::WarmupWithoutProbe);
        }
        Ok(())
    }
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            stop: StopRule::Requests(100_000),
            warmup: Warmup::Auto,
            replications: 1,
            seed: 1,
            token_limit: DEFAULT_TOKEN_LIMIT,
            confidence: 0.95,
        }
    }
}

/// Hooks for the caller: an interrupt flag checked every few thousand
/// events, and a progress counter (first-probe passages, or simulated
/// milliseconds for a time rule) added to as the run goes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Control<'a> {
    /// Set to stop early; the report then covers what was simulated.
    pub interrupt: Option<&'a AtomicBool>,
    /// Work done so far, summed over replications.
    pub progress: Option<&'a AtomicU64>,
}

/// Results of a probe and colour.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ProbeResult {
    /// Probe name.
    pub name: String,
    /// Colour.
    pub color: String,
    /// Mean end-to-end time, seconds.
    pub mean_s: Option<f64>,
    /// Half-width of the CI of the mean, seconds.
    pub ci_half_width_s: Option<f64>,
    /// Median, seconds (±0.5 %).
    pub p50_s: Option<f64>,
    /// 90th percentile, seconds.
    pub p90_s: Option<f64>,
    /// 95th percentile, seconds.
    pub p95_s: Option<f64>,
    /// 99th percentile, seconds.
    pub p99_s: Option<f64>,
    /// The quantiles at p = 0.01, 0.02, …, 0.99 (see
    /// [`crate::stats::QUANTILE_GRID`]), seconds; empty when nothing passed.
    /// What `compare` needs for distribution distances.
    #[serde(default)]
    pub quantiles_s: Vec<f64>,
    /// Passages measured (all replications).
    pub count: u64,
    /// Batch-size check: lag-1 autocorrelation of the batch means (first
    /// replication); near 0 means the batch-means CI can be trusted, above
    /// 0.3 the run was too short for its correlation.
    pub batch_lag1: Option<f64>,
}

/// Results of a place and colour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceResult {
    /// Place name.
    pub place: String,
    /// Colour.
    pub color: String,
    /// Tokens entering per second.
    pub arrival_throughput: f64,
    /// Tokens leaving (finishing service) per second.
    pub throughput: f64,
    /// Time-average tokens (in the queue, for a queueing place).
    pub mean_population: f64,
    /// Time-average busy servers / servers (the place as a whole; `None`
    /// for IS and ordinary places).
    pub utilization: Option<f64>,
    /// Mean residence time (queue: waiting + service), seconds.
    pub mean_residence_s: Option<f64>,
    /// Half-width of its CI, seconds.
    pub ci_half_width_s: Option<f64>,
    /// Mean service time actually drawn, seconds (queueing places).
    pub mean_service_s: Option<f64>,
    /// Mean time a token waits in the depository of a queueing place
    /// before a transition takes it, seconds (QPME's depository residence).
    pub mean_depository_s: Option<f64>,
}

/// A queue several places share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueResult {
    /// Its name.
    pub queue: String,
    /// Time-average busy servers / servers (`None` for IS).
    pub utilization: Option<f64>,
}

/// What the warm-up discarded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WarmupReport {
    /// `none`, `count`, `time` or `auto (MSER-5)`.
    pub method: String,
    /// Simulated seconds discarded (mean over replications).
    pub time_s: f64,
    /// First-probe passages discarded (all replications).
    pub passages: u64,
}

/// The outcome of [`simulate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimReport {
    /// Master seed.
    pub seed: u64,
    /// Replications.
    pub replications: usize,
    /// Events processed (all replications).
    pub events: u64,
    /// Measured simulated time per replication (mean), seconds.
    pub measured_time_s: f64,
    /// How CIs were computed: `batch means` or `replications`.
    pub ci_method: String,
    /// Confidence level.
    pub confidence: f64,
    /// Warm-up.
    pub warmup: WarmupReport,
    /// Whether the run was interrupted before its stopping rule.
    pub interrupted: bool,
    /// Probes.
    pub probes: Vec<ProbeResult>,
    /// Places.
    pub places: Vec<PlaceResult>,
    /// Shared queues.
    pub queues: Vec<QueueResult>,
}

/// Why a simulation could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The configuration does not fit the net.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A replication failed.
    #[error("replication {replication}: {source}")]
    Sim {
        /// Replication index.
        replication: usize,
        /// The failure.
        source: SimError,
    },
}

/// A run configuration that does not fit the net.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Zero replications.
    #[error("at least one replication is needed")]
    ZeroReplications,
    /// A stop by passages (or precision) with no probe to count.
    #[error("the model has no probe: stop by time or add a probe")]
    StopWithoutProbe,
    /// A warm-up by passages with no probe to count.
    #[error("the model has no probe: give the warm-up as a time")]
    WarmupWithoutProbe,
}

/// One replication's raw outcome.
struct Rep {
    events: u64,
    duration: f64,
    warmup_time: f64,
    warmup_passages: u64,
    interrupted: bool,
    places: Vec<PlaceRaw>,
    /// Per shared queue, its busy server-seconds.
    shared_busy: Vec<f64>,
    probes: Vec<(Moments, QuantileSketch, Option<f64>, Option<f64>)>,
}

struct PlaceRaw {
    arrivals: u64,
    departures: u64,
    area: f64,
    busy_area: f64,
    residence: Moments,
    residence_hw: Option<f64>,
    service: Moments,
    depository: Moments,
}

/// Runs the net as configured; replications run in parallel and give the
/// same numbers whatever the number of threads.
///
/// # Errors
/// [`RunError`] when the configuration does not fit or a replication fails
/// (deadlock, instability, an immediate loop).
pub fn simulate(net: &ValidNet, cfg: &RunConfig, ctl: Control<'_>) -> Result<SimReport, RunError> {
    cfg.check(net)?;
    let reps: Vec<Result<Rep, RunError>> = (0..cfg.replications)
        .into_par_iter()
        .map(|r| run_one(net, cfg, r, ctl))
        .collect();
    let reps = reps.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(combine(net, cfg, &reps))
}

fn interrupted(ctl: &Control<'_>) -> bool {
    ctl.interrupt.is_some_and(|f| f.load(Ordering::Relaxed))
}

fn run_one(net: &ValidNet, cfg: &RunConfig, r: usize, ctl: Control<'_>) -> Result<Rep, RunError> {
    let err = |source| RunError::Sim {
        replication: r,
        source,
    };
    let mut sim = Simulation::new(net, replication_rng(cfg.seed, r));
    sim.set_token_limit(cfg.token_limit);
    sim.start().map_err(err)?;
    let mut stopped_early = warm_up(&mut sim, cfg, &ctl).map_err(err)?;
    let warmup_time = sim.now();
    let warmup_passages = sim.main_completions();
    sim.reset_stats();
    if !stopped_early {
        stopped_early = measure(&mut sim, net, cfg, &ctl).map_err(err)?;
    }
    Ok(collect(
        &sim,
        net,
        cfg,
        warmup_time,
        warmup_passages,
        stopped_early,
    ))
}

/// Runs the warm-up; whether it was interrupted.
fn warm_up(sim: &mut Simulation<'_>, cfg: &RunConfig, ctl: &Control<'_>) -> Result<bool, SimError> {
    match cfg.warmup {
        Warmup::None => Ok(false),
        Warmup::Time(t) => sim.run_until_time(t).map(|()| false),
        Warmup::Count(n) => {
            let mut steps = 0u64;
            while sim.main_completions() < n {
                sim.step()?;
                steps += 1;
                if steps.is_multiple_of(4096) && interrupted(ctl) {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Warmup::Auto => auto_warm_up(sim, cfg, ctl),
    }
}

/// Pilot runs of growing length until MSER-5 truncates well inside the
/// first half of the observations; whether it was interrupted.
fn auto_warm_up(
    sim: &mut Simulation<'_>,
    cfg: &RunConfig,
    ctl: &Control<'_>,
) -> Result<bool, SimError> {
    let mut pilot = match cfg.stop {
        StopRule::Requests(n) => (n / 10).clamp(2_000, 50_000),
        _ => 10_000,
    };
    let mut stopped_early = false;
    sim.record_probes(true);
    for _ in 0..4 {
        let mut obs: Vec<f64> = Vec::with_capacity(pilot as usize);
        let mut steps = 0u64;
        while (obs.len() as u64) < pilot {
            sim.step()?;
            steps += 1;
            obs.extend(
                sim.records
                    .drain(..)
                    .filter(|x| x.probe == 0)
                    .map(|x| x.end - x.start),
            );
            if steps.is_multiple_of(4096) && interrupted(ctl) {
                stopped_early = true;
                break;
            }
        }
        if stopped_early || obs.len() < 20 {
            break;
        }
        let batches: Vec<f64> = obs
            .chunks_exact(5)
            .map(|c| c.iter().sum::<f64>() / 5.0)
            .collect();
        let d = mser5(&batches);
        if d < batches.len() * 2 / 5 {
            break;
        }
        pilot *= 2;
    }
    sim.record_probes(false);
    sim.records.clear();
    Ok(stopped_early)
}

/// Runs the measurement until the stop rule holds; whether it was
/// interrupted.
fn measure(
    sim: &mut Simulation<'_>,
    net: &Net,
    cfg: &RunConfig,
    ctl: &Control<'_>,
) -> Result<bool, SimError> {
    let mut last_progress = 0u64;
    let report_progress = |done: u64, last: &mut u64| {
        if let Some(p) = ctl.progress {
            p.fetch_add(done - *last, Ordering::Relaxed);
            *last = done;
        }
    };
    match cfg.stop {
        StopRule::Requests(n) => {
            let mut steps = 0u64;
            let mut stopped_early = false;
            while sim.main_completions() < n {
                sim.step()?;
                steps += 1;
                if steps.is_multiple_of(4096) {
                    report_progress(sim.main_completions(), &mut last_progress);
                    if interrupted(ctl) {
                        stopped_early = true;
                        break;
                    }
                }
            }
            report_progress(sim.main_completions(), &mut last_progress);
            Ok(stopped_early)
        }
        StopRule::Time(t) => {
            let end = sim.now() + t;
            let step = (t / 200.0).max(1e-9);
            let mut next = sim.now();
            while next < end {
                next = (next + step).min(end);
                sim.run_until_time(next)?;
                report_progress(
                    ((next - sim.measure_start()) * 1000.0) as u64,
                    &mut last_progress,
                );
                if interrupted(ctl) {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        StopRule::Precision(rel) => {
            let mut next_check = 1_000;
            loop {
                sim.step()?;
                if sim.main_completions() >= next_check {
                    next_check += 1_000;
                    report_progress(sim.main_completions(), &mut last_progress);
                    if precise_enough(sim, net, rel, cfg.confidence) {
                        return Ok(false);
                    }
                    if interrupted(ctl) {
                        return Ok(true);
                    }
                }
            }
        }
    }
}

/// One replication's raw statistics.
fn collect(
    sim: &Simulation<'_>,
    net: &Net,
    cfg: &RunConfig,
    warmup_time: f64,
    warmup_passages: u64,
    interrupted: bool,
) -> Rep {
    let duration = sim.now() - sim.measure_start();
    let nc = net.colors.len();
    let mut places = Vec::with_capacity(net.places.len() * nc);
    for p in 0..net.places.len() {
        for c in 0..nc {
            let s = sim.place_stats(p, c);
            places.push(PlaceRaw {
                arrivals: s.arrivals,
                departures: s.departures,
                area: s.area_at(sim.now()),
                busy_area: sim.busy_area(p),
                residence: s.residence,
                residence_hw: s.residence_bm.half_width(cfg.confidence),
                service: s.service,
                depository: s.depository,
            });
        }
    }
    let mut probes = Vec::with_capacity(net.probes.len() * nc);
    for k in 0..net.probes.len() {
        for c in 0..nc {
            let s = sim.probe_stats(k, c);
            probes.push((
                s.moments,
                s.sketch.clone(),
                s.bm.half_width(cfg.confidence),
                s.bm.lag1(),
            ));
        }
    }
    Rep {
        events: sim.events(),
        duration,
        warmup_time,
        warmup_passages,
        interrupted,
        places,
        shared_busy: (0..net.queues.len())
            .map(|k| sim.shared_busy_area(k))
            .collect(),
        probes,
    }
}

fn precise_enough(sim: &Simulation<'_>, net: &Net, rel: f64, level: f64) -> bool {
    for (k, pr) in net.probes.iter().enumerate() {
        for &c in &pr.colors {
            let s = sim.probe_stats(k, c);
            let Some(mean) = s.moments.mean() else {
                return false;
            };
            match s.bm.half_width(level) {
                Some(hw) if s.bm.batches() >= 30 && hw <= rel * mean => {}
                _ => return false,
            }
        }
    }
    true
}

/// Mean and CI half-width across replications' means.
fn across(values: &[f64], level: f64) -> (f64, Option<f64>) {
    let k = values.len();
    let mean = values.iter().sum::<f64>() / k as f64;
    if k < 2 {
        return (mean, None);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
    (
        mean,
        Some(student_t_quantile(level, (k - 1) as f64) * (var / k as f64).sqrt()),
    )
}

fn combine(net: &Net, cfg: &RunConfig, reps: &[Rep]) -> SimReport {
    let k = reps.len();
    let by_reps = k > 1;
    let probes = combine_probes(net, cfg, reps);
    let places = combine_places(net, cfg, reps);
    SimReport {
        seed: cfg.seed,
        replications: k,
        events: reps.iter().map(|r| r.events).sum(),
        measured_time_s: reps.iter().map(|r| r.duration).sum::<f64>() / k as f64,
        ci_method: if by_reps {
            "replications".into()
        } else {
            "batch means".into()
        },
        confidence: cfg.confidence,
        warmup: WarmupReport {
            method: match cfg.warmup {
                Warmup::None => "none".into(),
                Warmup::Count(_) => "count".into(),
                Warmup::Time(_) => "time".into(),
                Warmup::Auto => "auto (MSER-5)".into(),
            },
            time_s: reps.iter().map(|r| r.warmup_time).sum::<f64>() / k as f64,
            passages: reps.iter().map(|r| r.warmup_passages).sum(),
        },
        interrupted: reps.iter().any(|r| r.interrupted),
        probes,
        places,
        queues: combine_queues(net, reps),
    }
}

/// Probe results over the replications: CIs across replications when
/// there are several, else batch means.
fn combine_probes(net: &Net, cfg: &RunConfig, reps: &[Rep]) -> Vec<ProbeResult> {
    let nc = net.colors.len();
    let k = reps.len();
    let mut probes = Vec::new();
    for (pi, pr) in net.probes.iter().enumerate() {
        for &c in &pr.colors {
            let idx = pi * nc + c;
            let mut sketch = QuantileSketch::default();
            let mut all = Moments::default();
            let mut means = Vec::new();
            for r in reps {
                let (m, s, _, _) = &r.probes[idx];
                sketch.merge(s);
                all.merge(m);
                if let Some(x) = m.mean() {
                    means.push(x);
                }
            }
            let (mean_s, ci) = if k > 1 && means.len() == k {
                let (m, hw) = across(&means, cfg.confidence);
                (Some(m), hw)
            } else {
                (all.mean(), reps[0].probes[idx].2)
            };
            probes.push(ProbeResult {
                name: pr.name.clone(),
                color: net.colors[c].clone(),
                mean_s,
                ci_half_width_s: ci,
                p50_s: sketch.quantile(0.5),
                p90_s: sketch.quantile(0.9),
                p95_s: sketch.quantile(0.95),
                p99_s: sketch.quantile(0.99),
                quantiles_s: crate::stats::quantile_grid(&sketch),
                count: all.count(),
                batch_lag1: reps[0].probes[idx].3,
            });
        }
    }
    probes
}

/// Shared-queue utilization over the replications.
fn combine_queues(net: &Net, reps: &[Rep]) -> Vec<QueueResult> {
    net.queues
        .iter()
        .enumerate()
        .map(|(k, q)| {
            let servers = q.scheduling.has_servers().then_some(f64::from(q.servers));
            QueueResult {
                queue: q.name.clone(),
                utilization: servers.map(|c| {
                    reps.iter()
                        .map(|r| r.shared_busy[k] / (c * r.duration))
                        .sum::<f64>()
                        / reps.len() as f64
                }),
            }
        })
        .collect()
}

/// Place results over the replications, for every (place, colour) that
/// can hold a token.
fn combine_places(net: &Net, cfg: &RunConfig, reps: &[Rep]) -> Vec<PlaceResult> {
    let nc = net.colors.len();
    let k = reps.len();
    let can = net.reachable();
    let mut places = Vec::new();
    for (p, place) in net.places.iter().enumerate() {
        for c in (0..nc).filter(|&c| can[p][c]) {
            let idx = p * nc + c;
            let per_rep = |f: &dyn Fn(&Rep) -> f64| reps.iter().map(f).sum::<f64>() / k as f64;
            let utilization = place
                .queue
                .as_ref()
                .and_then(|q| q.capacity())
                .map(|servers| per_rep(&|r| r.places[idx].busy_area / (servers * r.duration)));
            let mut residence = Moments::default();
            let mut service = Moments::default();
            let mut depository = Moments::default();
            let mut means = Vec::new();
            for r in reps {
                residence.merge(&r.places[idx].residence);
                service.merge(&r.places[idx].service);
                depository.merge(&r.places[idx].depository);
                if let Some(x) = r.places[idx].residence.mean() {
                    means.push(x);
                }
            }
            let (mean_residence_s, ci_half_width_s) = if k > 1 && means.len() == k {
                let (m, hw) = across(&means, cfg.confidence);
                (Some(m), hw)
            } else {
                (residence.mean(), reps[0].places[idx].residence_hw)
            };
            places.push(PlaceResult {
                place: place.name.clone(),
                color: net.colors[c].clone(),
                arrival_throughput: per_rep(&|r| r.places[idx].arrivals as f64 / r.duration),
                throughput: per_rep(&|r| r.places[idx].departures as f64 / r.duration),
                mean_population: per_rep(&|r| r.places[idx].area / r.duration),
                utilization,
                mean_residence_s,
                ci_half_width_s,
                mean_service_s: place.queue.as_ref().and(service.mean()),
                mean_depository_s: place.queue.as_ref().and(depository.mean()),
            });
        }
    }
    places
}
