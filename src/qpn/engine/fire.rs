//! Firing transitions: which enabled mode fires by the transition's
//! policy (`modes.rs` keeps which are enabled), immediate transitions
//! until none is enabled, and the (re)scheduling of timed ones.

use rand::RngExt;

use super::state::{FireArc, SimError, Simulation};
use crate::qpn::event::{Target, Token};
use crate::qpn::net::{Policy, Timing};

impl Simulation<'_> {
    /// The mode `t` (which has an enabled one) fires in, by its policy.
    pub(super) fn choose_mode(&mut self, t: usize) -> usize {
        self.index.sort(t);
        let on = self.index.enabled(t);
        if on.len() == 1 || self.index.single(t) {
            let m = on.first().map_or(0, |e| e.0 as usize);
            if let Some(last) = self.last_mode.get_mut(t) {
                *last = m;
            }
            return m;
        }
        match self.net.transitions[t].policy {
            Policy::Random => {
                let rng = &mut self.rng;
                self.index.choose(t, || rng.random::<f64>())
            }
            Policy::RoundRobin => {
                let last = self.last_mode[t];
                let next = on.iter().find(|m| m.0 as usize > last).unwrap_or(&on[0]).0 as usize;
                self.last_mode[t] = next;
                next
            }
            Policy::ShortestQueue => self.least_by(t, |s, p| (s.in_queue[p] as f64, 0.0)),
            Policy::LeastUtilized => self.least_by(t, |s, p| {
                let cap = s.net.places[p].queue.as_ref().and_then(|q| q.capacity());
                let busy = match (cap, s.places[p].queue) {
                    (Some(c), Some(slot)) => s.busy[slot as usize].busy / c,
                    _ => 0.0,
                };
                (busy, s.in_queue[p] as f64)
            }),
        }
    }

    /// The enabled mode of `t` (sorted) whose output queueing places score
    /// least (summed; the second part of the score breaks ties of the
    /// first); ties to the first mode.
    fn least_by(&self, t: usize, score: impl Fn(&Self, usize) -> (f64, f64)) -> usize {
        let modes = &self.net.transitions[t].modes;
        let on = self.index.enabled(t);
        let mut best = ((f64::INFINITY, f64::INFINITY), on[0].0 as usize);
        for &(mi, _) in on {
            let mi = mi as usize;
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

    pub(super) fn fire(&mut self, t: usize, m: usize) {
        let [start, split, end] = self.arcs.span[self.index.global(t, m)];
        self.consumed.clear();
        for i in start..split {
            let a = self.arcs.list[i as usize];
            for _ in 0..a.count {
                let mut tok = self.take(a.place as usize, a.color as usize);
                self.transition_hooks(t, a.color as usize, &mut tok, false);
                self.consumed.push(tok);
            }
        }
        for i in split..end {
            let a = self.arcs.list[i as usize];
            for _ in 0..a.count {
                let mut tok = match a.carry {
                    FireArc::FRESH => Token::fresh(self.now),
                    k => self.consumed[k as usize],
                };
                self.transition_hooks(t, a.color as usize, &mut tok, true);
                self.put(a.place as usize, a.color as usize, tok);
            }
        }
        self.events += 1;
    }

    pub(super) fn fire_immediate(&mut self) -> Result<(), SimError> {
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
                if self.index.any(t) {
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
            let m = self.choose_mode(t);
            self.fire(t, m);
            fired += 1;
            if fired > 10_000_000 {
                return Err(SimError::ImmediateLoop(fired, self.now));
            }
        }
        Ok(())
    }

    pub(super) fn update_timed(&mut self) {
        let net = self.net;
        while let Some(t) = self.timed_dirty.pop() {
            let t = t as usize;
            self.in_timed_dirty[t] = false;
            let on = self.index.any(t);
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
}
