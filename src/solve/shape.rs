//! What the compilation needs to know of a net, and the reasons it is not
//! product-form: stations, transitions, pools.

use super::routing;
use crate::qpn::queue::ProductForm;
use crate::qpn::{Dist, Net, Timing};

/// What the compilation needs to know of a net: which colours are request
/// classes (they enter a queue), the chains they switch within, and the
/// chains' populations.
pub(super) struct Shape<'n> {
    pub(super) net: &'n Net,
    /// Which (place, colour) can ever hold a token.
    pub(super) can: Vec<Vec<bool>>,
    /// Per colour: a request class?
    pub(super) is_class: Vec<bool>,
    /// The request classes.
    pub(super) classes: Vec<usize>,
    /// Initial tokens per colour.
    pub(super) populations: Vec<u64>,
    /// Chains of classes (the solver's classes), each its colours.
    pub(super) chains: Vec<Vec<usize>>,
    /// Per colour, its chain (request classes only).
    pub(super) chain_of: Vec<Option<usize>>,
}

impl<'n> Shape<'n> {
    pub(super) fn of(net: &'n Net) -> Self {
        let (np, nc) = (net.places.len(), net.colors.len());
        let can = net.reachable();
        let is_class: Vec<bool> = (0..nc)
            .map(|c| (0..np).any(|p| net.places[p].queue.is_some() && can[p][c]))
            .collect();
        let classes = (0..nc).filter(|&c| is_class[c]).collect();
        let populations = (0..nc)
            .map(|c| (0..np).map(|p| net.places[p].initial[c]).sum())
            .collect();
        let (chains, chain_of) = routing::chains(net, &is_class);
        Self {
            net,
            can,
            is_class,
            classes,
            populations,
            chains,
            chain_of,
        }
    }

    /// The chain of class colour `c`.
    pub(super) fn chain(&self, c: usize) -> usize {
        self.chain_of[c].expect("a request class has a chain")
    }

    /// Tokens of chain `h`.
    pub(super) fn chain_population(&self, h: usize) -> u64 {
        self.chains[h].iter().map(|&c| self.populations[c]).sum()
    }

    /// Chain `h` in words, for messages.
    pub(super) fn chain_words(&self, h: usize) -> String {
        let names: Vec<&str> = self.chains[h]
            .iter()
            .map(|&c| self.net.colors[c].as_str())
            .collect();
        match names.as_slice() {
            [one] => format!("colour {one}"),
            few if few.len() <= 6 => {
                format!(
                    "colours {} (a chain: tokens switch between them)",
                    few.join(", ")
                )
            }
            many => format!(
                "colours {}, … ({} in all, a chain: tokens switch between them)",
                many[..4].join(", "),
                many.len()
            ),
        }
    }
}

/// Stations whose discipline is product-form only with exponential
/// service of one mean and no priorities (FCFS).
pub(super) fn station_reasons(shape: &Shape<'_>, reasons: &mut Vec<String>) {
    for (p, pl) in shape.net.places.iter().enumerate() {
        let Some(q) = &pl.queue else { continue };
        if q.scheduling.product_form() != ProductForm::ExponentialEqualMeans {
            continue;
        }
        let here: Vec<usize> = shape
            .classes
            .iter()
            .copied()
            .filter(|&c| shape.can[p][c])
            .collect();
        let mut dists: Vec<&Dist> = here.iter().filter_map(|&c| q.service[c].as_ref()).collect();
        if let Some(k) = q.shared {
            // A shared FCFS queue serves every colour of every place
            // naming it: one mean for all of them.
            for (o, other) in shape.net.places.iter().enumerate() {
                let Some(oq) = other.queue.as_ref().filter(|oq| oq.shared == Some(k)) else {
                    continue;
                };
                let seen = shape.classes.iter().filter(|&&c| shape.can[o][c]);
                dists.extend(seen.filter_map(|&c| oq.service[c].as_ref()));
            }
        }
        if let Some(d) = dists.iter().find(|d| !d.is_exponential()) {
            reasons.push(format!(
                "FCFS place {} has non-exponential service (mean {:.4} s, scv {:.3})",
                pl.name,
                d.mean(),
                d.scv()
            ));
        } else if dists
            .windows(2)
            .any(|w| (w[0].mean() - w[1].mean()).abs() > 1e-12 * w[0].mean())
        {
            reasons.push(format!(
                "FCFS place {} serves its colours with different means",
                pl.name
            ));
        }
        if here
            .windows(2)
            .any(|w| q.priority[w[0]] != q.priority[w[1]])
        {
            reasons.push(format!("place {} has priorities", pl.name));
        }
    }
}

/// Queues under a CPU limit: a throttled queue stops with work waiting,
/// which no product-form station does.
pub(super) fn limit_reasons(shape: &Shape<'_>, reasons: &mut Vec<String>) {
    for pl in &shape.net.places {
        if let Some(limit) = pl.queue.as_ref().and_then(|q| q.cpu_limit) {
            reasons.push(format!(
                "place {} has a cpu_limit of {} CPUs (throttled service is not product-form; simulate it)",
                pl.name,
                crate::words::readable(limit.cpus())
            ));
        }
    }
}

/// Transitions that are not product-form (timed with inputs, forks,
/// joins, non-Poisson sources); the sources and their rates. (Class
/// switching is product-form: see [`routing`].)
pub(super) fn transition_reasons(
    shape: &Shape<'_>,
    reasons: &mut Vec<String>,
) -> Vec<(usize, f64)> {
    let is_class = &shape.is_class;
    let mut sources: Vec<(usize, f64)> = Vec::new();
    for (ti, t) in shape.net.transitions.iter().enumerate() {
        let timed = matches!(t.timing, Timing::Timed { .. });
        for m in &t.modes {
            let class_in: u32 = m
                .inputs
                .iter()
                .filter(|a| is_class[a.color])
                .map(|a| a.count)
                .sum();
            let class_out: Vec<_> = m.outputs.iter().filter(|a| is_class[a.color]).collect();
            let out_count: u32 = class_out.iter().map(|a| a.count).sum();
            if timed && !m.inputs.is_empty() {
                reasons.push(format!(
                    "timed transition {} has inputs (a delay that is not a station)",
                    t.name
                ));
                break;
            }
            if class_in > 1 || out_count > 1 {
                reasons.push(format!(
                    "transition {} mode {} forks or joins requests",
                    t.name, m.name
                ));
            }
        }
        if t.policy != crate::qpn::Policy::Random && t.modes.len() > 1 {
            reasons.push(format!(
                "transition {} picks its modes by {}: the solver handles random routing only",
                t.name,
                t.policy.name()
            ));
        }
        if let Timing::Timed { delay } = &t.timing
            && t.modes.iter().all(|m| m.inputs.is_empty())
        {
            if !delay.is_exponential() {
                reasons.push(format!("arrivals from {} are not Poisson", t.name));
            }
            sources.push((ti, 1.0 / delay.mean()));
        }
    }
    sources
}

/// Pools: colours that never enter a queue but are held by requests. One
/// that never runs out is dropped (noted); one that can bind is a reason.
pub(super) fn pool_reasons(
    shape: &Shape<'_>,
    open: bool,
    reasons: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    let net = shape.net;
    let (np, nc) = (net.places.len(), net.colors.len());
    let class_total: u64 = shape.classes.iter().map(|&c| shape.populations[c]).sum();
    for c in (0..nc).filter(|&c| !shape.is_class[c]) {
        for p in (0..np).filter(|&p| net.places[p].initial[c] > 0) {
            let per_request = net
                .transitions
                .iter()
                .flat_map(|t| &t.modes)
                .flat_map(|m| &m.inputs)
                .filter(|a| a.place == p && a.color == c)
                .map(|a| a.count as u64)
                .max()
                .unwrap_or(0);
            if per_request == 0 {
                continue;
            }
            let tokens = net.places[p].initial[c];
            if open {
                reasons.push(format!(
                    "place {} is a pool of {} in an open model: it can bind",
                    net.places[p].name, net.colors[c]
                ));
            } else if tokens >= class_total * per_request {
                notes.push(format!("place {} is a pool that never runs out ({tokens} tokens for {class_total} requests): dropped", net.places[p].name));
            } else {
                reasons.push(format!(
                    "place {} is a pool that can bind ({tokens} tokens for {class_total} requests)",
                    net.places[p].name
                ));
            }
        }
    }
}
