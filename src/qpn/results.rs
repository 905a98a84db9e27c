//! The report of a run: one replication's raw statistics, and results per
//! probe, place and shared queue over the replications, with confidence
//! intervals.

use serde::Serialize;

use super::config::{RunConfig, Warmup};
use super::engine::Simulation;
use super::net::{CpuLimit, Net};
use super::queue::Throttling;
use crate::stats::{Moments, QuantileSketch, student_t_quantile};

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

/// A queue under a CPU limit: cgroup `cpu.stat`'s counters per
/// replication (means over the replications), to set beside a measured
/// container's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThrottleResult {
    /// The place with the queue, or the shared queue.
    pub queue: String,
    /// The CPUs the limit allows: quota / period.
    pub cpus: f64,
    /// The period, seconds.
    pub period_s: f64,
    /// Periods in which it served work (`nr_periods`).
    pub periods: f64,
    /// Periods in which it was throttled (`nr_throttled`).
    pub throttled_periods: f64,
    /// Time throttled, seconds (`throttled_time`).
    pub throttled_s: f64,
    /// `nr_throttled / nr_periods` over all replications (`None` when it
    /// served nothing).
    pub throttled_fraction: Option<f64>,
    /// Half-width of its CI across replications (`None` for one).
    pub throttled_fraction_ci_half_width: Option<f64>,
    /// Throttled time / measured time.
    pub throttled_time_fraction: f64,
    /// Half-width of its CI across replications (`None` for one).
    pub throttled_time_fraction_ci_half_width: Option<f64>,
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
    /// Queues under a CPU limit (none: left out of the JSON).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub throttling: Vec<ThrottleResult>,
}

/// One replication's raw outcome.
pub(super) struct Rep {
    events: u64,
    duration: f64,
    warmup_time: f64,
    warmup_passages: u64,
    interrupted: bool,
    places: Vec<PlaceRaw>,
    /// Per shared queue, its busy server-seconds.
    shared_busy: Vec<f64>,
    /// Per queue under a CPU limit (places', then shared), its counters.
    throttling: Vec<Throttling>,
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

/// One replication's raw statistics.
pub(super) fn collect(
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
        throttling: (0..net.places.len())
            .filter_map(|p| sim.throttling(p))
            .chain((0..net.queues.len()).filter_map(|k| sim.shared_throttling(k)))
            .collect(),
        probes,
    }
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

/// The report over the replications.
pub(super) fn combine(net: &Net, cfg: &RunConfig, reps: &[Rep]) -> SimReport {
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
        throttling: combine_throttling(net, cfg, reps),
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
            let servers = q.scheduling.capacity(q.servers);
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

/// The limited queues (places' own, then shared ones, as `collect` lists
/// them) with their limits.
fn limited(net: &Net) -> Vec<(&str, CpuLimit)> {
    let own = net.places.iter().filter_map(|p| {
        let q = p.queue.as_ref().filter(|q| q.shared.is_none())?;
        Some((p.name.as_str(), q.cpu_limit?))
    });
    let shared = net
        .queues
        .iter()
        .filter_map(|q| Some((q.name.as_str(), q.cpu_limit?)));
    own.chain(shared).collect()
}

/// Throttling over the replications.
fn combine_throttling(net: &Net, cfg: &RunConfig, reps: &[Rep]) -> Vec<ThrottleResult> {
    let k = reps.len() as f64;
    let mean = |f: &dyn Fn(&Rep) -> f64| reps.iter().map(f).sum::<f64>() / k;
    // A CI across the replications' values, when each has one.
    let ci = |f: &dyn Fn(&Rep) -> Option<f64>| {
        let each: Option<Vec<f64>> = reps.iter().map(f).collect();
        each.filter(|v| v.len() > 1)
            .and_then(|v| across(&v, cfg.confidence).1)
    };
    limited(net)
        .into_iter()
        .enumerate()
        .map(|(i, (name, limit))| {
            let periods = mean(&|r| r.throttling[i].periods as f64);
            let throttled_periods = mean(&|r| r.throttling[i].throttled_periods as f64);
            let fraction = |r: &Rep| {
                let s = &r.throttling[i];
                (s.periods > 0).then(|| s.throttled_periods as f64 / s.periods as f64)
            };
            let time_fraction = |r: &Rep| r.throttling[i].throttled_s / r.duration;
            ThrottleResult {
                queue: name.to_string(),
                cpus: limit.cpus(),
                period_s: limit.period,
                periods,
                throttled_periods,
                throttled_s: mean(&|r| r.throttling[i].throttled_s),
                throttled_fraction: (periods > 0.0).then(|| throttled_periods / periods),
                throttled_fraction_ci_half_width: ci(&fraction),
                throttled_time_fraction: mean(&time_fraction),
                throttled_time_fraction_ci_half_width: ci(&|r| Some(time_fraction(r))),
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
