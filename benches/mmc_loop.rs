//! The engine against the floor: open M/M/12 (`models/qpn1-open.yaml`,
//! 12 servers, λ = 6.242/s, D = 0.998 s) run by the engine and by a
//! minimal hand-written M/M/c loop with the same generator family
//! (xoshiro256++, `Exp1`) and a binary heap of events, side by side in
//! one process: ROUNDS rounds of A then B, each of REQUESTS completions;
//! prints each side's requests per second and the engine's fraction of
//! the loop's, per round and as the median (issue 34 asks for ≥ 0.5).
//! `cargo bench --bench mmc_loop` (not criterion: the ratio must come
//! from one run, the two timed in turn).

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;
use std::time::Instant;

use demandsim::model::{LoadOptions, Params, load};
use demandsim::qpn::{Simulation, replication_rng};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp1};
use rand_xoshiro::Xoshiro256PlusPlus;

const REQUESTS: u64 = 2_000_000;
const ROUNDS: usize = 7;
const SERVERS: u32 = 12;
const RATE: f64 = 6.242;
const DEMAND: f64 = 0.997_588_333;

/// An event: an arrival (`arrived` NaN) or a departure of the request
/// that arrived at `arrived`, ordered by time.
#[derive(Clone, Copy)]
struct Event {
    at: f64,
    arrived: f64,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at.total_cmp(&other.at)
    }
}

/// The minimal FCFS M/M/c loop: `requests` completions; their mean
/// response time.
fn minimal(requests: u64, seed: u64) -> f64 {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut exp = |mean: f64| -> f64 { mean * Distribution::<f64>::sample(&Exp1, &mut rng) };
    let mut heap = BinaryHeap::with_capacity(64);
    let mut queue: VecDeque<f64> = VecDeque::with_capacity(64);
    let (mut busy, mut done, mut rt_sum) = (0u32, 0u64, 0.0);
    heap.push(Reverse(Event {
        at: exp(1.0 / RATE),
        arrived: f64::NAN,
    }));
    while done < requests {
        let Reverse(e) = heap.pop().expect("an arrival is always scheduled");
        let now = e.at;
        if e.arrived.is_nan() {
            heap.push(Reverse(Event {
                at: now + exp(1.0 / RATE),
                arrived: f64::NAN,
            }));
            if busy < SERVERS {
                busy += 1;
                let at = now + exp(DEMAND);
                heap.push(Reverse(Event { at, arrived: now }));
            } else {
                queue.push_back(now);
            }
        } else {
            done += 1;
            rt_sum += now - e.arrived;
            match queue.pop_front() {
                Some(arrived) => {
                    let at = now + exp(DEMAND);
                    heap.push(Reverse(Event { at, arrived }));
                }
                None => busy -= 1,
            }
        }
    }
    rt_sum / done as f64
}

/// The engine on the same queue: `requests` completions.
fn engine(net: &demandsim::qpn::ValidNet, requests: u64, seed: u64) -> u64 {
    let mut sim = Simulation::new(net, replication_rng(seed, 0));
    sim.start().unwrap();
    while sim.main_completions() < requests {
        sim.step().unwrap();
    }
    sim.events()
}

fn main() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/qpn1-open.yaml"
    ))
    .unwrap();
    let params = Params::new().with("servers", f64::from(SERVERS));
    let model = load(
        &text,
        &LoadOptions {
            params,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    // Both sides agree on the queue: the mean response time of M/M/12 at
    // U = 0.52 is the demand plus a little waiting.
    let w = minimal(REQUESTS, 1);
    assert!((w - DEMAND).abs() < 0.05, "minimal loop mean {w}");
    let mut ratios = Vec::new();
    println!("round  engine req/s  minimal req/s  engine/minimal");
    for round in 0..ROUNDS {
        let seed = round as u64 + 1;
        let t = Instant::now();
        black_box(engine(&model.net, REQUESTS, seed));
        let engine_rate = REQUESTS as f64 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        black_box(minimal(REQUESTS, seed));
        let minimal_rate = REQUESTS as f64 / t.elapsed().as_secs_f64();
        let ratio = engine_rate / minimal_rate;
        ratios.push(ratio);
        println!("{round:>5}  {engine_rate:>12.3e}  {minimal_rate:>13.3e}  {ratio:>14.3}");
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "median engine/minimal over {ROUNDS} rounds: {:.3} (min {:.3}, max {:.3})",
        ratios[ROUNDS / 2],
        ratios[0],
        ratios[ROUNDS - 1]
    );
}
