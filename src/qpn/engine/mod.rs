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
mod state;
mod stats;
#[cfg(test)]
mod tests;
mod tokens;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::event::{Target, Token};
use super::net::Timing;
pub use state::{DEFAULT_TOKEN_LIMIT, SimError, Simulation};
pub use stats::ProbeRecord;

impl Simulation<'_> {
    /// Sets the number of queued tokens above which the run stops as
    /// unstable.
    pub fn set_token_limit(&mut self, limit: u64) {
        self.token_limit = limit;
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
                if self.pick_mode(t) {
                    let m = self.choose_mode(t);
                    self.fire(t, m);
                }
                self.mark_timed(t);
            }
        }
        self.fire_immediate()?;
        self.update_timed();
        if self.in_queues > self.token_limit {
            let (place, tokens) = self.largest_queue();
            return Err(SimError::Unstable {
                place,
                tokens,
                time: self.now,
            });
        }
        Ok(())
    }

    fn largest_queue(&self) -> (String, u64) {
        let nc = self.nc;
        (0..self.places.len())
            .map(|p| (p, (0..nc).map(|c| self.stats[p * nc + c].pop).sum::<u64>()))
            .max_by_key(|&(_, n)| n)
            .map(|(p, n)| (self.net.places[p].name.clone(), n))
            .unwrap_or_default()
    }

    /// Runs until simulated time `t` (events at exactly `t` included).
    ///
    /// # Errors
    /// See [`SimError`].
    pub fn run_until_time(&mut self, t: f64) -> Result<(), SimError> {
        while self.pending.peek_key().is_some_and(|k| k <= t) {
            self.step()?;
        }
        if self.pending.is_empty() {
            return Err(SimError::Deadlock { time: self.now });
        }
        self.now = self.now.max(t);
        Ok(())
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
