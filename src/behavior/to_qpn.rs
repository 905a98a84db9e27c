//! A behaviour model as a closed queueing Petri net in the model format:
//! users start sessions, think, issue requests that are served at each
//! resource with their class's demand, and move between request types by
//! their profile's chain (class switching), until the session ends and a
//! new one begins.
//!
//! The net is built as a serializable document (numbers stay numbers: the
//! users, think times, demands and servers are `params`, the routing
//! probabilities mode weights), so the text is written by the YAML
//! serializer, never by formatting numbers into strings.
//!
//! ```text
//! Sessions (IS: the gap between sessions) ──begin──▶ Issue ──serve──▶ R1 ▶ … ▶ Rn ▶ Served
//!      ▲                                               ▲                              │
//!      └────────────── next (p(s→$)) ──── Think (IS) ◀─┴── request ◀── next (p(s→t)) ─┘
//! ```
//!
//! Colours: one per (profile, request type) that the profile visits, named
//! by the type alone when there is one profile and `profile.type`
//! otherwise; a session colour per chain of users (`user` when every
//! session picks its profile by the behaviour mix, as WESSBAS does; the
//! profile's name with `Users::PerProfile`).

use std::collections::{BTreeMap, BTreeSet};

use crate::model::doc::Ordered;
use serde::Serialize;
use serde_saphyr::{FlowMap, FlowSeq};

use super::{BehaviorModel, ENTRY, EXIT, Profile, Think};

/// Per (request class, resource) demands, seconds; resources in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Demands {
    resources: Vec<String>,
    by: BTreeMap<(String, String), f64>,
}

impl Demands {
    /// No demands yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the demand of `class` at `resource` (seconds, ≥ 0).
    pub fn insert(&mut self, class: &str, resource: &str, seconds: f64) {
        if !self.resources.iter().any(|r| r == resource) {
            self.resources.push(resource.to_string());
        }
        self.by
            .insert((class.to_string(), resource.to_string()), seconds);
    }

    /// The resources, in the order first given.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    /// Whether `class` has a demand at some resource.
    pub fn has_class(&self, class: &str) -> bool {
        self.by.keys().any(|(c, _)| c == class)
    }

    fn get(&self, class: &str, resource: &str) -> f64 {
        self.by
            .get(&(class.to_string(), resource.to_string()))
            .copied()
            .unwrap_or(0.0)
    }

    fn classes(&self) -> BTreeSet<&str> {
        self.by.keys().map(|(c, _)| c.as_str()).collect()
    }
}

/// How many users, and how they pick profiles.
#[derive(Debug, Clone, PartialEq)]
pub enum Users {
    /// This many users; each new session picks its profile by the
    /// behaviour mix (the profiles' probabilities).
    Mixed(u64),
    /// Users per profile (in the model's profile order), each user staying
    /// with its profile; a profile with none is left out.
    PerProfile(Vec<u64>),
    /// Users per profile by name (a profile not named has none).
    Named(Vec<(String, u64)>),
}

/// Think times between a user's requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThinkTimes {
    /// The learnt distributions (per request type, the mixture of its
    /// incoming transitions' think times, matched in mean and variance).
    Learnt,
    /// Exponential with the learnt means.
    Exponential,
    /// Deterministic at the learnt means.
    Deterministic,
    /// Exponential with this mean for every request, seconds.
    Mean(f64),
}

/// What the generated model is to be.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelOptions {
    /// Users.
    pub users: Users,
    /// Think times.
    pub think: ThinkTimes,
    /// Mean time between a user's sessions, seconds (exponential); `None`:
    /// the behaviour's mean think time.
    pub session_gap_s: Option<f64>,
    /// Servers per resource (1 where not given).
    pub servers: BTreeMap<String, u64>,
    /// The model's name.
    pub name: String,
}

/// Why a behaviour model cannot become a net.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ToQpnError {
    /// The demands lack a request type the behaviour visits.
    #[error(
        "the behaviour visits request type `{class}`, which the demands do not have (they have: {known})"
    )]
    MissingClass {
        /// The request type.
        class: String,
        /// The classes the demands have.
        known: String,
    },
    /// No demands at all.
    #[error("no demands given")]
    NoDemands,
    /// Users per profile of another length than the profiles.
    #[error("{given} user counts for {profiles} profiles")]
    UsersPerProfile {
        /// Counts given.
        given: usize,
        /// Profiles.
        profiles: usize,
    },
    /// No users.
    #[error("no users: the closed model needs at least one")]
    NoUsers,
    /// Users of a profile the behaviour model does not have.
    #[error("users of profile `{name}`, which the behaviour model does not have (it has: {known})")]
    UnknownProfile {
        /// The name given.
        name: String,
        /// The profiles there are.
        known: String,
    },
    /// A gap or think mean that is not a positive number.
    #[error("{what} must be a positive number of seconds, got {value}")]
    NotPositive {
        /// What.
        what: &'static str,
        /// Value.
        value: f64,
    },
    /// A transition probability that is not in [0, 1] or a row that does
    /// not sum to 1.
    #[error("profile {profile}: the transitions from `{from}` sum to {sum}, not 1")]
    Row {
        /// Profile.
        profile: String,
        /// State.
        from: String,
        /// Sum.
        sum: f64,
    },
}

/// What a colour of the generated net stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColourRole {
    /// The colour.
    pub colour: String,
    /// The profile (`None` for the mixed session colour).
    pub profile: Option<String>,
    /// The request type (`None` for a session colour).
    pub request: Option<String>,
}

/// The generated net: its document and what each colour stands for.
#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    #[serde(flatten)]
    doc: ModelDoc,
    #[serde(skip)]
    roles: Vec<ColourRole>,
}

impl Generated {
    /// The model file's text.
    pub fn yaml(&self) -> String {
        serde_saphyr::to_string(&self.doc).expect("a model document always serializes")
    }

    /// What each colour stands for.
    pub fn roles(&self) -> &[ColourRole] {
        &self.roles
    }
}

/// Place and probe names of the generated net.
pub const SESSIONS: &str = "Sessions";
/// Where users think before a request.
pub const THINK: &str = "Think";
/// Where a request is issued (ordinary place).
pub const ISSUE: &str = "Issue";
/// Where a served request waits for the routing to its next state.
pub const SERVED: &str = "Served";
/// The per-request probe.
pub const RESPONSE_PROBE: &str = "response";
/// The per-session probe.
pub const SESSION_PROBE: &str = "session";

/// The closed net of `behavior` with `demands`.
///
/// # Errors
/// See [`ToQpnError`].
pub fn to_qpn(
    behavior: &BehaviorModel,
    demands: &Demands,
    options: &ModelOptions,
) -> Result<Generated, ToQpnError> {
    check(behavior, demands, options)?;
    let (behavior, options) = &with_users(behavior, options)?;
    let mut b = Builder::new(behavior, demands, options);
    b.colours_and_params()?;
    b.places();
    b.transitions();
    b.probes();
    Ok(b.finish())
}

fn check(behavior: &BehaviorModel, d: &Demands, o: &ModelOptions) -> Result<(), ToQpnError> {
    if d.resources.is_empty() {
        return Err(ToQpnError::NoDemands);
    }
    for p in &behavior.profiles {
        for (state, &v) in &p.visits_per_session {
            if v > 0.0 && !d.has_class(state) {
                let known: Vec<&str> = d.classes().into_iter().collect();
                return Err(ToQpnError::MissingClass {
                    class: state.clone(),
                    known: known.join(", "),
                });
            }
        }
        for (from, sum) in row_sums(p) {
            if (sum - 1.0).abs() > 1e-6 {
                return Err(ToQpnError::Row {
                    profile: p.name.clone(),
                    from,
                    sum,
                });
            }
        }
    }
    match &o.users {
        Users::Mixed(0) => return Err(ToQpnError::NoUsers),
        Users::PerProfile(v) if v.len() != behavior.profiles.len() => {
            return Err(ToQpnError::UsersPerProfile {
                given: v.len(),
                profiles: behavior.profiles.len(),
            });
        }
        Users::PerProfile(v) if v.iter().all(|&n| n == 0) => return Err(ToQpnError::NoUsers),
        _ => {}
    }
    let positive = |what, value: f64| {
        if value > 0.0 && value.is_finite() {
            Ok(())
        } else {
            Err(ToQpnError::NotPositive { what, value })
        }
    };
    if let ThinkTimes::Mean(m) = o.think {
        positive("the think time", m)?;
    }
    if let Some(g) = o.session_gap_s {
        positive("the session gap", g)?;
    }
    Ok(())
}

/// The behaviour and options with users per profile resolved: profiles
/// without users left out, `Named` as `PerProfile`.
fn with_users(
    behavior: &BehaviorModel,
    options: &ModelOptions,
) -> Result<(BehaviorModel, ModelOptions), ToQpnError> {
    let counts: Vec<u64> = match &options.users {
        Users::Mixed(_) => return Ok((behavior.clone(), options.clone())),
        Users::PerProfile(v) => v.clone(),
        Users::Named(named) => {
            let mut v = vec![0; behavior.profiles.len()];
            for (name, n) in named {
                let Some(i) = behavior.profiles.iter().position(|p| &p.name == name) else {
                    let known: Vec<&str> =
                        behavior.profiles.iter().map(|p| p.name.as_str()).collect();
                    return Err(ToQpnError::UnknownProfile {
                        name: name.clone(),
                        known: known.join(", "),
                    });
                };
                v[i] += n;
            }
            v
        }
    };
    if counts.iter().all(|&n| n == 0) {
        return Err(ToQpnError::NoUsers);
    }
    let mut b = behavior.clone();
    b.profiles = behavior
        .profiles
        .iter()
        .zip(&counts)
        .filter(|(_, n)| **n > 0)
        .map(|(p, _)| p.clone())
        .collect();
    let mut o = options.clone();
    o.users = Users::PerProfile(counts.into_iter().filter(|&n| n > 0).collect());
    Ok((b, o))
}

fn row_sums(p: &Profile) -> BTreeMap<String, f64> {
    let mut rows: BTreeMap<String, f64> = BTreeMap::new();
    for t in &p.transitions {
        *rows.entry(t.from.clone()).or_default() += t.probability;
    }
    rows
}

#[derive(Debug, Clone, Serialize)]
struct ModelDoc {
    name: String,
    description: String,
    params: Ordered<Number>,
    colors: Vec<String>,
    places: Ordered<PlaceDoc>,
    transitions: Ordered<TransitionDoc>,
    probes: Ordered<ProbeDoc>,
}

/// A parameter's value: counts are written as integers.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
enum Number {
    Count(u64),
    Seconds(f64),
}

#[derive(Debug, Clone, Default, Serialize)]
struct PlaceDoc {
    #[serde(skip_serializing_if = "Option::is_none")]
    queue: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    servers: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<Ordered<DistDoc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial: Option<Ordered<String>>,
}

/// A distribution whose mean is a parameter's name: `{exponential:
/// MEAN}` or `{gamma: {mean: MEAN, cv: 0.4}}`, one line each (a one-entry
/// map, which the YAML writer keeps in flow style where an enum it would
/// not).
type DistDoc = FlowMap<Ordered<DistBody>>;

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum DistBody {
    Mean(String),
    Shaped { mean: String, cv: f64 },
}

fn dist(family: &str, body: DistBody) -> DistDoc {
    FlowMap(Ordered(vec![(family.to_string(), body)]))
}

#[derive(Debug, Clone, Serialize)]
struct TransitionDoc {
    modes: Vec<FlowMap<ModeDoc>>,
}

#[derive(Debug, Clone, Serialize)]
struct ModeDoc {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<f64>,
    #[serde(rename = "in")]
    inputs: Ordered<String>,
    #[serde(rename = "out")]
    outputs: Ordered<String>,
}

#[derive(Debug, Clone, Serialize)]
struct ProbeDoc {
    colors: FlowSeq<Vec<String>>,
    start: FlowMap<PointDoc>,
    end: FlowMap<PointDoc>,
}

#[derive(Debug, Clone, Serialize)]
struct PointDoc {
    place: String,
    when: &'static str,
}

/// One (profile, request type) colour with its think time and route.
#[derive(Debug, Clone)]
struct Request {
    profile: usize,
    state: String,
    colour: String,
    /// Mean think before it, seconds (0: issued at once).
    think_mean: f64,
    think_dist: Option<Think>,
    /// Resources with a positive demand, in order.
    path: Vec<String>,
    /// Its think-time parameter (when it has a think time).
    think_param: Option<String>,
    /// Its demand parameter at each resource of `path`.
    demand_params: Vec<String>,
}

struct Builder<'a> {
    behavior: &'a BehaviorModel,
    demands: &'a Demands,
    options: &'a ModelOptions,
    doc: ModelDoc,
    roles: Vec<ColourRole>,
    requests: Vec<Request>,
    /// Session colour per profile.
    session_colour: Vec<String>,
    /// Parameter names in use.
    names: BTreeSet<String>,
    /// The users parameter per profile (one for all when mixed).
    users_param: Vec<String>,
    /// The session gap parameter.
    gap_param: String,
    /// The servers parameter per resource.
    servers_param: Vec<String>,
}

impl<'a> Builder<'a> {
    fn new(behavior: &'a BehaviorModel, demands: &'a Demands, options: &'a ModelOptions) -> Self {
        let doc = ModelDoc {
            name: options.name.clone(),
            description: description(behavior, options),
            params: Ordered::default(),
            colors: Vec::new(),
            places: Ordered::default(),
            transitions: Ordered::default(),
            probes: Ordered::default(),
        };
        Self {
            behavior,
            demands,
            options,
            doc,
            roles: Vec::new(),
            requests: Vec::new(),
            session_colour: Vec::new(),
            names: BTreeSet::new(),
            users_param: Vec::new(),
            gap_param: String::new(),
            servers_param: Vec::new(),
        }
    }

    /// A parameter name from `base` (letters, digits and `_`), unique.
    fn param(&mut self, base: &str, value: Number) -> String {
        let mut id: String = base
            .chars()
            .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
            .collect();
        if !id.starts_with(|ch: char| ch.is_ascii_alphabetic()) {
            id.insert(0, 'p');
        }
        let mut name = id.clone();
        let mut k = 2;
        while self.names.contains(&name) {
            name = format!("{id}_{k}");
            k += 1;
        }
        self.names.insert(name.clone());
        let value = match value {
            Number::Seconds(x) => Number::Seconds(written(x)),
            count => count,
        };
        self.doc.params.push(name.clone(), value);
        name
    }

    /// A colour name from `base`, unique among the colours.
    fn colour(&mut self, base: String, profile: Option<String>, request: Option<String>) -> String {
        let mut name = base.clone();
        let mut k = 2;
        while self.doc.colors.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.doc.colors.push(name.clone());
        self.roles.push(ColourRole {
            colour: name.clone(),
            profile,
            request,
        });
        name
    }

    fn colours_and_params(&mut self) -> Result<(), ToQpnError> {
        let profiles = &self.behavior.profiles;
        let one = profiles.len() == 1;
        for (k, p) in profiles.iter().enumerate() {
            let states: BTreeSet<&String> = p
                .transitions
                .iter()
                .filter(|t| t.probability > 0.0 && t.to != EXIT)
                .map(|t| &t.to)
                .collect();
            for s in states {
                let base = if one {
                    s.clone()
                } else {
                    format!("{}.{s}", p.name)
                };
                let colour = self.colour(base, Some(p.name.clone()), Some(s.clone()));
                let (think_mean, think_dist) = think_of(p, s, self.options.think);
                let path = self
                    .demands
                    .resources
                    .iter()
                    .filter(|r| self.demands.get(s, r) > 0.0)
                    .cloned()
                    .collect();
                self.requests.push(Request {
                    profile: k,
                    state: s.clone(),
                    colour,
                    think_mean,
                    think_dist,
                    path,
                    think_param: None,
                    demand_params: Vec::new(),
                });
            }
        }
        self.users_and_gap()?;
        self.demand_params();
        Ok(())
    }

    fn users_and_gap(&mut self) -> Result<(), ToQpnError> {
        let profiles = &self.behavior.profiles;
        match &self.options.users {
            Users::Mixed(n) => {
                let c = self.colour("user".into(), None, None);
                self.session_colour = vec![c; profiles.len()];
                let u = self.param("users", Number::Count(*n));
                self.users_param = vec![u; profiles.len()];
            }
            Users::PerProfile(ns) => {
                for (p, &n) in profiles.iter().zip(ns) {
                    let c = self.colour(p.name.clone(), Some(p.name.clone()), None);
                    self.session_colour.push(c);
                    let u = self.param(&format!("users_{}", p.name), Number::Count(n));
                    self.users_param.push(u);
                }
            }
            Users::Named(_) => unreachable!("`with_users` resolves names to counts"),
        }
        let gap = match self.options.session_gap_s {
            Some(g) => g,
            None => mean_think(self.behavior),
        };
        if !(gap > 0.0 && gap.is_finite()) {
            return Err(ToQpnError::NotPositive {
                what: "the session gap (the learnt mean think time; give one)",
                value: gap,
            });
        }
        self.gap_param = self.param("session_gap", Number::Seconds(gap));
        Ok(())
    }

    fn demand_params(&mut self) {
        let resources = self.demands.resources.clone();
        for r in &resources {
            let servers = self.options.servers.get(r).copied().unwrap_or(1);
            let name = self.param(&format!("servers_{r}"), Number::Count(servers));
            self.servers_param.push(name);
        }
        let states: BTreeSet<String> = self.requests.iter().map(|q| q.state.clone()).collect();
        let mut by_state: BTreeMap<(String, String), String> = BTreeMap::new();
        for s in &states {
            for r in &resources {
                let d = self.demands.get(s, r);
                if d > 0.0 {
                    let name = self.param(&format!("demand_{s}_{r}"), Number::Seconds(d));
                    by_state.insert((s.clone(), r.clone()), name);
                }
            }
        }
        for i in 0..self.requests.len() {
            let q = &self.requests[i];
            let demand_params = q
                .path
                .iter()
                .map(|r| by_state[&(q.state.clone(), r.clone())].clone())
                .collect();
            let think = q.think_mean;
            let base = format!("think_{}", q.colour);
            self.requests[i].demand_params = demand_params;
            if think > 0.0 {
                self.requests[i].think_param = Some(self.param(&base, Number::Seconds(think)));
            }
        }
    }
}

impl Builder<'_> {
    fn places(&mut self) {
        let mut sessions = PlaceDoc {
            queue: Some("is"),
            service: Some(Ordered::default()),
            initial: Some(Ordered::default()),
            ..PlaceDoc::default()
        };
        let mut seen = BTreeSet::new();
        for (c, u) in self.session_colour.iter().zip(&self.users_param) {
            if seen.insert(c) {
                let gap = dist("exponential", DistBody::Mean(self.gap_param.clone()));
                sessions.service.as_mut().unwrap().push(c, gap);
                sessions.initial.as_mut().unwrap().push(c, u.clone());
            }
        }
        self.doc.places.push(SESSIONS, sessions);
        let mut think = Ordered::default();
        for q in &self.requests {
            if let (Some(param), Some(d)) = (&q.think_param, q.think_dist) {
                think.push(q.colour.clone(), dist_doc(d, param));
            }
        }
        self.doc.places.push(
            THINK,
            PlaceDoc {
                queue: Some("is"),
                service: Some(think),
                ..PlaceDoc::default()
            },
        );
        self.doc.places.push(ISSUE, PlaceDoc::default());
        for (i, r) in self.demands.resources.iter().enumerate() {
            let mut service = Ordered::default();
            for q in &self.requests {
                if let Some(j) = q.path.iter().position(|x| x == r) {
                    let d = dist("exponential", DistBody::Mean(q.demand_params[j].clone()));
                    service.push(q.colour.clone(), d);
                }
            }
            let place = PlaceDoc {
                queue: Some("ps"),
                servers: Some(self.servers_param[i].clone()),
                service: Some(service),
                ..PlaceDoc::default()
            };
            self.doc.places.push(r.clone(), place);
        }
        self.doc.places.push(SERVED, PlaceDoc::default());
    }

    fn transitions(&mut self) {
        let (mut begin, mut request, mut serve, mut next) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mixed = matches!(self.options.users, Users::Mixed(_));
        for (k, p) in self.behavior.profiles.iter().enumerate() {
            let share = if mixed { p.probability } else { 1.0 };
            let session = &self.session_colour[k];
            for t in p.transitions.iter().filter(|t| t.probability > 0.0) {
                let to = (t.to != EXIT).then(|| self.request(k, &t.to));
                let out = match to {
                    None => arc(SESSIONS, session),
                    Some(q) if t.from == ENTRY || q.think_param.is_none() => arc(ISSUE, &q.colour),
                    Some(q) => arc(THINK, &q.colour),
                };
                let to_name = to.map_or(EXIT, |q| q.colour.as_str());
                if t.from == ENTRY {
                    if share > 0.0 {
                        begin.push(mode(
                            to_name,
                            share * t.probability,
                            arc(SESSIONS, session),
                            out,
                        ));
                    }
                } else {
                    let from = &self.request(k, &t.from).colour;
                    let name = format!("{from} -> {to_name}");
                    next.push(mode(&name, t.probability, arc(SERVED, from), out));
                }
            }
        }
        for q in &self.requests {
            if q.think_param.is_some() {
                request.push(mode(
                    &q.colour,
                    1.0,
                    arc(THINK, &q.colour),
                    arc(ISSUE, &q.colour),
                ));
            }
            let mut stops = vec![ISSUE];
            stops.extend(q.path.iter().map(String::as_str));
            stops.push(SERVED);
            for w in stops.windows(2) {
                let name = format!("{} {} -> {}", q.colour, w[0], w[1]);
                serve.push(mode(&name, 1.0, arc(w[0], &q.colour), arc(w[1], &q.colour)));
            }
        }
        for (name, modes) in [
            ("begin", begin),
            ("request", request),
            ("serve", serve),
            ("next", next),
        ] {
            if !modes.is_empty() {
                self.doc.transitions.push(name, TransitionDoc { modes });
            }
        }
    }

    /// The request colour of profile `k` and type `state`.
    fn request(&self, k: usize, state: &str) -> &Request {
        self.requests
            .iter()
            .find(|q| q.profile == k && q.state == state)
            .expect("every target of a positive transition has a colour")
    }

    fn probes(&mut self) {
        let point = |place: &str, when| {
            FlowMap(PointDoc {
                place: place.to_string(),
                when,
            })
        };
        let requests = self.requests.iter().map(|q| q.colour.clone()).collect();
        self.doc.probes.push(
            RESPONSE_PROBE,
            ProbeDoc {
                colors: FlowSeq(requests),
                start: point(ISSUE, "enter"),
                end: point(SERVED, "enter"),
            },
        );
        let mut sessions = self.session_colour.clone();
        sessions.dedup();
        self.doc.probes.push(
            SESSION_PROBE,
            ProbeDoc {
                colors: FlowSeq(sessions),
                start: point(SESSIONS, "exit"),
                end: point(SESSIONS, "enter"),
            },
        );
    }

    fn finish(self) -> Generated {
        Generated {
            doc: self.doc,
            roles: self.roles,
        }
    }
}

/// A learnt time or shape as written: 12 significant digits. Measurements
/// carry fewer, and a number this short survives QPME's form of it (an
/// exponential's rate 1/mean, a gamma's alpha 1/cv²) to the bit, so an
/// exported model imports back to the same net.
fn written(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

fn arc(place: &str, colour: &str) -> Ordered<String> {
    Ordered(vec![(place.to_string(), colour.to_string())])
}

fn mode(
    name: &str,
    weight: f64,
    inputs: Ordered<String>,
    outputs: Ordered<String>,
) -> FlowMap<ModeDoc> {
    FlowMap(ModeDoc {
        name: name.to_string(),
        weight: (weight != 1.0).then_some(weight),
        inputs,
        outputs,
    })
}

fn dist_doc(d: Think, mean: &str) -> DistDoc {
    let mean = mean.to_string();
    match d {
        Think::Deterministic(_) => dist("deterministic", DistBody::Mean(mean)),
        Think::Exponential(_) => dist("exponential", DistBody::Mean(mean)),
        Think::Gamma { cv, .. } => dist(
            "gamma",
            DistBody::Shaped {
                mean,
                cv: written(cv),
            },
        ),
        Think::Lognormal { cv, .. } => dist(
            "lognormal",
            DistBody::Shaped {
                mean,
                cv: written(cv),
            },
        ),
    }
}

/// The think time before a request of type `state` in profile `p`: the
/// mixture of its incoming transitions' think times (entries from
/// `INITIAL` have none), weighted by how often each is taken; its mean
/// and the distribution `choice` asks for.
fn think_of(p: &Profile, state: &str, choice: ThinkTimes) -> (f64, Option<Think>) {
    let incoming: Vec<(f64, &super::Transition)> = p
        .transitions
        .iter()
        .filter(|t| t.to == state && t.from != ENTRY && t.probability > 0.0)
        .map(|t| {
            (
                p.visits_per_session.get(&t.from).copied().unwrap_or(0.0) * t.probability,
                t,
            )
        })
        .filter(|(w, _)| *w > 0.0)
        .collect();
    let total: f64 = incoming.iter().map(|(w, _)| w).sum();
    if total == 0.0 {
        return (0.0, None);
    }
    let (mut m, mut m2) = (0.0, 0.0);
    for (w, t) in &incoming {
        let (mi, si) = (t.think_mean_s.unwrap_or(0.0), t.think_sd_s.unwrap_or(0.0));
        m += w / total * mi;
        m2 += w / total * (si * si + mi * mi);
    }
    if let ThinkTimes::Mean(x) = choice {
        return (x, Some(Think::Exponential(x)));
    }
    if m <= 0.0 {
        return (0.0, None);
    }
    let cv = (m2 - m * m).max(0.0).sqrt() / m;
    let dist = match (choice, incoming.as_slice()) {
        (ThinkTimes::Exponential, _) => Think::Exponential(m),
        (ThinkTimes::Deterministic, _) => Think::Deterministic(m),
        (_, [(_, t)]) if t.think.is_some() => t.think.unwrap(),
        _ if cv < 1e-9 => Think::Deterministic(m),
        _ if (cv - 1.0).abs() < 1e-9 => Think::Exponential(m),
        _ => Think::Gamma { mean: m, cv },
    };
    (m, Some(dist))
}

/// The behaviour's mean think time between requests, over all profiles
/// weighted by the mix and the visits.
fn mean_think(b: &BehaviorModel) -> f64 {
    let (mut w, mut sum) = (0.0, 0.0);
    for p in &b.profiles {
        for t in p
            .transitions
            .iter()
            .filter(|t| t.from != ENTRY && t.to != EXIT)
        {
            let flow = p.probability
                * p.visits_per_session.get(&t.from).copied().unwrap_or(0.0)
                * t.probability;
            w += flow;
            sum += flow * t.think_mean_s.unwrap_or(0.0);
        }
    }
    if w > 0.0 { sum / w } else { 0.0 }
}

fn description(b: &BehaviorModel, o: &ModelOptions) -> String {
    let names: Vec<&str> = b.profiles.iter().map(|p| p.name.as_str()).collect();
    let users = match o.users {
        Users::Mixed(_) => "`users` users; each new session picks its profile by the behaviour mix",
        Users::PerProfile(_) | Users::Named(_) => {
            "`users_<profile>` users per profile, each staying with its profile"
        }
    };
    format!(
        "Generated by `demandsim behavior model` from a behaviour model of {} sessions (profiles: {}). \
         Closed: {users}. A user waits `session_gap` (exponential) in Sessions, then issues requests: \
         each is served at every resource where its type has a demand (processor sharing, `servers_<resource>` \
         servers, exponential `demand_<type>_<resource>`), then the profile's chain picks the next type \
         (think in Think first, `think_<colour>`) or ends the session. Probes: `response` per request \
         colour (issue to served), `session` per session colour.",
        b.sessions,
        names.join(", ")
    )
}
