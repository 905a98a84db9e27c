//! QPME's XML (2.x `xsi:type=`, 1.5 `type=`) to [`QpeNet`]: ids resolved,
//! the subset checked, everything else refused with the element, its id,
//! name and line.

use std::collections::HashMap;

use roxmltree::{Document, Node};

use crate::model::{MAX_INITIAL_TOKENS, MAX_SERVERS};
use crate::qpn::ArcSpec as Arc;
use crate::qpn::Scheduling;

/// A `.qpe` that cannot be imported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QpeError {
    /// Not well-formed XML, or not a QPME net.
    #[error("not a QPME model: {0}")]
    Xml(String),
    /// The net read, the model it makes does not build, for a reason no
    /// element of the file can be named for.
    #[error("the model it makes does not build: {0}")]
    Model(String),
    /// An element outside the subset, or inconsistent.
    #[error("line {line}: <{element}>{} {message}", describe(id, name))]
    At {
        /// 1-based line of the element.
        line: u32,
        /// The element (`place`, `queue`, `color-ref`...).
        element: String,
        /// Its `id`.
        id: String,
        /// Its `name`, if it has one.
        name: String,
        /// What is wrong.
        message: String,
    },
}

fn describe(id: &str, name: &str) -> String {
    match (id.is_empty(), name.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" id {id:?}"),
        (true, false) => format!(" {name:?}"),
        (false, false) => format!(" {name:?} (id {id:?})"),
    }
}

/// Where an element is in the file, for messages: its tag, line and id.
#[derive(Debug, Clone, Default)]
pub(super) struct Src {
    pub element: String,
    pub line: u32,
    pub id: String,
}

impl Src {
    /// A refusal of this element, called `name`.
    pub fn refuse(&self, name: &str, message: impl Into<String>) -> QpeError {
        QpeError::At {
            line: self.line,
            element: self.element.clone(),
            id: self.id.clone(),
            name: name.to_string(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct QueueDef {
    pub src: Src,
    pub name: String,
    /// The discipline of its QPME strategy.
    pub scheduling: Scheduling,
    pub servers: u64,
}

/// A service-time distribution as SimQPN reads its parameters (no unit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum DistDef {
    Exponential { lambda: f64 },
    Deterministic { value: f64 },
    Uniform { min: f64, max: f64 },
    Normal { mean: f64, sd: f64 },
    Gamma { alpha: f64, lambda: f64 },
}

#[derive(Debug, Clone)]
pub(super) struct ColorRef {
    pub src: Src,
    pub color: usize,
    pub initial: u64,
    pub dist: Option<DistDef>,
}

#[derive(Debug, Clone)]
pub(super) struct PlaceDef {
    pub src: Src,
    pub name: String,
    pub queue: Option<usize>,
    pub fifo: bool,
    pub refs: Vec<ColorRef>,
}

#[derive(Debug, Clone)]
pub(super) struct ModeDef {
    pub src: Src,
    pub name: String,
    pub weight: f64,
    pub inputs: Vec<Arc>,
    pub outputs: Vec<Arc>,
}

#[derive(Debug, Clone)]
pub(super) struct TransitionDef {
    pub src: Src,
    pub name: String,
    pub weight: f64,
    pub modes: Vec<ModeDef>,
}

#[derive(Debug, Clone)]
pub(super) struct ProbeDef {
    pub src: Src,
    pub name: String,
    pub start: (usize, bool),
    pub end: (usize, bool),
    pub colors: Vec<usize>,
}

/// SimQPN's run settings (time units of the file).
#[derive(Debug, Clone)]
pub(super) struct RunSettings {
    pub configuration: String,
    pub ramp_up: f64,
    pub total: f64,
    pub stopping_rule: String,
}

/// The net as the file states it, ids resolved to indices.
#[derive(Debug, Clone, Default)]
pub(super) struct QpeNet {
    pub colors: Vec<String>,
    pub queues: Vec<QueueDef>,
    pub places: Vec<PlaceDef>,
    pub transitions: Vec<TransitionDef>,
    pub probes: Vec<ProbeDef>,
    pub run: Option<RunSettings>,
}

/// Reads `xml`.
pub(super) fn read(xml: &str) -> Result<QpeNet, QpeError> {
    let doc = Document::parse(xml).map_err(|e| QpeError::Xml(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "net" {
        return Err(QpeError::Xml(format!(
            "the root element is <{}>, not QPME's <net>",
            root.tag_name().name()
        )));
    }
    let mut r = Reader {
        doc: &doc,
        net: QpeNet::default(),
        colors: HashMap::new(),
        queues: HashMap::new(),
        places: HashMap::new(),
        refs: HashMap::new(),
    };
    r.unique_ids(root)?;
    r.colors(root)?;
    r.queues(root)?;
    r.places(root)?;
    r.transitions(root)?;
    r.probes(root)?;
    r.net.run = run_settings(root);
    Ok(r.net)
}

struct Reader<'a, 'i> {
    doc: &'a Document<'i>,
    net: QpeNet,
    colors: HashMap<&'a str, usize>,
    queues: HashMap<&'a str, usize>,
    places: HashMap<&'a str, usize>,
    /// Colour-reference id → (place, colour).
    refs: HashMap<&'a str, (usize, usize)>,
}

/// The children of `parent`'s `<group>` named `item` (`colors`/`color`).
fn items<'a, 'i>(parent: Node<'a, 'i>, group: &str, item: &str) -> Vec<Node<'a, 'i>> {
    parent
        .children()
        .filter(|n| n.has_tag_name(group))
        .flat_map(|g| g.children().filter(|n| n.has_tag_name(item)))
        .collect()
}

/// `xsi:type` (QPME 2.x) or `type` (1.5).
fn kind<'a>(n: Node<'a, '_>) -> &'a str {
    n.attributes()
        .find(|a| a.name() == "type")
        .map_or("", |a| a.value())
}

impl<'a, 'i> Reader<'a, 'i> {
    fn err(&self, n: Node<'_, '_>, message: impl Into<String>) -> QpeError {
        let name = n.attribute("name").unwrap_or_default();
        self.src(n).refuse(name, message)
    }

    /// Where `n` is.
    fn src(&self, n: Node<'_, '_>) -> Src {
        Src {
            element: n.tag_name().name().to_string(),
            line: self.doc.text_pos_at(n.range().start).row,
            id: n.attribute("id").unwrap_or_default().to_string(),
        }
    }

    fn attr(&self, n: Node<'a, 'i>, name: &str) -> Result<&'a str, QpeError> {
        n.attribute(name)
            .ok_or_else(|| self.err(n, format!("has no `{name}` attribute")))
    }

    fn number(&self, n: Node<'a, 'i>, name: &str) -> Result<f64, QpeError> {
        let v = self.attr(n, name)?;
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| self.err(n, format!("`{name}` is {v:?}, not a number")))
    }

    /// An attribute that must be a whole number ≥ 0 (`default` when absent).
    fn count(&self, n: Node<'a, 'i>, name: &str, default: u64) -> Result<u64, QpeError> {
        if n.attribute(name).is_none() {
            return Ok(default);
        }
        let v = self.number(n, name)?;
        if v < 0.0 || v.fract() != 0.0 {
            return Err(self.err(n, format!("`{name}` must be a whole number >= 0, got {v}")));
        }
        Ok(v as u64)
    }

    /// An optional weight > 0 (1 when absent).
    fn weight(&self, n: Node<'a, 'i>, name: &str) -> Result<f64, QpeError> {
        if n.attribute(name).is_none() {
            return Ok(1.0);
        }
        let v = self.number(n, name)?;
        if v < 0.0 {
            return Err(self.err(n, format!("`{name}` must be 0 or more, got {v}")));
        }
        Ok(v)
    }

    /// Every `id` once in the file: QPME wires arcs, probes and colour
    /// references by id, so a repeated one would wire them to the wrong
    /// element silently. A connection (an arc) is named by no other
    /// element, and QPME's own examples repeat their ids
    /// (SjAS04Model_6AS-L5.qpe), so connections are not checked.
    fn unique_ids(&self, root: Node<'a, 'i>) -> Result<(), QpeError> {
        let mut seen: HashMap<&str, Node<'_, '_>> = HashMap::new();
        let referenced = |n: &Node<'_, '_>| n.is_element() && n.tag_name().name() != "connection";
        for n in root.descendants().filter(referenced) {
            let Some(id) = n.attribute("id") else {
                continue;
            };
            if let Some(first) = seen.insert(id, n) {
                let line = self.doc.text_pos_at(first.range().start).row;
                return Err(self.err(
                    n,
                    format!(
                        "has the id of the <{}> on line {line}: ids must be unique",
                        first.tag_name().name()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn id(&self, n: Node<'a, 'i>) -> Result<&'a str, QpeError> {
        self.attr(n, "id")
    }

    fn colors(&mut self, root: Node<'a, 'i>) -> Result<(), QpeError> {
        for c in items(root, "colors", "color") {
            let (id, name) = (self.id(c)?, self.attr(c, "name")?);
            if self.net.colors.iter().any(|x| x == name) {
                return Err(self.err(c, "another colour has the same name"));
            }
            self.colors.insert(id, self.net.colors.len());
            self.net.colors.push(name.to_string());
        }
        Ok(())
    }

    fn queues(&mut self, root: Node<'a, 'i>) -> Result<(), QpeError> {
        for q in items(root, "queues", "queue") {
            let strategy = self.attr(q, "strategy")?;
            let Some(scheduling) = Scheduling::from_qpme(strategy) else {
                return Err(self.err(
                    q,
                    format!(
                        "strategy {strategy:?} is not supported ({})",
                        Scheduling::qpme_names()
                    ),
                ));
            };
            let servers = self.count(q, "number-of-servers", 1)?;
            if servers == 0 && scheduling.has_servers() {
                return Err(self.err(q, "needs at least one server"));
            }
            if servers > MAX_SERVERS && scheduling.has_servers() {
                return Err(self.err(
                    q,
                    format!("has {servers} servers, more than the {MAX_SERVERS} supported"),
                ));
            }
            self.queues.insert(self.id(q)?, self.net.queues.len());
            self.net.queues.push(QueueDef {
                src: self.src(q),
                name: self.attr(q, "name")?.to_string(),
                scheduling,
                servers: servers.max(1),
            });
        }
        Ok(())
    }

    fn places(&mut self, root: Node<'a, 'i>) -> Result<(), QpeError> {
        for p in items(root, "places", "place") {
            let queue = match kind(p) {
                "ordinary-place" => None,
                "queueing-place" => {
                    let q = self.attr(p, "queue-ref")?;
                    Some(*self.queues.get(q).ok_or_else(|| {
                        self.err(p, format!("queue-ref {q:?} names no queue of the file"))
                    })?)
                }
                "subnet-place" => {
                    return Err(self.err(
                        p,
                        "subnet places are not supported: flatten the subnet in QPME \
                         (its places and transitions into the main net) and import again",
                    ));
                }
                other => return Err(self.err(p, format!("unknown place type {other:?}"))),
            };
            let fifo = match p.attribute("departure-discipline").unwrap_or("NORMAL") {
                "NORMAL" => false,
                "FIFO" => true,
                other => {
                    return Err(self.err(
                        p,
                        format!("departure discipline {other:?} is not NORMAL or FIFO"),
                    ));
                }
            };
            let name = self.attr(p, "name")?.to_string();
            if self.net.places.iter().any(|x| x.name == name) {
                return Err(self.err(p, "another place has the same name"));
            }
            let index = self.net.places.len();
            self.places.insert(self.id(p)?, index);
            let refs = self.color_refs(p, index, queue.is_some())?;
            self.net.places.push(PlaceDef {
                src: self.src(p),
                name,
                queue,
                fifo,
                refs,
            });
        }
        Ok(())
    }

    fn color_refs(
        &mut self,
        p: Node<'a, 'i>,
        place: usize,
        queueing: bool,
    ) -> Result<Vec<ColorRef>, QpeError> {
        let mut refs = Vec::new();
        for r in items(p, "color-refs", "color-ref") {
            let c = self.attr(r, "color-id")?;
            let color = *self.colors.get(c).ok_or_else(|| {
                self.err(r, format!("color-id {c:?} names no colour of the file"))
            })?;
            for limit in ["maximum-capacity", "priority"] {
                if self.count(r, limit, 0)? > 0 {
                    return Err(self.err(r, format!("`{limit}` above 0 is not supported")));
                }
            }
            let initial = self.count(r, "initial-population", 0)?;
            if initial > MAX_INITIAL_TOKENS {
                return Err(self.err(
                    r,
                    format!(
                        "`initial-population` is {initial}, more than the {MAX_INITIAL_TOKENS} \
                         tokens supported"
                    ),
                ));
            }
            let dist = if queueing { Some(self.dist(r)?) } else { None };
            self.refs.insert(self.id(r)?, (place, color));
            refs.push(ColorRef {
                src: self.src(r),
                color,
                initial,
                dist,
            });
        }
        Ok(refs)
    }

    fn dist(&self, r: Node<'a, 'i>) -> Result<DistDef, QpeError> {
        let f = self.attr(r, "distribution-function")?;
        let d = match f {
            "Exponential" => DistDef::Exponential {
                lambda: self.number(r, "lambda")?,
            },
            "Deterministic" => DistDef::Deterministic {
                value: self
                    .number(r, "c")
                    .or_else(|_| self.number(r, "p1"))
                    .map_err(|_| self.err(r, "a Deterministic needs `c` (or `p1`)"))?,
            },
            "Uniform" => DistDef::Uniform {
                min: self.number(r, "min")?,
                max: self.number(r, "max")?,
            },
            "Normal" => DistDef::Normal {
                mean: self.number(r, "mean")?,
                sd: self.number(r, "stdDev")?,
            },
            "Gamma" => DistDef::Gamma {
                alpha: self.number(r, "alpha")?,
                lambda: self.number(r, "lambda")?,
            },
            other => {
                return Err(self.err(
                    r,
                    format!(
                        "distribution {other:?} is not supported (Exponential, Deterministic, \
                         Uniform, Normal or Gamma)"
                    ),
                ));
            }
        };
        self.check_dist(r, d)?;
        Ok(d)
    }

    fn check_dist(&self, r: Node<'a, 'i>, d: DistDef) -> Result<(), QpeError> {
        let bad = match d {
            DistDef::Exponential { lambda } => {
                (lambda <= 0.0).then(|| format!("lambda {lambda}: a rate must be positive"))
            }
            DistDef::Deterministic { value } => {
                (value < 0.0).then(|| format!("value {value} is negative"))
            }
            DistDef::Uniform { min, max } => (min < 0.0 || max < min)
                .then(|| format!("min {min}, max {max}: needs 0 <= min <= max")),
            DistDef::Normal { mean, sd } => (mean < 0.0 || sd < 0.0).then(|| {
                format!("mean {mean}, stdDev {sd}: a service time needs mean >= 0 and stdDev >= 0")
            }),
            DistDef::Gamma { alpha, lambda } => (alpha <= 0.0 || lambda <= 0.0)
                .then(|| format!("alpha {alpha}, lambda {lambda}: both must be positive")),
        };
        bad.map_or(Ok(()), |m| Err(self.err(r, m)))
    }
}

/// SimQPN's first run configuration of the net, if any.
fn run_settings(root: Node<'_, '_>) -> Option<RunSettings> {
    let m = items(root, "meta-attributes", "meta-attribute")
        .into_iter()
        .find(|m| m.attribute("total-run-length").is_some())?;
    let num = |k: &str| m.attribute(k).and_then(|v| v.trim().parse::<f64>().ok());
    Some(RunSettings {
        configuration: m.attribute("configuration-name").unwrap_or("").to_string(),
        ramp_up: num("ramp-up-length").unwrap_or(0.0),
        total: num("total-run-length")?,
        stopping_rule: m.attribute("stopping-rule").unwrap_or("").to_string(),
    })
}

impl<'a, 'i> Reader<'a, 'i> {
    fn transitions(&mut self, root: Node<'a, 'i>) -> Result<(), QpeError> {
        for t in items(root, "transitions", "transition") {
            if kind(t) != "immediate-transition" {
                return Err(self.err(
                    t,
                    format!(
                        "{:?} is not supported: only immediate transitions (model a delay as \
                         a queueing place with an IS queue)",
                        kind(t)
                    ),
                ));
            }
            if self.count(t, "priority", 0)? > 0 {
                return Err(self.err(t, "`priority` above 0 is not supported"));
            }
            let name = self.attr(t, "name")?.to_string();
            if self.net.transitions.iter().any(|x| x.name == name) {
                return Err(self.err(t, "another transition has the same name"));
            }
            let modes = self.modes(t)?;
            self.net.transitions.push(TransitionDef {
                src: self.src(t),
                name,
                weight: self.weight(t, "weight")?,
                modes,
            });
        }
        Ok(())
    }

    /// A transition's modes with their incidence (its inner connections).
    fn modes(&self, t: Node<'a, 'i>) -> Result<Vec<ModeDef>, QpeError> {
        let nodes = items(t, "modes", "mode");
        let mut modes = Vec::new();
        let mut index = HashMap::new();
        for m in &nodes {
            index.insert(self.id(*m)?, modes.len());
            modes.push(ModeDef {
                src: self.src(*m),
                name: self.attr(*m, "name")?.to_string(),
                weight: self.weight(*m, "firing-weight")?,
                inputs: Vec::new(),
                outputs: Vec::new(),
            });
        }
        for c in items(t, "connections", "connection") {
            let (src, dst) = (self.attr(c, "source-id")?, self.attr(c, "target-id")?);
            let count = self.count(c, "count", 1)?;
            let (mode, arc_ref, input) = match (index.get(src), index.get(dst)) {
                (None, Some(&m)) => (m, src, true),
                (Some(&m), None) => (m, dst, false),
                _ => {
                    return Err(self.err(
                        c,
                        "must join a colour reference and a mode of this transition",
                    ));
                }
            };
            let &(place, color) = self.refs.get(arc_ref).ok_or_else(|| {
                self.err(c, format!("{arc_ref:?} is no colour reference of a place"))
            })?;
            let arcs = if input {
                &mut modes[mode].inputs
            } else {
                &mut modes[mode].outputs
            };
            let count = u32::try_from(count)
                .map_err(|_| self.err(c, format!("`count` {count} is too large")))?;
            if count > 0 {
                arcs.push(Arc {
                    place,
                    color,
                    count,
                });
            }
        }
        for (m, node) in modes.iter().zip(&nodes) {
            if m.inputs.is_empty() && m.outputs.is_empty() {
                return Err(self.err(*node, "has no connections: it takes and gives nothing"));
            }
        }
        if modes.is_empty() {
            return Err(self.err(t, "has no modes"));
        }
        Ok(modes)
    }

    fn probes(&mut self, root: Node<'a, 'i>) -> Result<(), QpeError> {
        for p in items(root, "probes", "probe") {
            let point = |place: &str, trigger: &str| -> Result<(usize, bool), QpeError> {
                let id = self.attr(p, place)?;
                let at = *self
                    .places
                    .get(id)
                    .ok_or_else(|| self.err(p, format!("{place} {id:?} names no place")))?;
                match self.attr(p, trigger)? {
                    "entry" => Ok((at, true)),
                    "exit" => Ok((at, false)),
                    other => Err(self.err(p, format!("{trigger} {other:?} is not entry or exit"))),
                }
            };
            let start = point("start-place-id", "start-trigger")?;
            let end = point("end-place-id", "end-trigger")?;
            let mut colors = Vec::new();
            for r in items(p, "color-refs", "color-ref") {
                let c = self.attr(r, "color-id")?;
                colors.push(*self.colors.get(c).ok_or_else(|| {
                    self.err(r, format!("color-id {c:?} names no colour of the file"))
                })?);
            }
            let name = self.attr(p, "name")?.to_string();
            if self.net.probes.iter().any(|x| x.name == name) {
                return Err(self.err(p, "another probe has the same name"));
            }
            self.net.probes.push(ProbeDef {
                src: self.src(p),
                name,
                start,
                end,
                colors,
            });
        }
        Ok(())
    }
}
