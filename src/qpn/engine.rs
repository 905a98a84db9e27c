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

use std::collections::VecDeque;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::event::{Busy, Events, Target, Token};
use super::net::{ArcSpec, Net, Policy, ProbePoint, Timing, ValidNet};
use super::queue::{self, Job, QueueState, Setup};
use crate::stats::{BatchMeans, Moments, QuantileSketch};

#[derive(Debug)]
struct PlaceState {
    /// Tokens of the place, or of the depository of a queueing place.
    tokens: Vec<VecDeque<Token>>,
    fifo: bool,
    /// Its queue's slot in `Simulation::queues` (its own or a shared one).
    queue: Option<u32>,
}

/// Statistics of one (place, colour) since the last reset.
#[derive(Debug, Clone)]
pub struct PlaceColorStats {
    /// Tokens that entered (the queue, for a queueing place).
    pub arrivals: u64,
    /// Tokens that left (finished service, for a queueing place).
    pub departures: u64,
    pop: u64,
    area: f64,
    last: f64,
    /// Residence times (queue: waiting + service), seconds.
    pub residence: Moments,
    /// Batch means of residence times.
    pub residence_bm: BatchMeans,
    /// Service times drawn for completed services, seconds.
    pub service: Moments,
    /// Times tokens waited in a queueing place's depository before a
    /// transition took them, seconds (QPME's depository residence).
    pub depository: Moments,
}

impl PlaceColorStats {
    fn new() -> Self {
        Self {
            arrivals: 0,
            departures: 0,
            pop: 0,
            area: 0.0,
            last: 0.0,
            residence: Moments::default(),
            residence_bm: BatchMeans::default(),
            service: Moments::default(),
            depository: Moments::default(),
        }
    }
    /// Time-integral of the population up to `now`.
    pub fn area_at(&self, now: f64) -> f64 {
        self.area + self.pop as f64 * (now - self.last)
    }
}

/// Statistics of one probe and colour since the last reset.
#[derive(Debug, Clone)]
pub struct ProbeStats {
    /// End-to-end times, seconds.
    pub moments: Moments,
    /// Quantiles.
    pub sketch: QuantileSketch,
    /// Batch means.
    pub bm: BatchMeans,
}

/// One completed probe passage, when recording is on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeRecord {
    /// Probe index.
    pub probe: usize,
    /// Colour.
    pub color: usize,
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
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

impl<'n> Simulation<'n> {
    /// Prepares a replication.
    /// `rng` is this replication's stream.
    pub fn new(net: &'n ValidNet, rng: Xoshiro256PlusPlus) -> Self {
        let net: &'n Net = net;
        let nc = net.colors.len();
        let np = net.places.len();
        let nt = net.transitions.len();
        let mut imm_of_place = vec![Vec::new(); np];
        let mut timed_of_place = vec![Vec::new(); np];
        let mut carry = Vec::with_capacity(nt);
        for (ti, t) in net.transitions.iter().enumerate() {
            for m in &t.modes {
                for a in &m.inputs {
                    let list = match t.timing {
                        Timing::Immediate { .. } => &mut imm_of_place[a.place],
                        Timing::Timed { .. } => &mut timed_of_place[a.place],
                    };
                    if !list.contains(&(ti as u32)) {
                        list.push(ti as u32);
                    }
                }
            }
            carry.push(
                t.modes
                    .iter()
                    .map(|m| carry_map(&m.inputs, &m.outputs, nc))
                    .collect(),
            );
        }
        let (places, queues) = place_states(net);
        let slots = queues.len();
        let hooks = probe_hooks(net);
        let probes = (0..net.probes.len() * nc)
            .map(|_| ProbeStats {
                moments: Moments::default(),
                sketch: QuantileSketch::default(),
                bm: BatchMeans::default(),
            })
            .collect();
        Self {
            net,
            rng,
            now: 0.0,
            pending: Events::default(),
            places,
            queues,
            imm_of_place,
            timed_of_place,
            timed: vec![(false, 0); nt],
            cand: Vec::new(),
            in_cand: vec![false; nt],
            timed_dirty: Vec::new(),
            in_timed_dirty: vec![false; nt],
            enabled: Vec::new(),
            modes: Vec::new(),
            consumed: Vec::new(),
            carry,
            enter_hooks: hooks.enter,
            exit_hooks: hooks.exit,
            trans_hooks: hooks.transition,
            probe_color: hooks.colors,
            nc,
            stats: (0..np * nc).map(|_| PlaceColorStats::new()).collect(),
            busy: vec![Busy::default(); slots],
            probes,
            measure_start: 0.0,
            main_completions: 0,
            events: 0,
            in_queues: 0,
            in_queue: vec![0; np],
            // Only when some transition goes round robin (the counter
            // costs a store per firing otherwise).
            last_mode: if net
                .transitions
                .iter()
                .any(|t| t.policy == Policy::RoundRobin)
            {
                vec![usize::MAX; nt]
            } else {
                Vec::new()
            },
            token_limit: DEFAULT_TOKEN_LIMIT,
            records: Vec::new(),
            recording: false,
        }
    }

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

    fn place_hooks(&mut self, p: usize, enter: bool, color: usize, token: &mut Token) {
        let n = if enter {
            self.enter_hooks[p].len()
        } else {
            self.exit_hooks[p].len()
        };
        for i in 0..n {
            let (k, is_start) = if enter {
                self.enter_hooks[p][i]
            } else {
                self.exit_hooks[p][i]
            };
            self.apply_hook(k, is_start, color, token);
        }
    }

    fn transition_hooks(&mut self, t: usize, color: usize, token: &mut Token, starting: bool) {
        for i in 0..self.trans_hooks[t].len() {
            let (k, is_start) = self.trans_hooks[t][i];
            if is_start == starting {
                self.apply_hook(k, is_start, color, token);
            }
        }
    }

    #[inline]
    fn apply_hook(&mut self, k: usize, is_start: bool, color: usize, token: &mut Token) {
        if !self.probe_color[k][color] {
            return;
        }
        if is_start {
            token.probe[k] = self.now;
        } else if !token.probe[k].is_nan() {
            let start = token.probe[k];
            token.probe[k] = f64::NAN;
            self.record_probe(k, color, start);
        }
    }

    fn record_probe(&mut self, k: usize, color: usize, start: f64) {
        let d = self.now - start;
        if k == 0 {
            self.main_completions += 1;
        }
        let s = &mut self.probes[k * self.nc + color];
        s.moments.push(d);
        s.sketch.push(d);
        s.bm.push(d);
        if self.recording {
            self.records.push(ProbeRecord {
                probe: k,
                color,
                start,
                end: self.now,
            });
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

    // ----- transitions -----

    /// Collects the enabled modes of `t` into `self.modes`; whether any is.
    fn pick_mode(&mut self, t: usize) -> bool {
        let net = self.net;
        self.modes.clear();
        for (mi, m) in net.transitions[t].modes.iter().enumerate() {
            if m.inputs
                .iter()
                .all(|a| self.available(a.place, a.color) >= a.count as usize)
            {
                self.modes.push((mi, m.weight));
            }
        }
        !self.modes.is_empty()
    }

    fn choose_mode(&mut self, t: usize) -> usize {
        if self.modes.len() == 1 {
            let m = self.modes[0].0;
            if let Some(last) = self.last_mode.get_mut(t) {
                *last = m;
            }
            return m;
        }
        match self.net.transitions[t].policy {
            Policy::Random => {}
            Policy::RoundRobin => {
                let last = self.last_mode[t];
                let next = self
                    .modes
                    .iter()
                    .find(|m| m.0 > last)
                    .unwrap_or(&self.modes[0])
                    .0;
                self.last_mode[t] = next;
                return next;
            }
            Policy::ShortestQueue => return self.least_by(t, |s, p| (s.in_queue[p] as f64, 0.0)),
            Policy::LeastUtilized => {
                return self.least_by(t, |s, p| {
                    let cap = s.net.places[p].queue.as_ref().and_then(|q| q.capacity());
                    let busy = match (cap, s.places[p].queue) {
                        (Some(c), Some(slot)) => s.busy[slot as usize].busy / c,
                        _ => 0.0,
                    };
                    (busy, s.in_queue[p] as f64)
                });
            }
        }
        let total: f64 = self.modes.iter().map(|m| m.1).sum();
        let mut u = self.rng.random::<f64>() * total;
        for &(mi, w) in &self.modes {
            if u < w {
                return mi;
            }
            u -= w;
        }
        self.modes.last().unwrap().0
    }

    /// The enabled mode of `t` whose output queueing places score least
    /// (summed; the second part of the score breaks ties of the first);
    /// ties to the first mode.
    fn least_by(&self, t: usize, score: impl Fn(&Self, usize) -> (f64, f64)) -> usize {
        let modes = &self.net.transitions[t].modes;
        let mut best = ((f64::INFINITY, f64::INFINITY), self.modes[0].0);
        for &(mi, _) in &self.modes {
            let s = modes[mi]
                .outputs
                .iter()
                .filter(|a| self.net.places[a.place].queue.is_some())
                .map(|a| score(self, a.place))
                .fold((0.0, 0.0), |acc, x| (acc.0 + x.0, acc.1 + x.1));
            if s < best.0 {
                best = (s, mi);
            }
        }
        best.1
    }

    fn fire(&mut self, t: usize, m: usize) {
        let net = self.net;
        let mode = &net.transitions[t].modes[m];
        self.consumed.clear();
        for a in &mode.inputs {
            for _ in 0..a.count {
                let mut tok = self.take(a.place, a.color);
                self.transition_hooks(t, a.color, &mut tok, false);
                self.consumed.push(tok);
            }
        }
        for (j, a) in mode.outputs.iter().enumerate() {
            for _ in 0..a.count {
                let mut tok = match self.carry[t][m][j] {
                    Some(i) => self.consumed[i],
                    None => Token::fresh(self.now),
                };
                self.transition_hooks(t, a.color, &mut tok, true);
                self.put(a.place, a.color, tok);
            }
        }
        self.events += 1;
    }

    fn fire_immediate(&mut self) -> Result<(), SimError> {
        let net = self.net;
        let mut fired = 0u64;
        while !self.cand.is_empty() {
            if self.cand.len() > 1 {
                self.cand.sort_unstable();
            }
            self.enabled.clear();
            let mut total = 0.0;
            let mut i = 0;
            while i < self.cand.len() {
                let t = self.cand[i] as usize;
                let on = net.transitions[t].modes.iter().any(|m| {
                    m.inputs
                        .iter()
                        .all(|a| self.available(a.place, a.color) >= a.count as usize)
                });
                if on {
                    let Timing::Immediate { weight } = net.transitions[t].timing else {
                        unreachable!()
                    };
                    self.enabled.push((t as u32, weight));
                    total += weight;
                    i += 1;
                } else {
                    self.in_cand[t] = false;
                    self.cand.swap_remove(i);
                }
            }
            if self.enabled.is_empty() {
                break;
            }
            let t = if self.enabled.len() == 1 {
                self.enabled[0].0 as usize
            } else {
                let mut u = self.rng.random::<f64>() * total;
                let mut pick = self.enabled.last().unwrap().0;
                for &(t, w) in &self.enabled {
                    if u < w {
                        pick = t;
                        break;
                    }
                    u -= w;
                }
                pick as usize
            };
            self.pick_mode(t);
            let m = self.choose_mode(t);
            self.fire(t, m);
            fired += 1;
            if fired > 10_000_000 {
                return Err(SimError::ImmediateLoop(fired, self.now));
            }
        }
        Ok(())
    }

    fn update_timed(&mut self) {
        let net = self.net;
        while let Some(t) = self.timed_dirty.pop() {
            let t = t as usize;
            self.in_timed_dirty[t] = false;
            let on = net.transitions[t].modes.iter().any(|m| {
                m.inputs
                    .iter()
                    .all(|a| self.available(a.place, a.color) >= a.count as usize)
            });
            let (scheduled, generation) = self.timed[t];
            if on && !scheduled {
                let Timing::Timed { delay } = &net.transitions[t].timing else {
                    unreachable!()
                };
                let d = delay.sample(&mut self.rng);
                let g = generation.wrapping_add(1);
                self.timed[t] = (true, g);
                self.pending.push(
                    self.now + d,
                    Target::Timed {
                        transition: t as u32,
                        generation: g,
                    },
                );
            } else if !on && scheduled {
                self.timed[t] = (false, generation.wrapping_add(1));
            }
        }
    }

    // ----- measurement -----

    /// Forgets all statistics gathered so far (end of warm-up).
    pub fn reset_stats(&mut self) {
        let now = self.now;
        for s in &mut self.stats {
            let pop = s.pop;
            *s = PlaceColorStats::new();
            s.pop = pop;
            s.last = now;
        }
        for b in &mut self.busy {
            b.area = 0.0;
            b.last = now;
        }
        for p in &mut self.probes {
            *p = ProbeStats {
                moments: Moments::default(),
                sketch: QuantileSketch::default(),
                bm: BatchMeans::default(),
            };
        }
        self.measure_start = now;
        self.main_completions = 0;
    }

    /// Passages of probe 0 (all colours) since the last reset.
    pub fn main_completions(&self) -> u64 {
        self.main_completions
    }

    /// When statistics were last reset, seconds.
    pub fn measure_start(&self) -> f64 {
        self.measure_start
    }

    /// Statistics of `(place, color)`.
    pub fn place_stats(&self, p: usize, c: usize) -> &PlaceColorStats {
        &self.stats[p * self.nc + c]
    }

    /// Statistics of `(probe, color)`.
    pub fn probe_stats(&self, k: usize, c: usize) -> &ProbeStats {
        &self.probes[k * self.nc + c]
    }

    /// Busy servers of shared queue `k` integrated over time since the
    /// reset, up to `now` (server-seconds).
    pub fn shared_busy_area(&self, k: usize) -> f64 {
        let slot = self.queues.len() - self.net.queues.len() + k;
        self.busy[slot].area_at(self.now)
    }

    /// Busy servers of place `p`'s queue (its own, or the shared one it
    /// names) integrated over time since the reset, up to `now`
    /// (server-seconds; for IS, token-seconds in service).
    pub fn busy_area(&self, p: usize) -> f64 {
        self.places[p]
            .queue
            .map_or(0.0, |slot| self.busy[slot as usize].area_at(self.now))
    }
}

/// Where each probe starts and ends, and which colours it measures.
struct ProbeHooks {
    /// Per place: (probe, is a start) on a token entering.
    enter: Vec<Vec<(usize, bool)>>,
    /// Per place: (probe, is a start) on a token leaving.
    exit: Vec<Vec<(usize, bool)>>,
    /// Per transition: (probe, is a start) on its firing.
    transition: Vec<Vec<(usize, bool)>>,
    /// Per probe: its colours as a mask.
    colors: Vec<Vec<bool>>,
}

fn probe_hooks(net: &Net) -> ProbeHooks {
    let (np, nt, nc) = (net.places.len(), net.transitions.len(), net.colors.len());
    let mut h = ProbeHooks {
        enter: vec![Vec::new(); np],
        exit: vec![Vec::new(); np],
        transition: vec![Vec::new(); nt],
        colors: Vec::new(),
    };
    for (k, pr) in net.probes.iter().enumerate() {
        for (points, is_start) in [(&pr.start, true), (&pr.end, false)] {
            for pt in points {
                match *pt {
                    ProbePoint::Enter(p) => h.enter[p].push((k, is_start)),
                    ProbePoint::Exit(p) => h.exit[p].push((k, is_start)),
                    ProbePoint::Transition(t) => h.transition[t].push((k, is_start)),
                }
            }
        }
        let mut mask = vec![false; nc];
        for &c in &pr.colors {
            mask[c] = true;
        }
        h.colors.push(mask);
    }
    h
}

/// Each place's state, and the queues: every queueing place's own (in
/// place order), then the shared queues (the places naming one point to
/// its slot).
fn place_states(net: &Net) -> (Vec<PlaceState>, Vec<QueueState>) {
    let nc = net.colors.len();
    let mut queues: Vec<QueueState> = Vec::new();
    let own = net
        .places
        .iter()
        .filter(|p| p.queue.as_ref().is_some_and(|q| q.shared.is_none()));
    let first_shared = own.count();
    let places = net
        .places
        .iter()
        .map(|p| PlaceState {
            tokens: vec![VecDeque::new(); nc],
            fifo: p.departure == super::net::Departure::Fifo,
            queue: p.queue.as_ref().map(|q| match q.shared {
                Some(k) => (first_shared + k) as u32,
                None => {
                    let setup = Setup {
                        servers: q.servers,
                        priority: &q.priority,
                    };
                    queues.push(QueueState::new(q.scheduling, &setup));
                    (queues.len() - 1) as u32
                }
            }),
        })
        .collect();
    let no_priorities = vec![0; nc];
    for sq in &net.queues {
        let setup = Setup {
            servers: sq.servers,
            priority: &no_priorities,
        };
        queues.push(QueueState::new(sq.scheduling, &setup));
    }
    (places, queues)
}

/// For each output arc, the consumed token (index in consumption order)
/// whose identity it keeps: a colour consumed exactly once and produced
/// exactly once carries over, and so does the one token of a mode that
/// consumes one and produces one of another colour (class switching: a
/// session keeps its stamps while its requests change class).
fn carry_map(inputs: &[ArcSpec], outputs: &[ArcSpec], nc: usize) -> Vec<Option<usize>> {
    if let ([i], [o]) = (inputs, outputs)
        && i.count == 1
        && o.count == 1
    {
        return vec![Some(0)];
    }
    let mut in_count = vec![0u32; nc];
    let mut in_index = vec![0usize; nc];
    let mut offset = 0usize;
    for a in inputs {
        in_count[a.color] += a.count;
        in_index[a.color] = offset;
        offset += a.count as usize;
    }
    let mut out_count = vec![0u32; nc];
    for a in outputs {
        out_count[a.color] += a.count;
    }
    outputs
        .iter()
        .map(|a| (in_count[a.color] == 1 && out_count[a.color] == 1).then_some(in_index[a.color]))
        .collect()
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
