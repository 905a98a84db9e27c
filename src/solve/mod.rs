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

/// Routing of one class: `to[p]` = list of (next place or `None` for leaving
/// the net, probability).
type Routing = Vec<Vec<(Option<usize>, f64)>>;

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
    let visits = visits(&shape, &sources)?;
    let (station_places, stations) = stations(&shape, &visits);
    let solution = if open {
        solve_open(&stations, shape.classes.len())
            .map_err(|e| NotProductForm(vec![e.to_string()]))?
    } else {
        let pops: Vec<u32> = shape
            .classes
            .iter()
            .map(|&c| shape.populations[c].min(u32::MAX as u64) as u32)
            .collect();
        solve_closed(&stations, &pops)
    };
    let places = place_values(&shape, &station_places, &visits, &solution);
    let probes = probe_values(
        &shape,
        closed,
        &station_places,
        &visits,
        &solution,
        &mut notes,
    );
    Ok(Analysis {
        method: solution.method.name().to_string(),
        notes,
        probes,
        places,
    })
}

/// What the compilation needs to know of a net: which colours are request
/// classes (they enter a queue), and their populations.
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
        Self {
            net,
            can,
            is_class,
            classes,
            populations,
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
        let dists: Vec<&Dist> = here.iter().filter_map(|&c| q.service[c].as_ref()).collect();
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
/// joins, class switching, non-Poisson sources); the sources and their
/// rates.
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
            if let (Some(i), Some(o)) = (
                m.inputs.iter().find(|a| is_class[a.color]),
                class_out.first(),
            ) && i.color != o.color
            {
                reasons.push(format!(
                    "transition {} mode {} changes a token's colour (class switching)",
                    t.name, m.name
                ));
            }
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

/// Visits per (place, class): arrivals per second from the sources for an
/// open model, per passage of the reference place for a closed one.
fn visits(shape: &Shape<'_>, sources: &[(usize, f64)]) -> Result<Vec<Vec<f64>>, NotProductForm> {
    let net = shape.net;
    let (np, nc) = (net.places.len(), net.colors.len());
    let open = !sources.is_empty();
    let mut visits = vec![vec![0.0; nc]; np];
    for &c in &shape.classes {
        let routing = route(net, c, &shape.is_class);
        let mut inject = vec![0.0; np];
        let mut reference = None;
        if open {
            for &(ti, rate) in sources {
                let t = &net.transitions[ti];
                let wsum: f64 = t.modes.iter().map(|m| m.weight).sum();
                for m in &t.modes {
                    for a in m.outputs.iter().filter(|a| a.color == c) {
                        inject[a.place] += rate * m.weight / wsum * a.count as f64;
                    }
                }
            }
        } else {
            let holders: Vec<usize> = (0..np).filter(|&p| net.places[p].initial[c] > 0).collect();
            if holders.len() != 1 {
                return Err(NotProductForm(vec![format!(
                    "colour {} starts in {} places; the solver needs one reference place",
                    net.colors[c],
                    holders.len()
                )]));
            }
            reference = Some(holders[0]);
            for &(q, prob) in &routing[holders[0]] {
                if let Some(q) = q {
                    inject[q] += prob;
                }
            }
        }
        let Some(x) = propagate(&routing, &inject, reference) else {
            return Err(NotProductForm(vec![format!(
                "the routing of colour {} does not settle (tokens never leave or return)",
                net.colors[c]
            )]));
        };
        for p in 0..np {
            visits[p][c] = x[p];
        }
        if let Some(r) = reference {
            visits[r][c] = 1.0;
        }
    }
    Ok(visits)
}

/// The queueing places some class visits, and their stations.
fn stations(shape: &Shape<'_>, visits: &[Vec<f64>]) -> (Vec<usize>, Vec<Station>) {
    let net = shape.net;
    let classes = &shape.classes;
    let station_places: Vec<usize> = (0..net.places.len())
        .filter(|&p| net.places[p].queue.is_some() && classes.iter().any(|&c| visits[p][c] > 0.0))
        .collect();
    let stations = station_places
        .iter()
        .map(|&p| {
            let q = net.places[p].queue.as_ref().unwrap();
            Station {
                name: net.places[p].name.clone(),
                kind: match q.capacity() {
                    None => StationKind::Delay,
                    Some(servers) => StationKind::Queue {
                        servers: servers as u32,
                    },
                },
                service: classes
                    .iter()
                    .map(|&c| q.service[c].as_ref().map_or(0.0, Dist::mean))
                    .collect(),
                visits: classes.iter().map(|&c| visits[p][c]).collect(),
            }
        })
        .collect();
    (station_places, stations)
}

/// Per station place and visiting class: throughput, utilization,
/// residence and population.
fn place_values(
    shape: &Shape<'_>,
    station_places: &[usize],
    visits: &[Vec<f64>],
    solution: &Solution,
) -> Vec<PlaceValue> {
    let net = shape.net;
    let mut places = Vec::new();
    for (k, &p) in station_places.iter().enumerate() {
        let s = &solution.stations[k];
        for (ci, &c) in shape.classes.iter().enumerate() {
            if visits[p][c] == 0.0 {
                continue;
            }
            places.push(PlaceValue {
                place: net.places[p].name.clone(),
                color: net.colors[c].clone(),
                throughput: s.throughput[ci],
                utilization: s.utilization,
                mean_residence_s: s.residence[ci],
                mean_population: s.population[ci],
            });
        }
    }
    places
}

/// Per probe and class, its mean where the probe's shape is one the
/// solver maps (a note says so where it is not).
fn probe_values(
    shape: &Shape<'_>,
    closed: bool,
    station_places: &[usize],
    visits: &[Vec<f64>],
    solution: &Solution,
    notes: &mut Vec<String>,
) -> Vec<ProbeValue> {
    let net = shape.net;
    let station_of = |p: usize| station_places.iter().position(|&x| x == p);
    let mut probes = Vec::new();
    for pr in &net.probes {
        for &c in pr.colors.iter().filter(|&&c| shape.is_class[c]) {
            let ci = shape.classes.iter().position(|&x| x == c).unwrap();
            let value = probe_value(
                net,
                pr,
                c,
                ci,
                closed,
                shape.populations[c],
                solution,
                &station_of,
                visits,
            );
            if value.is_none() {
                notes.push(format!("probe {} ({}): only exit→enter of one place, source→sink, or enter→exit are solved", pr.name, net.colors[c]));
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

#[allow(clippy::too_many_arguments)]
fn probe_value(
    net: &Net,
    pr: &crate::qpn::Probe,
    c: usize,
    ci: usize,
    closed: bool,
    population: u64,
    sol: &Solution,
    station_of: &dyn Fn(usize) -> Option<usize>,
    visits: &[Vec<f64>],
) -> Option<f64> {
    let places_of = |pts: &[ProbePoint], enter: bool| -> Option<Vec<usize>> {
        pts.iter()
            .map(|pt| match (pt, enter) {
                (ProbePoint::Enter(p), true) | (ProbePoint::Exit(p), false) => Some(*p),
                _ => None,
            })
            .collect()
    };
    // Throughput-weighted residence and total throughput over places.
    let at = |ps: &[usize]| -> (f64, f64, f64) {
        let (mut x, mut q, mut xr) = (0.0, 0.0, 0.0);
        for &p in ps {
            if let Some(k) = station_of(p) {
                let s = &sol.stations[k];
                x += s.throughput[ci];
                q += s.population[ci];
                xr += s.throughput[ci] * s.residence[ci];
            } else if visits[p][c] > 0.0 {
                x += sol.class_throughput[ci] * visits[p][c];
            }
        }
        (x, q, xr)
    };
    // exit(P) → enter(P): the rest of the cycle.
    if let (Some(a), Some(b)) = (places_of(&pr.start, false), places_of(&pr.end, true))
        && closed
        && same_set(&a, &b)
    {
        let (x, q, _) = at(&a);
        return (x > 0.0).then(|| (population as f64 - q) / x);
    }
    // enter(P) → exit(P): residence at P.
    if let (Some(a), Some(b)) = (places_of(&pr.start, true), places_of(&pr.end, false))
        && same_set(&a, &b)
    {
        let (x, _, xr) = at(&a);
        return (x > 0.0).then(|| xr / x);
    }
    // source transition → sink transitions: total sojourn (Little).
    let transitions = |pts: &[ProbePoint]| -> Option<Vec<usize>> {
        pts.iter()
            .map(|pt| {
                if let ProbePoint::Transition(t) = pt {
                    Some(*t)
                } else {
                    None
                }
            })
            .collect()
    };
    if let (Some(starts), Some(ends)) = (transitions(&pr.start), transitions(&pr.end))
        && !closed
    {
        let is_source = |t: usize| net.transitions[t].modes.iter().all(|m| m.inputs.is_empty());
        let sinks_class = |t: usize| {
            net.transitions[t]
                .modes
                .iter()
                .all(|m| m.outputs.iter().all(|a| a.color != c))
        };
        if starts.iter().all(|&t| is_source(t)) && ends.iter().all(|&t| sinks_class(t)) {
            let lambda: f64 = starts
                .iter()
                .map(|&t| {
                    let tr = &net.transitions[t];
                    let Timing::Timed { delay } = &tr.timing else {
                        return 0.0;
                    };
                    let wsum: f64 = tr.modes.iter().map(|m| m.weight).sum();
                    tr.modes
                        .iter()
                        .map(|m| {
                            m.weight / wsum
                                * m.outputs
                                    .iter()
                                    .filter(|a| a.color == c)
                                    .map(|a| a.count as f64)
                                    .sum::<f64>()
                        })
                        .sum::<f64>()
                        / delay.mean()
                })
                .sum();
            let q: f64 = sol.stations.iter().map(|s| s.population[ci]).sum();
            return (lambda > 0.0).then(|| q / lambda);
        }
    }
    None
}

fn same_set(a: &[usize], b: &[usize]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    b.sort_unstable();
    a.dedup();
    b.dedup();
    a == b
}

/// Where a token of class `c` goes from each place: among the immediate
/// modes that take it (as their only class input), in proportion to
/// transition weight × mode weight.
fn route(net: &Net, c: usize, is_class: &[bool]) -> Routing {
    let np = net.places.len();
    let mut out: Routing = vec![Vec::new(); np];
    for p in 0..np {
        let mut takers: Vec<(usize, Vec<usize>, f64)> = Vec::new();
        for (ti, t) in net.transitions.iter().enumerate() {
            let Timing::Immediate { weight } = t.timing else {
                continue;
            };
            let modes: Vec<usize> = t
                .modes
                .iter()
                .enumerate()
                .filter(|(_, m)| m.inputs.iter().any(|a| a.place == p && a.color == c))
                .map(|(i, _)| i)
                .collect();
            if !modes.is_empty() {
                takers.push((ti, modes, weight));
            }
        }
        let wsum: f64 = takers.iter().map(|t| t.2).sum();
        for (ti, modes, w) in takers {
            let t = &net.transitions[ti];
            let msum: f64 = modes.iter().map(|&m| t.modes[m].weight).sum();
            for m in modes {
                let share = w / wsum * t.modes[m].weight / msum;
                let next = t.modes[m]
                    .outputs
                    .iter()
                    .find(|a| is_class[a.color])
                    .map(|a| a.place);
                out[p].push((next, share));
            }
        }
    }
    out
}

/// Expected visits to every place: `x = inject + Σ_p x_p P[p]`, not
/// propagating out of `reference` (a closed class's cycle ends there).
fn propagate(routing: &Routing, inject: &[f64], reference: Option<usize>) -> Option<Vec<f64>> {
    let np = routing.len();
    let mut x = inject.to_vec();
    for _ in 0..1_000_000 {
        let mut next = inject.to_vec();
        for p in 0..np {
            if Some(p) == reference || x[p] == 0.0 {
                continue;
            }
            for &(q, prob) in &routing[p] {
                if let Some(q) = q {
                    next[q] += x[p] * prob;
                }
            }
        }
        let diff = next
            .iter()
            .zip(&x)
            .map(|(a, b)| (a - b).abs() / a.abs().max(1e-300))
            .fold(0.0, f64::max);
        x = next;
        if diff < 1e-14 {
            return Some(x);
        }
        if x.iter().any(|v| !v.is_finite() || *v > 1e12) {
            return None;
        }
    }
    None
}
