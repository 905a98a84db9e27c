//! The engine's step on tiny nets with deterministic times, so that every
//! event's time is known by hand.

use super::{SimError, Simulation, replication_rng};
use crate::qpn::ValidNet;
use crate::qpn::net::{Policy, Probe, ProbePoint, Scheduling, Timing};
use crate::qpn::testing::{arc, det, place, transition, valid};

/// A source every second into FCFS queue `Q` (0.5 s of service), and an
/// immediate sink; probe `response` from source to sink.
fn source_queue_sink() -> ValidNet {
    valid(
        vec![place("Q", Some((Scheduling::Fcfs, 0.5)), 0)],
        vec![
            transition(
                "arrive",
                Timing::Timed { delay: det(1.0) },
                vec![(vec![], vec![arc(0, 1)])],
            ),
            transition(
                "leave",
                Timing::Immediate { weight: 1.0 },
                vec![(vec![arc(0, 1)], vec![])],
            ),
        ],
        vec![Probe {
            name: "response".into(),
            colors: vec![0],
            start: vec![ProbePoint::Transition(0)],
            end: vec![ProbePoint::Transition(1)],
        }],
    )
}

#[test]
fn a_source_fires_a_service_completes_and_the_sink_takes_the_token_at_once() {
    let net = source_queue_sink();
    let mut sim = Simulation::new(&net, replication_rng(1, 0));
    sim.record_probes(true);
    sim.start().unwrap();
    assert_eq!(sim.next_time(), Some(1.0));
    sim.step().unwrap(); // t = 1: the source fires; service until 1.5
    assert_eq!(
        (sim.now(), sim.events(), sim.next_time()),
        (1.0, 1, Some(1.5))
    );
    assert_eq!(sim.place_stats(0, 0).arrivals, 1);
    sim.step().unwrap(); // t = 1.5: completion, and the sink fires
    assert_eq!(
        (sim.now(), sim.events(), sim.next_time()),
        (1.5, 3, Some(2.0))
    );
    let q = sim.place_stats(0, 0);
    assert_eq!((q.departures, q.residence.mean()), (1, Some(0.5)));
    assert_eq!(q.depository.count(), 1);
    assert_eq!(sim.main_completions(), 1);
    let r = sim.records[0];
    assert_eq!((r.probe, r.color, r.start, r.end), (0, 0, 1.0, 1.5));
}

#[test]
fn ten_seconds_hold_ten_arrivals_nine_departures_and_four_and_a_half_busy_seconds() {
    let net = source_queue_sink();
    let mut sim = Simulation::new(&net, replication_rng(1, 0));
    sim.start().unwrap();
    sim.run_until_time(10.0).unwrap();
    // Arrivals at 1..=10, completions at 1.5..=9.5 (the tenth at 10.5).
    let q = sim.place_stats(0, 0);
    assert_eq!((q.arrivals, q.departures), (10, 9));
    assert_eq!(sim.busy_area(0), 4.5);
    // Population: one token half of each second from 1 on.
    assert_eq!(q.area_at(sim.now()), 4.5);
    assert_eq!(sim.probe_stats(0, 0).moments.mean(), Some(0.5));
    // 10 firings of the source, 9 completions, 9 of the sink.
    assert_eq!(sim.events(), 28);
    assert_eq!(sim.next_time(), Some(10.5));
}

#[test]
fn running_toward_a_time_in_a_few_steps_at_a_time_ends_where_running_until_it_does() {
    let net = source_queue_sink();
    let mut sim = Simulation::new(&net, replication_rng(1, 0));
    sim.start().unwrap();
    // 19 steps reach t = 10 (10 arrivals, 9 completions): 4 at a time,
    // four calls stop short, each at an event before 10.
    let mut calls = 0;
    while !sim.run_toward(10.0, 4).unwrap() {
        calls += 1;
        assert!(sim.now() < 10.0, "{}", sim.now());
    }
    assert_eq!(calls, 4);
    let q = sim.place_stats(0, 0);
    assert_eq!((q.arrivals, q.departures), (10, 9));
    assert_eq!(sim.busy_area(0), 4.5);
    assert_eq!((sim.now(), sim.events()), (10.0, 28));
    assert_eq!(sim.next_time(), Some(10.5));
}

#[test]
fn a_closed_token_alternates_two_seconds_of_service_with_a_three_second_delay() {
    // One token in PS queue CPU (2 s); a timed transition (3 s) takes it
    // from the depository back into the queue.
    let net = valid(
        vec![place("CPU", Some((Scheduling::Ps, 2.0)), 1)],
        vec![transition(
            "think",
            Timing::Timed { delay: det(3.0) },
            vec![(vec![arc(0, 1)], vec![arc(0, 1)])],
        )],
        vec![],
    );
    let mut sim = Simulation::new(&net, replication_rng(1, 0));
    sim.start().unwrap();
    let mut times = Vec::new();
    for _ in 0..5 {
        sim.step().unwrap();
        times.push(sim.now());
    }
    assert_eq!(times, vec![2.0, 5.0, 7.0, 10.0, 12.0]);
    assert_eq!(sim.busy_area(0), 6.0);
    let s = sim.place_stats(0, 0);
    assert_eq!((s.residence.mean(), s.residence.count()), (Some(2.0), 3));
    assert_eq!((s.depository.mean(), s.depository.count()), (Some(3.0), 2));
}

#[test]
fn round_robin_sends_arrivals_to_its_modes_in_turn_starting_with_the_first() {
    let mut route = transition(
        "route",
        Timing::Immediate { weight: 1.0 },
        vec![
            (vec![arc(0, 1)], vec![arc(1, 1)]),
            (vec![arc(0, 1)], vec![arc(2, 1)]),
        ],
    );
    route.policy = Policy::RoundRobin;
    let net = valid(
        vec![
            place("in", None, 0),
            place("A", None, 0),
            place("B", None, 0),
        ],
        vec![
            transition(
                "arrive",
                Timing::Timed { delay: det(1.0) },
                vec![(vec![], vec![arc(0, 1)])],
            ),
            route,
        ],
        vec![],
    );
    let mut sim = Simulation::new(&net, replication_rng(1, 0));
    sim.start().unwrap();
    sim.run_until_time(5.0).unwrap();
    assert_eq!(sim.place_stats(1, 0).arrivals, 3); // t = 1, 3, 5
    assert_eq!(sim.place_stats(2, 0).arrivals, 2); // t = 2, 4
}

#[test]
fn a_queue_past_the_token_limit_stops_the_run_as_unstable() {
    // A 10 s service behind arrivals every second: the fourth queued token
    // (t = 4) passes a limit of 3.
    let net = valid(
        vec![place("Q", Some((Scheduling::Fcfs, 10.0)), 0)],
        vec![transition(
            "arrive",
            Timing::Timed { delay: det(1.0) },
            vec![(vec![], vec![arc(0, 1)])],
        )],
        vec![],
    );
    let mut sim = Simulation::new(&net, replication_rng(1, 0));
    sim.set_token_limit(3);
    sim.start().unwrap();
    let err = sim.run_until_time(100.0).unwrap_err();
    assert_eq!(
        err,
        SimError::Unstable {
            place: "Q".into(),
            tokens: 4,
            per_second: 1.0,
            time: 4.0
        }
    );
}

#[test]
fn a_net_with_nothing_to_fire_is_dead_at_once() {
    let net = valid(
        vec![place("P", None, 0)],
        vec![transition(
            "t",
            Timing::Immediate { weight: 1.0 },
            vec![(vec![arc(0, 1)], vec![])],
        )],
        vec![],
    );
    let mut sim = Simulation::new(&net, replication_rng(1, 0));
    sim.start().unwrap();
    assert_eq!(sim.step(), Err(SimError::Deadlock { time: 0.0 }));
}

#[test]
fn a_cycle_of_zero_delay_timed_transitions_stops_as_a_zero_time_loop() {
    // One token bounces between two places through timed transitions of
    // zero delay: time never advances (the immediate-cycle guard missed it).
    let net = valid(
        vec![place("A", None, 1), place("B", None, 0)],
        vec![
            transition(
                "there",
                Timing::Timed { delay: det(0.0) },
                vec![(vec![arc(0, 1)], vec![arc(1, 1)])],
            ),
            transition(
                "back",
                Timing::Timed { delay: det(0.0) },
                vec![(vec![arc(1, 1)], vec![arc(0, 1)])],
            ),
        ],
        vec![],
    );
    let mut sim = Simulation::new(&net, replication_rng(1, 0));
    sim.start().unwrap();
    let err = sim.run_until_time(1.0).unwrap_err();
    let SimError::ZeroTimeLoop { events, time, at } = &err else {
        panic!("{err}");
    };
    assert_eq!((*events, *time), (super::ZERO_TIME_LIMIT + 1, 0.0));
    assert!(at == "transition there" || at == "transition back", "{at}");
}

#[test]
fn an_is_station_of_zero_service_in_a_cycle_stops_as_a_zero_time_loop() {
    let net = valid(
        vec![place("Think", Some((Scheduling::Is, 0.0)), 1)],
        vec![transition(
            "again",
            Timing::Immediate { weight: 1.0 },
            vec![(vec![arc(0, 1)], vec![arc(0, 1)])],
        )],
        vec![],
    );
    let mut sim = Simulation::new(&net, replication_rng(1, 0));
    sim.start().unwrap();
    let err = sim.run_until_time(1.0).unwrap_err();
    assert!(
        matches!(&err, SimError::ZeroTimeLoop { at, .. } if at == "the queue of place Think"),
        "{err}"
    );
}

#[test]
fn a_delay_that_overflows_the_clock_is_refused_naming_its_transition() {
    let net = valid(
        vec![place("P", None, 0)],
        vec![transition(
            "arrive",
            Timing::Timed { delay: det(1e308) },
            vec![(vec![], vec![arc(0, 1)])],
        )],
        vec![],
    );
    let mut sim = Simulation::new(&net, replication_rng(1, 0));
    sim.start().unwrap();
    sim.step().unwrap(); // t = 1e308
    assert_eq!(
        sim.step(),
        Err(SimError::InfiniteTime {
            at: "transition arrive".into(),
            time: 1e308
        })
    );
}

#[test]
fn the_token_limit_counts_beyond_the_initial_marking() {
    // Five tokens at the start, a limit of 3: the run stops at the ninth.
    let net = valid(
        vec![place("Q", Some((Scheduling::Fcfs, 10.0)), 5)],
        vec![transition(
            "arrive",
            Timing::Timed { delay: det(1.0) },
            vec![(vec![], vec![arc(0, 1)])],
        )],
        vec![],
    );
    let mut sim = Simulation::new(&net, replication_rng(1, 0));
    sim.set_token_limit(3);
    sim.start().unwrap();
    let err = sim.run_until_time(100.0).unwrap_err();
    assert!(
        matches!(
            err,
            SimError::Unstable {
                tokens: 9,
                time: 4.0,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("(about 1.000 more each simulated second)"),
        "{err}"
    );
}
