//! Small nets of one colour and deterministic times, built in code for
//! the unit tests of the engine and the flows.

use super::dist::Dist;
use super::net::{
    ArcSpec, Departure, Mode, Net, Place, Policy, Probe, Queue, Scheduling, Timing, Transition,
    ValidNet,
};

/// A deterministic time.
pub fn det(v: f64) -> Dist {
    Dist::deterministic(v).unwrap()
}

/// `count` tokens of colour 0 at `place`.
pub fn arc(place: usize, count: u32) -> ArcSpec {
    ArcSpec {
        place,
        color: 0,
        count,
    }
}

/// A place with one colour; with a queue of one server and that service
/// time.
pub fn place(name: &str, queue: Option<(Scheduling, f64)>, initial: u64) -> Place {
    Place {
        name: name.into(),
        queue: queue.map(|(scheduling, service)| Queue {
            scheduling,
            servers: 1,
            service: vec![Some(det(service))],
            priority: vec![0],
            shared: None,
            load_dependence: Vec::new(),
            cpu_limit: None,
        }),
        departure: Departure::Normal,
        initial: vec![initial],
    }
}

/// A transition whose modes (inputs, outputs) weigh 1 each.
pub fn transition(
    name: &str,
    timing: Timing,
    modes: Vec<(Vec<ArcSpec>, Vec<ArcSpec>)>,
) -> Transition {
    Transition {
        name: name.into(),
        timing,
        modes: modes
            .into_iter()
            .enumerate()
            .map(|(i, (inputs, outputs))| Mode {
                name: format!("m{i}"),
                weight: 1.0,
                inputs,
                outputs,
            })
            .collect(),
        policy: Policy::Random,
    }
}

/// The net of colour `job`, checked.
pub fn valid(places: Vec<Place>, transitions: Vec<Transition>, probes: Vec<Probe>) -> ValidNet {
    Net {
        colors: vec!["job".into()],
        places,
        transitions,
        probes,
        queues: Vec::new(),
    }
    .into_valid()
    .unwrap()
}
