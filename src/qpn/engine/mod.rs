//! The discrete-event engine: one replication of a [`Net`].
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
//! This file holds the replication's state, its step and the tokens'
//! moves between places and queues; `build.rs` sets a replication up from
//! a net, `fire.rs` fires transitions (mode choice by policy, immediate
//! transitions, timed ones' schedules), `measure.rs` keeps the statistics
//! and the probes' stamps.

mod build;
mod fire;
mod measure;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::event::{Busy, Events, Target, Token};
use super::net::{Net, Timing};
use super::queue::{self, Job, QueueState};
pub use measure::{PlaceColorStats, ProbeRecord, ProbeStats};

#[derive(Debug)]
struct PlaceState {
    /// Tokens of the place, or of the depository of a queueing place.
    tokens: Vec<VecDeque<Token>>,
    fifo: bool,
    /// Its queue's slot in `Simulation::queues` (its own or a shared one).
    queue: Option<u32>,
}

/// Why a run cannot go on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// No event is pending and no transition can fire.
    #[error(
        "the net is dead at t = {time} s: no transition can fire and no service is pending (a closed model that deadlocks)"
    )]
    Deadlock {
        /// Simulated time, seconds.
        time: f64,
    },
    /// Immediate transitions keep firing without time advancing.
    #[error(
        "immediate transitions fired {0} times at t = {1} s without time advancing: a cycle of immediate transitions?"
    )]
    ImmediateLoop(u64, f64),
    /// A queue grows without bound.
    #[error(
        "place {place} holds {tokens} tokens at t = {time} s: the model is unstable (offered load at or above capacity)"
    )]
    Unstable {
        /// Place name.
        place: String,
        /// Tokens in it.
        tokens: u64,
        /// Simulated time, seconds.
        time: f64,
    },
}

/// Largest number of tokens in queues before a run is declared unstable.
pub const DEFAULT_TOKEN_LIMIT: u64 = 20_000_000;

/// One replication in progress.
pub struct Simulation<'n> {
    net: &'n Net,
    rng: Xoshiro256PlusPlus,
    now: f64,
    pending: Events,
    places: Vec<PlaceState>,
    /// The queues: each queueing place's own, then the shared ones.
    queues: Vec<QueueState>,
    imm_of_place: Vec<Vec<u32>>,
    timed_of_place: Vec<Vec<u32>>,
    timed: Vec<(bool, u32)>,
    cand: Vec<u32>,
    in_cand: Vec<bool>,
    timed_dirty: Vec<u32>,
    in_timed_dirty: Vec<bool>,
    enabled: Vec<(u32, f64)>,
    modes: Vec<(usize, f64)>,
    consumed: Vec<Token>,
    /// carry[t][m][output arc] = index into `consumed` of the token whose
    /// identity the produced token keeps.
    carry: Vec<Vec<Vec<Option<usize>>>>,
    enter_hooks: Vec<Vec<(usize, bool)>>,
    exit_hooks: Vec<Vec<(usize, bool)>>,
    trans_hooks: Vec<Vec<(usize, bool)>>,
    probe_color: Vec<Vec<bool>>,
    nc: usize,
    stats: Vec<PlaceColorStats>,
    busy: Vec<Busy>,
    probes: Vec<ProbeStats>,
    measure_start: f64,
    main_completions: u64,
    events: u64,
    in_queues: u64,
    /// Tokens in each place's queue (for join-the-shortest-queue).
    in_queue: Vec<u64>,
    /// The mode each transition fired last (for round robin; empty when
    /// no transition goes round robin).
    last_mode: Vec<usize>,
    token_limit: u64,
    /// Completed probe passages since the last drain, when recording.
    pub records: Vec<ProbeRecord>,
    recording: bool,
}

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

    // ----- tokens in and out of places -----

    fn pop_change(&mut self, p: usize, c: usize, up: bool) {
        let now = self.now;
        let s = &mut self.stats[p * self.nc + c];
        s.area += s.pop as f64 * (now - s.last);
        s.last = now;
        if up {
            s.pop += 1;
        } else {
            s.pop -= 1;
        }
    }

    /// A token enters place `p` (its queue, for a queueing place).
    fn put(&mut self, p: usize, c: usize, mut token: Token) {
        token.entered = self.now;
        self.place_hooks(p, true, c, &mut token);
        self.stats[p * self.nc + c].arrivals += 1;
        self.pop_change(p, c, true);
        if self.places[p].queue.is_some() {
            self.in_queues += 1;
            self.in_queue[p] += 1;
            self.arrive(p, c, token);
        } else {
            self.deposit(p, c, token);
        }
    }

    /// A token becomes available in place `p` (or its depository).
    fn deposit(&mut self, p: usize, c: usize, mut token: Token) {
        token.entered = self.now;
        self.places[p].tokens[c].push_back(token);
        self.mark_dependents(p);
    }

    fn mark_dependents(&mut self, p: usize) {
        for i in 0..self.imm_of_place[p].len() {
            let t = self.imm_of_place[p][i];
            if !self.in_cand[t as usize] {
                self.in_cand[t as usize] = true;
                self.cand.push(t);
            }
        }
        for i in 0..self.timed_of_place[p].len() {
            let t = self.timed_of_place[p][i] as usize;
            self.mark_timed(t);
        }
    }

    fn mark_timed(&mut self, t: usize) {
        if !self.in_timed_dirty[t] {
            self.in_timed_dirty[t] = true;
            self.timed_dirty.push(t as u32);
        }
    }

    /// Takes the oldest available token of colour `c` from place `p`.
    fn take(&mut self, p: usize, c: usize) -> Token {
        let mut token = self.places[p].tokens[c]
            .pop_front()
            .expect("an enabled input");
        let nc = self.nc;
        let s = &mut self.stats[p * nc + c];
        let r = self.now - token.entered;
        if self.places[p].queue.is_none() {
            s.residence.push(r);
            s.residence_bm.push(r);
            s.departures += 1;
            self.pop_change(p, c, false);
        } else {
            s.depository.push(r);
        }
        self.place_hooks(p, false, c, &mut token);
        if self.places[p].fifo {
            // A new oldest token may make another colour available.
            self.mark_dependents(p);
        }
        token
    }

    /// Tokens of colour `c` that transitions may consume from `p`.
    #[inline]
    fn available(&self, p: usize, c: usize) -> usize {
        let pl = &self.places[p];
        let n = pl.tokens[c].len();
        if !pl.fifo || n == 0 {
            return n;
        }
        let head = pl.tokens[c][0].entered;
        let oldest = pl.tokens.iter().enumerate().all(|(k, q)| {
            k == c
                || q.front()
                    .is_none_or(|t| t.entered > head || (t.entered == head && k > c))
        });
        if oldest { n } else { 0 }
    }

    // ----- queues -----

    /// Runs `f` on queue `slot` with its scheduling context.
    #[inline]
    fn with_slot<T>(
        &mut self,
        slot: u32,
        f: impl FnOnce(&mut QueueState, &mut queue::Ctx<'_>) -> T,
    ) -> T {
        let mut ctx = queue::Ctx {
            now: self.now,
            events: &mut self.pending,
            busy: &mut self.busy[slot as usize],
            place: slot,
        };
        f(&mut self.queues[slot as usize], &mut ctx)
    }

    /// A token enters the queue of `p`: its service time is drawn now.
    fn arrive(&mut self, p: usize, c: usize, token: Token) {
        let dist = self.net.places[p].queue.as_ref().unwrap().service[c]
            .as_ref()
            .expect("validated: service defined");
        let service = dist.sample(&mut self.rng);
        let job = Job {
            color: c,
            token,
            service,
            place: p as u32,
        };
        let slot = self.places[p].queue.expect("a queueing place");
        self.with_slot(slot, |q, ctx| q.arrive(job, ctx));
    }

    /// A job finishes service: residence statistics, then the depository.
    fn complete(&mut self, p: usize, job: Job) {
        let c = job.color;
        let r = self.now - job.token.entered;
        let s = &mut self.stats[p * self.nc + c];
        s.residence.push(r);
        s.residence_bm.push(r);
        s.service.push(job.service);
        s.departures += 1;
        self.pop_change(p, c, false);
        self.in_queues -= 1;
        self.in_queue[p] -= 1;
        self.deposit(p, c, job.token);
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
