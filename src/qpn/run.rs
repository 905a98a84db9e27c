//! Run control: warm-up, stopping rules, replications in parallel; the
//! report they make up is in `results.rs`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use super::engine::{DEFAULT_TOKEN_LIMIT, SimError, Simulation, replication_rng};
use super::net::{Net, ValidNet};
use super::results::{Rep, SimReport, collect, combine};
use crate::stats::mser5;

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
