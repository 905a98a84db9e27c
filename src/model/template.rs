//! A parsed model: the YAML spec with its parameter expressions and source
//! spans, and the typed parameters that turn it into a [`Net`].
//!
//! Parse once, instantiate as often as needed: changing a parameter never
//! re-reads YAML, and a number is passed as a number, never as text.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_saphyr::Spanned;

use super::classes::Classes;
use super::spec::{DistSpec, ModelSpec};
use super::{ModelError, Stability, at, build, expand, expr};
use crate::qpn::ValidNet;

/// A parameter value: a number, or an expression over the model's other
/// parameters (`2 * rate`).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A number.
    Number(f64),
    /// An expression (see the model format's `params`).
    Expr(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(x) => write!(f, "{x}"),
            Self::Expr(s) => f.write_str(s),
        }
    }
}

impl From<f64> for ParamValue {
    fn from(x: f64) -> Self {
        Self::Number(x)
    }
}

impl From<&str> for ParamValue {
    fn from(s: &str) -> Self {
        Self::Expr(s.to_string())
    }
}

/// Parameter settings, in order: each replaces the model's default of
/// that name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(Vec<(String, ParamValue)>);

impl Params {
    /// No settings: the model's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` (replacing an earlier setting of it).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<ParamValue>) -> &mut Self {
        let (name, value) = (name.into(), value.into());
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
        self
    }

    /// [`Params::set`], by value.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<ParamValue>) -> Self {
        self.set(name, value);
        self
    }

    /// The setting of `name`, if any.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Whether `name` is set.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The settings, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }
}

/// A model instantiated with parameter values.
#[derive(Debug, Clone)]
pub struct Model {
    /// Name from the file.
    pub name: String,
    /// Description from the file.
    pub description: String,
    /// Parameter values after the settings.
    pub params: BTreeMap<String, f64>,
    /// The compiled, checked net.
    pub net: ValidNet,
    /// Per-queueing-place offered load / capacity, for open models whose
    /// flows could be solved (`None` for closed models).
    pub open_loads: Option<Vec<(String, f64, f64)>>,
    /// How long to simulate when the command line does not say.
    pub run: RunDefaults,
}

/// The model file's `run:` section: simulated seconds to measure and to
/// discard first, used when the command line gives neither.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunDefaults {
    /// Seconds measured after the warm-up.
    pub time_s: Option<f64>,
    /// Seconds discarded first.
    pub warmup_s: Option<f64>,
}

/// Reads the text of a file a model names (an `empirical` distribution's
/// samples); the caller resolves the name, usually against the model's
/// folder.
pub type ReadFile<'a> = &'a dyn Fn(&str) -> std::io::Result<String>;

/// A parsed, not yet instantiated model.
#[derive(Debug)]
pub struct Template {
    pub(super) spec: ModelSpec,
    /// `params` in file order, with the span of each name.
    defaults: Vec<(Spanned<String>, ParamValue)>,
    /// Samples of every `empirical` file, read once at parse time (the
    /// error is kept and reported where the file is used).
    pub(super) samples: HashMap<String, Result<Vec<f64>, ModelError>>,
    /// The class sets the placeholders range over.
    classes: Classes,
    /// The parameters as the file names them (`rate_{c}`, not each
    /// `rate_login`), for messages.
    param_names: Vec<String>,
}

impl Template {
    /// Parses a model file's text, its per-class structure written out
    /// (see `expand`); `read_file` reads the sample files it names.
    ///
    /// # Errors
    /// Malformed YAML, a YAML boolean where a number belongs, a mistake in
    /// the class sets or their placeholders.
    pub fn parse(yaml: &str, read_file: ReadFile<'_>) -> Result<Self, ModelError> {
        let raw: ModelSpec = serde_saphyr::from_str(yaml).map_err(|e| ModelError::yaml(&e))?;
        let classes = Classes::parse(raw.classes.as_ref())?;
        let (spec, defaults) = expand::expand(&raw, &classes)?;
        let mut samples = HashMap::new();
        for f in sample_files(&spec) {
            if !samples.contains_key(&f.value) {
                samples.insert(f.value.clone(), read_samples(f, read_file));
            }
        }
        Ok(Self {
            param_names: raw.params.iter().map(|(k, _)| k.value.clone()).collect(),
            spec,
            defaults,
            samples,
            classes,
        })
    }

    /// The class sets (`classes:`) the model's placeholders range over.
    pub fn classes(&self) -> &Classes {
        &self.classes
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        self.spec.name.as_deref().unwrap_or_default()
    }

    /// The model's parameters and their defaults, in file order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.defaults.iter().map(|(k, v)| (k.value.as_str(), v))
    }

    /// Whether the model has a parameter `name`.
    pub fn has_param(&self, name: &str) -> bool {
        self.defaults.iter().any(|(k, _)| k.value == name)
    }

    /// The parameter values with `params` applied.
    ///
    /// # Errors
    /// A setting of a parameter the model lacks, an expression that does
    /// not evaluate, a cycle.
    pub fn resolve(&self, params: &Params) -> Result<BTreeMap<String, f64>, ModelError> {
        let mut defs: Vec<(String, ParamValue)> = self
            .defaults
            .iter()
            .map(|(k, v)| (k.value.clone(), v.clone()))
            .collect();
        for (name, value) in params.iter() {
            let Some(d) = defs.iter_mut().find(|(n, _)| n == name) else {
                return Err(ModelError::UnknownParam {
                    name: name.to_string(),
                    value: value.clone(),
                    known: self.param_names.clone(),
                });
            };
            d.1 = value.clone();
        }
        expr::resolve(&defs).map_err(|(name, e)| {
            if let Some(value) = params.get(&name) {
                return ModelError::BadParam {
                    name,
                    value: value.clone(),
                    message: e.message,
                };
            }
            match self.defaults.iter().find(|(k, _)| k.value == name) {
                Some((k, _)) => at(k, format!("parameter `{name}`: {}", e.message)),
                None => ModelError::ParamCycle { name },
            }
        })
    }

    /// Builds the net with `params` applied.
    ///
    /// # Errors
    /// [`ModelError`] with the line and column of the first problem.
    pub fn instantiate(&self, params: &Params, stability: Stability) -> Result<Model, ModelError> {
        let values = self.resolve(params)?;
        let (net, open_loads) = build::net(self, &values, stability)?;
        let run = build::run_defaults(self, &values)?;
        Ok(Model {
            name: self.spec.name.clone().unwrap_or_default(),
            description: self.spec.description.clone().unwrap_or_default(),
            params: values,
            net,
            open_loads,
            run,
        })
    }
}

/// Every `file:` of an `empirical` distribution in the spec.
fn sample_files(spec: &ModelSpec) -> Vec<&Spanned<String>> {
    let mut dists: Vec<&DistSpec> = Vec::new();
    for p in spec.places.values() {
        dists.extend(p.service.values().map(|d| &d.value));
    }
    for t in spec.transitions.values() {
        dists.extend(t.delay.as_ref().map(|d| &d.value));
    }
    dists
        .into_iter()
        .filter_map(|d| match d {
            DistSpec::Empirical { file: Some(f), .. } => Some(f),
            _ => None,
        })
        .collect()
}

fn read_samples(f: &Spanned<String>, read_file: ReadFile<'_>) -> Result<Vec<f64>, ModelError> {
    let text = read_file(&f.value).map_err(|e| at(f, format!("cannot read {}: {e}", f.value)))?;
    let tokens = text.lines().enumerate().flat_map(|(line, l)| {
        l.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(move |tok| (line + 1, tok))
    });
    tokens
        .enumerate()
        .map(|(i, (line, tok))| {
            tok.parse::<f64>().map_err(|_| {
                let tok = crate::trace::clip(tok);
                at(
                    f,
                    format!(
                        "{}:{line}: value {} is {tok:?}, not a number of seconds",
                        f.value,
                        i + 1
                    ),
                )
            })
        })
        .collect()
}
