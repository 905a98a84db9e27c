//! Measuring a replication: the probes' stamps on tokens as they pass,
//! the statistics' reset at the end of the warm-up, and their reading.

use super::state::Simulation;
use super::stats::{PlaceColorStats, ProbeRecord, ProbeStats};
use crate::qpn::event::Token;
use crate::qpn::queue::Throttling;

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
        for q in &mut self.queues {
            q.reset(now);
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

    /// The throttling counters of shared queue `k` since the reset, up to
    /// `now`; `None` without a CPU limit.
    pub fn shared_throttling(&self, k: usize) -> Option<Throttling> {
        let slot = self.queues.len() - self.net.queues.len() + k;
        self.queues[slot].throttling(self.now)
    }

    /// The throttling counters of place `p`'s own queue since the reset,
    /// up to `now`; `None` without a CPU limit, and for a place naming a
    /// shared queue (see [`Simulation::shared_throttling`]).
    pub fn throttling(&self, p: usize) -> Option<Throttling> {
        let q = self.net.places[p].queue.as_ref()?;
        let slot = self.places[p].queue.filter(|_| q.shared.is_none())?;
        self.queues[slot as usize].throttling(self.now)
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
