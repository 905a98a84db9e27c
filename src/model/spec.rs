//! The YAML shape of a model file (serde types only).

use std::collections::HashMap;

use serde::Deserialize;
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub params: HashMap<Name, Num>,
    pub colors: Vec<Name>,
    pub places: HashMap<Name, PlaceSpec>,
    #[serde(default)]
    pub queues: HashMap<Name, SharedQueueSpec>,
    #[serde(default)]
    pub transitions: HashMap<Name, TransitionSpec>,
    #[serde(default)]
    pub probes: HashMap<Name, ProbeSpec>,
    pub run: Option<RunSpec>,
}

/// `run: {time: 19000, warmup: 6000}`: how long `simulate` runs the model
/// when the command line does not say (an imported QPME model's SimQPN
/// settings).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    pub time: Option<Num>,
    pub warmup: Option<Num>,
}

/// `queues: {HOST: {queue: ps, servers: 12}}`: servers several places share.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedQueueSpec {
    pub queue: Name,
    pub servers: Option<Num>,
}

/// A place's `queue:`: a discipline (`ps`), or `{shared: HOST}`. (Spans do
/// not survive untagged enums: the whole value carries the location.)
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum QueueRaw {
    Own(String),
    Shared { shared: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceSpec {
    pub copies: Option<Num>,
    pub queue: Option<Spanned<QueueRaw>>,
    pub servers: Option<Num>,
    #[serde(default)]
    pub service: HashMap<Name, Spanned<DistSpec>>,
    #[serde(default)]
    pub priority: HashMap<Name, Num>,
    pub departure: Option<Name>,
    #[serde(default)]
    pub initial: HashMap<Name, Num>,
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
    pub each: Option<Name>,
    #[serde(rename = "in", default)]
    pub inputs: HashMap<Name, ArcColors>,
    #[serde(rename = "out", default)]
    pub outputs: HashMap<Name, ArcColors>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionSpec {
    pub delay: Option<Spanned<DistSpec>>,
    pub weight: Option<Num>,
    pub policy: Option<Name>,
    pub modes: Option<Vec<Spanned<ModeSpec>>>,
    pub each: Option<Name>,
    #[serde(rename = "in")]
    pub inputs: Option<HashMap<Name, ArcColors>>,
    #[serde(rename = "out")]
    pub outputs: Option<HashMap<Name, ArcColors>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointSpec {
    pub place: Option<String>,
    pub when: Option<String>,
    pub transition: Option<String>,
}

/// One point or a list of points.
#[derive(Debug, Deserialize)]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    pub colors: Option<Vec<Name>>,
    pub start: Points,
    pub end: Points,
}
