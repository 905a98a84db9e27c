//! Probe means from the solution: cycles, residences, open sojourns, and
//! paths along which a token keeps its colour.

use super::compile::{ColourValues, Stations};
use super::network::Solution;
use super::routing::{self, Routing};
use super::shape::Shape;
use super::values::ProbeValue;
use crate::qpn::{Net, ProbePoint, Timing};

/// What a probe's value is computed from.
pub(super) struct Solved<'a> {
    pub(super) shape: &'a Shape<'a>,
    pub(super) routing: &'a Routing,
    pub(super) closed: bool,
    pub(super) stations: &'a Stations,
    pub(super) visits: &'a [Vec<f64>],
    pub(super) values: &'a ColourValues,
    pub(super) solution: &'a Solution,
}

/// Per probe and class, its mean where the probe's shape is one the
/// solver maps (a note says so where it is not).
pub(super) fn probe_values(solved: &Solved<'_>, notes: &mut Vec<String>) -> Vec<ProbeValue> {
    let net = solved.shape.net;
    let mut probes = Vec::new();
    for pr in &net.probes {
        for &c in pr.colors.iter().filter(|&&c| solved.shape.is_class[c]) {
            let value = solved.probe_value(pr, c);
            if value.is_none() {
                notes.push(format!("probe {} ({}): not solved; solved are exit→enter of the same places (a colour alone in its chain there), source→sink (a chain of one colour), and paths from entering or leaving places to entering or leaving places or a transition along which the colour stays and every token ends", pr.name, net.colors[c]));
            }
            probes.push(ProbeValue {
                name: pr.name.clone(),
                color: net.colors[c].clone(),
                mean_s: value,
            });
        }
    }
    probes
}

fn places_of(pts: &[ProbePoint], enter: bool) -> Option<Vec<usize>> {
    pts.iter()
        .map(|pt| match (pt, enter) {
            (ProbePoint::Enter(p), true) | (ProbePoint::Exit(p), false) => Some(*p),
            _ => None,
        })
        .collect()
}

fn transitions_of(pts: &[ProbePoint]) -> Option<Vec<usize>> {
    pts.iter()
        .map(|pt| match pt {
            ProbePoint::Transition(t) => Some(*t),
            _ => None,
        })
        .collect()
}

impl Solved<'_> {
    /// Colour `c`'s throughput, population and Σ throughput × residence
    /// over places `ps`.
    fn at(&self, ps: &[usize], c: usize) -> (f64, f64, f64) {
        let (mut x, mut q, mut xr) = (0.0, 0.0, 0.0);
        for &p in ps {
            if self.stations.of_place[p].is_some() {
                let v = &self.values;
                x += v.throughput[p][c];
                q += v.population[p][c];
                xr += v.throughput[p][c] * v.residence[p][c];
            } else {
                x += self.flow(p, c);
            }
        }
        (x, q, xr)
    }

    /// Tokens of colour `c` entering place `p` per second.
    fn flow(&self, p: usize, c: usize) -> f64 {
        let v = self.visits[p][c];
        if self.closed {
            self.solution.class_throughput[self.shape.chain(c)] * v
        } else {
            v
        }
    }

    /// A probe from entering or leaving places to entering or leaving
    /// places or a transition, along which a token keeps colour `c`: the
    /// expected residence along the paths from its starts to its ends
    /// (each station's per-visit residence times the expected visits), if
    /// every path ends.
    fn path_mean(&self, pr: &crate::qpn::Probe, c: usize) -> Option<f64> {
        let nc = self.shape.net.colors.len();
        let np = self.visits.len();
        let ends_at = |pt: ProbePoint| pr.end.contains(&pt);
        let starts_at = |pt: ProbePoint| pr.start.contains(&pt);
        // Entries per second into each place (colour c) where a stamp is set.
        let mut inject = vec![0.0; np * nc];
        for pt in &pr.start {
            match *pt {
                ProbePoint::Enter(p) => inject[p * nc + c] += self.flow(p, c),
                ProbePoint::Exit(p) if !ends_at(ProbePoint::Exit(p)) => {
                    for hop in &self.routing[p * nc + c] {
                        let q = hop.to?;
                        inject[q] += self.flow(p, c) * hop.prob;
                    }
                }
                _ => return None,
            }
        }
        // The routing of stamped tokens, from the states they can reach:
        // a hop that ends the probe is dropped; one that leaves colour c or
        // restarts the probe fails.
        let mut sub: Routing = vec![Vec::new(); np * nc];
        let mut todo: Vec<usize> = (0..np * nc).filter(|&s| inject[s] > 0.0).collect();
        let mut seen = vec![false; np * nc];
        while let Some(s) = todo.pop() {
            let p = s / nc;
            if std::mem::replace(&mut seen[s], true) || ends_at(ProbePoint::Exit(p)) {
                continue;
            }
            for hop in &self.routing[s] {
                if ends_at(ProbePoint::Transition(hop.transition)) {
                    continue;
                }
                let q = hop.to?;
                if ends_at(ProbePoint::Enter(q / nc)) {
                    continue;
                }
                if q % nc != c
                    || starts_at(ProbePoint::Enter(q / nc))
                    || starts_at(ProbePoint::Exit(p))
                {
                    return None;
                }
                sub[s].push(*hop);
                todo.push(q);
            }
        }
        let v = routing::propagate(&sub, &inject, None)?;
        let started: f64 = inject.iter().sum();
        let mut total = 0.0;
        for p in (0..np).filter(|&p| self.stations.of_place[p].is_some()) {
            total += v[p * nc + c] * self.values.residence[p][c];
        }
        (started > 0.0).then(|| total / started)
    }

    /// Whether `c` is the only colour of its chain at places `ps`.
    fn alone_at(&self, ps: &[usize], c: usize) -> bool {
        let chain = &self.shape.chains[self.shape.chain(c)];
        chain
            .iter()
            .all(|&o| o == c || ps.iter().all(|&p| self.visits[p][o] == 0.0))
    }

    fn probe_value(&self, pr: &crate::qpn::Probe, c: usize) -> Option<f64> {
        self.simple_probe_value(pr, c)
            .or_else(|| self.path_mean(pr, c))
    }

    fn simple_probe_value(&self, pr: &crate::qpn::Probe, c: usize) -> Option<f64> {
        let h = self.shape.chain(c);
        // exit(P) → enter(P): the rest of the cycle.
        if let (Some(a), Some(b)) = (places_of(&pr.start, false), places_of(&pr.end, true))
            && self.closed
            && same_set(&a, &b)
        {
            let (x, q, _) = self.at(&a, c);
            let n = self.shape.chain_population(h) as f64;
            return (x > 0.0 && self.alone_at(&a, c)).then(|| (n - q) / x);
        }
        // enter(P) → exit(P): residence at P.
        if let (Some(a), Some(b)) = (places_of(&pr.start, true), places_of(&pr.end, false))
            && same_set(&a, &b)
        {
            let (x, _, xr) = self.at(&a, c);
            return (x > 0.0).then(|| xr / x);
        }
        // source transition → sink transitions: total sojourn (Little).
        let (starts, ends) = (transitions_of(&pr.start)?, transitions_of(&pr.end)?);
        let net = self.shape.net;
        let is_source = |t: usize| net.transitions[t].modes.iter().all(|m| m.inputs.is_empty());
        let sinks_class = |t: usize| {
            net.transitions[t]
                .modes
                .iter()
                .all(|m| m.outputs.iter().all(|a| a.color != c))
        };
        if self.closed
            || self.shape.chains[h].len() > 1
            || !starts.iter().all(|&t| is_source(t))
            || !ends.iter().all(|&t| sinks_class(t))
        {
            return None;
        }
        let lambda: f64 = starts.iter().map(|&t| source_rate(net, t, c)).sum();
        let q: f64 = self.solution.stations.iter().map(|s| s.population[h]).sum();
        (lambda > 0.0).then(|| q / lambda)
    }
}

/// Tokens of colour `c` per second from source transition `t`.
fn source_rate(net: &Net, t: usize, c: usize) -> f64 {
    let tr = &net.transitions[t];
    let Timing::Timed { delay } = &tr.timing else {
        return 0.0;
    };
    let wsum: f64 = tr.modes.iter().map(|m| m.weight).sum();
    let per_firing: f64 = tr
        .modes
        .iter()
        .map(|m| {
            let n: u32 = m
                .outputs
                .iter()
                .filter(|a| a.color == c)
                .map(|a| a.count)
                .sum();
            m.weight / wsum * n as f64
        })
        .sum();
    per_firing / delay.mean()
}

fn same_set(a: &[usize], b: &[usize]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    b.sort_unstable();
    a.dedup();
    b.dedup();
    a == b
}
