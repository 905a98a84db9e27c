//! The mode index against its definition: at every step, the modes it
//! holds enabled are those a scan of every mode finds enabled (each input
//! arc's place offering at least its count of its colour, a FIFO place
//! offering only its oldest token's colour); and its weighted choice picks
//! what a scan of the weights in mode order picks.

use super::super::{Simulation, replication_rng};
use super::ModeIndex;
use crate::qpn::dist::Dist;
use crate::qpn::net::{
    ArcSpec, Departure, Mode, Net, Place, Policy, Queue, Scheduling, Timing, Transition, ValidNet,
};
use crate::qpn::testing::{arc, det, place, transition, valid};

/// What (place `p`, colour `c`) offers, by the definition: all its tokens
/// of that colour; in a FIFO place none unless that colour's oldest token
/// is older than every other colour's (ties to the lower colour).
fn offered(sim: &Simulation<'_>, p: usize, c: usize) -> usize {
    let pl = &sim.places[p];
    let n = pl.tokens[c].len();
    if !pl.fifo || n == 0 {
        return n;
    }
    let head = pl.tokens[c][0].entered;
    let oldest = pl.tokens.iter().enumerate().all(|(k, q)| {
        k == c
            || q.front()
                .is_none_or(|t| t.entered > head || (t.entered == head && k > c))
    });
    if oldest { n } else { 0 }
}

/// Runs `steps` events and checks the index against a scan after each.
/// Returns how often each transition had a mode enabled at a check (so a
/// test can see the check was not vacuous).
fn agree_for(net: &ValidNet, steps: u64) -> Vec<u64> {
    let mut sim = Simulation::new(net, replication_rng(3, 0));
    sim.start().unwrap();
    let mut seen = vec![0; net.transitions.len()];
    for _ in 0..steps {
        sim.step().unwrap();
        for (t, tr) in net.transitions.iter().enumerate() {
            let scan: Vec<u32> = (0..tr.modes.len() as u32)
                .filter(|&m| {
                    tr.modes[m as usize]
                        .inputs
                        .iter()
                        .all(|a| offered(&sim, a.place, a.color) >= a.count as usize)
                })
                .collect();
            assert_eq!(
                sim.index.any(t),
                !scan.is_empty(),
                "{} at {}",
                tr.name,
                sim.now()
            );
            if !sim.index.single(t) {
                sim.index.sort(t);
                let index: Vec<u32> = sim.index.enabled(t).iter().map(|e| e.0).collect();
                assert_eq!(index, scan, "transition {} at t = {}", tr.name, sim.now());
            }
            seen[t] += u64::from(!scan.is_empty());
        }
    }
    seen
}

fn arc_of(place: usize, color: usize, count: u32) -> ArcSpec {
    ArcSpec {
        place,
        color,
        count,
    }
}

/// Two colours arrive (weights 1 and 2) into FCFS queue `Q` whose
/// depository is FIFO; a slower timed transition takes two of colour 0,
/// or one of colour 1, or one of each (never enabled: a FIFO place offers
/// one colour at a time); an ordinary place `P` keeps tokens whose count
/// crosses 2 and 3 for a transition with arcs of those counts, and for one
/// of a single mode.
fn fifo_net() -> Net {
    let exp = |m: f64| Dist::exponential(m).unwrap();
    let mode = |inputs: Vec<ArcSpec>, outputs: Vec<ArcSpec>, weight: f64| Mode {
        name: "m".into(),
        weight,
        inputs,
        outputs,
    };
    let timed = |name: &str, mean: f64, modes: Vec<Mode>| Transition {
        name: name.into(),
        timing: Timing::Timed { delay: exp(mean) },
        modes,
        policy: Policy::Random,
    };
    let queue = Queue {
        scheduling: Scheduling::Fcfs,
        servers: 2,
        service: vec![Some(exp(0.3)), Some(exp(0.2))],
        priority: vec![0, 0],
        shared: None,
        load_dependence: Vec::new(),
        cpu_limit: None,
    };
    Net {
        colors: vec!["a".into(), "b".into()],
        places: vec![
            Place {
                name: "Q".into(),
                queue: Some(queue),
                departure: Departure::Fifo,
                initial: vec![0, 0],
            },
            Place {
                name: "P".into(),
                queue: None,
                departure: Departure::Normal,
                initial: vec![0, 0],
            },
        ],
        transitions: vec![
            timed(
                "arrive",
                0.5,
                vec![
                    mode(vec![], vec![arc_of(0, 0, 1)], 1.0),
                    mode(vec![], vec![arc_of(0, 1, 1)], 2.0),
                ],
            ),
            timed(
                "drain",
                0.4,
                vec![
                    mode(vec![arc_of(0, 0, 2)], vec![arc_of(1, 0, 1)], 1.0),
                    mode(vec![arc_of(0, 1, 1)], vec![arc_of(1, 1, 1)], 1.0),
                    mode(vec![arc_of(0, 0, 1), arc_of(0, 1, 1)], vec![], 1.0),
                ],
            ),
            timed("pairs", 0.6, vec![mode(vec![arc_of(1, 1, 2)], vec![], 1.0)]),
            timed(
                "sink",
                0.3,
                vec![
                    mode(vec![arc_of(1, 0, 2)], vec![], 1.0),
                    mode(vec![arc_of(1, 0, 1), arc_of(1, 1, 3)], vec![], 3.0),
                    mode(vec![arc_of(1, 1, 1)], vec![], 1.0),
                ],
            ),
        ],
        probes: vec![],
        queues: Vec::new(),
    }
}

#[test]
fn the_index_holds_what_a_scan_finds_in_fifo_places_and_arcs_of_several_tokens() {
    let net = fifo_net().into_valid().unwrap();
    let seen = agree_for(&net, 20_000);
    // Every transition was enabled at thousands of the checks.
    assert!(seen.iter().all(|&n| n > 1_000), "{seen:?}");
}

#[test]
fn the_index_holds_what_a_scan_finds_on_the_trading_model() {
    let text = include_str!("../../../../models/trading.yaml");
    let m = crate::model::load(text, &crate::model::LoadOptions::default()).unwrap();
    let seen = agree_for(&m.net, 20_000);
    // begin (from Sessions) and next (from Served) are immediate: enabled
    // at no check between steps; request and serve neither.
    assert_eq!(seen.iter().filter(|&&n| n > 0).count(), 0, "{seen:?}");
}

/// A source whose forty modes, weighing 1, 2, …, 40 and without inputs,
/// each put a token into their own place, and a sink with a mode for each.
fn forty_modes() -> Net {
    let mut arrive = transition(
        "arrive",
        Timing::Timed { delay: det(1.0) },
        (0..40).map(|i| (vec![], vec![arc(i, 1)])).collect(),
    );
    for (i, m) in arrive.modes.iter_mut().enumerate() {
        m.weight = (i + 1) as f64;
    }
    let leave = transition(
        "leave",
        Timing::Immediate { weight: 1.0 },
        (0..40).map(|i| (vec![arc(i, 1)], vec![])).collect(),
    );
    let places = (0..40).map(|i| place(&format!("P{i}"), None, 0)).collect();
    (*valid(places, vec![arrive, leave], vec![])).clone()
}

#[test]
fn the_choice_among_many_enabled_modes_is_the_scan_in_mode_order() {
    // Weights 1, 2, …, 40; then all 1 but mode 17 at 1,000 (a stretch
    // of the total far from where an even split puts it).
    let skewed: Vec<f64> = (0..40).map(|m| if m == 17 { 1e3 } else { 1.0 }).collect();
    for weights in [(1..=40).map(f64::from).collect(), skewed] {
        let mut net = forty_modes();
        for (m, w) in net.transitions[0].modes.iter_mut().zip(&weights) {
            m.weight = *w;
        }
        let mut index = ModeIndex::new(&net);
        assert_eq!(index.enabled(0).len(), 40);
        let total: f64 = weights.iter().sum();
        for j in 0..10_000 {
            let r = f64::from(j) / 10_000.0;
            // The scan: the first mode whose weight exceeds what is left
            // of r × total after the modes before it.
            let mut u = r * total;
            let mut scan = 39;
            for (m, &w) in weights.iter().enumerate() {
                if u < w {
                    scan = m;
                    break;
                }
                u -= w;
            }
            assert_eq!(index.choose(0, || r), scan, "draw {r} of {weights:?}");
        }
    }
}

#[test]
fn forty_modes_are_chosen_in_proportion_to_their_weights() {
    let net = forty_modes().into_valid().unwrap();
    let mut sim = Simulation::new(&net, replication_rng(8, 0));
    sim.start().unwrap();
    let n = 164_000u32; // 200 times the total weight
    sim.run_until_time(f64::from(n)).unwrap();
    for m in 0..40 {
        let k = sim.place_stats(m, 0).arrivals as f64;
        let p = (m + 1) as f64 / 820.0;
        let sd = (f64::from(n) * p * (1.0 - p)).sqrt();
        let expected = f64::from(n) * p;
        assert!(
            (k - expected).abs() < 5.0 * sd,
            "mode {m}: {k} arrivals against {expected} ± {sd}"
        );
    }
}
