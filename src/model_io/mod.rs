//! Model files: the YAML format, parameters and `--set` overrides, and the
//! loader that validates a model and compiles it to a [`qpn::Net`].
//!
//! This is the only serde layer for models: the engine never sees YAML.
//! Every problem is reported with the YAML line and column it comes from.
//! The loader opens no files: an `empirical` distribution's sample file is
//! read through a resolver the caller passes in.

mod expr;
mod spec;
mod study;

use std::collections::{BTreeMap, HashMap};

use serde_saphyr::Spanned;

use crate::qpn::{
    self, ArcSpec, Departure, Dist, Mode, Net, Place, Probe, ProbePoint, Queue, Scheduling, Timing,
    Transition,
};
use spec::{
    ArcColors, ArcColorsRaw, DistSpec, ModeSpec, ModelSpec, Num, NumSrc, PlaceSpec, Points,
    TransitionSpec,
};

pub use expr::{ExprError, eval as eval_expr};
pub use study::load_study;

const BOOL_MESSAGE: &str = "found a YAML boolean where a number or expression was expected (YAML reads bare y, n, yes, no, on, off as booleans: quote it, e.g. 'n')";

/// Largest initial marking accepted for one place and colour.
pub const MAX_INITIAL_TOKENS: u64 = 10_000_000;

/// A problem in a model file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The YAML itself is malformed (or too large: a YAML bomb).
    #[error("{0}")]
    Yaml(String),
    /// A valid YAML with an invalid value.
    #[error("line {line}, column {column}: {message}")]
    At {
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong.
        message: String,
    },
    /// A `--set` names a parameter the model does not have, or its value
    /// is not a number.
    #[error("--set {0}")]
    Override(String),
    /// A problem without a single location.
    #[error("{0}")]
    Model(String),
}

fn at<T>(s: &Spanned<T>, message: impl Into<String>) -> LoadError {
    LoadError::At {
        line: s.referenced.line(),
        column: s.referenced.column(),
        message: message.into(),
    }
}

/// What to do with an open model whose offered load reaches capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stability {
    /// Reject it with the numbers.
    #[default]
    Reject,
    /// Accept it (the run stops when queues grow without bound).
    Allow,
}

/// Options for [`load`].
pub struct LoadOptions<'a> {
    /// `name=value` overrides (value: a number or an expression over the
    /// model's parameters).
    pub overrides: &'a [(String, String)],
    /// Open-model stability policy.
    pub stability: Stability,
    /// Reads the text of a file named in the model (empirical samples).
    pub read_file: &'a dyn Fn(&str) -> Result<String, String>,
}

impl Default for LoadOptions<'_> {
    fn default() -> Self {
        Self {
            overrides: &[],
            stability: Stability::Reject,
            read_file: &|name| Err(format!("cannot read `{name}`: no file access")),
        }
    }
}

/// A loaded model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Name from the file.
    pub name: String,
    /// Description from the file.
    pub description: String,
    /// Parameter values after overrides.
    pub params: BTreeMap<String, f64>,
    /// The compiled net.
    pub net: Net,
    /// Per-queueing-place offered load / capacity, for open models whose
    /// flows could be solved (`None` for closed models).
    pub open_loads: Option<Vec<(String, f64, f64)>>,
}

/// Parses, validates and compiles a model.
///
/// # Errors
/// [`LoadError`] with the line and column of the first problem.
pub fn load(yaml: &str, opts: &LoadOptions<'_>) -> Result<Model, LoadError> {
    let spec: ModelSpec =
        serde_saphyr::from_str(yaml).map_err(|e| LoadError::Yaml(yaml_error(&e)))?;
    Loader::new(&spec, opts)?.build(&spec, opts)
}

fn yaml_error(e: &serde_saphyr::Error) -> String {
    // serde-saphyr's message already carries the location; keep it to one
    // paragraph.
    let s = e.to_string();
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .take(6)
        .collect::<Vec<_>>()
        .join("\n")
}

struct Loader {
    params: BTreeMap<String, f64>,
}

/// A place name after expanding `copies`.
struct PlaceIndex {
    /// name → (first index, copies or None)
    by_name: HashMap<String, (usize, Option<usize>)>,
}

impl Loader {
    fn new(spec: &ModelSpec, opts: &LoadOptions<'_>) -> Result<Self, LoadError> {
        let mut defs: Vec<(String, String)> = Vec::new();
        let mut locs: HashMap<String, &Spanned<String>> = HashMap::new();
        let mut keys: Vec<(&Spanned<String>, &Num)> = spec.params.iter().collect();
        keys.sort_by_key(|(k, _)| (k.referenced.line(), k.referenced.column()));
        for (k, v) in keys {
            let text = match &v.value {
                NumSrc::Number(x) => format!("{x:e}"),
                NumSrc::Expr(s) => s.clone(),
                NumSrc::Bool(_) => return Err(at(v, BOOL_MESSAGE)),
            };
            defs.push((k.value.clone(), text));
            locs.insert(k.value.clone(), k);
        }
        for (name, value) in opts.overrides {
            let Some(d) = defs.iter_mut().find(|(n, _)| n == name) else {
                let known: Vec<&str> = defs.iter().map(|(n, _)| n.as_str()).collect();
                return Err(LoadError::Override(format!(
                    "{name}={value}: the model has no parameter `{name}` (it has: {})",
                    known.join(", ")
                )));
            };
            d.1 = value.clone();
        }
        let params = expr::resolve(&defs).map_err(|(name, e)| {
            match (
                opts.overrides.iter().find(|(n, _)| *n == name),
                locs.get(&name),
            ) {
                (Some((_, v)), _) => LoadError::Override(format!("{name}={v}: {}", e.message)),
                (None, Some(k)) => at(k, format!("parameter `{name}`: {}", e.message)),
                (None, None) => LoadError::Model(format!("parameter `{name}`: {}", e.message)),
            }
        })?;
        Ok(Self { params })
    }

    fn num(&self, n: &Num) -> Result<f64, LoadError> {
        let v = match &n.value {
            NumSrc::Bool(_) => return Err(at(n, BOOL_MESSAGE)),
            NumSrc::Number(x) => *x,
            NumSrc::Expr(s) => {
                expr::eval(s, &|name| self.params.get(name).copied()).map_err(|e| {
                    let known: Vec<&str> = self.params.keys().map(String::as_str).collect();
                    at(
                        n,
                        format!(
                            "`{s}`: {}{}",
                            e.message,
                            match (e.message.starts_with("unknown parameter"), known.is_empty()) {
                                (false, _) => String::new(),
                                (true, true) => " (the model has no `params`)".to_string(),
                                (true, false) => format!(" (parameters: {})", known.join(", ")),
                            }
                        ),
                    )
                })?
            }
        };
        if !v.is_finite() {
            return Err(at(n, format!("the value is {v}, not a finite number")));
        }
        Ok(v)
    }

    fn positive(&self, n: &Num, what: &str) -> Result<f64, LoadError> {
        let v = self.num(n)?;
        if v <= 0.0 {
            return Err(at(n, format!("{what} must be positive, got {v}")));
        }
        Ok(v)
    }

    fn count(&self, n: &Num, what: &str, max: u64) -> Result<u64, LoadError> {
        let v = self.num(n)?;
        if v < 0.0 || (v - v.round()).abs() > 1e-9 {
            return Err(at(
                n,
                format!("{what} must be a whole number >= 0, got {v}"),
            ));
        }
        let v = v.round() as u64;
        if v > max {
            return Err(at(
                n,
                format!("{what} is {v}, more than the {max} supported"),
            ));
        }
        Ok(v)
    }

    fn dist(&self, d: &Spanned<DistSpec>, opts: &LoadOptions<'_>) -> Result<Dist, LoadError> {
        let r = match &d.value {
            DistSpec::Exponential(m) => Dist::exponential(self.positive(m, "the mean")?),
            DistSpec::Deterministic(v) => Dist::deterministic(self.num(v)?),
            DistSpec::Uniform { min, max } => Dist::uniform(self.num(min)?, self.num(max)?),
            DistSpec::Erlang { k, mean } => Dist::erlang(
                self.count(k, "k", 1000)? as u32,
                self.positive(mean, "the mean")?,
            ),
            DistSpec::Hyperexponential { mean, cv } => {
                Dist::hyperexponential(self.positive(mean, "the mean")?, self.num(cv)?)
            }
            DistSpec::Lognormal { mean, cv } => {
                Dist::lognormal(self.positive(mean, "the mean")?, self.num(cv)?)
            }
            DistSpec::Gamma { mean, cv } => {
                Dist::gamma(self.positive(mean, "the mean")?, self.num(cv)?)
            }
            DistSpec::Empirical {
                file,
                samples,
                scale,
            } => {
                let scale = match scale {
                    Some(s) => self.positive(s, "scale")?,
                    None => 1.0,
                };
                let values: Vec<f64> = match (file, samples) {
                    (Some(f), None) => {
                        let text = (opts.read_file)(&f.value).map_err(|e| at(f, e))?;
                        let mut v = Vec::new();
                        for (i, tok) in text
                            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                            .filter(|t| !t.is_empty())
                            .enumerate()
                        {
                            v.push(tok.parse::<f64>().map_err(|_| {
                                at(
                                    f,
                                    format!(
                                        "{}: value {} is {tok:?}, not a number of seconds",
                                        f.value,
                                        i + 1
                                    ),
                                )
                            })?);
                        }
                        v
                    }
                    (None, Some(s)) => s.iter().map(|x| self.num(x)).collect::<Result<_, _>>()?,
                    _ => return Err(at(d, "empirical needs either `file` or `samples`")),
                };
                Dist::empirical(values.into_iter().map(|x| x * scale).collect())
            }
        };
        r.map_err(|e| at(d, e.0))
    }

    fn build(&self, spec: &ModelSpec, opts: &LoadOptions<'_>) -> Result<Model, LoadError> {
        // Colours.
        let colors: Vec<String> = spec.colors.iter().map(|c| c.value.clone()).collect();
        if colors.is_empty() {
            return Err(LoadError::Model("the model lists no `colors`".into()));
        }
        for (i, c) in spec.colors.iter().enumerate() {
            if colors[..i].contains(&c.value) {
                return Err(at(c, format!("colour `{}` is listed twice", c.value)));
            }
        }
        let color = |s: &Spanned<String>| {
            colors.iter().position(|c| *c == s.value).ok_or_else(|| {
                at(
                    s,
                    format!(
                        "unknown colour `{}` (colours: {})",
                        s.value,
                        colors.join(", ")
                    ),
                )
            })
        };
        // Places, with copies expanded.
        let mut place_keys: Vec<(&Spanned<String>, &PlaceSpec)> = spec.places.iter().collect();
        place_keys.sort_by_key(|(k, _)| (k.referenced.line(), k.referenced.column()));
        let mut places = Vec::new();
        let mut index = PlaceIndex {
            by_name: HashMap::new(),
        };
        for (key, ps) in &place_keys {
            let copies = match &ps.copies {
                Some(n) => {
                    let k = self.count(n, "copies", 100_000)?;
                    if k == 0 {
                        return Err(at(n, "copies must be at least 1"));
                    }
                    Some(k as usize)
                }
                None => None,
            };
            index
                .by_name
                .insert(key.value.clone(), (places.len(), copies));
            let mut initial = vec![0u64; colors.len()];
            let mut init_keys: Vec<_> = ps.initial.iter().collect();
            init_keys.sort_by_key(|(k, _)| (k.referenced.line(), k.referenced.column()));
            for (c, n) in init_keys {
                initial[color(c)?] = self.count(n, "an initial marking", MAX_INITIAL_TOKENS)?;
            }
            let queue = match &ps.queue {
                None => {
                    if let Some((k, _)) = ps.service.iter().next() {
                        return Err(at(
                            k,
                            format!(
                                "place `{}` has a service time but no `queue`; add `queue: fcfs` (or is, ps, lcfs-pr)",
                                key.value
                            ),
                        ));
                    }
                    None
                }
                Some(q) => {
                    let scheduling = match q.value.as_str() {
                        "is" | "IS" => Scheduling::Is,
                        "fcfs" | "FCFS" | "fifo" => Scheduling::Fcfs,
                        "ps" | "PS" => Scheduling::Ps,
                        "lcfs-pr" | "LCFS-PR" | "lcfspr" => Scheduling::LcfsPr,
                        other => {
                            return Err(at(
                                q,
                                format!(
                                    "unknown scheduling `{other}`; expected is, fcfs, ps or lcfs-pr"
                                ),
                            ));
                        }
                    };
                    let servers = match (&ps.servers, scheduling) {
                        (Some(n), Scheduling::Is) => {
                            return Err(at(n, "an IS queue has no servers to set"));
                        }
                        (Some(n), _) => {
                            let s = self.count(n, "servers", 1_000_000)?;
                            if s == 0 {
                                return Err(at(n, "servers must be at least 1"));
                            }
                            if scheduling == Scheduling::LcfsPr && s != 1 {
                                return Err(at(n, "lcfs-pr supports one server"));
                            }
                            s as u32
                        }
                        (None, _) => 1,
                    };
                    let mut service = vec![None; colors.len()];
                    let mut svc_keys: Vec<_> = ps.service.iter().collect();
                    svc_keys.sort_by_key(|(k, _)| (k.referenced.line(), k.referenced.column()));
                    for (c, d) in svc_keys {
                        service[color(c)?] = Some(self.dist(d, opts)?);
                    }
                    let mut priority = vec![0i32; colors.len()];
                    for (c, n) in &ps.priority {
                        let v = self.num(n)?;
                        priority[color(c)?] = v.round() as i32;
                    }
                    if !ps.priority.is_empty() && scheduling != Scheduling::Fcfs {
                        let (k, _) = ps.priority.iter().next().unwrap();
                        return Err(at(k, "priorities apply to fcfs queues only"));
                    }
                    Some(Queue {
                        scheduling,
                        servers,
                        service,
                        priority,
                    })
                }
            };
            let departure = match ps.departure.as_ref().map(|d| d.value.as_str()) {
                None | Some("normal") => Departure::Normal,
                Some("fifo") => Departure::Fifo,
                Some(other) => {
                    return Err(at(
                        ps.departure.as_ref().unwrap(),
                        format!("unknown departure discipline `{other}`; expected normal or fifo"),
                    ));
                }
            };
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
        let total_initial: u64 = places.iter().flat_map(|p| p.initial.iter()).sum();
        if total_initial > MAX_INITIAL_TOKENS {
            return Err(LoadError::Model(format!(
                "the initial marking holds {total_initial} tokens, more than the {MAX_INITIAL_TOKENS} supported"
            )));
        }
        // Resolves a place reference; `each` gives the copy index for the
        // replicated place named there.
        let place_ref = |s: &Spanned<String>,
                         each: Option<(&str, usize)>|
         -> Result<Vec<usize>, LoadError> {
            let Some(&(first, copies)) = index.by_name.get(&s.value) else {
                let known: Vec<&str> = place_keys.iter().map(|(k, _)| k.value.as_str()).collect();
                return Err(at(
                    s,
                    format!("unknown place `{}` (places: {})", s.value, known.join(", ")),
                ));
            };
            match (copies, each) {
                (None, _) => Ok(vec![first]),
                (Some(_), Some((name, i))) if name == s.value => Ok(vec![first + i]),
                (Some(k), _) => Ok((first..first + k).collect()),
            }
        };
        // Transitions.
        let mut trans_keys: Vec<(&Spanned<String>, &TransitionSpec)> =
            spec.transitions.iter().collect();
        trans_keys.sort_by_key(|(k, _)| (k.referenced.line(), k.referenced.column()));
        let mut transitions = Vec::new();
        let mut mode_spans: Vec<Vec<(u64, u64)>> = Vec::new();
        for (key, ts) in &trans_keys {
            let timing = match (&ts.delay, &ts.weight) {
                (Some(d), None) => Timing::Timed {
                    delay: self.dist(d, opts)?,
                },
                (Some(_), Some(w)) => {
                    return Err(at(w, "a timed transition (with `delay`) has no weight"));
                }
                (None, w) => Timing::Immediate {
                    weight: match w {
                        Some(w) => self.positive(w, "weight")?,
                        None => 1.0,
                    },
                },
            };
            let single: Vec<(ModeSpec, (u64, u64))>;
            let key_loc = (key.referenced.line(), key.referenced.column());
            let mode_specs: Vec<(&ModeSpec, (u64, u64))> = match (
                &ts.modes,
                ts.inputs.is_some() || ts.outputs.is_some() || ts.each.is_some(),
            ) {
                (Some(m), false) if !m.is_empty() => m
                    .iter()
                    .map(|s| (&s.value, (s.referenced.line(), s.referenced.column())))
                    .collect(),
                (None, true) => {
                    single = vec![(
                        ModeSpec {
                            name: None,
                            weight: None,
                            each: ts.each.clone(),
                            inputs: ts.inputs.clone().unwrap_or_default(),
                            outputs: ts.outputs.clone().unwrap_or_default(),
                        },
                        key_loc,
                    )];
                    single.iter().map(|(m, l)| (m, *l)).collect()
                }
                (Some(_), true) => {
                    return Err(at(
                        key,
                        format!(
                            "transition `{}`: give either `modes` or `in`/`out`, not both",
                            key.value
                        ),
                    ));
                }
                _ => {
                    return Err(at(
                        key,
                        format!(
                            "transition `{}` has no modes: give `in`/`out` or a list of `modes`",
                            key.value
                        ),
                    ));
                }
            };
            let mut modes = Vec::new();
            let mut spans = Vec::new();
            for (mi, &(ms, loc)) in mode_specs.iter().enumerate() {
                let weight = match &ms.weight {
                    Some(w) => self.positive(w, "a mode weight")?,
                    None => 1.0,
                };
                let expansions: Vec<Option<(&str, usize)>> = match &ms.each {
                    None => vec![None],
                    Some(e) => {
                        let Some(&(_, copies)) = index.by_name.get(&e.value) else {
                            return Err(at(e, format!("`each: {}` names no place", e.value)));
                        };
                        let Some(k) = copies else {
                            return Err(at(
                                e,
                                format!("`each: {}`: place `{}` has no `copies`", e.value, e.value),
                            ));
                        };
                        (0..k).map(|i| Some((e.value.as_str(), i))).collect()
                    }
                };
                for each in expansions {
                    let arcs = |side: &ArcMap| -> Result<Vec<ArcSpec>, LoadError> {
                        let mut out: Vec<ArcSpec> = Vec::new();
                        let mut entries: Vec<_> = side.iter().collect();
                        entries.sort_by_key(|(k, _)| (k.referenced.line(), k.referenced.column()));
                        for (pname, colors_spec) in entries {
                            let ps = place_ref(pname, each)?;
                            if ps.len() > 1 {
                                return Err(at(
                                    pname,
                                    format!(
                                        "place `{}` has copies: use `each: {}` in this mode to refer to one copy",
                                        pname.value, pname.value
                                    ),
                                ));
                            }
                            let color_at = |name: &str| {
                                colors.iter().position(|c| c == name).ok_or_else(|| {
                                    at(
                                        colors_spec,
                                        format!(
                                            "unknown colour `{name}` (colours: {})",
                                            colors.join(", ")
                                        ),
                                    )
                                })
                            };
                            let count_at = |n: &NumSrc| -> Result<u32, LoadError> {
                                let spanned = Spanned::new(
                                    n.clone(),
                                    colors_spec.referenced,
                                    colors_spec.defined,
                                );
                                let cnt = self.count(&spanned, "an arc count", 1_000_000)?;
                                if cnt == 0 {
                                    return Err(at(colors_spec, "an arc count must be at least 1"));
                                }
                                Ok(cnt as u32)
                            };
                            let list: Vec<(usize, u32)> = match &colors_spec.value {
                                ArcColorsRaw::One(c) => vec![(color_at(c)?, 1)],
                                ArcColorsRaw::Map(m) => m
                                    .iter()
                                    .map(|(c, n)| Ok((color_at(c)?, count_at(n)?)))
                                    .collect::<Result<_, LoadError>>()?,
                            };
                            for (c, n) in list {
                                match out.iter_mut().find(|a| a.place == ps[0] && a.color == c) {
                                    Some(a) => a.count += n,
                                    None => out.push(ArcSpec {
                                        place: ps[0],
                                        color: c,
                                        count: n,
                                    }),
                                }
                            }
                        }
                        Ok(out)
                    };
                    let inputs = arcs(&ms.inputs)?;
                    let outputs = arcs(&ms.outputs)?;
                    let name = match (&ms.name, each) {
                        (Some(n), Some((_, i))) => format!("{}{}", n.value, i + 1),
                        (Some(n), None) => n.value.clone(),
                        (None, Some((p, i))) => format!("{p}{}", i + 1),
                        (None, None) => format!("mode{}", mi + 1),
                    };
                    if inputs.is_empty() && matches!(timing, Timing::Immediate { .. }) {
                        return Err(LoadError::At {
                            line: loc.0,
                            column: loc.1,
                            message: format!(
                                "transition `{}`: an immediate transition needs inputs (give it a `delay` to make it an arrival source)",
                                key.value
                            ),
                        });
                    }
                    modes.push(Mode {
                        name,
                        weight,
                        inputs,
                        outputs,
                    });
                    spans.push(loc);
                }
            }
            transitions.push(Transition {
                name: key.value.clone(),
                timing,
                modes,
            });
            mode_spans.push(spans);
        }
        // Probes.
        let mut probe_keys: Vec<_> = spec.probes.iter().collect();
        probe_keys.sort_by_key(|(k, _)| (k.referenced.line(), k.referenced.column()));
        if probe_keys.len() > qpn::MAX_PROBES {
            return Err(at(
                probe_keys[qpn::MAX_PROBES].0,
                format!("at most {} probes are supported", qpn::MAX_PROBES),
            ));
        }
        let mut probes = Vec::new();
        for (key, pr) in probe_keys {
            let pcolors = match &pr.colors {
                Some(cs) => cs.iter().map(color).collect::<Result<Vec<_>, _>>()?,
                None => (0..colors.len()).collect(),
            };
            let points = |pts: &Points| -> Result<Vec<ProbePoint>, LoadError> {
                let mut out = Vec::new();
                for p in spec::points(pts) {
                    match (&p.place, &p.transition, p.when.as_deref()) {
                        (Some(pl), None, on) => {
                            let enter = match on {
                                Some("enter") => true,
                                Some("exit") => false,
                                Some(other) => {
                                    return Err(at(
                                        pts,
                                        format!("`when: {other}`: expected enter or exit"),
                                    ));
                                }
                                None => {
                                    return Err(at(
                                        pts,
                                        "a place point needs `when: enter` or `when: exit`",
                                    ));
                                }
                            };
                            let name = Spanned::new(pl.clone(), pts.referenced, pts.defined);
                            for i in place_ref(&name, None)? {
                                out.push(if enter {
                                    ProbePoint::Enter(i)
                                } else {
                                    ProbePoint::Exit(i)
                                });
                            }
                        }
                        (None, Some(t), None) => {
                            let i = transitions
                                .iter()
                                .position(|x| x.name == *t)
                                .ok_or_else(|| at(pts, format!("unknown transition `{t}`")))?;
                            out.push(ProbePoint::Transition(i));
                        }
                        _ => {
                            return Err(at(
                                pts,
                                "a probe point is `{place: NAME, when: enter|exit}` or `{transition: NAME}`",
                            ));
                        }
                    }
                }
                Ok(out)
            };
            probes.push(Probe {
                name: key.value.clone(),
                colors: pcolors,
                start: points(&pr.start)?,
                end: points(&pr.end)?,
            });
        }
        let net = Net {
            colors,
            places,
            transitions,
            probes,
        };
        // Modes that can never fire.
        if let Some(&(t, m)) = net.dead_modes().first() {
            let can = net.reachable();
            let tr = &net.transitions[t];
            let why = tr.modes[m]
                .inputs
                .iter()
                .find(|a| !can[a.place][a.color])
                .map(|a| {
                    format!(
                        "place `{}` never holds colour `{}`",
                        net.places[a.place].name, net.colors[a.color]
                    )
                })
                .unwrap_or_default();
            let (line, column) = mode_spans[t][m];
            return Err(LoadError::At {
                line,
                column,
                message: format!(
                    "transition `{}` mode `{}` can never fire: {why}",
                    tr.name, tr.modes[m].name
                ),
            });
        }
        net.validate().map_err(|e| LoadError::Model(e.0))?;
        // Offered load of open models.
        let open_loads = open_loads(&net);
        if let Some(loads) = &open_loads
            && opts.stability == Stability::Reject
            && let Some((name, load, cap)) = loads.iter().find(|(_, l, c)| l >= c)
        {
            return Err(LoadError::Model(format!(
                "the open model is unstable: place {name} is offered {load:.4} busy servers of work per second but has {cap} server(s) (utilization {:.1} %); lower the arrival rate, add servers, or pass --allow-unstable",
                100.0 * load / cap
            )));
        }
        Ok(Model {
            name: spec.name.clone().unwrap_or_default(),
            description: spec.description.clone().unwrap_or_default(),
            params: self.params.clone(),
            net,
            open_loads,
        })
    }
}

/// The `in`/`out` side of a mode: place → colours.
type ArcMap = HashMap<Spanned<String>, ArcColors>;

/// Offered load (busy servers) and capacity of each non-IS queueing place
/// of an open net whose token flows follow from its sources by routing
/// weights; `None` for closed nets or nets with joins.
pub fn open_loads(net: &Net) -> Option<Vec<(String, f64, f64)>> {
    let flows = qpn::open_flows(net)?;
    let nc = net.colors.len();
    Some(
        net.places
            .iter()
            .enumerate()
            .filter_map(|(p, pl)| {
                let q = pl.queue.as_ref()?;
                if q.scheduling == Scheduling::Is {
                    return None;
                }
                let load: f64 = (0..nc)
                    .map(|c| flows[p][c] * q.service[c].as_ref().map_or(0.0, Dist::mean))
                    .sum();
                Some((pl.name.clone(), load, q.servers as f64))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests;
