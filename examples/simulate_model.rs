//! Builds an M/M/c queue in code (no YAML), simulates it with four
//! replications, and compares the mean response time with Erlang-C.
//!
//! `cargo run --release --example simulate_model`

use demandsim::numeric::mmc_response_time;
use demandsim::qpn::{
    ArcSpec, Control, Departure, Dist, Mode, Net, Place, Policy, Probe, ProbePoint, Queue,
    RunConfig, Scheduling, StopRule, Timing, Transition, Warmup, simulate,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (lambda, demand, servers) = (6.0, 0.9, 8);
    let net = Net {
        colors: vec!["request".into()],
        places: vec![Place {
            name: "CPU".into(),
            queue: Some(Queue {
                scheduling: Scheduling::Fcfs,
                servers,
                service: vec![Some(Dist::exponential(demand)?)],
                priority: vec![0],
                shared: None,
                load_dependence: Vec::new(),
                cpu_limit: None,
            }),
            departure: Departure::Normal,
            initial: vec![0],
        }],
        transitions: vec![
            Transition {
                policy: Policy::Random,
                name: "arrive".into(),
                timing: Timing::Timed {
                    delay: Dist::exponential(1.0 / lambda)?,
                },
                modes: vec![Mode {
                    name: "in".into(),
                    weight: 1.0,
                    inputs: vec![],
                    outputs: vec![ArcSpec {
                        place: 0,
                        color: 0,
                        count: 1,
                    }],
                }],
            },
            Transition {
                policy: Policy::Random,
                name: "leave".into(),
                timing: Timing::Immediate { weight: 1.0 },
                modes: vec![Mode {
                    name: "out".into(),
                    weight: 1.0,
                    inputs: vec![ArcSpec {
                        place: 0,
                        color: 0,
                        count: 1,
                    }],
                    outputs: vec![],
                }],
            },
        ],
        probes: vec![Probe {
            name: "response".into(),
            colors: vec![0],
            start: vec![ProbePoint::Transition(0)],
            end: vec![ProbePoint::Transition(1)],
        }],
        queues: vec![],
    }
    .into_valid()?;
    let cfg = RunConfig {
        stop: StopRule::Requests(200_000),
        warmup: Warmup::Auto,
        replications: 4,
        seed: 7,
        ..RunConfig::default()
    };
    let r = simulate(&net, &cfg, Control::default())?;
    let p = &r.probes[0];
    println!(
        "simulated R = {:.4} ± {:.4} s (95 % CI over {} replications), p95 {:.3} s",
        p.mean_s.unwrap(),
        p.ci_half_width_s.unwrap(),
        r.replications,
        p.p95_s.unwrap()
    );
    println!(
        "Erlang-C   R = {:.4} s",
        mmc_response_time(servers, lambda, demand)
    );
    Ok(())
}
