//! The compilation steps on small nets with hand-computed values: visits,
//! stations with visit-weighted demands, per-colour values, and the
//! solutions they feed (Erlang C, exact MVA).

use super::compile::{colour_values, stations, visits};
use super::network::{Station, StationKind, solve_closed, solve_exact};
use super::shape::{Shape, station_reasons, transition_reasons};
use super::{analyse, routing};
use crate::model::{LoadOptions, load};
use crate::qpn::ValidNet;

fn net(yaml: &str) -> ValidNet {
    load(yaml, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .net
}

#[track_caller]
fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "got {got}, want {want}"
    );
}

/// Two sessions think 5 s, then use the CPU (PS) as `a` (0.1 s); half
/// of them come back once more as `b` (0.3 s) before thinking again.
const SWITCHING: &str = "
colors: [a, b]
places:
  Think: {queue: is, service: {a: {exponential: 5}}, initial: {a: 2}}
  CPU: {queue: ps, service: {a: {exponential: 0.1}, b: {exponential: 0.3}}}
transitions:
  go: {in: {Think: a}, out: {CPU: a}}
  done: {in: {CPU: a}, out: {Think: a}}
  again: {in: {CPU: a}, out: {CPU: b}}
  back: {in: {CPU: b}, out: {Think: a}}
probes:
  cycle: {colors: [a], start: {place: Think, when: exit}, end: {place: Think, when: enter}}
";

#[test]
fn class_switching_joins_a_chain_whose_demand_is_weighted_by_visits() {
    let net = net(SWITCHING);
    let shape = Shape::of(&net);
    assert_eq!(shape.chains, vec![vec![0, 1]]);
    let routing = routing::route(&net, &shape.is_class);
    let v = visits(&shape, &routing, &[]).unwrap();
    // Per passage of the reference state (Think, a): the CPU once as a,
    // half a time as b.
    assert_eq!((v[0][0], v[1][0], v[1][1]), (1.0, 1.0, 0.5));
    let st = stations(&shape, &v);
    assert_eq!(st.groups, vec![vec![0], vec![1]]);
    assert_eq!(st.list[0].kind, StationKind::Delay);
    assert_eq!(st.list[1].kind, StationKind::Queue { servers: 1 });
    // Demand 1 · 0.1 + 0.5 · 0.3 = 0.25 over 1.5 visits.
    assert_eq!(st.list[1].visits, vec![1.5]);
    close(st.list[1].service[0], 0.25 / 1.5);
}

#[test]
fn exact_mva_of_two_sessions_and_each_colour_stretched_like_its_chain() {
    // MVA, Z = 5, D = 0.25: n = 1: R = 0.25, X = 1/5.25, Q = 1/21;
    // n = 2: R = 0.25 · 22/21 = 11/42, X = 2 / (5 + 11/42) = 84/221.
    let net = net(SWITCHING);
    let shape = Shape::of(&net);
    let routing = routing::route(&net, &shape.is_class);
    let v = visits(&shape, &routing, &[]).unwrap();
    let st = stations(&shape, &v);
    let sol = solve_closed(&st.list, &[2]);
    close(sol.class_throughput[0], 84.0 / 221.0);
    close(sol.stations[1].residence[0] * 1.5, 11.0 / 42.0);
    // Each colour's residence is its own service time stretched by the
    // CPU's 22/21; its throughput is its share of the visits.
    let values = colour_values(&shape, &st, &v, &sol);
    close(values.residence[1][0], 0.1 * 22.0 / 21.0);
    close(values.residence[1][1], 0.3 * 22.0 / 21.0);
    close(values.throughput[1][1], 0.5 * 84.0 / 221.0);
    close(
        values.population[1][1],
        0.5 * 84.0 / 221.0 * 0.3 * 22.0 / 21.0,
    );
    // The cycle out of Think and back: N / X − Z = 221/42 − 5 = 11/42.
    let a = analyse(&net).unwrap();
    close(a.probe_mean("cycle", "a").unwrap(), 11.0 / 42.0);
    assert_eq!(a.method, "exact MVA (load-dependent, multi-class)");
}

#[test]
fn an_open_fcfs_queue_on_two_servers_is_erlang_c() {
    // λ = 1, S = 1.5, c = 2: a = 1.5, C = 4.5/7, R = S + C/(c/S − λ) = 24/7.
    let net = net("
colors: [r]
places:
  Q: {queue: fcfs, servers: 2, service: {r: {exponential: 1.5}}}
transitions:
  arrive: {delay: {exponential: 1}, out: {Q: r}}
  leave: {in: {Q: r}}
probes:
  response: {start: {transition: arrive}, end: {transition: leave}}
");
    let a = analyse(&net).unwrap();
    close(a.probe_mean("response", "r").unwrap(), 24.0 / 7.0);
    let q = &a.places[0];
    close(q.utilization.unwrap(), 0.75);
    close(q.mean_population, 24.0 / 7.0);
    close(q.throughput, 1.0);
}

#[test]
fn the_reasons_name_what_breaks_product_form_and_sources_give_their_rates() {
    // FCFS with two means and a deterministic one; a timed transition with
    // inputs; a source of 4 per second.
    let net = net("
colors: [a, b]
places:
  Q: {queue: fcfs, service: {a: {exponential: 0.1}, b: {deterministic: 0.2}}}
  P: {}
transitions:
  arrive: {delay: {exponential: 0.25}, modes: [{out: {Q: a}}, {out: {Q: b}}]}
  leave: {in: {Q: a}}
  slow: {delay: {exponential: 1}, in: {Q: b}, out: {P: b}}
  gone: {in: {P: b}}
");
    let shape = Shape::of(&net);
    let mut reasons = Vec::new();
    station_reasons(&shape, &mut reasons);
    assert_eq!(
        reasons,
        ["FCFS place Q has non-exponential service (mean 0.2000 s, scv 0.000)"]
    );
    reasons.clear();
    let sources = transition_reasons(&shape, &mut reasons);
    assert_eq!(
        reasons,
        ["timed transition slow has inputs (a delay that is not a station)"]
    );
    assert_eq!(sources, vec![(0, 4.0)]);
}

#[test]
fn exact_mva_on_two_servers_matches_the_birth_death_chain() {
    // Three customers, think 1 s, a two-server station of 1 s. The chain
    // of customers at the station: π ∝ 1, 3, 3, 1.5, so X = Σ min(j, 2) π_j
    // = 12 / 8.5 = 24/17; the recursion's residence at n = 3 is 9/8.
    let station = |name: &str, kind, s: f64| Station {
        name: name.into(),
        kind,
        service: vec![s],
        visits: vec![1.0],
    };
    let st = [
        station("think", StationKind::Delay, 1.0),
        station("cpu", StationKind::Queue { servers: 2 }, 1.0),
    ];
    let sol = solve_exact(&st, &[3]).unwrap();
    close(sol.class_throughput[0], 24.0 / 17.0);
    close(sol.stations[1].residence[0], 9.0 / 8.0);
    close(sol.stations[1].utilization.unwrap(), 12.0 / 17.0);
    close(sol.stations[1].population[0], 24.0 / 17.0 * 9.0 / 8.0);
}
