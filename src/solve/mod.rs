//! Analytic solutions of product-form models: a fast predictor and the
//! simulator's oracle.
//!
//! [`analyse`] compiles a QPN into a queueing network when the net is
//! product-form (IS, PS and LCFS-PR places with any service distribution,
//! FCFS places with exponential class-independent service, Poisson sources,
//! probabilistic routing, pools that can never run out) and solves it;
//! otherwise it says in words what breaks product form. The solvers
//! themselves are in [`network`].

pub mod network;
mod routing;

use routing::Routing;

use serde::Serialize;

use crate::qpn::queue::ProductForm;
use crate::qpn::{Dist, Net, ProbePoint, Timing, ValidNet};
pub use network::{
    Algorithm, Solution, SolveError, Station, StationKind, StationResult, solve_approximate,
    solve_closed, solve_exact, solve_open,
};

/// Analytic value of a probe and colour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeValue {
    /// Probe name.
    pub name: String,
    /// Colour.
    pub color: String,
    /// Mean end-to-end time, seconds (`None`: this probe's shape is not
    /// one the solver maps; see the notes).
    pub mean_s: Option<f64>,
}

/// Analytic values of a place and colour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceValue {
    /// Place.
    pub place: String,
    /// Colour.
    pub color: String,
    /// Throughput, 1/s.
    pub throughput: f64,
    /// Utilization of the place (busy servers / servers); `None` for IS.
    pub utilization: Option<f64>,
    /// Mean residence time per visit, seconds.
    pub mean_residence_s: f64,
    /// Mean number of tokens.
    pub mean_population: f64,
}

/// The analytic solution of a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Method, in words.
    pub method: String,
    /// What was simplified or could not be mapped.
    pub notes: Vec<String>,
    /// Probes.
    pub probes: Vec<ProbeValue>,
    /// Queueing places.
    pub places: Vec<PlaceValue>,
}

impl Analysis {
    /// The analytic mean of probe `name` for colour `color`, seconds, where
    /// the solver maps that probe.
    pub fn probe_mean(&self, name: &str, color: &str) -> Option<f64> {
        self.probes
            .iter()
            .find(|p| p.name == name && p.color == color)?
            .mean_s
    }
}

/// Why a model has no analytic solution here.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not product-form: {}; use simulate", .0.join("; "))]
pub struct NotProductForm(pub Vec<String>);

/// Compiles `net` to a product-form network and solves it.
///
/// # Errors
/// [`NotProductForm`] with every reason found, or an unstable open station.
pub fn analyse(net: &ValidNet) -> Result<Analysis, NotProductForm> {
    let shape = Shape::of(net);
    let mut reasons: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    station_reasons(&shape, &mut reasons);
    let sources = transition_reasons(&shape, &mut reasons);
    let open = !sources.is_empty();
    let closed = shape.classes.iter().any(|&c| shape.populations[c] > 0);
    if closed && open {
        reasons.push("the model is both open and closed".into());
    }
    if !closed && !open {
        reasons.push("no tokens and no sources".into());
    }
    pool_reasons(&shape, open, &mut reasons, &mut notes);
    if !reasons.is_empty() {
        reasons.dedup();
        return Err(NotProductForm(reasons));
    }
    let routing = routing::route(shape.net, &shape.is_class);
    let visits = visits(&shape, &routing, &sources)?;
    let stations = stations(&shape, &visits);
    let solution = if open {
        solve_open(&stations.list, shape.chains.len())
            .map_err(|e| NotProductForm(vec![e.to_string()]))?
    } else {
        let pops: Vec<u32> = (0..shape.chains.len())
            .map(|h| shape.chain_population(h).min(u32::MAX as u64) as u32)
            .collect();
        solve_closed(&stations.list, &pops)
    };
    for h in (0..shape.chains.len()).filter(|&h| shape.chains[h].len() > 1) {
        notes.push(format!(
            "{}: solved as one class, its demand at each place the visit-weighted sum of its colours'",
            shape.chain_words(h)
        ));
    }
    let values = colour_values(&shape, &stations, &visits, &solution);
    let places = place_values(&shape, &stations, &values, &solution);
    let solved = Solved {
        shape: &shape,
        routing: &routing,
        closed,
        stations: &stations,
        visits: &visits,
        values: &values,
        solution: &solution,
    };
    let probes = probe_values(&solved, &mut notes);
    Ok(Analysis {
        method: solution.method.name().to_string(),
        notes,
        probes,
        places,
    })
}

/// What the compilation needs to know of a net: which colours are request
/// classes (they enter a queue), the chains they switch within, and the
/// chains' populations.
struct Shape<'n> {
    net: &'n Net,
    /// Which (place, colour) can ever hold a token.
    can: Vec<Vec<bool>>,
    /// Per colour: a request class?
    is_class: Vec<bool>,
    /// The request classes.
    classes: Vec<usize>,
    /// Initial tokens per colour.
    populations: Vec<u64>,
    /// Chains of classes (the solver's classes), each its colours.
    chains: Vec<Vec<usize>>,
    /// Per colour, its chain (request classes only).
    chain_of: Vec<Option<usize>>,
}

impl<'n> Shape<'n> {
    fn of(net: &'n Net) -> Self {
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
    fn chain(&self, c: usize) -> usize {
        self.chain_of[c].expect("a request class has a chain")
    }

    /// Tokens of chain `h`.
    fn chain_population(&self, h: usize) -> u64 {
        self.chains[h].iter().map(|&c| self.populations[c]).sum()
    }

    /// Chain `h` in words, for messages.
    fn chain_words(&self, h: usize) -> String {
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
fn station_reasons(shape: &Shape<'_>, reasons: &mut Vec<String>) {
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

/// Transitions that are not product-form (timed with inputs, forks,
/// joins, non-Poisson sources); the sources and their rates. (Class
/// switching is product-form: see [`routing`].)
fn transition_reasons(shape: &Shape<'_>, reasons: &mut Vec<String>) -> Vec<(usize, f64)> {
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
fn pool_reasons(shape: &Shape<'_>, open: bool, reasons: &mut Vec<String>, notes: &mut Vec<String>) {
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

/// Visits per (place, colour): arrivals per second from the sources for
/// an open model, per passage of the chain's reference state for a closed
/// one.
fn visits(
    shape: &Shape<'_>,
    routing: &Routing,
    sources: &[(usize, f64)],
) -> Result<Vec<Vec<f64>>, NotProductForm> {
    let net = shape.net;
    let (np, nc) = (net.places.len(), net.colors.len());
    let mut visits = vec![vec![0.0; nc]; np];
    for (h, chain) in shape.chains.iter().enumerate() {
        let mut inject = vec![0.0; np * nc];
        let mut reference = None;
        if sources.is_empty() {
            let holders: Vec<usize> = chain
                .iter()
                .flat_map(|&c| (0..np).map(move |p| p * nc + c))
                .filter(|&s| net.places[s / nc].initial[s % nc] > 0)
                .collect();
            let [r] = holders[..] else {
                return Err(NotProductForm(vec![format!(
                    "{} starts in {} places; the solver needs one reference place",
                    shape.chain_words(h),
                    holders.len()
                )]));
            };
            reference = Some(r);
            for hop in &routing[r] {
                if let Some(q) = hop.to {
                    inject[q] += hop.prob;
                }
            }
        } else {
            inject_sources(net, sources, chain, &mut inject);
        }
        let Some(x) = routing::propagate(routing, &inject, reference) else {
            return Err(NotProductForm(vec![format!(
                "the routing of {} does not settle (tokens never leave or return)",
                shape.chain_words(h)
            )]));
        };
        for &c in chain {
            for (p, row) in visits.iter_mut().enumerate() {
                row[c] = x[p * nc + c];
            }
        }
        if let Some(r) = reference {
            visits[r / nc][r % nc] = 1.0;
        }
    }
    Ok(visits)
}

/// Arrivals per second into each state of `chain` from the sources.
fn inject_sources(net: &Net, sources: &[(usize, f64)], chain: &[usize], inject: &mut [f64]) {
    let nc = net.colors.len();
    for &(ti, rate) in sources {
        let t = &net.transitions[ti];
        let wsum: f64 = t.modes.iter().map(|m| m.weight).sum();
        for m in &t.modes {
            for a in m.outputs.iter().filter(|a| chain.contains(&a.color)) {
                inject[a.place * nc + a.color] += rate * m.weight / wsum * a.count as f64;
            }
        }
    }
}

/// The stations: each queueing place some class visits, with the places
/// that share one queue together as one station.
struct Stations {
    /// Per place, its station.
    of_place: Vec<Option<usize>>,
    /// Per station, its places.
    groups: Vec<Vec<usize>>,
    /// The stations: one class per chain, its demand the visit-weighted
    /// sum of its colours' over the station's places (the service per
    /// visit is that over the chain's visits).
    list: Vec<Station>,
}

fn stations(shape: &Shape<'_>, visits: &[Vec<f64>]) -> Stations {
    let net = shape.net;
    let np = net.places.len();
    let (mut of_place, mut groups) = (vec![None; np], Vec::<Vec<usize>>::new());
    let mut of_shared: std::collections::BTreeMap<usize, usize> = Default::default();
    for p in 0..np {
        let Some(q) = &net.places[p].queue else {
            continue;
        };
        if !shape.classes.iter().any(|&c| visits[p][c] > 0.0) {
            continue;
        }
        let g = match q.shared {
            Some(k) => *of_shared.entry(k).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            }),
            None => {
                groups.push(Vec::new());
                groups.len() - 1
            }
        };
        groups[g].push(p);
        of_place[p] = Some(g);
    }
    let list = groups.iter().map(|g| station(shape, visits, g)).collect();
    Stations {
        of_place,
        groups,
        list,
    }
}

fn station(shape: &Shape<'_>, visits: &[Vec<f64>], group: &[usize]) -> Station {
    let net = shape.net;
    let q = net.places[group[0]].queue.as_ref().unwrap();
    let mean = |p: usize, c: usize| {
        let q = net.places[p].queue.as_ref().unwrap();
        q.service[c].as_ref().map_or(0.0, Dist::mean)
    };
    let (mut service, mut chain_visits) = (Vec::new(), Vec::new());
    for chain in &shape.chains {
        let (mut v, mut d) = (0.0, 0.0);
        for &p in group {
            v += chain.iter().map(|&c| visits[p][c]).sum::<f64>();
            d += chain
                .iter()
                .map(|&c| visits[p][c] * mean(p, c))
                .sum::<f64>();
        }
        chain_visits.push(v);
        service.push(if v > 0.0 { d / v } else { 0.0 });
    }
    Station {
        name: match q.shared {
            Some(k) => net.queues[k].name.clone(),
            None => net.places[group[0]].name.clone(),
        },
        kind: match q.capacity() {
            None => StationKind::Delay,
            Some(servers) => StationKind::Queue {
                servers: servers as u32,
            },
        },
        service,
        visits: chain_visits,
    }
}

/// Per place and colour: throughput, residence per visit and population.
/// The colours of a chain at a station (over all its places) share its
/// stretch (residence over service per visit): in a product-form station
/// the mean population of a class is proportional to its offered load,
/// with a factor common to all classes.
struct ColourValues {
    throughput: Vec<Vec<f64>>,
    residence: Vec<Vec<f64>>,
    population: Vec<Vec<f64>>,
}

fn colour_values(
    shape: &Shape<'_>,
    stations: &Stations,
    visits: &[Vec<f64>],
    solution: &Solution,
) -> ColourValues {
    let (np, nc) = (shape.net.places.len(), shape.net.colors.len());
    let zero = || vec![vec![0.0; nc]; np];
    let mut out = ColourValues {
        throughput: zero(),
        residence: zero(),
        population: zero(),
    };
    for (k, group) in stations.groups.iter().enumerate() {
        let (st, res) = (&stations.list[k], &solution.stations[k]);
        for &p in group {
            let queue = shape.net.places[p].queue.as_ref().unwrap();
            for &c in shape.classes.iter().filter(|&&c| visits[p][c] > 0.0) {
                let h = shape.chain(c);
                let (x, r, n) = if group.len() == 1 && visits[p][c] == st.visits[h] {
                    (res.throughput[h], res.residence[h], res.population[h])
                } else {
                    let mean = queue.service[c].as_ref().map_or(0.0, Dist::mean);
                    let stretch = if st.service[h] > 0.0 {
                        res.residence[h] / st.service[h]
                    } else {
                        1.0
                    };
                    let x = res.throughput[h] * visits[p][c] / st.visits[h];
                    (x, mean * stretch, x * mean * stretch)
                };
                out.throughput[p][c] = x;
                out.residence[p][c] = r;
                out.population[p][c] = n;
            }
        }
    }
    out
}

/// Per station place and visiting colour: throughput, utilization (of
/// its station: a shared queue's for the places sharing it), residence
/// and population.
fn place_values(
    shape: &Shape<'_>,
    stations: &Stations,
    values: &ColourValues,
    solution: &Solution,
) -> Vec<PlaceValue> {
    let net = shape.net;
    let mut places = Vec::new();
    for (p, k) in stations.of_place.iter().enumerate() {
        let Some(k) = *k else { continue };
        for &c in &shape.classes {
            if values.throughput[p][c] == 0.0 {
                continue;
            }
            places.push(PlaceValue {
                place: net.places[p].name.clone(),
                color: net.colors[c].clone(),
                throughput: values.throughput[p][c],
                utilization: solution.stations[k].utilization,
                mean_residence_s: values.residence[p][c],
                mean_population: values.population[p][c],
            });
        }
    }
    places
}

/// What a probe's value is computed from.
struct Solved<'a> {
    shape: &'a Shape<'a>,
    routing: &'a Routing,
    closed: bool,
    stations: &'a Stations,
    visits: &'a [Vec<f64>],
    values: &'a ColourValues,
    solution: &'a Solution,
}

/// Per probe and class, its mean where the probe's shape is one the
/// solver maps (a note says so where it is not).
fn probe_values(solved: &Solved<'_>, notes: &mut Vec<String>) -> Vec<ProbeValue> {
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
