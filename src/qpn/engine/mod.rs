//! The discrete-event engine: one replication of a [`Net`](crate::qpn::Net).
//!
//! Event list: a binary heap ordered by (time, sequence number), so ties
//! break by scheduling order and runs are reproducible. After every timed
//! event, enabled immediate transitions fire until none is enabled
//! (chosen among all enabled ones in proportion to their weights, then a
//! mode in proportion to its firing weight, as SimQPN does); then timed
//! transitions are (re)scheduled.
//!
//! Nothing here allocates per event once queues have reached their largest
//! size: tokens live in per-place deques and slabs that are reused.
//!
//! This file is the engine's face: a replication's start, its step, and
//! running to a time. `state.rs` holds the replication's state,
//! `build.rs` sets it up from a net, `tokens.rs` moves tokens between
//! places and queues, `fire.rs` fires transitions (mode choice by policy,
//! immediate transitions, timed ones' schedules), `measure.rs` stamps and
//! reads the statistics that `stats.rs` defines.

mod build;
mod fire;
mod measure;
mod modes;
mod state;
mod stats;
#[cfg(test)]
mod tests;
mod tokens;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::event::{Target, Token};
use super::net::{Net, Timing};
pub use state::{DEFAULT_TOKEN_LIMIT, SimError, Simulation, ZERO_TIME_LIMIT};
pub use stats::ProbeRecord;

impl Simulation<'_> {
    /// Sets the number of tokens in the net (queued, in service, or
    /// waiting to be taken), beyond the initial marking, above which the
    /// run stops as unstable.
    pub fn set_token_limit(&mut self, limit: u64) {
        let initial: u64 = self.net.places.iter().flat_map(|p| &p.initial).sum();
        self.token_limit = limit.saturating_add(initial);
    }

    /// Keeps every completed probe passage in [`Simulation::records`].
    pub fn record_probes(&mut self, on: bool) {
        self.recording = on;
    }

    /// Places the initial marking and fires what it enables.
    ///
    /// # Errors
    /// See [`SimError`].
    pub fn start(&mut self) -> Result<(), SimError> {
        let net = self.net;
        for (p, place) in net.places.iter().enumerate() {
            for (c, &n) in place.initial.iter().enumerate() {
                for _ in 0..n {
                    self.put(p, c, Token::fresh(0.0));
                }
            }
        }
        for t in 0..net.transitions.len() {
            if matches!(net.transitions[t].timing, Timing::Timed { .. }) {
                self.mark_timed(t);
            }
        }
        self.fire_immediate()?;
        self.update_timed();
        Ok(())
    }

    /// The net being simulated.
    pub fn net(&self) -> &Net {
        self.net
    }

    /// Simulated time, seconds.
    pub fn now(&self) -> f64 {
        self.now
    }

    /// Events processed: service completions and transition firings.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Time of the next pending event, if any.
    pub fn next_time(&self) -> Option<f64> {
        self.pending.peek_key()
    }

    /// Processes the next event and everything it enables.
    ///
    /// # Errors
    /// See [`SimError`].
    pub fn step(&mut self) -> Result<(), SimError> {
        let Some((time, target)) = self.pending.pop() else {
            return Err(SimError::Deadlock { time: self.now });
        };
        if time > self.now {
            self.same_time = 0;
        } else {
            self.same_time += 1;
            if self.same_time > ZERO_TIME_LIMIT {
                return Err(SimError::ZeroTimeLoop {
                    events: self.same_time,
                    time,
                    at: self.describe(target),
                });
            }
        }
        if !time.is_finite() {
            return Err(SimError::InfiniteTime {
                at: self.describe(target),
                time: self.now,
            });
        }
        self.now = time;
        match target {
            Target::Queue { place: slot, tag } => {
                let Some(job) = self.with_slot(slot, |q, ctx| q.complete(tag, ctx)) else {
                    return Ok(()); // a stale wake-up
                };
                self.complete(job.place as usize, job);
                self.events += 1;
            }
            Target::Timed {
                transition,
                generation,
            } => {
                let t = transition as usize;
                if !self.timed[t].0 || self.timed[t].1 != generation {
                    return Ok(());
                }
                self.timed[t].0 = false;
                if self.index.any(t) {
                    let m = self.choose_mode(t);
                    self.fire(t, m);
                }
                self.mark_timed(t);
            }
        }
        self.fire_immediate()?;
        self.update_timed();
        if self.in_queues + self.available > self.token_limit {
            let (p, tokens) = self.fullest_place();
            let initial: u64 = self.net.places[p].initial.iter().sum();
            return Err(SimError::Unstable {
                place: self.net.places[p].name.clone(),
                tokens,
                per_second: tokens.saturating_sub(initial) as f64 / self.now.max(f64::MIN_POSITIVE),
                time: self.now,
            });
        }
        Ok(())
    }

    /// What an event is for, in the model's words.
    fn describe(&self, target: Target) -> String {
        match target {
            Target::Timed { transition, .. } => {
                format!(
                    "transition {}",
                    self.net.transitions[transition as usize].name
                )
            }
            Target::Queue { place: slot, .. } => {
                let p = self.places.iter().position(|p| p.queue == Some(slot));
                let p = p.map_or("?", |p| self.net.places[p].name.as_str());
                format!("the queue of place {p}")
            }
        }
    }

    /// The place holding the most tokens (in its queue and its
    /// depository, or available), and how many.
    fn fullest_place(&self) -> (usize, u64) {
        let nc = self.nc;
        let held = |p: usize| {
            let population: u64 = (0..nc).map(|c| self.stats[p * nc + c].pop).sum();
            // A queueing place's population is its queue's; its depository
            // holds the rest (an ordinary place's tokens are its population).
            let depository: usize = match self.places[p].queue {
                Some(_) => self.places[p].tokens.iter().map(|t| t.len()).sum(),
                None => 0,
            };
            population + depository as u64
        };
        (0..self.places.len())
            .map(|p| (p, held(p)))
            .max_by_key(|&(_, n)| n)
            .unwrap_or_default()
    }

    /// Runs until simulated time `t` (events at exactly `t` included).
    ///
    /// # Errors
    /// See [`SimError`].
    pub fn run_until_time(&mut self, t: f64) -> Result<(), SimError> {
        while !self.run_toward(t, u64::MAX)? {}
        Ok(())
    }

    /// Runs toward simulated time `t` for at most `steps` steps: `true`
    /// once `t` is reached (as [`Simulation::run_until_time`]), `false`
    /// when the steps ran out first. Called again it goes on: the steps
    /// are those of one call to `run_until_time`, and between calls the
    /// caller can look at the run, its limits and Ctrl-C.
    ///
    /// # Errors
    /// See [`SimError`].
    pub fn run_toward(&mut self, t: f64, steps: u64) -> Result<bool, SimError> {
        let mut left = steps;
        while self.pending.peek_key().is_some_and(|k| k <= t) {
            if left == 0 {
                return Ok(false);
            }
            self.step()?;
            left -= 1;
        }
        if self.pending.is_empty() {
            return Err(SimError::Deadlock { time: self.now });
        }
        self.now = self.now.max(t);
        Ok(true)
    }
}

/// A replication's random stream: the master seed's stream, jumped ahead
/// 2^128 steps once per replication index, so streams never overlap and
/// do not depend on which thread runs them.
pub fn replication_rng(seed: u64, replication: usize) -> Xoshiro256PlusPlus {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    for _ in 0..replication {
        rng.jump();
    }
    rng
}
