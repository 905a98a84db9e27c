//! The model `plan` builds from the runs: one container's requests of each
//! class waiting for one of `workers` workers and served on `cpus`
//! processor-sharing CPUs, with the background work measured beside them
//! as an open class that competes for the same CPUs; closed (users who
//! think) or open (an arrival rate), the load split evenly over
//! `containers` identical containers. Written as a
//! [`ModelDoc`](crate::model::doc::ModelDoc): per-class structure over the
//! class set, every value a parameter, never numbers printed into text.

use serde_saphyr::{FlowMap, FlowSeq};

use crate::model::doc::{
    ArcDoc, DistBody, DistDoc, EachDoc, ModeDoc, ModelDoc, Ordered, PlaceDoc, PointDoc, ProbeDoc,
    QueueDoc, TransitionDoc, Value, dist,
};

/// Open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `users` users thinking `think` seconds between requests.
    Closed,
    /// Requests arriving at `arrival_rate` per second (all containers).
    Open,
}

/// The probe every question is asked of.
pub const PROBE: &str = "response";

/// The model for `classes` (the requests' classes), its parameters at
/// neutral defaults (the plan sets them from the fit).
pub fn doc(kind: Kind, classes: &[String], pool: bool) -> ModelDoc {
    let mut params = Ordered::default();
    match kind {
        Kind::Closed => {
            params.push("users", Value::Count(10));
            params.push("think", Value::Number(1.0));
        }
        Kind::Open => params.push("arrival_rate", Value::Number(1.0)),
    }
    if pool {
        params.push("workers", Value::Count(1));
    }
    for (k, v) in [("cpus", 1), ("containers", 1), ("run_cpus", 1)] {
        params.push(k, Value::Count(v));
    }
    params.push("background_u", Value::Count(0));
    params.push("background_demand", Value::Number(0.01));
    params.push("share_{c}", per_class(classes, Value::Count(1)));
    params.push("demand_{c}", per_class(classes, Value::Number(0.01)));
    let mut doc_classes = Ordered::default();
    doc_classes.push(
        "c",
        crate::model::doc::SetDoc::List(FlowSeq(classes.to_vec())),
    );
    let mut colors = vec!["{c}".to_string(), "background".into()];
    if pool {
        colors.push("worker".into());
    }
    if kind == Kind::Closed {
        colors.push("user".into());
    }
    ModelDoc {
        name: match kind {
            Kind::Closed => "plan-closed",
            Kind::Open => "plan-open",
        }
        .into(),
        description: description(kind, pool),
        classes: doc_classes,
        params,
        colors: FlowSeq(colors),
        queues: Ordered::default(),
        places: places(kind, pool),
        transitions: transitions(kind, pool),
        probes: probes(),
        run: None,
    }
}

fn description(kind: Kind, pool: bool) -> String {
    let load = match kind {
        Kind::Closed => {
            "users / containers users (rounded) think in Think (exponential, mean `think`), then send one request"
        }
        Kind::Open => "requests arrive at arrival_rate / containers per second (Poisson)",
    };
    let wait = if pool {
        "it waits in Q for one of `workers` workers, is served on `cpus` processor-sharing CPUs (exponential demand demand_{c}), and frees its worker"
    } else {
        "it is served on `cpus` processor-sharing CPUs (exponential demand demand_{c}); no run named a worker pool, so none limits it"
    };
    format!(
        "Written by `demandsim plan`: one of `containers` identical containers. {load}, of class c with probability share_{{c}} / sum(share_{{c}}); {wait}. Background work (background_u of run_cpus CPUs, the runs' own, spread over the containers) competes for the same CPUs in jobs of background_demand CPU seconds. The probe `response` runs from Q to leaving the CPU."
    )
}

fn per_class(classes: &[String], v: Value) -> Value {
    let mut row = Ordered::default();
    for c in classes {
        row.push(c.clone(), v.clone());
    }
    Value::Row(FlowMap(row))
}

fn expr(s: &str) -> Value {
    Value::Expr(s.to_string())
}

fn exp(mean: &str) -> DistDoc {
    dist("exponential", DistBody::One(expr(mean)))
}

fn initial(colour: &str, count: &str) -> Option<FlowMap<Ordered<Value>>> {
    Some(FlowMap(Ordered(vec![(colour.to_string(), expr(count))])))
}

fn places(kind: Kind, pool: bool) -> Ordered<PlaceDoc> {
    let mut places = Ordered::default();
    if kind == Kind::Closed {
        places.push(
            "Think",
            PlaceDoc {
                queue: Some(QueueDoc::Own("is".into())),
                service: Ordered(vec![("user".into(), exp("think"))]),
                initial: initial("user", "max(1, floor(users / containers + 0.5))"),
                ..PlaceDoc::default()
            },
        );
    }
    places.push("Q", PlaceDoc::default());
    if pool {
        places.push(
            "W",
            PlaceDoc {
                initial: initial("worker", "workers"),
                ..PlaceDoc::default()
            },
        );
    }
    places.push(
        "CPU",
        PlaceDoc {
            queue: Some(QueueDoc::Own("ps".into())),
            servers: Some(expr("cpus")),
            service: Ordered(vec![
                ("{c}".into(), exp("demand_{c}")),
                ("background".into(), exp("background_demand")),
            ]),
            ..PlaceDoc::default()
        },
    );
    places
}

fn arcs(pairs: &[(&str, &str)]) -> Ordered<ArcDoc> {
    Ordered(
        pairs
            .iter()
            .map(|(p, c)| (p.to_string(), ArcDoc::One(c.to_string())))
            .collect(),
    )
}

fn each_class(inputs: &[(&str, &str)], outputs: &[(&str, &str)], weight: Option<&str>) -> ModeDoc {
    ModeDoc {
        each: Some(EachDoc::One("c".into())),
        name: "{c}".into(),
        weight: weight.map(expr),
        inputs: arcs(inputs),
        outputs: arcs(outputs),
    }
}

fn transitions(kind: Kind, pool: bool) -> Ordered<TransitionDoc> {
    let mut t = Ordered::default();
    let one = |m: ModeDoc, delay: Option<DistDoc>| TransitionDoc {
        weight: None,
        delay,
        modes: vec![FlowMap(m)],
    };
    let mut back = Vec::new();
    let mut admit = vec![("Q", "{c}")];
    if pool {
        back.push(("W", "worker"));
        admit.push(("W", "worker"));
    }
    if kind == Kind::Closed {
        back.push(("Think", "user"));
    }
    match kind {
        Kind::Closed => t.push(
            "send",
            one(
                each_class(&[("Think", "user")], &[("Q", "{c}")], Some("share_{c}")),
                None,
            ),
        ),
        Kind::Open => t.push(
            "arrive",
            one(
                each_class(&[], &[("Q", "{c}")], Some("share_{c}")),
                Some(exp("containers / arrival_rate")),
            ),
        ),
    }
    t.push(
        "background",
        one(
            ModeDoc {
                outputs: arcs(&[("CPU", "background")]),
                ..ModeDoc::default()
            },
            Some(exp(
                "background_demand * containers / (background_u * run_cpus + 1e-300)",
            )),
        ),
    );
    t.push(
        "admit",
        one(each_class(&admit, &[("CPU", "{c}")], None), None),
    );
    let mut leave = one(each_class(&[("CPU", "{c}")], &back, None), None);
    leave.modes.push(FlowMap(ModeDoc {
        name: "background".into(),
        inputs: arcs(&[("CPU", "background")]),
        ..ModeDoc::default()
    }));
    t.push("leave", leave);
    t
}

fn probes() -> Ordered<ProbeDoc> {
    let point = |place: &str, when| {
        FlowMap(PointDoc {
            place: place.into(),
            when,
        })
    };
    Ordered(vec![(
        PROBE.to_string(),
        ProbeDoc {
            colors: FlowSeq(vec!["{c}".into()]),
            start: point("Q", "enter"),
            end: point("CPU", "exit"),
        },
    )])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Params, Stability, Template};
    use crate::solve::analyse;

    fn template(kind: Kind, pool: bool) -> Template {
        let classes = vec!["a".to_string(), "b".to_string()];
        Template::parse(&doc(kind, &classes, pool).yaml(), &|_| unreachable!()).unwrap()
    }

    #[test]
    fn the_open_model_is_the_per_class_m_m_1_ps_queue_split_over_the_containers() {
        // Two classes, 30 % and 70 % of 40 req/s over 2 containers: each
        // container an M/M/1-PS with ρ = 20 · (0.3 · 0.01 + 0.7 · 0.02)
        // = 0.34; no worker limit, no background. R_c = D_c / (1 − ρ).
        let t = template(Kind::Open, false);
        let mut p = Params::new();
        p.set("arrival_rate", 40.0)
            .set("containers", 2.0)
            .set("share_a", 0.3)
            .set("share_b", 0.7)
            .set("demand_a", 0.01)
            .set("demand_b", 0.02);
        let m = t.instantiate(&p, Stability::Reject).unwrap();
        let a = analyse(&m.net).unwrap();
        let rho: f64 = 20.0 * (0.3 * 0.01 + 0.7 * 0.02);
        for (colour, d) in [("a", 0.01), ("b", 0.02)] {
            let p = a.probes.iter().find(|p| p.color == colour).unwrap();
            let exact = d / (1.0 - rho);
            let r = p.mean_s.unwrap();
            assert!((r - exact).abs() < 1e-9 * exact, "{colour}: {r} vs {exact}");
        }
    }

    #[test]
    fn the_closed_model_reads_back_with_its_users_per_container() {
        let t = template(Kind::Closed, true);
        let mut p = Params::new();
        p.set("users", 7.0)
            .set("containers", 2.0)
            .set("workers", 2.0);
        let m = t.instantiate(&p, Stability::Reject).unwrap();
        assert_eq!(m.params["users"], 7.0);
        let think = m.net.places.iter().find(|pl| pl.name == "Think").unwrap();
        // 7 / 2 = 3.5 rounds to 4 users per container.
        assert_eq!(think.initial.iter().sum::<u64>(), 4);
    }
}
