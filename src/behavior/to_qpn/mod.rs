//! A behaviour model as a closed queueing Petri net in the model format:
//! users start sessions, think, issue requests that are served at each
//! resource with their class's demand, and move between request types by
//! their profile's chain (class switching), until the session ends and a
//! new one begins.
//!
//! The net is written once per class, in the model language's class sets
//! (`shape.rs` reads the structure off the behaviour, `write.rs` writes
//! it): the profiles, the request types each profile visits and those it
//! thinks before, as sets; the users, think times, demands, servers and the
//! chain's probabilities as `params`, tables over those sets (a
//! transition the chain never takes is an entry left out, a mode of
//! weight 0 the model leaves out). The document is
//! [`crate::model::doc::ModelDoc`], written by the YAML serializer, never
//! by formatting numbers into strings.
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

mod shape;
#[cfg(test)]
mod tests;
mod write;

use std::collections::{BTreeMap, BTreeSet};

use crate::model::doc::ModelDoc;

use super::{BehaviorModel, Profile};

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
    /// Two names that are one in parameter names (every character but
    /// letters, digits and `_` is written `_` there).
    #[error(
        "{what} `{first}` and `{second}` have the same name in parameters (`{ident}`): rename one"
    )]
    Names {
        /// Request types, profiles or resources.
        what: &'static str,
        /// One name.
        first: String,
        /// The other.
        second: String,
        /// What both become.
        ident: String,
    },
    /// Two colours of one name (`profile.type` from a profile or type
    /// whose name holds a dot).
    #[error("two colours are named `{colour}`: rename the profile or request type")]
    Colour {
        /// The colour.
        colour: String,
    },
    /// A behaviour model without profiles.
    #[error("the behaviour model has no profiles")]
    NoProfiles,
    /// Mixed users, but every profile's share of the mix is 0.
    #[error("every profile's mix frequency is 0: give some a positive share, or users per profile")]
    NoMix,
    /// More than the model files allow.
    #[error("{value} {what}: at most {max} (the model files' limit)")]
    TooMany {
        /// Users (of one profile), or servers of a resource.
        what: String,
        /// Given.
        value: u64,
        /// Largest allowed.
        max: u64,
    },
    /// The written model does not load (a bug: the checks above should
    /// have said why).
    #[error("the generated model does not load: {0}")]
    Unloadable(String),
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
#[derive(Debug, Clone)]
pub struct Generated {
    doc: ModelDoc,
    roles: Vec<ColourRole>,
}

impl Generated {
    /// The model file's text.
    pub fn yaml(&self) -> String {
        self.doc.yaml()
    }

    /// The model document.
    pub fn doc(&self) -> &ModelDoc {
        &self.doc
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
    let (behavior, options) = &with_users(&normalised(behavior), options)?;
    check_counts(options)?;
    let shape = shape::Shape::new(behavior, demands, options)?;
    let generated = write::generated(&shape, behavior, options);
    // What is written must load: the same loader reads it back.
    crate::model::load(&generated.yaml(), &crate::model::LoadOptions::default())
        .map_err(|e| ToQpnError::Unloadable(e.to_string()))?;
    Ok(generated)
}

/// Users per colour and servers per resource within the model files'
/// limits.
fn check_counts(o: &ModelOptions) -> Result<(), ToQpnError> {
    let users: Vec<u64> = match &o.users {
        Users::Mixed(n) => vec![*n],
        Users::PerProfile(v) => v.clone(),
        Users::Named(v) => v.iter().map(|x| x.1).collect(),
    };
    let too_many = |what: String, value: u64, max: u64| {
        (value > max).then_some(ToQpnError::TooMany { what, value, max })
    };
    let max_users = crate::model::MAX_INITIAL_TOKENS;
    let over = (users.iter()).find_map(|&n| too_many("users".into(), n, max_users));
    let over = over.or_else(|| {
        (o.servers.iter())
            .find_map(|(r, &n)| too_many(format!("servers of {r}"), n, crate::model::MAX_SERVERS))
    });
    over.map_or(Ok(()), Err)
}

fn check(behavior: &BehaviorModel, d: &Demands, o: &ModelOptions) -> Result<(), ToQpnError> {
    if d.resources.is_empty() {
        return Err(ToQpnError::NoDemands);
    }
    if behavior.profiles.is_empty() {
        return Err(ToQpnError::NoProfiles);
    }
    if matches!(o.users, Users::Mixed(_)) && behavior.profiles.iter().all(|p| p.probability <= 0.0)
    {
        return Err(ToQpnError::NoMix);
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
            if (sum - 1.0).abs() > ROW_TOLERANCE {
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

/// A row may miss 1 by this much and is then scaled to 1: WESSBAS rounds
/// its probabilities to four decimals, as `import m4j` allows.
const ROW_TOLERANCE: f64 = 5e-3;

/// The behaviour with every row of every chain scaled to sum to 1.
fn normalised(behavior: &BehaviorModel) -> BehaviorModel {
    let mut b = behavior.clone();
    for p in &mut b.profiles {
        let sums = row_sums(p);
        // Rows that sum to 1 as written are kept bit for bit.
        for t in &mut p.transitions {
            let sum = sums[&t.from];
            if (sum - 1.0).abs() > 1e-9 {
                t.probability /= sum;
            }
        }
    }
    b
}

fn row_sums(p: &Profile) -> BTreeMap<String, f64> {
    let mut rows: BTreeMap<String, f64> = BTreeMap::new();
    for t in &p.transitions {
        *rows.entry(t.from.clone()).or_default() += t.probability;
    }
    rows
}
