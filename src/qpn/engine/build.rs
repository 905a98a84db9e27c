//! Setting a replication up: the places' token lists and the queues, which
//! transitions each place can enable, the tokens transitions carry over,
//! the probes' hooks.

use std::collections::VecDeque;

use rand_xoshiro::Xoshiro256PlusPlus;

use super::modes::ModeIndex;
use super::state::{Arcs, DEFAULT_TOKEN_LIMIT, FireArc, PlaceState, Simulation};
use super::stats::{PlaceColorStats, ProbeStats};
use crate::qpn::event::{Busy, Events};
use crate::qpn::net::{ArcSpec, Departure, Net, Policy, ProbePoint, Timing, ValidNet};
use crate::qpn::queue::{LiveQueue, Setup};

impl<'n> Simulation<'n> {
    /// Prepares a replication.
    /// `rng` is this replication's stream.
    pub fn new(net: &'n ValidNet, rng: Xoshiro256PlusPlus) -> Self {
        let net: &'n Net = net;
        let (nc, np, nt) = (net.colors.len(), net.places.len(), net.transitions.len());
        let Enabling {
            imm_of_place,
            timed_of_place,
        } = Enabling::of(net);
        let (places, queues) = place_states(net);
        let slots = queues.len();
        let hooks = probe_hooks(net);
        let probes = (0..net.probes.len() * nc)
            .map(|_| ProbeStats::default())
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
            index: ModeIndex::new(net),
            consumed: Vec::new(),
            arcs: arcs_of(net),
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
            same_time: 0,
            in_queues: 0,
            available: 0,
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
            token_limit: DEFAULT_TOKEN_LIMIT
                .saturating_add(net.places.iter().flat_map(|p| &p.initial).sum()),
            records: Vec::new(),
            recording: false,
        }
    }
}

/// Which transitions a token in each place can enable.
struct Enabling {
    /// Per place, the immediate transitions with an input there.
    imm_of_place: Vec<Vec<u32>>,
    /// Per place, the timed transitions with an input there.
    timed_of_place: Vec<Vec<u32>>,
}

impl Enabling {
    fn of(net: &Net) -> Self {
        let np = net.places.len();
        let mut e = Self {
            imm_of_place: vec![Vec::new(); np],
            timed_of_place: vec![Vec::new(); np],
        };
        for (ti, t) in net.transitions.iter().enumerate() {
            for a in t.modes.iter().flat_map(|m| &m.inputs) {
                let list = match t.timing {
                    Timing::Immediate { .. } => &mut e.imm_of_place[a.place],
                    Timing::Timed { .. } => &mut e.timed_of_place[a.place],
                };
                if !list.contains(&(ti as u32)) {
                    list.push(ti as u32);
                }
            }
        }
        e
    }
}

/// Each place's state, and the queues: every queueing place's own (in
/// place order), then the shared queues (the places naming one point to
/// its slot).
fn place_states(net: &Net) -> (Vec<PlaceState>, Vec<LiveQueue>) {
    let nc = net.colors.len();
    let mut queues: Vec<LiveQueue> = Vec::new();
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
            fifo: p.departure == Departure::Fifo,
            queue: p.queue.as_ref().map(|q| match q.shared {
                Some(k) => (first_shared + k) as u32,
                None => {
                    let setup = Setup {
                        servers: q.servers,
                        priority: &q.priority,
                        rate: &q.load_dependence,
                    };
                    queues.push(LiveQueue::new(q.scheduling, &setup, q.cpu_limit));
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
            rate: &sq.load_dependence,
        };
        queues.push(LiveQueue::new(sq.scheduling, &setup, sq.cpu_limit));
    }
    (places, queues)
}

/// Every mode's arcs, in the order of transitions and their modes (the
/// order of `ModeIndex::global`).
fn arcs_of(net: &Net) -> Arcs {
    let nc = net.colors.len();
    let mut arcs = Arcs::default();
    let arc = |a: &ArcSpec, carry: Option<usize>| FireArc {
        place: a.place as u32,
        color: a.color as u32,
        count: a.count,
        carry: carry.map_or(FireArc::FRESH, |i| i as u32),
    };
    for m in net.transitions.iter().flat_map(|t| &t.modes) {
        let start = arcs.list.len() as u32;
        arcs.list.extend(m.inputs.iter().map(|a| arc(a, None)));
        let split = arcs.list.len() as u32;
        let carry = carry_map(&m.inputs, &m.outputs, nc);
        let outputs = m.outputs.iter().zip(carry);
        arcs.list.extend(outputs.map(|(a, c)| arc(a, c)));
        arcs.span.push([start, split, arcs.list.len() as u32]);
    }
    arcs
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
