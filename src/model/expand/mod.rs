//! Per-class structure written once: a model's spec with placeholders
//! (`{c}`, `{profile}`) → the same spec written out, before anything is
//! built. The engine and the builders never see a placeholder.
//!
//! - A map key or list entry with a placeholder nothing binds stands for
//!   one entry per member (`"{c}": {exponential: demand_{c}}` in a
//!   service; `colors: ["{c}", worker]`; a place `"Q_{c}"`), and its value
//!   sees the placeholder bound.
//! - `each: c`, `each: [profile, type]`, `each: {from: type, to: type}` on
//!   a mode (or a transition written as one mode) makes one mode per
//!   binding; `each: PLACE` (copies) is left to the builder as before.
//! - Anywhere else a placeholder must be bound; in expressions it stands
//!   for the member's identifier form, and `sum(e)` adds `e` up over the
//!   sets nothing binds.
//!
//! Every expanded entry keeps the line and column of the entry it comes
//! from.

mod params;
mod text;

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::classes::{Binding, Classes, unbound};
use super::spec::{
    ArcColors, ArcColorsRaw, CpuLimitSpec, DistSpec, EachSpec, Map, ModeSpec, ModelSpec, Name, Num,
    NumSrc, PlaceSpec, PointSpec, PointsRaw, ProbeSpec, QueueRaw, RunSpec, SharedQueueSpec,
    TransitionSpec,
};
use super::{ModelError, ParamValue, at};

pub(crate) use text::unbound_message;

/// `spec` written out, and its parameters' defaults.
pub(super) fn expand(
    spec: &ModelSpec,
    classes: &Classes,
) -> Result<(ModelSpec, Vec<(Name, ParamValue)>), ModelError> {
    let defaults = params::expand(&spec.params, classes)?;
    let x = Expander {
        classes,
        places: spec.places.iter().map(|(k, _)| k.value.as_str()).collect(),
    };
    let top = Binding::default();
    let out = ModelSpec {
        name: spec.name.clone(),
        description: spec.description.clone(),
        classes: spec.classes.clone(),
        params: Map::default(),
        colors: x.list(&spec.colors, &top)?,
        places: x.map(&spec.places, &top, |_, p, b| x.place(p, b))?,
        queues: x.map(&spec.queues, &top, |_, q, b| x.shared_queue(q, b))?,
        transitions: x.map(&spec.transitions, &top, |k, t, b| x.transition(k, t, b))?,
        probes: x.map(&spec.probes, &top, |_, p, b| x.probe(p, b))?,
        run: match &spec.run {
            Some(r) => Some(RunSpec {
                time: x.opt_num(&r.time, &top)?,
                warmup: x.opt_num(&r.warmup, &top)?,
            }),
            None => None,
        },
    };
    Ok((out, defaults))
}

struct Expander<'a> {
    classes: &'a Classes,
    /// The places as the file names them (for `each:` a set or a place).
    places: Vec<&'a str>,
}

/// `s` with a new value, at the same place in the file.
fn moved<T, U>(s: &Spanned<T>, value: U) -> Spanned<U> {
    Spanned::new(value, s.referenced, s.defined)
}

impl Expander<'_> {
    /// The bindings of `key`'s placeholders that `b` leaves unbound, each
    /// inside `b`, with the key written for it.
    fn keys<T>(
        &self,
        key: &Spanned<T>,
        text: &str,
        b: &Binding,
    ) -> Result<Vec<(String, Binding)>, ModelError> {
        let vars: Vec<(&str, &str)> = unbound(text, b).into_iter().map(|v| (v, v)).collect();
        let bindings = if vars.is_empty() {
            vec![b.clone()]
        } else {
            self.classes.bindings(&vars, b).map_err(|m| at(key, m))?
        };
        Ok(bindings
            .into_iter()
            .map(|b| (b.name(text).expect("every placeholder bound"), b))
            .collect())
    }

    /// A map whose keys may stand for several entries.
    fn map<V, W>(
        &self,
        m: &Map<Name, V>,
        b: &Binding,
        mut f: impl FnMut(&Name, &V, &Binding) -> Result<W, ModelError>,
    ) -> Result<Map<Name, W>, ModelError> {
        let mut out: Vec<(Name, W)> = Vec::new();
        for (k, v) in m {
            for (name, kb) in self.keys(k, &k.value, b)? {
                if let Some((first, _)) = out.iter().find(|(n, _)| n.value == name) {
                    return Err(twice(k, &name, first));
                }
                out.push((moved(k, name), f(k, v, &kb)?));
            }
        }
        Ok(Map(out))
    }

    /// A list whose entries may stand for several.
    fn list(&self, l: &[Name], b: &Binding) -> Result<Vec<Name>, ModelError> {
        let mut out = Vec::new();
        for n in l {
            for (name, _) in self.keys(n, &n.value, b)? {
                out.push(moved(n, name));
            }
        }
        Ok(out)
    }

    /// A name, its placeholders bound.
    fn name<T>(&self, loc: &Spanned<T>, text: &str, b: &Binding) -> Result<String, ModelError> {
        b.name(text).map_err(|v| at(loc, unbound_message(&v)))
    }

    fn spanned_name(&self, n: &Name, b: &Binding) -> Result<Name, ModelError> {
        Ok(moved(n, self.name(n, &n.value, b)?))
    }

    fn num(&self, n: &Num, b: &Binding) -> Result<Num, ModelError> {
        Ok(match &n.value {
            NumSrc::Expr(s) => moved(
                n,
                NumSrc::Expr(text::expression(s, b, self.classes).map_err(|m| at(n, m))?),
            ),
            _ => n.clone(),
        })
    }

    fn opt_num(&self, n: &Option<Num>, b: &Binding) -> Result<Option<Num>, ModelError> {
        n.as_ref().map(|n| self.num(n, b)).transpose()
    }

    fn num_list(
        &self,
        list: &Option<Spanned<Vec<Num>>>,
        b: &Binding,
    ) -> Result<Option<Spanned<Vec<Num>>>, ModelError> {
        let Some(list) = list else { return Ok(None) };
        let values = list
            .value
            .iter()
            .map(|n| self.num(n, b))
            .collect::<Result<_, _>>()?;
        Ok(Some(moved(list, values)))
    }

    fn place(&self, p: &PlaceSpec, b: &Binding) -> Result<PlaceSpec, ModelError> {
        let queue = match &p.queue {
            Some(q) => Some(moved(
                q,
                match &q.value {
                    QueueRaw::Own(s) => QueueRaw::Own(self.name(q, s, b)?),
                    QueueRaw::Shared { shared } => QueueRaw::Shared {
                        shared: self.name(q, shared, b)?,
                    },
                },
            )),
            None => None,
        };
        Ok(PlaceSpec {
            copies: self.opt_num(&p.copies, b)?,
            queue,
            servers: self.opt_num(&p.servers, b)?,
            load_dependence: self.num_list(&p.load_dependence, b)?,
            cpu_limit: self.cpu_limit(&p.cpu_limit, b)?,
            service: self.map(&p.service, b, |_, d, b| self.dist(d, b))?,
            priority: self.map(&p.priority, b, |_, n, b| self.num(n, b))?,
            departure: p
                .departure
                .as_ref()
                .map(|d| self.spanned_name(d, b))
                .transpose()?,
            initial: self.map(&p.initial, b, |_, n, b| self.num(n, b))?,
        })
    }

    fn shared_queue(
        &self,
        q: &SharedQueueSpec,
        b: &Binding,
    ) -> Result<SharedQueueSpec, ModelError> {
        Ok(SharedQueueSpec {
            queue: self.spanned_name(&q.queue, b)?,
            servers: self.opt_num(&q.servers, b)?,
            load_dependence: self.num_list(&q.load_dependence, b)?,
            cpu_limit: self.cpu_limit(&q.cpu_limit, b)?,
        })
    }

    fn cpu_limit(
        &self,
        l: &Option<Spanned<CpuLimitSpec>>,
        b: &Binding,
    ) -> Result<Option<Spanned<CpuLimitSpec>>, ModelError> {
        let Some(l) = l else { return Ok(None) };
        let limit = CpuLimitSpec {
            quota: self.opt_num(&l.value.quota, b)?,
            cpus: self.opt_num(&l.value.cpus, b)?,
            period: self.opt_num(&l.value.period, b)?,
        };
        Ok(Some(moved(l, limit)))
    }

    fn dist(&self, d: &Spanned<DistSpec>, b: &Binding) -> Result<Spanned<DistSpec>, ModelError> {
        let n = |x: &Num| self.num(x, b);
        Ok(moved(
            d,
            match &d.value {
                DistSpec::Exponential(m) => DistSpec::Exponential(n(m)?),
                DistSpec::Deterministic(v) => DistSpec::Deterministic(n(v)?),
                DistSpec::Uniform { min, max } => DistSpec::Uniform {
                    min: n(min)?,
                    max: n(max)?,
                },
                DistSpec::Erlang { k, mean } => DistSpec::Erlang {
                    k: n(k)?,
                    mean: n(mean)?,
                },
                DistSpec::Hyperexponential { mean, cv } => DistSpec::Hyperexponential {
                    mean: n(mean)?,
                    cv: n(cv)?,
                },
                DistSpec::Lognormal { mean, cv } => DistSpec::Lognormal {
                    mean: n(mean)?,
                    cv: n(cv)?,
                },
                DistSpec::Gamma { mean, cv } => DistSpec::Gamma {
                    mean: n(mean)?,
                    cv: n(cv)?,
                },
                DistSpec::Normal { mean, sd } => DistSpec::Normal {
                    mean: n(mean)?,
                    sd: n(sd)?,
                },
                DistSpec::Empirical {
                    file,
                    samples,
                    scale,
                } => DistSpec::Empirical {
                    file: file.as_ref().map(|f| self.spanned_name(f, b)).transpose()?,
                    samples: samples
                        .as_ref()
                        .map(|s| s.iter().map(n).collect::<Result<_, _>>())
                        .transpose()?,
                    scale: self.opt_num(scale, b)?,
                },
            },
        ))
    }

    fn transition(
        &self,
        key: &Name,
        t: &TransitionSpec,
        b: &Binding,
    ) -> Result<TransitionSpec, ModelError> {
        let mut out = TransitionSpec {
            delay: t.delay.as_ref().map(|d| self.dist(d, b)).transpose()?,
            weight: self.opt_num(&t.weight, b)?,
            policy: t
                .policy
                .as_ref()
                .map(|p| self.spanned_name(p, b))
                .transpose()?,
            modes: None,
            each: None,
            inputs: None,
            outputs: None,
        };
        let over_sets = match &t.each {
            Some(e) => self.each_vars(e)?.is_some(),
            None => false,
        };
        if over_sets && t.modes.is_none() {
            // One mode written on the transition, over sets: a mode per
            // binding, each at the transition's line as before.
            let single = ModeSpec {
                name: None,
                weight: None,
                each: t.each.clone(),
                inputs: t.inputs.clone().unwrap_or_default(),
                outputs: t.outputs.clone().unwrap_or_default(),
            };
            out.modes = Some(self.mode(&moved(key, single), b)?);
            return Ok(out);
        }
        if let Some(modes) = &t.modes {
            let mut all = Vec::new();
            for m in modes {
                all.extend(self.mode(m, b)?);
            }
            out.modes = Some(all);
        }
        // Left for the builder: `each` over a place's copies, or beside
        // `modes` (which it refuses).
        out.each = t.each.clone();
        let arcs = |m: &Option<Map<Name, ArcColors>>| {
            m.as_ref()
                .map(|m| self.map(m, b, |_, a, b| self.arc(a, b)))
                .transpose()
        };
        out.inputs = arcs(&t.inputs)?;
        out.outputs = arcs(&t.outputs)?;
        Ok(out)
    }

    /// What `each:` ranges over: (placeholder, set) pairs, or `None` for
    /// a place with copies.
    fn each_vars<'e>(
        &self,
        each: &'e Spanned<EachSpec>,
    ) -> Result<Option<Vec<(&'e str, &'e str)>>, ModelError> {
        let sets: Vec<(&str, &str)> = match &each.value {
            EachSpec::One(x) if !self.classes.has(x) && self.places.contains(&x.as_str()) => {
                return Ok(None);
            }
            EachSpec::One(x) if !self.classes.has(x) => {
                return Err(at(
                    each,
                    format!("`each: {x}` names no place and no class set{}", self.sets()),
                ));
            }
            EachSpec::One(x) if self.places.contains(&x.as_str()) => {
                return Err(at(
                    each,
                    format!("`each: {x}` names both a place and a class set: rename one"),
                ));
            }
            EachSpec::One(x) => vec![(x, x)],
            EachSpec::List(xs) => xs.iter().map(|x| (x.as_str(), x.as_str())).collect(),
            EachSpec::Named(m) => m.iter().map(|(v, s)| (v.as_str(), s.as_str())).collect(),
        };
        for (var, set) in &sets {
            if !self.classes.has(set) {
                let also = if self.places.contains(set) {
                    format!(" (a place with copies goes alone: `each: {set}`)")
                } else {
                    String::new()
                };
                return Err(at(
                    each,
                    format!("`each`: `{set}` is not a class set{also}{}", self.sets()),
                ));
            }
            if !super::classes::is_identifier(var) {
                return Err(at(
                    each,
                    format!("`each`: `{var}` is not a placeholder's name (letters, digits and _)"),
                ));
            }
        }
        Ok(Some(sets))
    }

    /// The sets, for a message.
    fn sets(&self) -> String {
        match self.classes.is_empty() {
            true => " (the model has no `classes`)".to_string(),
            false => format!(
                " (sets: {})",
                self.classes.names().collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// A mode of the file: one per binding of its `each` over sets.
    fn mode(
        &self,
        m: &Spanned<ModeSpec>,
        b: &Binding,
    ) -> Result<Vec<Spanned<ModeSpec>>, ModelError> {
        let vars = match &m.value.each {
            Some(e) => self.each_vars(e)?,
            None => None,
        };
        let Some(vars) = vars else {
            return Ok(vec![moved(m, self.one_mode(&m.value, b, None)?)]);
        };
        let each = m.value.each.as_ref().expect("each");
        let bindings = self.classes.bindings(&vars, b).map_err(|e| at(each, e))?;
        bindings
            .iter()
            .map(|inner| {
                let members: Vec<&str> = inner.members().skip(b.vars().count()).collect();
                let default = moved(each, members.join("."));
                Ok(moved(m, self.one_mode(&m.value, inner, Some(default))?))
            })
            .collect()
    }

    /// One mode with its placeholders bound (`each` over sets consumed;
    /// over a place's copies kept).
    fn one_mode(
        &self,
        m: &ModeSpec,
        b: &Binding,
        default_name: Option<Name>,
    ) -> Result<ModeSpec, ModelError> {
        let name = match &m.name {
            Some(n) => Some(self.spanned_name(n, b)?),
            None => default_name.clone(),
        };
        Ok(ModeSpec {
            name,
            weight: self.opt_num(&m.weight, b)?,
            each: if default_name.is_some() {
                None
            } else {
                m.each.clone()
            },
            inputs: self.map(&m.inputs, b, |_, a, b| self.arc(a, b))?,
            outputs: self.map(&m.outputs, b, |_, a, b| self.arc(a, b))?,
        })
    }

    fn arc(&self, a: &ArcColors, b: &Binding) -> Result<ArcColors, ModelError> {
        Ok(moved(
            a,
            match &a.value {
                ArcColorsRaw::One(c) => ArcColorsRaw::One(self.name(a, c, b)?),
                ArcColorsRaw::Map(m) => {
                    let mut out = BTreeMap::new();
                    for (c, n) in m {
                        for (colour, cb) in self.keys(a, c, b)? {
                            let count = self.num(&moved(a, n.clone()), &cb)?.value;
                            if out.insert(colour.clone(), count).is_some() {
                                return Err(at(
                                    a,
                                    format!("colour `{colour}` is given twice in this arc"),
                                ));
                            }
                        }
                    }
                    ArcColorsRaw::Map(out)
                }
            },
        ))
    }

    fn probe(&self, p: &ProbeSpec, b: &Binding) -> Result<ProbeSpec, ModelError> {
        let points = |pts: &Spanned<PointsRaw>| -> Result<Spanned<PointsRaw>, ModelError> {
            let one = |x: &PointSpec| -> Result<PointSpec, ModelError> {
                let s = |o: &Option<String>| o.as_ref().map(|t| self.name(pts, t, b)).transpose();
                Ok(PointSpec {
                    place: s(&x.place)?,
                    when: s(&x.when)?,
                    transition: s(&x.transition)?,
                })
            };
            Ok(moved(
                pts,
                match &pts.value {
                    PointsRaw::One(x) => PointsRaw::One(one(x)?),
                    PointsRaw::Many(v) => {
                        PointsRaw::Many(v.iter().map(one).collect::<Result<_, _>>()?)
                    }
                },
            ))
        };
        Ok(ProbeSpec {
            colors: p.colors.as_ref().map(|c| self.list(c, b)).transpose()?,
            start: points(&p.start)?,
            end: points(&p.end)?,
        })
    }
}

/// `name` came out of `k` a second time.
fn twice(k: &Name, name: &str, first: &Name) -> ModelError {
    at(
        k,
        format!(
            "`{name}` is given twice (also by the entry at line {}, column {})",
            first.referenced.line(),
            first.referenced.column()
        ),
    )
}

#[cfg(test)]
mod tests;
