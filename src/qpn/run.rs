//! Run control: the warm-up, the stop rules, replications in parallel;
//! what is run is `config.rs`'s, the report they make up `results.rs`'s.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use super::config::{ConfigError, RunConfig, StopRule, Warmup};
use super::engine::{SimError, Simulation, replication_rng};
use super::net::{Net, ValidNet};
use super::results::{Rep, SimReport, collect, combine};
use crate::stats::mser5;

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

/// Why a simulation could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The configuration does not fit the net.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A replication failed. (The failure is part of the message, not a
    /// source: error chains printed it twice.)
    #[error("replication {replication}: {error}")]
    Sim {
        /// Replication index.
        replication: usize,
        /// The failure.
        error: SimError,
    },
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
    let err = |error| RunError::Sim {
        replication: r,
        error,
    };
    let mut sim = Simulation::new(net, replication_rng(cfg.seed, r));
    sim.set_token_limit(cfg.token_limit);
    sim.start().map_err(err)?;
    let mut watch = Watch::new(cfg);
    let mut stopped_early = warm_up_watched(&mut sim, cfg, &ctl, &mut watch).map_err(err)?;
    let warmup_time = sim.now();
    let warmup_passages = sim.main_completions();
    sim.reset_stats();
    if !stopped_early {
        stopped_early = measure(&mut sim, net, cfg, &ctl, &mut watch).map_err(err)?;
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

/// Events without a passage of a probe the stop rule waits for after
/// which the run stops (or a thousand times the events a passage has
/// taken so far, if more).
pub const NO_PASSAGE_EVENTS: u64 = 10_000_000;

/// The bounds of a replication that waits for passages: its event limit,
/// and how long it goes without one.
pub(crate) struct Watch {
    limit: u64,
    /// Passages and events when the count last moved.
    seen: (u64, u64),
}

impl Watch {
    pub(crate) fn new(cfg: &RunConfig) -> Self {
        Self {
            limit: cfg.event_limit(),
            seen: (0, 0),
        }
    }

    /// The event limit; and, when `waiting` for passages of the first
    /// probe, whether they have stopped coming.
    pub(crate) fn check(
        &mut self,
        sim: &Simulation<'_>,
        net: &Net,
        waiting: bool,
    ) -> Result<(), SimError> {
        let (events, passages) = (sim.events(), sim.main_completions());
        if events > self.limit {
            return Err(SimError::EventLimit {
                events,
                time: sim.now(),
                passages,
            });
        }
        if passages != self.seen.0 {
            self.seen = (passages, events);
        }
        // Events a passage has taken so far (none yet: no allowance).
        let per_passage = events.checked_div(passages).unwrap_or(0);
        let quiet = events - self.seen.1;
        if waiting && quiet > NO_PASSAGE_EVENTS.max(per_passage.saturating_mul(1_000)) {
            return Err(SimError::NoPassage {
                probe: net.probes.first().map_or("?", |p| &p.name).to_string(),
                events: quiet,
                time: sim.now(),
            });
        }
        Ok(())
    }
}

/// Runs the warm-up; whether it was interrupted.
pub(crate) fn warm_up(
    sim: &mut Simulation<'_>,
    cfg: &RunConfig,
    ctl: &Control<'_>,
) -> Result<bool, SimError> {
    warm_up_watched(sim, cfg, ctl, &mut Watch::new(cfg))
}

/// Runs to simulated time `t`, looking at the run's bounds and Ctrl-C
/// every 4,096 events (a 200th of `--time 1e12` never ended); `true`
/// when interrupted.
fn run_toward_watched(
    sim: &mut Simulation<'_>,
    t: f64,
    ctl: &Control<'_>,
    watch: &mut Watch,
) -> Result<bool, SimError> {
    while !sim.run_toward(t, 4096)? {
        watch.check(sim, sim.net(), false)?;
        if interrupted(ctl) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// [`warm_up`] within the run's bounds.
fn warm_up_watched(
    sim: &mut Simulation<'_>,
    cfg: &RunConfig,
    ctl: &Control<'_>,
    watch: &mut Watch,
) -> Result<bool, SimError> {
    match cfg.warmup {
        Warmup::None => Ok(false),
        Warmup::Time(t) => run_toward_watched(sim, t, ctl, watch),
        Warmup::Count(n) => {
            let mut steps = 0u64;
            while sim.main_completions() < n {
                sim.step()?;
                steps += 1;
                if steps.is_multiple_of(4096) {
                    watch.check(sim, sim.net(), true)?;
                    if interrupted(ctl) {
                        return Ok(true);
                    }
                }
            }
            Ok(false)
        }
        Warmup::Auto => auto_warm_up(sim, cfg, ctl, watch),
    }
}

/// Pilot runs of growing length until MSER-5 truncates well inside the
/// first half of the observations; whether it was interrupted.
fn auto_warm_up(
    sim: &mut Simulation<'_>,
    cfg: &RunConfig,
    ctl: &Control<'_>,
    watch: &mut Watch,
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
            if steps.is_multiple_of(4096) {
                watch.check(sim, sim.net(), true)?;
                if interrupted(ctl) {
                    stopped_early = true;
                    break;
                }
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
    watch: &mut Watch,
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
                    watch.check(sim, net, true)?;
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
                if run_toward_watched(sim, next, ctl, watch)? {
                    return Ok(true);
                }
                watch.check(sim, net, false)?;
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
            let mut steps = 0u64;
            loop {
                sim.step()?;
                steps += 1;
                if steps.is_multiple_of(4096) {
                    watch.check(sim, net, true)?;
                    unmeasured_probe(sim, net)?;
                }
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

/// A probe colour still without a passage after [`NO_PASSAGE_EVENTS`]
/// events (a precision rule waits for every one).
fn unmeasured_probe(sim: &Simulation<'_>, net: &Net) -> Result<(), SimError> {
    if sim.events() < NO_PASSAGE_EVENTS {
        return Ok(());
    }
    for (k, pr) in net.probes.iter().enumerate() {
        for &c in &pr.colors {
            if sim.probe_stats(k, c).moments.count() == 0 {
                return Err(SimError::NoPassage {
                    probe: format!("{} ({})", pr.name, net.colors[c]),
                    events: sim.events(),
                    time: sim.now(),
                });
            }
        }
    }
    Ok(())
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
