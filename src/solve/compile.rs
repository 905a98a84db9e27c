//! The compilation proper: visits per (place, colour), the stations with
//! one class per chain and visit-weighted demands, and from the solution
//! the values per place and colour.

use super::network::{Solution, Station, StationKind};
use super::routing::{self, Routing};
use super::shape::Shape;
use super::values::{NotProductForm, PlaceValue};
use crate::qpn::{Dist, Net};

/// Visits per (place, colour): arrivals per second from the sources for
/// an open model, per passage of the chain's reference state for a closed
/// one.
pub(super) fn visits(
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
pub(super) struct Stations {
    /// Per place, its station.
    pub(super) of_place: Vec<Option<usize>>,
    /// Per station, its places.
    pub(super) groups: Vec<Vec<usize>>,
    /// The stations: one class per chain, its demand the visit-weighted
    /// sum of its colours' over the station's places (the service per
    /// visit is that over the chain's visits).
    pub(super) list: Vec<Station>,
}

pub(super) fn stations(shape: &Shape<'_>, visits: &[Vec<f64>]) -> Stations {
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
            Some(servers) if q.load_dependence.is_empty() => StationKind::Queue {
                servers: servers as u32,
            },
            Some(servers) => StationKind::LoadDependent {
                servers: servers as u32,
                rate: q.load_dependence.clone(),
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
pub(super) struct ColourValues {
    pub(super) throughput: Vec<Vec<f64>>,
    pub(super) residence: Vec<Vec<f64>>,
    pub(super) population: Vec<Vec<f64>>,
}

pub(super) fn colour_values(
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
pub(super) fn place_values(
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
