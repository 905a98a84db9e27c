//! [`QpeNet`] to a model document: names kept (places, colours,
//! transitions, modes), times scaled to seconds, a queue several places
//! name becomes a shared queue.

use serde_saphyr::{FlowMap, FlowSeq};

use super::read::QpeError;
use super::read::{self, DistDef, QpeNet};
use crate::import::TimeUnit;
use crate::model::doc::{
    ArcDoc, DistBody, DistDoc, ModeDoc, ModelDoc, Ordered, PlaceDoc, PointDoc, ProbeDoc, QueueDoc,
    RunDoc, SharedQueueDoc, TransitionDoc, Value, dist,
};
use crate::qpn::{ArcSpec as Arc, reachable};

/// An imported model: its document and what the import assumed or left
/// out, in words.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The model.
    pub doc: ModelDoc,
    /// What was assumed (the time unit, the run settings) and not carried
    /// over (layout, SimQPN's statistics settings).
    pub notes: Vec<String>,
    /// Modes and transitions left out because they can never fire.
    pub left_out: Vec<String>,
}

impl Imported {
    /// The model file's text.
    pub fn yaml(&self) -> String {
        self.doc.yaml()
    }
}

/// Imports the `.qpe` text `xml` as a model called `name`, its times read
/// in `unit`.
///
/// # Errors
/// [`QpeError`]: not XML, an element outside the subset, or a model that
/// does not build (with the element's id, name and line where one is to
/// blame).
pub fn import(xml: &str, name: &str, unit: TimeUnit) -> Result<Imported, QpeError> {
    let mut net = read::read(xml)?;
    let dropped = prune_dead_modes(&mut net);
    let u = unit.seconds();
    let mut doc = ModelDoc {
        name: name.to_string(),
        description: format!(
            "Imported from the QPME model {name}; its times read as {} and written in seconds.",
            unit.words()
        ),
        classes: Ordered::default(),
        params: Ordered::default(),
        colors: FlowSeq(net.colors.clone()),
        queues: Ordered::default(),
        places: Ordered::default(),
        transitions: Ordered::default(),
        probes: Ordered::default(),
        run: None,
    };
    let shared = shared_queues(&net, &mut doc);
    for p in &net.places {
        doc.places.push(p.name.clone(), place(&net, p, &shared, u));
    }
    for t in &net.transitions {
        doc.transitions.push(t.name.clone(), transition(&net, t));
    }
    for p in &net.probes {
        doc.probes.push(p.name.clone(), probe(&net, p));
    }
    let mut notes = vec![format!(
        "times read as {} (--time-unit {}): written in seconds",
        unit.words(),
        unit.name()
    )];
    if let Some(r) = &net.run {
        let measured = (r.total - r.ramp_up).max(0.0) * u;
        if measured > 0.0 {
            doc.run = Some(FlowMap(RunDoc {
                time: Some(measured),
                warmup: Some(r.ramp_up * u),
            }));
        }
        notes.push(format!(
            "SimQPN configuration {:?}: ramp-up {} and total run length {} become `run: \
             {{warmup: {}, time: {measured}}}` (its stopping rule {} is not carried over: \
             `simulate` runs the whole length unless told otherwise)",
            r.configuration,
            r.ramp_up,
            r.total,
            r.ramp_up * u,
            r.stopping_rule
        ));
    }
    if net.probes.is_empty() {
        notes.push("the model has no probes: `simulate` reports per place and colour".to_string());
    }
    notes.push(
        "left out: layout, SimQPN's per-place statistics and batch-means settings".to_string(),
    );
    super::build::check(&doc.yaml(), &net)?;
    Ok(Imported {
        doc,
        notes,
        left_out: dropped,
    })
}

/// Leaves out the modes that can never fire (an input no initial marking
/// or live mode ever fills), and the transitions left without modes;
/// returns what was left out, in words. QPME accepts such modes and never
/// fires them; our model files refuse them as a likely mistake.
fn prune_dead_modes(net: &mut QpeNet) -> Vec<String> {
    let mut marked = vec![vec![false; net.colors.len()]; net.places.len()];
    for (i, p) in net.places.iter().enumerate() {
        for r in p.refs.iter().filter(|r| r.initial > 0) {
            marked[i][r.color] = true;
        }
    }
    let modes: Vec<(&[Arc], &[Arc])> = net
        .transitions
        .iter()
        .flat_map(|t| &t.modes)
        .map(|m| (m.inputs.as_slice(), m.outputs.as_slice()))
        .collect();
    let can = reachable(marked, &modes);
    let live: Vec<Vec<bool>> = net
        .transitions
        .iter()
        .map(|t| {
            let fires = |m: &read::ModeDef| m.inputs.iter().all(|a| can[a.place][a.color]);
            t.modes.iter().map(fires).collect()
        })
        .collect();
    let mut notes = Vec::new();
    for (t, modes) in net.transitions.iter_mut().zip(&live) {
        let mut k = 0;
        t.modes.retain(|m| {
            let keep = modes[k];
            k += 1;
            if !keep {
                notes.push(format!(
                    "left out mode {:?} of transition {:?}: it can never fire (its inputs are never all marked)",
                    m.name, t.name
                ));
            }
            keep
        });
    }
    net.transitions.retain(|t| {
        if t.modes.is_empty() {
            notes.push(format!(
                "left out transition {:?}: none of its modes can fire",
                t.name
            ));
        }
        !t.modes.is_empty()
    });
    notes
}

/// The queues several places name, written as shared queues; returns,
/// per queue, whether it is shared.
fn shared_queues(net: &QpeNet, doc: &mut ModelDoc) -> Vec<bool> {
    let mut users = vec![0usize; net.queues.len()];
    for q in net.places.iter().filter_map(|p| p.queue) {
        users[q] += 1;
    }
    let shared: Vec<bool> = users.iter().map(|&n| n > 1).collect();
    for (q, _) in net.queues.iter().zip(&shared).filter(|(_, s)| **s) {
        doc.queues.push(
            q.name.clone(),
            FlowMap(SharedQueueDoc {
                queue: q.scheduling.name().to_string(),
                servers: q
                    .scheduling
                    .has_servers()
                    .then_some(Value::Count(q.servers)),
            }),
        );
    }
    shared
}

fn place(net: &QpeNet, p: &read::PlaceDef, shared: &[bool], u: f64) -> PlaceDoc {
    let mut doc = PlaceDoc::default();
    if let Some(q) = p.queue {
        let def = &net.queues[q];
        if shared[q] {
            doc.queue = Some(QueueDoc::Shared {
                shared: def.name.clone(),
            });
        } else {
            doc.queue = Some(QueueDoc::Own(def.scheduling.name().to_string()));
            if def.scheduling.has_servers() && def.servers > 1 {
                doc.servers = Some(Value::Count(def.servers));
            }
        }
    }
    for r in &p.refs {
        if let Some(d) = r.dist {
            doc.service.push(net.colors[r.color].clone(), service(d, u));
        }
    }
    doc.departure = p.fifo.then(|| "fifo".to_string());
    let initial: Vec<(String, Value)> = p
        .refs
        .iter()
        .filter(|r| r.initial > 0)
        .map(|r| (net.colors[r.color].clone(), Value::Count(r.initial)))
        .collect();
    if !initial.is_empty() {
        doc.initial = Some(FlowMap(Ordered(initial)));
    }
    doc
}

/// A SimQPN distribution in seconds (`u` seconds per time unit).
fn service(d: DistDef, u: f64) -> DistDoc {
    let named = |pairs: [(&str, f64); 2]| {
        DistBody::Named(Ordered(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::Number(*v)))
                .collect(),
        ))
    };
    match d {
        DistDef::Exponential { lambda } => {
            let mean = simplest(u / lambda, |m| u / m == lambda);
            dist("exponential", DistBody::One(Value::Number(mean)))
        }
        DistDef::Deterministic { value } => {
            dist("deterministic", DistBody::One(Value::Number(value * u)))
        }
        DistDef::Uniform { min, max } => {
            dist("uniform", named([("min", min * u), ("max", max * u)]))
        }
        DistDef::Normal { mean, sd } => dist("normal", named([("mean", mean * u), ("sd", sd * u)])),
        DistDef::Gamma { alpha, lambda } => {
            let mean = simplest(alpha / lambda, |m| alpha / m == lambda) * u;
            let cv = simplest(1.0 / alpha.sqrt(), |c| 1.0 / (c * c) == alpha);
            dist("gamma", named([("mean", mean), ("cv", cv)]))
        }
    }
}

/// Of the numbers within a few units in the last place of `x` that give
/// back the file's value (`same`), the one with the shortest decimal form:
/// a mean of 0.997588333 s exported as its rate 1/0.997588333 comes back
/// as 0.997588333, not 0.9975883330000002 (no f64 has that reciprocal).
fn simplest(x: f64, same: impl Fn(f64) -> bool) -> f64 {
    let (mut up, mut down, mut best) = (x, x, x);
    for _ in 0..4 {
        up = up.next_up();
        down = down.next_down();
        for c in [up, down] {
            if same(c) && c.to_string().len() < best.to_string().len() {
                best = c;
            }
        }
    }
    best
}

fn transition(net: &QpeNet, t: &read::TransitionDef) -> TransitionDoc {
    TransitionDoc {
        weight: (t.weight != 1.0).then_some(t.weight),
        delay: None,
        modes: t
            .modes
            .iter()
            .map(|m| {
                FlowMap(ModeDoc {
                    name: m.name.clone(),
                    weight: (m.weight != 1.0).then_some(Value::Number(m.weight)),
                    inputs: arcs(net, &m.inputs),
                    outputs: arcs(net, &m.outputs),
                    ..ModeDoc::default()
                })
            })
            .collect(),
    }
}

/// Arcs grouped by place, places and colours in the order first met.
fn arcs(net: &QpeNet, list: &[Arc]) -> Ordered<ArcDoc> {
    let mut out: Ordered<Ordered<u64>> = Ordered::default();
    for a in list {
        let place = &net.places[a.place].name;
        let color = &net.colors[a.color];
        let slot = match out.0.iter().position(|(p, _)| p == place) {
            Some(i) => &mut out.0[i].1,
            None => {
                out.push(place.clone(), Ordered::default());
                &mut out.0.last_mut().expect("just pushed").1
            }
        };
        match slot.0.iter_mut().find(|(c, _)| c == color) {
            Some((_, n)) => *n += u64::from(a.count),
            None => slot.push(color.clone(), u64::from(a.count)),
        }
    }
    Ordered(
        out.0
            .into_iter()
            .map(|(p, c)| (p, ArcDoc::Counts(c)))
            .collect(),
    )
}

fn probe(net: &QpeNet, p: &read::ProbeDef) -> ProbeDoc {
    let point = |(place, entry): (usize, bool)| {
        FlowMap(PointDoc {
            place: net.places[place].name.clone(),
            when: if entry { "enter" } else { "exit" },
        })
    };
    let colors = if p.colors.is_empty() {
        net.colors.clone()
    } else {
        p.colors.iter().map(|&c| net.colors[c].clone()).collect()
    };
    ProbeDoc {
        colors: FlowSeq(colors),
        start: point(p.start),
        end: point(p.end),
    }
}
