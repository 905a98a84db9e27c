//! Places, with `copies` expanded, and their queues.

use std::collections::HashMap;

use serde_saphyr::Spanned;

use super::{Ctx, in_file_order, loc};
use crate::model::spec::{CpuLimitSpec, ModelSpec, Num, PlaceSpec, QueueRaw};
use crate::model::{MAX_INITIAL_TOKENS, ModelError, at};
use crate::qpn::{CpuLimit, Departure, Place, Queue, Scheduling, SharedQueue};

/// Place names as the file writes them, resolved to net indices.
pub(super) struct PlaceIndex {
    /// name → (first index, copies or None)
    by_name: HashMap<String, (usize, Option<usize>)>,
    /// Names in file order, for messages.
    names: Vec<String>,
}

impl PlaceIndex {
    /// The copies of place `name` (`None`: not replicated), if it exists.
    pub(super) fn copies(&self, name: &str) -> Option<Option<usize>> {
        self.by_name.get(name).map(|&(_, k)| k)
    }

    /// Resolves a place reference; `each` gives the copy index for the
    /// replicated place named there, and for every place with as many
    /// copies.
    pub(super) fn resolve(
        &self,
        s: &Spanned<String>,
        each: Option<(&str, usize)>,
    ) -> Result<Vec<usize>, ModelError> {
        let Some(&(first, copies)) = self.by_name.get(&s.value) else {
            return Err(at(
                s,
                format!(
                    "unknown place `{}` (places: {})",
                    s.value,
                    self.names.join(", ")
                ),
            ));
        };
        // A place with as many copies as the `each` place goes along with
        // it copy by copy (container i's connection pool with container i).
        let each_copies = each.and_then(|(name, _)| self.copies(name).flatten());
        Ok(match (copies, each) {
            (None, _) => vec![first],
            (Some(_), Some((name, i))) if name == s.value => vec![first + i],
            (Some(k), Some((_, i))) if Some(k) == each_copies => vec![first + i],
            (Some(k), _) => (first..first + k).collect(),
        })
    }
}

/// Every place of the spec, in file order, and the index of their names.
pub(super) fn build(
    ctx: &Ctx<'_>,
    spec: &ModelSpec,
    shared: &[SharedQueue],
) -> Result<(Vec<Place>, PlaceIndex), ModelError> {
    let keys = in_file_order(&spec.places, |k| loc(k));
    let mut places = Vec::new();
    let mut index = PlaceIndex {
        by_name: HashMap::new(),
        names: keys.iter().map(|(k, _)| k.value.clone()).collect(),
    };
    for (key, ps) in keys {
        let copies = copies(ctx, ps)?;
        index
            .by_name
            .insert(key.value.clone(), (places.len(), copies));
        let initial = initial(ctx, ps)?;
        let queue = queue(ctx, &key.value, ps, shared)?;
        let departure = departure(ps)?;
        let names: Vec<String> = match copies {
            Some(k) => (1..=k).map(|i| format!("{}{i}", key.value)).collect(),
            None => vec![key.value.clone()],
        };
        for name in names {
            places.push(Place {
                name,
                queue: queue.clone(),
                departure,
                initial: initial.clone(),
            });
        }
    }
    let tokens: u64 = places.iter().flat_map(|p| p.initial.iter()).sum();
    if tokens > MAX_INITIAL_TOKENS {
        return Err(ModelError::TooManyTokens { tokens });
    }
    Ok((places, index))
}

/// Most copies of a place: the engine's choice among the copies' immediate
/// transitions grows with their number (10,000 copies take 2.8 s for
/// 2,000 requests; 100,000 did not finish in a minute).
const MAX_COPIES: u64 = 10_000;

fn copies(ctx: &Ctx<'_>, ps: &PlaceSpec) -> Result<Option<usize>, ModelError> {
    let Some(n) = &ps.copies else {
        return Ok(None);
    };
    let k = ctx.count(n, "copies", MAX_COPIES)?;
    if k == 0 {
        return Err(at(n, "copies must be at least 1"));
    }
    Ok(Some(k as usize))
}

fn initial(ctx: &Ctx<'_>, ps: &PlaceSpec) -> Result<Vec<u64>, ModelError> {
    let mut initial = vec![0u64; ctx.colors.len()];
    for (c, n) in in_file_order(&ps.initial, |k| loc(k)) {
        initial[ctx.color(c)?] = ctx.count(n, "an initial marking", MAX_INITIAL_TOKENS)?;
    }
    Ok(initial)
}

fn departure(ps: &PlaceSpec) -> Result<Departure, ModelError> {
    match &ps.departure {
        None => Ok(Departure::Normal),
        Some(d) => match d.value.as_str() {
            "normal" => Ok(Departure::Normal),
            "fifo" => Ok(Departure::Fifo),
            other => Err(at(
                d,
                format!("unknown departure discipline `{other}`; expected normal or fifo"),
            )),
        },
    }
}

/// The top-level `queues`, in file order.
pub(super) fn shared_queues(
    ctx: &Ctx<'_>,
    spec: &ModelSpec,
) -> Result<Vec<SharedQueue>, ModelError> {
    let mut out = Vec::new();
    for (key, qs) in in_file_order(&spec.queues, |k| loc(k)) {
        let scheduling = scheduling(&qs.queue)?;
        let servers = servers(ctx, scheduling, qs.servers.as_ref())?;
        let load_dependence = load_dependence(ctx, &key.value, scheduling, &qs.load_dependence)?;
        let cpu_limit = cpu_limit(ctx, &key.value, scheduling, &qs.cpu_limit, &load_dependence)?;
        out.push(SharedQueue {
            name: key.value.clone(),
            scheduling,
            servers,
            load_dependence,
            cpu_limit,
        });
    }
    Ok(out)
}

fn scheduling(q: &Spanned<String>) -> Result<Scheduling, ModelError> {
    Scheduling::from_name(&q.value).ok_or_else(|| {
        at(
            q,
            format!(
                "unknown scheduling `{}`; expected {}",
                q.value,
                Scheduling::names()
            ),
        )
    })
}

fn servers(
    ctx: &Ctx<'_>,
    scheduling: Scheduling,
    n: Option<&crate::model::spec::Num>,
) -> Result<u32, ModelError> {
    let Some(n) = n else { return Ok(1) };
    if !scheduling.has_servers() {
        return Err(at(n, "an IS queue has no servers to set"));
    }
    let s = ctx.count(n, "servers", crate::model::MAX_SERVERS)?;
    scheduling.check_servers(s).map_err(|m| at(n, m))?;
    Ok(s as u32)
}

/// The place's own discipline and servers, or its shared queue's.
fn discipline(
    ctx: &Ctx<'_>,
    place: &str,
    ps: &PlaceSpec,
    q: &Spanned<QueueRaw>,
    shared: &[SharedQueue],
) -> Result<(Scheduling, u32, Option<usize>), ModelError> {
    match &q.value {
        QueueRaw::Own(name) => {
            let s = scheduling(&Spanned {
                value: name.clone(),
                referenced: q.referenced,
                defined: q.defined,
            })?;
            Ok((s, servers(ctx, s, ps.servers.as_ref())?, None))
        }
        QueueRaw::Shared { shared: name } => {
            let Some(k) = shared.iter().position(|x| &x.name == name) else {
                let known: Vec<&str> = shared.iter().map(|x| x.name.as_str()).collect();
                return Err(at(
                    q,
                    format!(
                        "place `{place}`: `queue: {{shared: {name}}}` names no queue under `queues` (there: {})",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            };
            if let Some(n) = &ps.servers {
                return Err(at(
                    n,
                    format!("place `{place}` shares queue `{name}`: its servers are set there"),
                ));
            }
            if let Some((c, _)) = ps.priority.iter().next() {
                return Err(at(
                    c,
                    format!(
                        "place `{place}` shares queue `{name}`: priorities apply to a queue of its own"
                    ),
                ));
            }
            Ok((shared[k].scheduling, shared[k].servers, Some(k)))
        }
    }
}

/// The queue of a queueing place; `None` for an ordinary place.
fn queue(
    ctx: &Ctx<'_>,
    place: &str,
    ps: &PlaceSpec,
    shared_queues: &[SharedQueue],
) -> Result<Option<Queue>, ModelError> {
    let Some(q) = &ps.queue else {
        if let Some((k, _)) = ps.service.iter().next() {
            return Err(at(
                k,
                format!(
                    "place `{place}` has a service time but no `queue`; add `queue: fcfs` (or {})",
                    Scheduling::names_after_fcfs()
                ),
            ));
        }
        return Ok(None);
    };
    let (scheduling, servers, shared) = discipline(ctx, place, ps, q, shared_queues)?;
    let mut service = vec![None; ctx.colors.len()];
    for (c, d) in in_file_order(&ps.service, |k| loc(k)) {
        service[ctx.color(c)?] = Some(ctx.dist(d)?);
    }
    let mut priority = vec![0i32; ctx.colors.len()];
    for (c, n) in &ps.priority {
        priority[ctx.color(c)?] = ctx.num(n)?.round() as i32;
    }
    if let Some((k, _)) = ps.priority.iter().next()
        && !scheduling.has_priorities()
    {
        return Err(at(k, "priorities apply to fcfs queues only"));
    }
    let load_dependence = match shared {
        Some(k) => {
            if let Some(l) = &ps.load_dependence {
                return Err(at(
                    l,
                    format!(
                        "place `{place}` shares queue `{}`: its load_dependence is set there",
                        shared_queues[k].name
                    ),
                ));
            }
            shared_queues[k].load_dependence.clone()
        }
        None => load_dependence(ctx, place, scheduling, &ps.load_dependence)?,
    };
    let cpu_limit = match (shared, &ps.cpu_limit) {
        (Some(k), Some(l)) => {
            let name = &shared_queues[k].name;
            return Err(at(
                l,
                format!("place `{place}` shares queue `{name}`: its cpu_limit is set there"),
            ));
        }
        (Some(k), None) => shared_queues[k].cpu_limit,
        (None, l) => cpu_limit(ctx, place, scheduling, l, &load_dependence)?,
    };
    Ok(Some(Queue {
        scheduling,
        servers,
        service,
        priority,
        shared,
        load_dependence,
        cpu_limit,
    }))
}

/// `cpu_limit: {quota: Q, period: P}` or `{cpus: C, period: P}` (quota C ×
/// P; the period 0.1 s unless given) of place or shared queue `name`, on
/// a discipline that takes one, without a load-dependent rate.
fn cpu_limit(
    ctx: &Ctx<'_>,
    name: &str,
    scheduling: Scheduling,
    spec: &Option<Spanned<CpuLimitSpec>>,
    load_dependence: &[f64],
) -> Result<Option<CpuLimit>, ModelError> {
    let Some(l) = spec else { return Ok(None) };
    if !scheduling.has_cpu_limit() {
        return Err(at(
            l,
            format!(
                "`{name}`: a {} queue takes no cpu_limit; only {} do",
                scheduling.name(),
                Scheduling::cpu_limit_names()
            ),
        ));
    }
    if !load_dependence.is_empty() {
        return Err(at(
            l,
            format!("`{name}`: a cpu_limit and a load_dependence together are not supported"),
        ));
    }
    let period = match &l.value.period {
        Some(p) => ctx.positive(p, "a cpu_limit's period")?,
        None => CpuLimit::DEFAULT_PERIOD,
    };
    let quota = match (&l.value.quota, &l.value.cpus) {
        (Some(q), None) => ctx.positive(q, "a cpu_limit's quota")?,
        (None, Some(c)) => ctx.positive(c, "a cpu_limit's cpus")? * period,
        _ => {
            return Err(at(
                l,
                format!("`{name}`: cpu_limit takes either `quota` (seconds per period) or `cpus`"),
            ));
        }
    };
    Ok(Some(CpuLimit { quota, period }))
}

/// `load_dependence: [alpha(1), alpha(2), …]` of place or shared queue
/// `name`: each value positive, on a discipline that takes it.
fn load_dependence(
    ctx: &Ctx<'_>,
    name: &str,
    scheduling: Scheduling,
    list: &Option<Spanned<Vec<Num>>>,
) -> Result<Vec<f64>, ModelError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    if !scheduling.has_load_dependence() {
        return Err(at(
            list,
            format!(
                "`{name}`: a {} queue takes no load_dependence; only {} does",
                scheduling.name(),
                Scheduling::load_dependent_names()
            ),
        ));
    }
    if list.value.is_empty() {
        return Err(at(
            list,
            format!("`{name}`: load_dependence lists alpha(1), alpha(2), …: at least one value"),
        ));
    }
    let what = format!("`{name}`'s load_dependence");
    let named = |e| match e {
        ModelError::At {
            line,
            column,
            message,
        } if !message.starts_with(&what) => ModelError::At {
            line,
            column,
            message: format!("{what}: {message}"),
        },
        e => e,
    };
    list.value
        .iter()
        .map(|n| ctx.positive(n, &what).map_err(named))
        .collect()
}
