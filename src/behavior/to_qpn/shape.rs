//! What the generated net is made of, read off the behaviour: per profile
//! the request types it visits, those reached after a think time (and its
//! distribution) and the chain's probabilities; per request type the
//! resources that serve it; the colours' names.

use std::collections::BTreeSet;

use super::{Demands, ModelOptions, ThinkTimes, ToQpnError, Users};
use crate::behavior::{BehaviorModel, ENTRY, EXIT, Profile, Think, Transition};
use crate::model::identifier;

/// The structure of the net to write.
pub(super) struct Shape {
    pub profiles: Vec<ProfileShape>,
    /// Users of all profiles when each session picks its profile by the
    /// mix; `None` when each profile has its own.
    pub mixed: Option<u64>,
    /// The session colour of the mixed users (`user`, unless a request
    /// type is so named).
    pub user_colour: String,
    /// Colours `profile.type` (several profiles, or a profile named like
    /// one of its types); else `type`.
    pub dotted: bool,
    /// Every request type a profile visits, in order.
    pub types: Vec<String>,
    /// The resources in order: name, servers, demand of each type it
    /// serves.
    pub resources: Vec<Resource>,
    /// The request types by the resources that serve them (each a list of
    /// resource indices), in the order of the types.
    pub paths: Vec<(Vec<usize>, Vec<String>)>,
    /// Mean time between a user's sessions, seconds.
    pub gap: f64,
}

pub(super) struct Resource {
    pub name: String,
    pub servers: u64,
    /// (type, seconds > 0), in the order of the types.
    pub demands: Vec<(String, f64)>,
}

pub(super) struct ProfileShape {
    pub name: String,
    /// Its share of sessions (the behaviour mix).
    pub share: f64,
    /// Its users (when each profile has its own).
    pub users: u64,
    /// The request types it visits, in order.
    pub visits: Vec<String>,
    /// Those issued after a think time: type, mean (s), distribution.
    pub thinks: Vec<(String, f64, Think)>,
    /// p(entry → type) > 0.
    pub start: Vec<(String, f64)>,
    /// p(from → to) > 0 for request types `to`, rows by `from`.
    pub next: Vec<(String, Vec<(String, f64)>)>,
    /// p(from → end of session) > 0.
    pub end: Vec<(String, f64)>,
}

impl ProfileShape {
    /// Whether `to` follows a think time.
    pub fn thinks_before(&self, to: &str) -> bool {
        self.thinks.iter().any(|(t, _, _)| t == to)
    }
}

impl Shape {
    /// The structure of `behavior` with `demands` (users already resolved
    /// per profile, see `with_users`).
    pub fn new(
        behavior: &BehaviorModel,
        demands: &Demands,
        options: &ModelOptions,
    ) -> Result<Self, ToQpnError> {
        let (mixed, users) = match &options.users {
            Users::Mixed(n) => (Some(*n), vec![0; behavior.profiles.len()]),
            Users::PerProfile(v) => (None, v.clone()),
            Users::Named(_) => unreachable!("`with_users` resolves names to counts"),
        };
        let profiles: Vec<ProfileShape> = behavior
            .profiles
            .iter()
            .zip(users)
            .map(|(p, n)| profile(p, n, options.think))
            .collect();
        let types: Vec<String> = profiles
            .iter()
            .flat_map(|p| p.visits.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let resources: Vec<Resource> = demands
            .resources()
            .iter()
            .map(|r| Resource {
                name: r.clone(),
                servers: options.servers.get(r).copied().unwrap_or(1),
                demands: types
                    .iter()
                    .map(|t| (t.clone(), demands.get(t, r)))
                    .filter(|(_, d)| *d > 0.0)
                    .collect(),
            })
            .collect();
        let gap = options
            .session_gap_s
            .unwrap_or_else(|| mean_think(behavior));
        if !(gap > 0.0 && gap.is_finite()) {
            return Err(ToQpnError::NotPositive {
                what: "the session gap (the learnt mean think time; give one)",
                value: gap,
            });
        }
        let mut s = Self {
            paths: paths(&types, &resources),
            user_colour: "user".to_string(),
            dotted: profiles.len() > 1,
            profiles,
            mixed,
            types,
            resources,
            gap,
        };
        s.name_colours();
        s.check_names()?;
        Ok(s)
    }

    /// The colour of request type `t` of profile `p`.
    pub fn colour(&self, p: &str, t: &str) -> String {
        if self.dotted {
            format!("{p}.{t}")
        } else {
            t.to_string()
        }
    }

    /// Dotted colours where the session colours would meet a request
    /// colour; a mixed session colour no request colour has.
    fn name_colours(&mut self) {
        if let [p] = self.profiles.as_slice()
            && self.mixed.is_none()
            && p.visits.contains(&p.name)
        {
            self.dotted = true;
        }
        let taken: BTreeSet<String> = self
            .profiles
            .iter()
            .flat_map(|p| p.visits.iter().map(|t| self.colour(&p.name, t)))
            .collect();
        let mut k = 2;
        while taken.contains(&self.user_colour) {
            self.user_colour = format!("user_{k}");
            k += 1;
        }
    }

    /// Names that parameters or colours would merge.
    fn check_names(&self) -> Result<(), ToQpnError> {
        let profiles: Vec<&str> = self.profiles.iter().map(|p| p.name.as_str()).collect();
        let types: Vec<&str> = self.types.iter().map(String::as_str).collect();
        let resources: Vec<&str> = self.resources.iter().map(|r| r.name.as_str()).collect();
        for (what, names) in [
            ("profiles", profiles),
            ("request types", types),
            ("resources", resources),
        ] {
            for (i, a) in names.iter().enumerate() {
                if let Some(b) = names[..i].iter().find(|b| identifier(b) == identifier(a)) {
                    return Err(ToQpnError::Names {
                        what,
                        first: b.to_string(),
                        second: a.to_string(),
                        ident: identifier(a),
                    });
                }
            }
        }
        let mut colours = BTreeSet::new();
        let requests = self
            .profiles
            .iter()
            .flat_map(|p| p.visits.iter().map(|t| self.colour(&p.name, t)));
        let sessions = match self.mixed {
            Some(_) => vec![self.user_colour.clone()],
            None => self.profiles.iter().map(|p| p.name.clone()).collect(),
        };
        for c in requests.chain(sessions) {
            if !colours.insert(c.clone()) {
                return Err(ToQpnError::Colour { colour: c });
            }
        }
        Ok(())
    }
}

/// The request states a session reaches from its entry, in name order.
fn reached(p: &Profile) -> Vec<String> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut todo = vec![ENTRY];
    while let Some(from) = todo.pop() {
        for t in p
            .transitions
            .iter()
            .filter(|t| t.from == from && t.probability > 0.0)
        {
            if t.to != EXIT && t.to != ENTRY && seen.insert(&t.to) {
                todo.push(&t.to);
            }
        }
    }
    seen.into_iter().map(str::to_string).collect()
}

/// One profile's part of the net.
fn profile(p: &Profile, users: u64, think: ThinkTimes) -> ProfileShape {
    let visits = reached(p);
    // Rows of states the session never reaches are left out: they would
    // name states the model's sets do not have.
    let taken = || {
        p.transitions
            .iter()
            .filter(|t| t.probability > 0.0 && (t.from == ENTRY || visits.contains(&t.from)))
    };
    let thinks = visits
        .iter()
        .filter_map(|s| match think_of(p, s, think) {
            (m, Some(d)) if m > 0.0 => Some((s.clone(), m, d)),
            _ => None,
        })
        .collect();
    // p(a → b), summed should the chain list a pair twice.
    let row = |filter: &dyn Fn(&Transition) -> bool, to: &dyn Fn(&Transition) -> &str| {
        let mut out: Vec<(String, f64)> = Vec::new();
        for t in taken().filter(|t| filter(t)) {
            match out.iter_mut().find(|(s, _)| s == to(t)) {
                Some((_, x)) => *x += t.probability,
                None => out.push((to(t).to_string(), t.probability)),
            }
        }
        out.sort_by_key(|(s, _)| visits.iter().position(|v| v == s));
        out
    };
    // (A session always issues a request: an entry straight to the end
    // cannot be learnt.)
    let start = row(&|t| t.from == ENTRY && t.to != EXIT, &|t| &t.to);
    let end = row(&|t| t.to == EXIT && t.from != ENTRY, &|t| &t.from);
    let next = visits
        .iter()
        .map(|from| {
            (
                from.clone(),
                row(&|t| &t.from == from && t.to != EXIT, &|t| &t.to),
            )
        })
        .filter(|(_, r)| !r.is_empty())
        .collect();
    ProfileShape {
        name: p.name.clone(),
        share: p.probability,
        users,
        visits,
        thinks,
        start,
        next,
        end,
    }
}

/// The types grouped by the resources that serve them, groups in the
/// order of their first type.
fn paths(types: &[String], resources: &[Resource]) -> Vec<(Vec<usize>, Vec<String>)> {
    let mut out: Vec<(Vec<usize>, Vec<String>)> = Vec::new();
    for t in types {
        let path: Vec<usize> = (0..resources.len())
            .filter(|&r| resources[r].demands.iter().any(|(x, _)| x == t))
            .collect();
        match out.iter_mut().find(|(p, _)| *p == path) {
            Some((_, ts)) => ts.push(t.clone()),
            None => out.push((path, vec![t.clone()])),
        }
    }
    out
}

/// The think time before a request of type `state` in profile `p`: the
/// mixture of its incoming transitions' think times (entries from
/// `INITIAL` have none), weighted by how often each is taken; its mean
/// and the distribution `choice` asks for.
fn think_of(p: &Profile, state: &str, choice: ThinkTimes) -> (f64, Option<Think>) {
    let incoming: Vec<(f64, &Transition)> = p
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
