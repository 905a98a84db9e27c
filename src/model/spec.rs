//! The YAML shape of a model file (serde types only). Maps keep the
//! file's order ([`Map`]): a key with placeholders stands for several
//! entries, which `expand` puts where the key was.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A number, or an expression over parameters written as a string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum NumSrc {
    Number(f64),
    Expr(String),
    /// YAML 1.1 reads bare y/n/yes/no/on/off as booleans; kept only to
    /// report it clearly.
    Bool(#[allow(dead_code)] bool),
}

pub type Num = Spanned<NumSrc>;
pub type Name = Spanned<String>;

/// A YAML map in the file's order (serde's `HashMap` loses it; the YAML
/// parser refuses repeated keys before this sees them).
#[derive(Debug, Clone)]
pub struct Map<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for Map<K, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<K, V> Map<K, V> {
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a, K, V> IntoIterator for &'a Map<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Map<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for MapVisitor<K, V> {
            type Value = Map<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
                Ok(Map(entries(m)?))
            }
        }
        d.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub name: Option<String>,
    pub description: Option<String>,
    pub classes: Option<Spanned<ClassesSpec>>,
    #[serde(default)]
    pub params: Map<Name, Spanned<ParamSrc>>,
    pub colors: Vec<Name>,
    pub places: Map<Name, PlaceSpec>,
    #[serde(default)]
    pub queues: Map<Name, SharedQueueSpec>,
    #[serde(default)]
    pub transitions: Map<Name, TransitionSpec>,
    #[serde(default)]
    pub probes: Map<Name, ProbeSpec>,
    pub run: Option<RunSpec>,
}

/// `classes: [a, b]` (one set, `c`) or `classes: {NAME: SET, ...}`.
#[derive(Debug, Clone)]
pub enum ClassesSpec {
    One(Vec<Name>),
    Named(Vec<(Name, Spanned<SetSpec>)>),
}

/// One named set: `[a, b]`; `{m1: [a, b], m2: [c]}` (a list per member of
/// an earlier set); `other` (the same members as set `other`).
#[derive(Debug, Clone)]
pub enum SetSpec {
    List(Vec<Name>),
    Indexed(Vec<(Name, Vec<Name>)>),
    Alias(String),
}

/// A parameter's default: a number, an expression, or a table (one level
/// per placeholder of its name).
#[derive(Debug, Clone)]
pub enum ParamSrc {
    Number(f64),
    Expr(String),
    /// Kept only to report it clearly (see [`NumSrc::Bool`]).
    Bool,
    Table(Vec<(Name, Spanned<ParamSrc>)>),
}

/// What `each:` ranges over: a place with copies or a set (`X`), sets
/// (`[a, b]`), or named variables over sets (`{from: t, to: t}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum EachSpec {
    One(String),
    List(Vec<String>),
    Named(Map<String, String>),
}

impl<'de> Deserialize<'de> for ClassesSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ClassesSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of classes or a map of named sets")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
                Ok(ClassesSpec::One(names(s)?))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
                Ok(ClassesSpec::Named(entries(m)?))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for SetSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SetSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of members, a list per member of another set, or a set's name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(SetSpec::Alias(s.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
                Ok(SetSpec::List(names(s)?))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
                Ok(SetSpec::Indexed(entries(m)?))
            }
        }
        d.deserialize_any(V)
    }
}

/// A map's entries in the file's order.
fn entries<'de, K: Deserialize<'de>, V: Deserialize<'de>, A: MapAccess<'de>>(
    mut m: A,
) -> Result<Vec<(K, V)>, A::Error> {
    let mut out = Vec::new();
    while let Some(k) = m.next_key()? {
        out.push((k, m.next_value()?));
    }
    Ok(out)
}

fn names<'de, A: SeqAccess<'de>>(mut s: A) -> Result<Vec<Name>, A::Error> {
    let mut out = Vec::new();
    while let Some(n) = s.next_element()? {
        out.push(n);
    }
    Ok(out)
}

impl<'de> Deserialize<'de> for ParamSrc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ParamSrc;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, an expression or a table of them")
            }
            fn visit_f64<E>(self, x: f64) -> Result<Self::Value, E> {
                Ok(ParamSrc::Number(x))
            }
            fn visit_i64<E>(self, x: i64) -> Result<Self::Value, E> {
                Ok(ParamSrc::Number(x as f64))
            }
            fn visit_u64<E>(self, x: u64) -> Result<Self::Value, E> {
                Ok(ParamSrc::Number(x as f64))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(ParamSrc::Bool)
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(ParamSrc::Expr(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
                Ok(ParamSrc::Table(entries(m)?))
            }
        }
        d.deserialize_any(V)
    }
}

/// `run: {time: 19000, warmup: 6000}`: how long `simulate` runs the model
/// when the command line does not say (an imported QPME model's SimQPN
/// settings).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    pub time: Option<Num>,
    pub warmup: Option<Num>,
}

/// `queues: {HOST: {queue: ps, servers: 12}}`: servers several places share.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedQueueSpec {
    pub queue: Name,
    pub servers: Option<Num>,
    pub load_dependence: Option<Spanned<Vec<Num>>>,
    pub cpu_limit: Option<Spanned<CpuLimitSpec>>,
}

/// `cpu_limit: {quota: Q, period: P}` or `{cpus: C}` (quota C × P; the
/// period 0.1 s unless given): CFS bandwidth control on a queue's servers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuLimitSpec {
    pub quota: Option<Num>,
    pub cpus: Option<Num>,
    pub period: Option<Num>,
}

/// A place's `queue:`: a discipline (`ps`), or `{shared: HOST}`. (Spans do
/// not survive untagged enums: the whole value carries the location.)
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum QueueRaw {
    Own(String),
    Shared { shared: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceSpec {
    pub copies: Option<Num>,
    pub queue: Option<Spanned<QueueRaw>>,
    pub servers: Option<Num>,
    /// alpha(1), alpha(2), …: the total rate with n jobs present, in
    /// units of one server's (LINE's `setLoadDependence`).
    pub load_dependence: Option<Spanned<Vec<Num>>>,
    pub cpu_limit: Option<Spanned<CpuLimitSpec>>,
    #[serde(default)]
    pub service: Map<Name, Spanned<DistSpec>>,
    #[serde(default)]
    pub priority: Map<Name, Num>,
    pub departure: Option<Name>,
    #[serde(default)]
    pub initial: Map<Name, Num>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum DistSpec {
    Exponential(Num),
    Deterministic(Num),
    Uniform {
        min: Num,
        max: Num,
    },
    Erlang {
        k: Num,
        mean: Num,
    },
    Hyperexponential {
        mean: Num,
        cv: Num,
    },
    Lognormal {
        mean: Num,
        cv: Num,
    },
    Gamma {
        mean: Num,
        cv: Num,
    },
    /// Clamped at 0 (SimQPN's Normal).
    Normal {
        mean: Num,
        sd: Num,
    },
    Empirical {
        file: Option<Name>,
        samples: Option<Vec<Num>>,
        scale: Option<Num>,
    },
}

/// `PLACE: colour` (one token) or `PLACE: {colour: count, ...}`.
/// (serde-saphyr's spans do not survive untagged enums, so the arc as a
/// whole carries the location.)
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ArcColorsRaw {
    One(String),
    Map(std::collections::BTreeMap<String, NumSrc>),
}

pub type ArcColors = Spanned<ArcColorsRaw>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeSpec {
    pub name: Option<Name>,
    pub weight: Option<Num>,
    pub each: Option<Spanned<EachSpec>>,
    #[serde(rename = "in", default)]
    pub inputs: Map<Name, ArcColors>,
    #[serde(rename = "out", default)]
    pub outputs: Map<Name, ArcColors>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionSpec {
    pub delay: Option<Spanned<DistSpec>>,
    pub weight: Option<Num>,
    pub policy: Option<Name>,
    pub modes: Option<Vec<Spanned<ModeSpec>>>,
    pub each: Option<Spanned<EachSpec>>,
    #[serde(rename = "in")]
    pub inputs: Option<Map<Name, ArcColors>>,
    #[serde(rename = "out")]
    pub outputs: Option<Map<Name, ArcColors>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointSpec {
    pub place: Option<String>,
    pub when: Option<String>,
    pub transition: Option<String>,
}

/// One point or a list of points.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PointsRaw {
    One(PointSpec),
    Many(Vec<PointSpec>),
}

pub type Points = Spanned<PointsRaw>;

pub fn points(p: &Points) -> &[PointSpec] {
    match &p.value {
        PointsRaw::One(x) => std::slice::from_ref(x),
        PointsRaw::Many(v) => v,
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    pub colors: Option<Vec<Name>>,
    pub start: Points,
    pub end: Points,
}
