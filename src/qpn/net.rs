//! The validated net: colours, places, transitions, probes. Built in code
//! or by the model loader; the engine never sees YAML.

use super::dist::Dist;
use super::event::MAX_PROBES;
pub use super::queue::{CpuLimit, Scheduling};

/// Index of a colour.
pub type ColorId = usize;
/// Index of a place.
pub type PlaceId = usize;
/// Index of a transition.
pub type TransitionId = usize;

/// Index of the probe to report when none is named: the one called
/// `response`, else the first; `None` when there are no probes.
///
/// ```
/// use demandsim::qpn::default_probe;
/// assert_eq!(default_probe(["db", "response"].into_iter()), Some(1));
/// assert_eq!(default_probe(["db", "web"].into_iter()), Some(0));
/// assert_eq!(default_probe([].into_iter()), None);
/// ```
pub fn default_probe<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> Option<usize> {
    let any = names.len() > 0;
    let mut names = names;
    names.position(|n| n == "response").or(any.then_some(0))
}

/// The index of the probe named `wanted`, or of the default probe (see
/// [`default_probe`]) when none is named: the one rule every command and
/// the study use.
///
/// # Errors
/// [`NoSuchProbe`] when there are no probes, or none of that name.
///
/// ```
/// use demandsim::qpn::choose_probe;
/// let names = ["db", "response"];
/// assert_eq!(choose_probe(&names, None), Ok(1));
/// assert_eq!(choose_probe(&names, Some("db")), Ok(0));
/// assert!(choose_probe(&names, Some("web")).is_err());
/// ```
pub fn choose_probe<S: AsRef<str>>(
    names: &[S],
    wanted: Option<&str>,
) -> Result<usize, NoSuchProbe> {
    let found = match wanted {
        Some(w) => names.iter().position(|n| n.as_ref() == w),
        None => default_probe(names.iter().map(AsRef::as_ref)),
    };
    found.ok_or_else(|| {
        let mut known: Vec<String> = names.iter().map(|n| n.as_ref().to_string()).collect();
        known.dedup();
        NoSuchProbe {
            wanted: wanted.map(str::to_string),
            known,
        }
    })
}

/// No probe to report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", match (wanted, known.is_empty()) {
    (_, true) => "the model has no probe".to_string(),
    (Some(w), false) => format!("the model has no probe `{w}` (it has: {})", known.join(", ")),
    (None, false) => unreachable!("the first probe is the default"),
})]
pub struct NoSuchProbe {
    /// The probe asked for, if any.
    pub wanted: Option<String>,
    /// The probes there are.
    pub known: Vec<String>,
}

/// The queue of a queueing place.
#[derive(Debug, Clone)]
pub struct Queue {
    /// Scheduling discipline.
    pub scheduling: Scheduling,
    /// Number of servers (ignored for IS).
    pub servers: u32,
    /// Service time per colour; `None` for colours that never enter.
    pub service: Vec<Option<Dist>>,
    /// Priority per colour (higher first; FCFS only).
    pub priority: Vec<i32>,
    /// The shared queue (index into [`Net::queues`]) whose servers this
    /// place competes for with the other places naming it; `None`: its
    /// own servers. `scheduling`, `servers` and `load_dependence` are then
    /// the shared queue's.
    pub shared: Option<usize>,
    /// The load-dependent rate (LINE's `setLoadDependence`): with n jobs
    /// present they are served alpha(n) times one server's rate in all,
    /// alpha(1), alpha(2), … listed, the last for every n beyond. Empty:
    /// min(n, servers). Only where the discipline takes one.
    pub load_dependence: Vec<f64>,
    /// The CPU limit (CFS bandwidth control) on its servers; `None`: none.
    /// For a place naming a shared queue, the shared queue's.
    pub cpu_limit: Option<CpuLimit>,
}

/// A queue whose servers several places share (a host's CPUs under its
/// containers): each place keeps its own colours, service times and
/// statistics; the servers are one pool.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedQueue {
    /// Name.
    pub name: String,
    /// Scheduling discipline.
    pub scheduling: Scheduling,
    /// Servers (ignored for IS).
    pub servers: u32,
    /// The load-dependent rate, as [`Queue::load_dependence`].
    pub load_dependence: Vec<f64>,
    /// The CPU limit on its servers, as [`Queue::cpu_limit`].
    pub cpu_limit: Option<CpuLimit>,
}

impl Queue {
    /// Servers whose busy time makes up utilization; `None` for IS, whose
    /// servers are unlimited.
    pub fn capacity(&self) -> Option<f64> {
        self.scheduling.capacity(self.servers)
    }
}

/// Which tokens of an ordinary place or depository are available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Departure {
    /// Every token is available.
    #[default]
    Normal,
    /// Only the oldest token (and the run of its colour behind it).
    Fifo,
}

/// A place; with a queue it is a queueing place (queue + depository).
#[derive(Debug, Clone)]
pub struct Place {
    /// Name.
    pub name: String,
    /// The queue, for a queueing place.
    pub queue: Option<Queue>,
    /// Departure discipline of the place (or of the depository).
    pub departure: Departure,
    /// Initial tokens per colour (in the queue, for a queueing place).
    pub initial: Vec<u64>,
}

/// An arc of a mode: `count` tokens of `color` at `place`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArcSpec {
    /// Place.
    pub place: PlaceId,
    /// Colour.
    pub color: ColorId,
    /// Multiplicity (≥ 1).
    pub count: u32,
}

/// A firing mode.
#[derive(Debug, Clone)]
pub struct Mode {
    /// Name (for messages).
    pub name: String,
    /// Firing weight (> 0).
    pub weight: f64,
    /// Tokens consumed (from depositories, for queueing places).
    pub inputs: Vec<ArcSpec>,
    /// Tokens produced (into queues, for queueing places).
    pub outputs: Vec<ArcSpec>,
}

/// Immediate or timed.
#[derive(Debug, Clone)]
pub enum Timing {
    /// Fires as soon as enabled; among enabled immediate transitions one is
    /// chosen with probability proportional to `weight`.
    Immediate {
        /// Weight (> 0).
        weight: f64,
    },
    /// Fires `delay` after becoming enabled (single-server, resampling on
    /// disabling); a timed transition without inputs is a source.
    Timed {
        /// The delay.
        delay: Dist,
    },
}

/// A transition.
#[derive(Debug, Clone)]
pub struct Transition {
    /// Name.
    pub name: String,
    /// Immediate or timed.
    pub timing: Timing,
    /// Modes (at least one).
    pub modes: Vec<Mode>,
    /// How it picks among its enabled modes.
    pub policy: Policy,
}

/// How a transition picks one of its enabled modes when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// At random in proportion to the modes' weights (SimQPN's rule).
    #[default]
    Random,
    /// In turn: the next enabled mode after the one picked last (its own
    /// counter per transition).
    RoundRobin,
    /// The mode whose output queues hold the fewest tokens (join the
    /// shortest queue); ties to the first mode.
    ShortestQueue,
    /// The mode whose output queues have the smallest fraction of busy
    /// servers now; ties to the shorter queue, then to the first mode.
    LeastUtilized,
}

impl Policy {
    /// Every policy.
    pub const ALL: [Policy; 4] = [
        Self::Random,
        Self::RoundRobin,
        Self::ShortestQueue,
        Self::LeastUtilized,
    ];

    /// Its name in model files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Random => "random",
            Self::RoundRobin => "round-robin",
            Self::ShortestQueue => "jsq",
            Self::LeastUtilized => "least-utilized",
        }
    }

    /// The policy a model file names.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// "random, round-robin, jsq or least-utilized", for messages.
    pub fn names() -> String {
        let n: Vec<&str> = Self::ALL.iter().map(|p| p.name()).collect();
        format!("{} or {}", n[..n.len() - 1].join(", "), n[n.len() - 1])
    }
}

/// Where a probe starts or ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbePoint {
    /// A token enters the place (its queue, for a queueing place).
    Enter(PlaceId),
    /// A token leaves the place (its depository, for a queueing place).
    Exit(PlaceId),
    /// As a start: a token produced by the transition; as an end: a token
    /// consumed by it.
    Transition(TransitionId),
}

/// End-to-end time of tokens between two points, per colour (the colour
/// the token has at the end). A token keeps its identity through a mode
/// that consumes exactly one token of its colour and produces exactly one,
/// and through a mode whose only input and only output are one token each
/// (class switching).
#[derive(Debug, Clone)]
pub struct Probe {
    /// Name.
    pub name: String,
    /// Colours measured.
    pub colors: Vec<ColorId>,
    /// Start points.
    pub start: Vec<ProbePoint>,
    /// End points.
    pub end: Vec<ProbePoint>,
}

/// Which (place, colour) pairs can ever hold a token: `marked` (indexed
/// `[place][colour]`, the initial marking) closed under every mode, given
/// as (inputs, outputs), whose inputs can all be supplied. The one rule
/// for modes that can never fire, in model files and imported nets alike.
pub fn reachable(mut can: Vec<Vec<bool>>, modes: &[(&[ArcSpec], &[ArcSpec])]) -> Vec<Vec<bool>> {
    loop {
        let mut changed = false;
        for (inputs, outputs) in modes {
            if inputs.iter().all(|a| can[a.place][a.color]) {
                for a in *outputs {
                    if !can[a.place][a.color] {
                        can[a.place][a.color] = true;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            return can;
        }
    }
}

/// A queueing Petri net.
#[derive(Debug, Clone, Default)]
pub struct Net {
    /// Colour names.
    pub colors: Vec<String>,
    /// Places.
    pub places: Vec<Place>,
    /// Transitions.
    pub transitions: Vec<Transition>,
    /// Probes.
    pub probes: Vec<Probe>,
    /// Queues shared by several places.
    pub queues: Vec<SharedQueue>,
}

/// A net that passed every check of [`Net::validate`]: what the engine,
/// the solver and the generator take. Read it as a [`Net`] (it derefs to
/// one); change it only by going back to a `Net` and checking again.
#[derive(Debug, Clone)]
pub struct ValidNet(Net);

impl std::ops::Deref for ValidNet {
    type Target = Net;
    fn deref(&self) -> &Net {
        &self.0
    }
}

impl ValidNet {
    /// The net, to change it (and check it again).
    pub fn into_inner(self) -> Net {
        self.0
    }
}

impl TryFrom<Net> for ValidNet {
    type Error = NetError;
    fn try_from(net: Net) -> Result<Self, NetError> {
        net.validate()?;
        Ok(Self(net))
    }
}

/// A structural problem of a net.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// No colours.
    #[error("the net has no colours")]
    NoColors,
    /// More probes than tokens can carry stamps for.
    #[error("at most {MAX_PROBES} probes are supported, found {0}")]
    TooManyProbes(usize),
    /// A per-colour list of the wrong length.
    #[error("place {place}: {what} must list {colors} colours")]
    PerColor {
        /// The place.
        place: String,
        /// Which list.
        what: &'static str,
        /// Colours of the net.
        colors: usize,
    },
    /// A server count the discipline does not allow.
    #[error("place {place}: {rule}, found {servers}")]
    Servers {
        /// The place.
        place: String,
        /// The discipline's rule.
        rule: &'static str,
        /// Servers given.
        servers: u32,
    },
    /// An arc to a missing place or colour, or with count 0.
    #[error("transition {0}: an arc refers to a missing place or colour, or has count 0")]
    Arc(String),
    /// A transition without modes.
    #[error("transition {0} has no modes")]
    NoModes(String),
    /// A non-positive transition or mode weight.
    #[error("transition {transition}{}: weight must be positive, got {weight}", mode.as_ref().map(|m| format!(" mode {m}")).unwrap_or_default())]
    Weight {
        /// The transition.
        transition: String,
        /// The mode, for a mode weight.
        mode: Option<String>,
        /// The weight.
        weight: f64,
    },
    /// An immediate mode without inputs.
    #[error(
        "transition {transition} mode {mode}: an immediate transition without inputs would fire forever; make it timed to model arrivals"
    )]
    ImmediateSource {
        /// The transition.
        transition: String,
        /// The mode.
        mode: String,
    },
    /// A colour that can enter a queue without a service time there.
    #[error("queueing place {place}: colour {color} can enter it but has no service time there")]
    NoService {
        /// The place.
        place: String,
        /// The colour.
        color: String,
    },
    /// A load-dependent rate the discipline does not take, or a value
    /// that is not positive and finite.
    #[error("place {place}: {rule}")]
    LoadDependence {
        /// The place.
        place: String,
        /// The rule broken.
        rule: &'static str,
    },
    /// A CPU limit the discipline does not take, or one that is not a
    /// limit.
    #[error("place {place}: {rule}")]
    CpuLimit {
        /// The place.
        place: String,
        /// The rule broken.
        rule: &'static str,
    },
    /// A place names a shared queue that is not there, or differs from it.
    #[error(
        "place {place}: its shared queue is missing, or its scheduling, servers, load dependence, CPU limit or priorities differ from the queue's"
    )]
    SharedQueue {
        /// The place.
        place: String,
    },
    /// A probe without colours, start or end.
    #[error("probe {0} needs colours, a start and an end")]
    Probe(String),
}

impl Net {
    /// Index of a place by name.
    pub fn place(&self, name: &str) -> Option<PlaceId> {
        self.places.iter().position(|p| p.name == name)
    }

    /// Index of a colour by name.
    pub fn color(&self, name: &str) -> Option<ColorId> {
        self.colors.iter().position(|c| c == name)
    }

    /// Index of a transition by name.
    pub fn transition(&self, name: &str) -> Option<TransitionId> {
        self.transitions.iter().position(|t| t.name == name)
    }

    /// Which (place, colour) pairs can ever hold a token: the initial
    /// marking, closed under every mode whose inputs can all be supplied.
    pub fn reachable(&self) -> Vec<Vec<bool>> {
        let marked = self
            .places
            .iter()
            .map(|p| p.initial.iter().map(|&n| n > 0).collect())
            .collect();
        let modes: Vec<(&[ArcSpec], &[ArcSpec])> = self
            .transitions
            .iter()
            .flat_map(|t| &t.modes)
            .map(|m| (m.inputs.as_slice(), m.outputs.as_slice()))
            .collect();
        reachable(marked, &modes)
    }

    /// Modes that can never fire, as (transition, mode) pairs.
    pub fn dead_modes(&self) -> Vec<(TransitionId, usize)> {
        let can = self.reachable();
        let mut dead = Vec::new();
        for (ti, t) in self.transitions.iter().enumerate() {
            for (mi, m) in t.modes.iter().enumerate() {
                if !m.inputs.iter().all(|a| can[a.place][a.color]) {
                    dead.push((ti, mi));
                }
            }
        }
        dead
    }

    /// Checks indices, weights, servers and that every colour that can
    /// enter a queue has a service time there.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), NetError> {
        if self.colors.is_empty() {
            return Err(NetError::NoColors);
        }
        if self.probes.len() > MAX_PROBES {
            return Err(NetError::TooManyProbes(self.probes.len()));
        }
        for p in &self.places {
            self.check_place(p)?;
        }
        for t in &self.transitions {
            self.check_transition(t)?;
        }
        self.check_service()?;
        match self
            .probes
            .iter()
            .find(|pr| pr.colors.is_empty() || pr.start.is_empty() || pr.end.is_empty())
        {
            Some(pr) => Err(NetError::Probe(pr.name.clone())),
            None => Ok(()),
        }
    }

    /// Checks the net and returns it as a [`ValidNet`].
    ///
    /// # Errors
    /// The first problem found.
    pub fn into_valid(self) -> Result<ValidNet, NetError> {
        ValidNet::try_from(self)
    }

    fn check_place(&self, p: &Place) -> Result<(), NetError> {
        let nc = self.colors.len();
        let per_color = |what| NetError::PerColor {
            place: p.name.clone(),
            what,
            colors: nc,
        };
        if p.initial.len() != nc {
            return Err(per_color("initial marking"));
        }
        let Some(q) = &p.queue else { return Ok(()) };
        if q.service.len() != nc || q.priority.len() != nc {
            return Err(per_color("service and priority"));
        }
        if let Some(k) = q.shared {
            let shared = self.queues.get(k).ok_or(NetError::SharedQueue {
                place: p.name.clone(),
            })?;
            if shared.scheduling != q.scheduling
                || shared.servers != q.servers
                || shared.load_dependence != q.load_dependence
                || shared.cpu_limit != q.cpu_limit
                || q.priority.iter().any(|&x| x != 0)
            {
                return Err(NetError::SharedQueue {
                    place: p.name.clone(),
                });
            }
        }
        if q.scheduling.has_servers()
            && let Err(rule) = q.scheduling.check_servers(u64::from(q.servers))
        {
            return Err(NetError::Servers {
                place: p.name.clone(),
                rule,
                servers: q.servers,
            });
        }
        if let Some(limit) = &q.cpu_limit {
            q.scheduling
                .check_cpu_limit(limit, &q.load_dependence)
                .map_err(|rule| NetError::CpuLimit {
                    place: p.name.clone(),
                    rule,
                })?;
        }
        q.scheduling
            .check_load_dependence(&q.load_dependence)
            .map_err(|rule| NetError::LoadDependence {
                place: p.name.clone(),
                rule,
            })
    }

    fn check_transition(&self, t: &Transition) -> Result<(), NetError> {
        let weight = |mode: Option<&Mode>, weight: f64| NetError::Weight {
            transition: t.name.clone(),
            mode: mode.map(|m| m.name.clone()),
            weight,
        };
        if t.modes.is_empty() {
            return Err(NetError::NoModes(t.name.clone()));
        }
        if let Timing::Immediate { weight: w } = t.timing
            && !(w.is_finite() && w > 0.0)
        {
            return Err(weight(None, w));
        }
        for m in &t.modes {
            if !(m.weight.is_finite() && m.weight > 0.0) {
                return Err(weight(Some(m), m.weight));
            }
            if m.inputs.is_empty() && matches!(t.timing, Timing::Immediate { .. }) {
                return Err(NetError::ImmediateSource {
                    transition: t.name.clone(),
                    mode: m.name.clone(),
                });
            }
            let bad = |a: &ArcSpec| {
                a.place >= self.places.len() || a.color >= self.colors.len() || a.count == 0
            };
            if m.inputs.iter().chain(&m.outputs).any(bad) {
                return Err(NetError::Arc(t.name.clone()));
            }
        }
        Ok(())
    }

    fn check_service(&self) -> Result<(), NetError> {
        let can = self.reachable();
        for (pi, p) in self.places.iter().enumerate() {
            let Some(q) = &p.queue else { continue };
            if let Some(c) = (0..self.colors.len()).find(|&c| can[pi][c] && q.service[c].is_none())
            {
                return Err(NetError::NoService {
                    place: p.name.clone(),
                    color: self.colors[c].clone(),
                });
            }
        }
        Ok(())
    }
}
