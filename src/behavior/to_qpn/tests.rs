//! The generated model, read back: a behaviour with what the compact
//! form has to spell out (types served by different resources, one with
//! no demand, think times of two families, a type reached without a
//! think time) gives the net the chain describes, mode by mode.

use std::collections::BTreeMap;

use super::*;
use crate::behavior::{ENTRY, EXIT, Spread, Think, Transition};
use crate::model::{LoadOptions, load};
use crate::qpn::{Dist, Net};

fn t(from: &str, to: &str, p: f64, think: Option<Think>) -> Transition {
    let mean = think.map(|d| match d {
        Think::Deterministic(m) | Think::Exponential(m) => m,
        Think::Gamma { mean, .. } | Think::Lognormal { mean, .. } => mean,
    });
    Transition {
        from: from.into(),
        to: to.into(),
        probability: p,
        count: 1,
        think_mean_s: mean,
        think_sd_s: mean,
        think,
    }
}

fn profile(
    name: &str,
    share: f64,
    visits: &[(&str, f64)],
    transitions: Vec<Transition>,
) -> Profile {
    let none = Spread { mean: 0.0, sd: 0.0 };
    Profile {
        name: name.into(),
        probability: share,
        sessions: 1,
        requests_per_session: visits.iter().map(|v| v.1).sum(),
        session_requests: none,
        session_requests_max: 1,
        session_duration_s: none,
        visits_per_session: visits.iter().map(|(s, v)| (s.to_string(), *v)).collect(),
        transitions,
    }
}

/// P: a → b (think exponential 2 s), a → c (no think time), b → a (think
/// gamma, mean 1 s, cv 0.5); Q: a → a (think exponential 3 s).
fn behavior() -> BehaviorModel {
    let gamma = Think::Gamma { mean: 1.0, cv: 0.5 };
    let p = profile(
        "P",
        0.6,
        &[("a", 1.25), ("b", 0.625), ("c", 0.375)],
        vec![
            t(ENTRY, "a", 1.0, None),
            t("a", "b", 0.5, Some(Think::Exponential(2.0))),
            t("a", "c", 0.3, None),
            t("a", EXIT, 0.2, None),
            t("b", "a", 0.4, Some(gamma)),
            t("b", EXIT, 0.6, None),
            t("c", EXIT, 1.0, None),
        ],
    );
    let q = profile(
        "Q",
        0.4,
        &[("a", 2.0)],
        vec![
            t(ENTRY, "a", 1.0, None),
            t("a", "a", 0.5, Some(Think::Exponential(3.0))),
            t("a", EXIT, 0.5, None),
        ],
    );
    BehaviorModel {
        sessions: 10,
        states: vec!["a".into(), "b".into(), "c".into()],
        grouping: "test".into(),
        profiles: vec![p, q],
    }
}

/// a at R1 and R2, b at R1, c nowhere.
fn demands() -> Demands {
    let mut d = Demands::new();
    d.insert("a", "R1", 0.1);
    d.insert("a", "R2", 0.2);
    d.insert("b", "R1", 0.3);
    d.insert("c", "R1", 0.0);
    d
}

fn options(users: Users) -> ModelOptions {
    ModelOptions {
        users,
        think: ThinkTimes::Learnt,
        session_gap_s: Some(5.0),
        servers: [("R1".to_string(), 2)].into(),
        name: "test".into(),
    }
}

fn generated(users: Users) -> (String, Net) {
    let g = to_qpn(&behavior(), &demands(), &options(users)).unwrap();
    let yaml = g.yaml();
    let m = load(&yaml, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    (yaml, (*m.net).clone())
}

/// The modes of transition `name`: (input colour, output place, output
/// colour) → weight.
fn modes(net: &Net, name: &str) -> BTreeMap<(String, String, String), f64> {
    let t = net.transitions.iter().find(|t| t.name == name).unwrap();
    t.modes
        .iter()
        .map(|m| {
            let (i, o) = (m.inputs[0], m.outputs[0]);
            let key = (
                net.colors[i.color].clone(),
                net.places[o.place].name.clone(),
                net.colors[o.color].clone(),
            );
            (key, m.weight)
        })
        .collect()
}

/// The service time of `colour` at `place`, as the engine holds it.
fn mean_at(net: &Net, place: &str, colour: &str) -> Option<String> {
    let p = net.places.iter().find(|p| p.name == place).unwrap();
    let c = net.colors.iter().position(|c| c == colour).unwrap();
    p.queue.as_ref().unwrap().service[c]
        .as_ref()
        .map(|d| format!("{d:?}"))
}

#[test]
fn the_chain_its_think_times_and_paths_are_the_net_mode_by_mode() {
    let (yaml, net) = generated(Users::PerProfile(vec![2, 3]));
    assert_eq!(net.colors, ["P.a", "P.b", "P.c", "Q.a", "P", "Q"]);
    let key = |a: &str, p: &str, b: &str| (a.to_string(), p.to_string(), b.to_string());
    let want: BTreeMap<_, _> = [
        (key("P.a", "Think", "P.b"), 0.5),
        (key("P.a", "Issue", "P.c"), 0.3),
        (key("P.b", "Think", "P.a"), 0.4),
        (key("Q.a", "Think", "Q.a"), 0.5),
        (key("P.a", "Sessions", "P"), 0.2),
        (key("P.b", "Sessions", "P"), 0.6),
        (key("P.c", "Sessions", "P"), 1.0),
        (key("Q.a", "Sessions", "Q"), 0.5),
    ]
    .into();
    assert_eq!(modes(&net, "next"), want, "{yaml}");
    let begin: BTreeMap<_, _> = [
        (key("P", "Issue", "P.a"), 1.0),
        (key("Q", "Issue", "Q.a"), 1.0),
    ]
    .into();
    assert_eq!(modes(&net, "begin"), begin);
    let request: Vec<_> = modes(&net, "request").into_keys().collect();
    assert_eq!(
        request,
        [
            key("P.a", "Issue", "P.a"),
            key("P.b", "Issue", "P.b"),
            key("Q.a", "Issue", "Q.a")
        ]
    );
    // Each type along its own resources; c, with no demand, straight through.
    let serve: Vec<_> = modes(&net, "serve").into_keys().collect();
    assert_eq!(
        serve,
        [
            key("P.a", "R1", "P.a"),
            key("P.a", "R2", "P.a"),
            key("P.a", "Served", "P.a"),
            key("P.b", "R1", "P.b"),
            key("P.b", "Served", "P.b"),
            key("P.c", "Served", "P.c"),
            key("Q.a", "R1", "Q.a"),
            key("Q.a", "R2", "Q.a"),
            key("Q.a", "Served", "Q.a"),
        ]
    );
    let exp = |mean: f64| Some(format!("{:?}", Dist::exponential(mean).unwrap()));
    assert_eq!(mean_at(&net, "R1", "P.a"), exp(0.1));
    assert_eq!(mean_at(&net, "R1", "P.b"), exp(0.3));
    assert_eq!(mean_at(&net, "R1", "P.c"), None);
    assert_eq!(mean_at(&net, "R2", "Q.a"), exp(0.2));
    assert_eq!(mean_at(&net, "R2", "P.b"), None);
    assert_eq!(
        mean_at(&net, "Think", "P.a"),
        Some(format!("{:?}", Dist::gamma(1.0, 0.5).unwrap()))
    );
    assert_eq!(mean_at(&net, "Think", "P.b"), exp(2.0));
    assert_eq!(mean_at(&net, "Think", "Q.a"), exp(3.0));
    assert_eq!(mean_at(&net, "Think", "P.c"), None);
    let r1 = net.places.iter().find(|p| p.name == "R1").unwrap();
    assert_eq!(r1.queue.as_ref().unwrap().servers, 2);
    let sessions = net.places.iter().find(|p| p.name == "Sessions").unwrap();
    assert_eq!(sessions.initial[4..], [2, 3]);
}

#[test]
fn the_generated_model_solves_to_the_chains_visits() {
    let (_, net) = generated(Users::PerProfile(vec![2, 3]));
    let a = crate::solve::analyse(&crate::qpn::ValidNet::try_from(net).unwrap()).unwrap();
    let x = |place: &str, colour: &str| {
        a.places
            .iter()
            .find(|p| p.place == place && p.color == colour)
            .map_or(0.0, |p| p.throughput)
    };
    // Requests of each type per session: the chain's visits.
    for (colour, session, visits) in [("P.a", "P", 1.25), ("P.b", "P", 0.625), ("Q.a", "Q", 2.0)] {
        let per_session = x("R1", colour) / x("Sessions", session);
        assert!(
            (per_session - visits).abs() < 1e-12,
            "{colour}: {per_session}"
        );
    }
}

#[test]
fn mixed_users_share_one_session_colour_and_the_mix_weighs_the_starts() {
    let (yaml, net) = generated(Users::Mixed(7));
    assert_eq!(net.colors, ["P.a", "P.b", "P.c", "Q.a", "user"]);
    let begin = modes(&net, "begin");
    let k = |b: &str| ("user".to_string(), "Issue".to_string(), b.to_string());
    assert_eq!(begin[&k("P.a")], 0.6);
    assert_eq!(begin[&k("Q.a")], 0.4);
    assert!(yaml.contains("users: 7"), "{yaml}");
    assert!(
        yaml.contains("\"mix_{profile}\": {P: 0.6, Q: 0.4}"),
        "{yaml}"
    );
}

#[test]
fn one_profile_names_colours_by_type_and_a_clash_of_names_is_refused() {
    let mut b = behavior();
    b.profiles.truncate(1);
    let g = to_qpn(&b, &demands(), &options(Users::PerProfile(vec![4]))).unwrap();
    let m = load(&g.yaml(), &LoadOptions::default()).unwrap();
    assert_eq!(m.net.colors, ["a", "b", "c", "P"]);
    let roles: Vec<_> = g.roles().iter().map(|r| r.colour.as_str()).collect();
    assert_eq!(roles, ["a", "b", "c", "P"]);
    // A profile named like one of its types: its colours take the profile.
    b.profiles[0].name = "b".into();
    let g = to_qpn(&b, &demands(), &options(Users::PerProfile(vec![4]))).unwrap();
    let m = load(&g.yaml(), &LoadOptions::default()).unwrap();
    assert_eq!(m.net.colors, ["b.a", "b.b", "b.c", "b"]);
    // Two types that are one name in parameters.
    let mut d = demands();
    d.insert("a-x", "R1", 0.1);
    d.insert("a_x", "R1", 0.1);
    let mut b = behavior();
    b.profiles[1].transitions[1].probability = 0.25;
    b.profiles[1].transitions.push(t("a", "a-x", 0.125, None));
    b.profiles[1].transitions.push(t("a", "a_x", 0.125, None));
    b.profiles[1].transitions.push(t("a-x", EXIT, 1.0, None));
    b.profiles[1].transitions.push(t("a_x", EXIT, 1.0, None));
    let e = to_qpn(&b, &d, &options(Users::PerProfile(vec![2, 3]))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "request types `a-x` and `a_x` have the same name in parameters (`a_x`): rename one"
    );
}

#[test]
fn models_that_would_not_load_are_refused_before_writing() {
    let err = |b: &BehaviorModel, o: &ModelOptions| to_qpn(b, &demands(), o).unwrap_err();
    let mut none = behavior();
    none.profiles.clear();
    assert_eq!(
        err(&none, &options(Users::Mixed(5))),
        ToQpnError::NoProfiles
    );
    let mut zero_mix = behavior();
    for p in &mut zero_mix.profiles {
        p.probability = 0.0;
    }
    assert_eq!(err(&zero_mix, &options(Users::Mixed(5))), ToQpnError::NoMix);
    // Users per profile need no mix.
    let n = zero_mix.profiles.len();
    assert!(
        to_qpn(
            &zero_mix,
            &demands(),
            &options(Users::PerProfile(vec![1; n]))
        )
        .is_ok()
    );
    assert_eq!(
        err(&behavior(), &options(Users::Mixed(20_000_000))).to_string(),
        "20000000 users: at most 10000000 (the model files' limit)"
    );
    let mut o = options(Users::Mixed(5));
    o.servers.insert("R1".into(), u64::MAX);
    assert_eq!(
        err(&behavior(), &o).to_string(),
        "18446744073709551615 servers of R1: at most 1000000 (the model files' limit)"
    );
}
