//! A model file written by a program (the QPME importer, the behaviour
//! generator): a serializable document in the order it was built, every
//! value a number or a parameter's name serialized as such, never
//! formatted into YAML text; class sets, placeholders, `each` and tables
//! as the model language has them. What it writes, `Template::parse`
//! reads back.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_saphyr::{FlowMap, FlowSeq};

/// A map serialized in the order built (the readable order of places,
/// transitions and parameters), which `BTreeMap` would sort away.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V> Default for Ordered<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<V> Ordered<V> {
    /// Appends `k: v`.
    pub fn push(&mut self, k: impl Into<String>, v: V) {
        self.0.push((k.into(), v));
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A value: a count (written as an integer), a number, or an expression;
/// for a parameter with placeholders, a table of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// A whole number.
    Count(u64),
    /// A number.
    Number(f64),
    /// A parameter's name or an expression.
    Expr(String),
    /// A table level written one entry a line.
    Table(Ordered<Value>),
    /// A table level written on one line (`{a: 1, b: 2}`).
    Row(FlowMap<Ordered<Value>>),
}

/// A class set: its members, a list per member of another set, or
/// another set's name (an alias).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SetDoc {
    /// `[a, b]`.
    List(FlowSeq<Vec<String>>),
    /// `{m1: [a, b], m2: [c]}`, one line per member.
    Indexed(Ordered<FlowSeq<Vec<String>>>),
    /// `other`.
    Alias(String),
}

/// What a mode's `each` ranges over.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EachDoc {
    /// `each: c`.
    One(String),
    /// `each: [profile, type]`.
    List(FlowSeq<Vec<String>>),
    /// `each: {from: type, to: type}`.
    Named(FlowMap<Ordered<String>>),
}

/// One side of a mode at one place: a colour (one token) or colours with
/// their counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ArcDoc {
    /// `PLACE: colour`.
    One(String),
    /// `PLACE: {colour: count, ...}`.
    Counts(Ordered<u64>),
}

/// A whole model file.
#[derive(Debug, Clone, Serialize)]
pub struct ModelDoc {
    /// `name:`.
    pub name: String,
    /// `description:`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `classes:`, the sets placeholders range over.
    #[serde(skip_serializing_if = "Ordered::is_empty")]
    pub classes: Ordered<SetDoc>,
    /// `params:`.
    #[serde(skip_serializing_if = "Ordered::is_empty")]
    pub params: Ordered<Value>,
    /// `colors:`.
    pub colors: FlowSeq<Vec<String>>,
    /// `queues:` shared by several places.
    #[serde(skip_serializing_if = "Ordered::is_empty")]
    pub queues: Ordered<FlowMap<SharedQueueDoc>>,
    /// `places:`.
    pub places: Ordered<PlaceDoc>,
    /// `transitions:`.
    pub transitions: Ordered<TransitionDoc>,
    /// `probes:`.
    #[serde(skip_serializing_if = "Ordered::is_empty")]
    pub probes: Ordered<ProbeDoc>,
    /// `run:` defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<FlowMap<RunDoc>>,
}

impl ModelDoc {
    /// The model file's text.
    pub fn yaml(&self) -> String {
        serde_saphyr::to_string(self).expect("a model document always serializes")
    }
}

/// A top-level shared queue.
#[derive(Debug, Clone, Serialize)]
pub struct SharedQueueDoc {
    /// Discipline name (`ps`).
    pub queue: String,
    /// Servers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub servers: Option<Value>,
}

/// A place's queue: its own discipline, or a shared queue's name.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum QueueDoc {
    /// `queue: ps`.
    Own(String),
    /// `queue: {shared: HOST}`.
    Shared {
        /// The shared queue.
        shared: String,
    },
}

/// A place.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlaceDoc {
    /// Its queue, for a queueing place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueDoc>,
    /// Servers of its own queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub servers: Option<Value>,
    /// Service time per colour.
    #[serde(skip_serializing_if = "Ordered::is_empty")]
    pub service: Ordered<DistDoc>,
    /// `fifo` (`normal` is the default and left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure: Option<String>,
    /// Initial tokens per colour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial: Option<FlowMap<Ordered<Value>>>,
}

/// `{exponential: 0.2}`, `{uniform: {min: 1, max: 2}}`: one line each (a
/// one-entry map, which the YAML writer keeps in flow style).
pub type DistDoc = FlowMap<Ordered<DistBody>>;

/// A distribution's parameters.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum DistBody {
    /// One value (exponential, deterministic).
    One(Value),
    /// Named values (`{min, max}`, `{mean, cv}`, `{mean, sd}`).
    Named(Ordered<Value>),
}

/// `family: body`.
pub fn dist(family: &str, body: DistBody) -> DistDoc {
    FlowMap(Ordered(vec![(family.to_string(), body)]))
}

/// A transition.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TransitionDoc {
    /// Weight among enabled immediate transitions (1 is left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// A timed transition's firing delay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<DistDoc>,
    /// Its modes.
    pub modes: Vec<FlowMap<ModeDoc>>,
}

/// A mode.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModeDoc {
    /// What it ranges over: one mode per binding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub each: Option<EachDoc>,
    /// Name (empty: left out, the builder names it).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Firing weight (1 is left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<Value>,
    /// Tokens taken: place → colours.
    #[serde(rename = "in", skip_serializing_if = "Ordered::is_empty")]
    pub inputs: Ordered<ArcDoc>,
    /// Tokens given.
    #[serde(rename = "out", skip_serializing_if = "Ordered::is_empty")]
    pub outputs: Ordered<ArcDoc>,
}

/// A probe from one place event to another.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeDoc {
    /// Colours measured.
    pub colors: FlowSeq<Vec<String>>,
    /// Start.
    pub start: FlowMap<PointDoc>,
    /// End.
    pub end: FlowMap<PointDoc>,
}

/// `{place: P, when: enter|exit}`.
#[derive(Debug, Clone, Serialize)]
pub struct PointDoc {
    /// Place.
    pub place: String,
    /// `enter` or `exit`.
    pub when: &'static str,
}

/// `run: {time, warmup}`.
#[derive(Debug, Clone, Serialize)]
pub struct RunDoc {
    /// Seconds measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<f64>,
    /// Seconds discarded first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup: Option<f64>,
}
