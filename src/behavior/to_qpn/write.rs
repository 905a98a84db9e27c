//! A [`Shape`] as a model document, written once per class: the sets
//! `profile`, `type` (the request types with demands), `visits` and
//! `thinks` (per profile: the types it requests, and those after a think
//! time), `from` and `to` (the types the chain goes from and to, for its
//! table); every
//! number a parameter or a table entry, every place, mode and probe written
//! once over the sets.

use serde_saphyr::{FlowMap, FlowSeq};

use super::shape::{ProfileShape, Shape};
use super::{
    ColourRole, Generated, ISSUE, ModelOptions, RESPONSE_PROBE, SERVED, SESSION_PROBE, SESSIONS,
    THINK, Users,
};
use crate::behavior::{BehaviorModel, Think};
use crate::model::doc::{
    ArcDoc, DistBody, DistDoc, EachDoc, ModeDoc, ModelDoc, Ordered, PlaceDoc, PointDoc, ProbeDoc,
    QueueDoc, SetDoc, TransitionDoc, Value, dist,
};
use crate::model::identifier;

const PROFILE: &str = "profile";
const TYPE: &str = "type";
const VISITS: &str = "visits";
const THINKS: &str = "thinks";
const FROM: &str = "from";
const TO: &str = "to";
/// The types reached without a think time (issued at once).
const DIRECT: &str = "direct";

/// The generated net of `s`.
pub(super) fn generated(s: &Shape, b: &BehaviorModel, o: &ModelOptions) -> Generated {
    let w = Writer::new(s);
    let doc = ModelDoc {
        name: o.name.clone(),
        description: description(b, o),
        classes: w.classes(),
        params: w.params(),
        colors: FlowSeq(vec![w.colour(VISITS), w.session()]),
        queues: Ordered::default(),
        places: w.places(),
        transitions: w.transitions(),
        probes: w.probes(),
        run: None,
    };
    Generated {
        doc,
        roles: roles(s),
    }
}

/// A think-time distribution's family, and its set of request types.
struct Family {
    set: String,
    family: &'static str,
    shaped: bool,
}

struct Writer<'a> {
    s: &'a Shape,
    /// Per group of types served by the same resources: its set (`visits`
    /// when there is one group) and the resources' indices.
    groups: Vec<(String, &'a [usize], &'a [String])>,
    /// The think families, each with its set (`thinks` when one).
    families: Vec<Family>,
    /// Whether some type is reached from another without a think time.
    direct: bool,
    /// One profile: sets of types and tables without a profile level.
    flat: bool,
}

fn family(t: &Think) -> (&'static str, bool) {
    match t {
        Think::Deterministic(_) => ("deterministic", false),
        Think::Exponential(_) => ("exponential", false),
        Think::Gamma { .. } => ("gamma", true),
        Think::Lognormal { .. } => ("lognormal", true),
    }
}

impl<'a> Writer<'a> {
    fn new(s: &'a Shape) -> Self {
        let one_group = s.paths.len() == 1;
        let groups = s
            .paths
            .iter()
            .enumerate()
            .map(|(i, (path, types))| {
                let set = if one_group {
                    VISITS.to_string()
                } else {
                    format!("path{}", i + 1)
                };
                (set, path.as_slice(), types.as_slice())
            })
            .collect();
        let mut families: Vec<Family> = Vec::new();
        for (_, _, d) in s.profiles.iter().flat_map(|p| &p.thinks) {
            let (f, shaped) = family(d);
            if !families.iter().any(|x| x.family == f) {
                families.push(Family {
                    set: format!("{THINKS}_{f}"),
                    family: f,
                    shaped,
                });
            }
        }
        if let [one] = families.as_mut_slice() {
            one.set = THINKS.to_string();
        }
        let direct = s.profiles.iter().any(|p| !direct_targets(p).is_empty());
        Self {
            flat: s.profiles.len() == 1,
            s,
            groups,
            families,
            direct,
        }
    }

    /// The colour of a request whose type placeholder is `var`.
    fn colour(&self, var: &str) -> String {
        if self.s.dotted {
            format!("{{{PROFILE}}}.{{{var}}}")
        } else {
            format!("{{{var}}}")
        }
    }

    /// The session colour.
    fn session(&self) -> String {
        match self.s.mixed {
            Some(_) => self.s.user_colour.clone(),
            None => format!("{{{PROFILE}}}"),
        }
    }

    /// A parameter's name: `base`, then a placeholder for the profile
    /// (unless there is one) and for each of `vars`.
    fn per(&self, base: &str, vars: &[&str]) -> String {
        let mut name = base.to_string();
        if !self.flat {
            name.push_str(&format!("_{{{PROFILE}}}"));
        }
        for v in vars {
            name.push_str(&format!("_{{{v}}}"));
        }
        name
    }

    /// The think time of family `f`: its mean, and its shape where it has
    /// one.
    fn think_dist(&self, f: &Family) -> DistDoc {
        let mean = expr(&self.per("think", &[&f.set]));
        if !f.shaped {
            return dist(f.family, DistBody::One(mean));
        }
        let cv = expr(&self.per("think_cv", &[&f.set]));
        dist(
            f.family,
            DistBody::Named(Ordered(vec![("mean".into(), mean), ("cv".into(), cv)])),
        )
    }

    /// A set with a list per profile (with one profile, its list).
    fn per_profile(&self, list: impl Fn(&ProfileShape) -> Vec<String>) -> SetDoc {
        if let [p] = self.s.profiles.as_slice() {
            return SetDoc::List(FlowSeq(list(p)));
        }
        SetDoc::Indexed(Ordered(
            self.s
                .profiles
                .iter()
                .map(|p| (p.name.clone(), FlowSeq(list(p))))
                .collect(),
        ))
    }

    fn classes(&self) -> Ordered<SetDoc> {
        let s = self.s;
        let mut c = Ordered::default();
        let names = s.profiles.iter().map(|p| p.name.clone()).collect();
        c.push(PROFILE, SetDoc::List(FlowSeq(names)));
        if s.resources.iter().any(|r| complete(r, s)) {
            c.push(TYPE, SetDoc::List(FlowSeq(s.types.clone())));
        }
        c.push(VISITS, self.per_profile(|p| p.visits.clone()));
        if !self.families.is_empty() {
            c.push(
                THINKS,
                self.per_profile(|p| p.thinks.iter().map(|t| t.0.clone()).collect()),
            );
        }
        if self.families.len() > 1 {
            for f in &self.families {
                c.push(
                    f.set.clone(),
                    self.per_profile(|p| {
                        let of = |d: &Think| family(d).0 == f.family;
                        p.thinks
                            .iter()
                            .filter(|t| of(&t.2))
                            .map(|t| t.0.clone())
                            .collect()
                    }),
                );
            }
        }
        if self.groups.len() > 1 {
            for (set, _, types) in &self.groups {
                c.push(
                    set.clone(),
                    self.per_profile(|p| {
                        p.visits
                            .iter()
                            .filter(|t| types.contains(t))
                            .cloned()
                            .collect()
                    }),
                );
            }
        }
        if self.direct {
            c.push(DIRECT, self.per_profile(direct_targets));
        }
        c.push(FROM, SetDoc::Alias(VISITS.to_string()));
        // The types the chain goes on to: after a think time, or at once.
        if self.s.profiles.iter().all(|p| p.next.is_empty()) {
            return c;
        }
        match (self.families.is_empty(), self.direct) {
            (false, false) => c.push(TO, SetDoc::Alias(THINKS.to_string())),
            (true, true) => c.push(TO, SetDoc::Alias(DIRECT.to_string())),
            _ => c.push(
                TO,
                self.per_profile(|p| {
                    let direct = direct_targets(p);
                    let to = |t: &&String| p.thinks_before(t) || direct.contains(t);
                    p.visits.iter().filter(to).cloned().collect()
                }),
            ),
        }
        c
    }

    fn params(&self) -> Ordered<Value> {
        let mut v = Ordered::default();
        self.load_params(&mut v);
        self.think_params(&mut v);
        self.chain_params(&mut v);
        v
    }

    /// Users (and the mix), the session gap, servers and demands.
    fn load_params(&self, v: &mut Ordered<Value>) {
        let s = self.s;
        match s.mixed {
            Some(n) => {
                v.push("users", Value::Count(n));
                v.push(
                    format!("mix_{{{PROFILE}}}"),
                    row(s.profiles.iter().map(|p| (&p.name, Value::Number(p.share)))),
                );
            }
            None => v.push(
                format!("users_{{{PROFILE}}}"),
                row(s.profiles.iter().map(|p| (&p.name, Value::Count(p.users)))),
            ),
        }
        v.push("session_gap", seconds(s.gap));
        for r in &s.resources {
            v.push(
                format!("servers_{}", identifier(&r.name)),
                Value::Count(r.servers),
            );
        }
        for r in &s.resources {
            let id = identifier(&r.name);
            if complete(r, s) {
                let cells = r.demands.iter().map(|(t, d)| (t, seconds(*d)));
                v.push(format!("demand_{{{TYPE}}}_{id}"), row(cells));
            } else {
                for (t, d) in &r.demands {
                    v.push(format!("demand_{}_{id}", identifier(t)), seconds(*d));
                }
            }
        }
    }

    /// Think times: means, and the shapes of the families that have one.
    fn think_params(&self, v: &mut Ordered<Value>) {
        if !self.families.is_empty() {
            let means = |p: &ProfileShape| {
                (!p.thinks.is_empty())
                    .then(|| row(p.thinks.iter().map(|(t, m, _)| (t, seconds(*m)))))
            };
            v.push(self.per("think", &[THINKS]), self.table(&means, false));
        }
        for f in self.families.iter().filter(|f| f.shaped) {
            let cvs = |p: &ProfileShape| {
                let cells: Vec<(&String, Value)> = p
                    .thinks
                    .iter()
                    .filter_map(|(t, _, d)| match d {
                        Think::Gamma { cv, .. } | Think::Lognormal { cv, .. } => {
                            (family(d).0 == f.family).then(|| (t, seconds(*cv)))
                        }
                        _ => None,
                    })
                    .collect();
                (!cells.is_empty()).then(|| row(cells))
            };
            v.push(self.per("think_cv", &[&f.set]), self.table(&cvs, false));
        }
    }

    /// The chain: the first request, the next, the end of the session.
    fn chain_params(&self, v: &mut Ordered<Value>) {
        let probabilities = |cells: &[(String, f64)]| {
            (!cells.is_empty()).then(|| row(cells.iter().map(|(t, x)| (t, Value::Number(*x)))))
        };
        let start = |p: &ProfileShape| probabilities(&p.start);
        v.push(self.per("start", &[VISITS]), self.table(&start, true));
        let next = |p: &ProfileShape| {
            let mut t = Ordered::default();
            for (from, cells) in &p.next {
                t.push(
                    from.clone(),
                    probabilities(cells).expect("rows are not empty"),
                );
            }
            (!t.is_empty()).then_some(Value::Table(t))
        };
        if self.s.profiles.iter().any(|p| !p.next.is_empty()) {
            v.push(self.per("next", &[FROM, TO]), self.table(&next, true));
        }
        let end = |p: &ProfileShape| probabilities(&p.end);
        v.push(self.per("end", &[FROM]), self.table(&end, true));
    }

    /// A table with a level per profile (with one profile, its table);
    /// `star`: what it leaves out is 0.
    fn table(&self, f: &dyn Fn(&ProfileShape) -> Option<Value>, star: bool) -> Value {
        let mut t = Ordered::default();
        if star {
            t.push("*", Value::Count(0));
        }
        if !self.flat {
            for p in &self.s.profiles {
                if let Some(x) = f(p) {
                    t.push(p.name.clone(), x);
                }
            }
            return Value::Table(t);
        }
        match f(&self.s.profiles[0]) {
            Some(Value::Row(FlowMap(cells))) => {
                t.0.extend(cells.0);
                Value::Row(FlowMap(t))
            }
            Some(Value::Table(cells)) => {
                t.0.extend(cells.0);
                Value::Table(t)
            }
            _ => Value::Table(t),
        }
    }
}

impl Writer<'_> {
    fn places(&self) -> Ordered<PlaceDoc> {
        let s = self.s;
        let mut places = Ordered::default();
        let users = match s.mixed {
            Some(_) => "users".to_string(),
            None => format!("users_{{{PROFILE}}}"),
        };
        let gap = dist("exponential", DistBody::One(expr("session_gap")));
        places.push(
            SESSIONS,
            PlaceDoc {
                queue: Some(QueueDoc::Own("is".into())),
                service: Ordered(vec![(self.session(), gap)]),
                initial: Some(FlowMap(Ordered(vec![(self.session(), expr(&users))]))),
                ..PlaceDoc::default()
            },
        );
        let think = self
            .families
            .iter()
            .map(|f| (self.colour(&f.set), self.think_dist(f)))
            .collect();
        places.push(
            THINK,
            PlaceDoc {
                queue: Some(QueueDoc::Own("is".into())),
                service: Ordered(think),
                ..PlaceDoc::default()
            },
        );
        places.push(ISSUE, PlaceDoc::default());
        for (i, r) in s.resources.iter().enumerate() {
            let id = identifier(&r.name);
            let service = self
                .groups
                .iter()
                .filter(|(_, path, _)| path.contains(&i))
                .map(|(set, _, _)| {
                    let mean = expr(&format!("demand_{{{set}}}_{id}"));
                    (self.colour(set), dist("exponential", DistBody::One(mean)))
                })
                .collect();
            let place = PlaceDoc {
                queue: Some(QueueDoc::Own("ps".into())),
                servers: Some(expr(&format!("servers_{id}"))),
                service: Ordered(service),
                ..PlaceDoc::default()
            };
            places.push(r.name.clone(), place);
        }
        places.push(SERVED, PlaceDoc::default());
        places
    }

    fn transitions(&self) -> Ordered<TransitionDoc> {
        let s = self.s;
        let mut out = Ordered::default();
        let over =
            |vars: &[&str]| EachDoc::List(FlowSeq(vars.iter().map(|v| v.to_string()).collect()));
        let start = self.per("start", &[VISITS]);
        let weight = match s.mixed {
            Some(_) => format!("mix_{{{PROFILE}}} * {start}"),
            None => start,
        };
        let begin = ModeDoc {
            each: Some(over(&[PROFILE, VISITS])),
            weight: Some(expr(&weight)),
            inputs: arc(SESSIONS, &self.session()),
            outputs: arc(ISSUE, &self.colour(VISITS)),
            ..ModeDoc::default()
        };
        out.push("begin", modes(vec![begin]));
        if !self.families.is_empty() {
            let request = ModeDoc {
                each: Some(over(&[PROFILE, THINKS])),
                inputs: arc(THINK, &self.colour(THINKS)),
                outputs: arc(ISSUE, &self.colour(THINKS)),
                ..ModeDoc::default()
            };
            out.push("request", modes(vec![request]));
        }
        let mut serve = Vec::new();
        for (set, path, _) in &self.groups {
            let c = self.colour(set);
            let mut stops = vec![ISSUE];
            stops.extend(path.iter().map(|&r| s.resources[r].name.as_str()));
            stops.push(SERVED);
            for w in stops.windows(2) {
                serve.push(ModeDoc {
                    each: Some(over(&[PROFILE, set])),
                    name: format!("{c} {} -> {}", w[0], w[1]),
                    inputs: arc(w[0], &c),
                    outputs: arc(w[1], &c),
                    ..ModeDoc::default()
                });
            }
        }
        out.push("serve", modes(serve));
        out.push("next", modes(self.next()));
        out
    }

    /// The chain's modes: to a type after a think, to one at once, to the
    /// end of the session.
    fn next(&self) -> Vec<ModeDoc> {
        let from = self.colour(FROM);
        let mut next = Vec::new();
        let has_next = self.s.profiles.iter().any(|p| !p.next.is_empty());
        for (set, place, on) in [
            (THINKS, THINK, has_next && !self.families.is_empty()),
            (DIRECT, ISSUE, has_next && self.direct),
        ] {
            if on {
                let vars = [(PROFILE, PROFILE), (FROM, FROM), (TO, set)];
                let each = vars.iter().map(|(v, s)| (v.to_string(), s.to_string()));
                next.push(ModeDoc {
                    each: Some(EachDoc::Named(FlowMap(Ordered(each.collect())))),
                    name: format!("{from} -> {}", self.colour(TO)),
                    weight: Some(expr(&self.per("next", &[FROM, TO]))),
                    inputs: arc(SERVED, &from),
                    outputs: arc(place, &self.colour(TO)),
                });
            }
        }
        next.push(ModeDoc {
            each: Some(EachDoc::List(FlowSeq(vec![PROFILE.into(), FROM.into()]))),
            name: format!("{from} -> $"),
            weight: Some(expr(&self.per("end", &[FROM]))),
            inputs: arc(SERVED, &from),
            outputs: arc(SESSIONS, &self.session()),
        });
        next
    }

    fn probes(&self) -> Ordered<ProbeDoc> {
        let point = |place: &str, when| {
            FlowMap(PointDoc {
                place: place.to_string(),
                when,
            })
        };
        let mut probes = Ordered::default();
        probes.push(
            RESPONSE_PROBE,
            ProbeDoc {
                colors: FlowSeq(vec![self.colour(VISITS)]),
                start: point(ISSUE, "enter"),
                end: point(SERVED, "enter"),
            },
        );
        probes.push(
            SESSION_PROBE,
            ProbeDoc {
                colors: FlowSeq(vec![self.session()]),
                start: point(SESSIONS, "exit"),
                end: point(SESSIONS, "enter"),
            },
        );
        probes
    }
}

/// Whether resource `r` serves every request type (its demands are then
/// one table over `type`).
fn complete(r: &super::shape::Resource, s: &Shape) -> bool {
    r.demands.len() == s.types.len()
}

/// The types profile `p` goes to from another without a think time.
fn direct_targets(p: &ProfileShape) -> Vec<String> {
    p.visits
        .iter()
        .filter(|t| !p.thinks_before(t))
        .filter(|t| {
            p.next
                .iter()
                .any(|(_, cells)| cells.iter().any(|(to, _)| to == *t))
        })
        .cloned()
        .collect()
}

/// A table level on one line.
fn row<'n>(cells: impl IntoIterator<Item = (&'n String, Value)>) -> Value {
    Value::Row(FlowMap(Ordered(
        cells.into_iter().map(|(k, v)| (k.clone(), v)).collect(),
    )))
}

fn expr(s: &str) -> Value {
    Value::Expr(s.to_string())
}

/// A learnt time or shape as written: 12 significant digits. Measurements
/// carry fewer, and a number this short survives QPME's form of it (an
/// exponential's rate 1/mean, a gamma's alpha 1/cv²) to the bit, so an
/// exported model imports back to the same net.
fn seconds(x: f64) -> Value {
    Value::Number(format!("{x:.11e}").parse().unwrap_or(x))
}

fn arc(place: &str, colour: &str) -> Ordered<ArcDoc> {
    Ordered(vec![(place.to_string(), ArcDoc::One(colour.to_string()))])
}

fn modes(modes: Vec<ModeDoc>) -> TransitionDoc {
    TransitionDoc {
        weight: None,
        delay: None,
        modes: modes.into_iter().map(FlowMap).collect(),
    }
}

/// What each colour stands for, in the colours' order.
fn roles(s: &Shape) -> Vec<ColourRole> {
    let mut roles = Vec::new();
    for p in &s.profiles {
        for t in &p.visits {
            roles.push(ColourRole {
                colour: s.colour(&p.name, t),
                profile: Some(p.name.clone()),
                request: Some(t.clone()),
            });
        }
    }
    match s.mixed {
        Some(_) => roles.push(ColourRole {
            colour: s.user_colour.clone(),
            profile: None,
            request: None,
        }),
        None => roles.extend(s.profiles.iter().map(|p| ColourRole {
            colour: p.name.clone(),
            profile: Some(p.name.clone()),
            request: None,
        })),
    }
    roles
}

fn description(b: &BehaviorModel, o: &ModelOptions) -> String {
    let names: Vec<&str> = b.profiles.iter().map(|p| p.name.as_str()).collect();
    let users = match o.users {
        Users::Mixed(_) => {
            "`users` users; each new session picks its profile by the behaviour mix `mix_{profile}`"
        }
        Users::PerProfile(_) | Users::Named(_) => {
            "`users_{profile}` users per profile, each staying with its profile"
        }
    };
    format!(
        "Generated by `demandsim behavior model` from a behaviour model of {} sessions (profiles: {}). \
         Closed: {users}. A user waits `session_gap` (exponential) in Sessions, then starts with a request \
         of type t with probability `start_{{profile}}_{{t}}`; each request is served at every resource \
         where its type has a demand (processor sharing, `servers_<resource>` servers, exponential \
         `demand_{{type}}_<resource>`), then the chain goes on to type t with probability \
         `next_{{profile}}_{{from}}_{{t}}` (thinking in Think first, mean `think_{{profile}}_{{t}}`) or \
         ends the session with probability `end_{{profile}}_{{from}}`; a probability the tables leave \
         out is 0. Sets: `visits` the request types each profile issues, `thinks` those after a think \
         time. Probes: `response` per request colour (issue to served), `session` per session colour.",
        b.sessions,
        names.join(", ")
    )
}
