//! Statistics of a replication: per (place, colour) and per (probe,
//! colour), the probes' stamps on tokens, and their reset at the end of
//! the warm-up.

use super::Simulation;
use crate::qpn::event::Token;
use crate::qpn::net::{Net, ProbePoint};
use crate::stats::{BatchMeans, Moments, QuantileSketch};

/// Statistics of one (place, colour) since the last reset.
#[derive(Debug, Clone)]
pub struct PlaceColorStats {
    /// Tokens that entered (the queue, for a queueing place).
    pub arrivals: u64,
    /// Tokens that left (finished service, for a queueing place).
    pub departures: u64,
    pub(super) pop: u64,
    pub(super) area: f64,
    pub(super) last: f64,
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
    pub(super) fn new() -> Self {
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
#[derive(Debug, Clone, Default)]
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

impl Simulation<'_> {
    pub(super) fn place_hooks(&mut self, p: usize, enter: bool, color: usize, token: &mut Token) {
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

    pub(super) fn transition_hooks(
        &mut self,
        t: usize,
        color: usize,
        token: &mut Token,
        starting: bool,
    ) {
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
            *p = ProbeStats::default();
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
pub(super) struct ProbeHooks {
    /// Per place: (probe, is a start) on a token entering.
    pub enter: Vec<Vec<(usize, bool)>>,
    /// Per place: (probe, is a start) on a token leaving.
    pub exit: Vec<Vec<(usize, bool)>>,
    /// Per transition: (probe, is a start) on its firing.
    pub transition: Vec<Vec<(usize, bool)>>,
    /// Per probe: its colours as a mask.
    pub colors: Vec<Vec<bool>>,
}

pub(super) fn probe_hooks(net: &Net) -> ProbeHooks {
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
