//! From a [`Template`] and parameter values to a [`Net`]: colours and
//! places (`places.rs`), transitions (`transitions.rs`), probes
//! (`probes.rs`), then the checks of the whole net (`diagnose.rs`). The
//! helpers here turn spec values into numbers and distributions.

mod diagnose;
mod places;
mod probes;
mod transitions;

use std::collections::{BTreeMap, HashMap};

use serde_saphyr::Spanned;

use super::spec::{DistSpec, Num, NumSrc};
use super::{BOOL_MESSAGE, ModelError, RunDefaults, Stability, Template, at, expr};
use crate::qpn::{Dist, Net, ValidNet};
use crate::words::readable;

pub use diagnose::open_loads;

/// Open-model loads: (place, offered busy servers, servers).
type OpenLoads = Option<Vec<(String, f64, f64)>>;

/// Builds and checks the net of `t` with parameter `values`.
pub(super) fn net(
    t: &Template,
    values: &BTreeMap<String, f64>,
    stability: Stability,
) -> Result<(ValidNet, OpenLoads), ModelError> {
    let ctx = Ctx::new(t, values)?;
    let queues = places::shared_queues(&ctx, &t.spec)?;
    let (places, index) = places::build(&ctx, &t.spec, &queues)?;
    let (transitions, mut mode_spans, zero_weight) = transitions::build(&ctx, &t.spec, &index)?;
    let probes = probes::build(&ctx, &t.spec, &index, &transitions)?;
    let mut net = Net {
        colors: ctx.colors,
        places,
        transitions,
        probes,
        queues,
    };
    if zero_weight {
        diagnose::prune_after_zero_weights(&mut net, &mut mode_spans)?;
    }
    diagnose::dead_modes(&net, &mode_spans)?;
    let net = net.into_valid()?;
    let loads = diagnose::stability(&net, stability)?;
    Ok((net, loads))
}

/// The model's `run:` defaults with parameter `values`.
pub(super) fn run_defaults(
    t: &Template,
    values: &BTreeMap<String, f64>,
) -> Result<RunDefaults, ModelError> {
    let ctx = Ctx::new(t, values)?;
    let Some(run) = &t.spec.run else {
        return Ok(RunDefaults::default());
    };
    let time = run.time.as_ref().map(|n| ctx.positive(n, "run time"));
    let warmup = run.warmup.as_ref().map(|n| ctx.non_negative(n, "warm-up"));
    Ok(RunDefaults {
        time_s: time.transpose()?,
        warmup_s: warmup.transpose()?,
    })
}

/// What every builder needs: parameter values, sample files, colours.
struct Ctx<'a> {
    params: &'a BTreeMap<String, f64>,
    samples: &'a HashMap<String, Result<Vec<f64>, ModelError>>,
    colors: Vec<String>,
}

impl<'a> Ctx<'a> {
    fn new(t: &'a Template, params: &'a BTreeMap<String, f64>) -> Result<Self, ModelError> {
        let colors: Vec<String> = t.spec.colors.iter().map(|c| c.value.clone()).collect();
        if colors.is_empty() {
            return Err(ModelError::NoColors);
        }
        for (i, c) in t.spec.colors.iter().enumerate() {
            if colors[..i].contains(&c.value) {
                return Err(at(c, format!("colour `{}` is listed twice", c.value)));
            }
        }
        Ok(Self {
            params,
            samples: &t.samples,
            colors,
        })
    }

    /// The index of a colour named in the file.
    fn color(&self, s: &Spanned<String>) -> Result<usize, ModelError> {
        self.color_at(&s.value, s)
    }

    /// The index of colour `name`; an error is reported at `loc`.
    fn color_at<T>(&self, name: &str, loc: &Spanned<T>) -> Result<usize, ModelError> {
        self.colors.iter().position(|c| c == name).ok_or_else(|| {
            at(
                loc,
                format!(
                    "unknown colour `{name}` (colours: {})",
                    self.colors.join(", ")
                ),
            )
        })
    }

    fn num(&self, n: &Num) -> Result<f64, ModelError> {
        let v = match &n.value {
            NumSrc::Bool(_) => return Err(at(n, BOOL_MESSAGE)),
            NumSrc::Number(x) => *x,
            NumSrc::Expr(s) => expr::eval(s, &|name| self.params.get(name).copied())
                .map_err(|e| at(n, format!("`{s}`: {}{}", e.message, self.hint(&e))))?,
        };
        if !v.is_finite() {
            return Err(at(n, format!("the value is {v}, not a finite number")));
        }
        Ok(v)
    }

    /// The parameters the model has, for an unknown one.
    fn hint(&self, e: &expr::ExprError) -> String {
        let known: Vec<&str> = self.params.keys().map(String::as_str).collect();
        match (e.message.starts_with("unknown parameter"), known.is_empty()) {
            (false, _) => String::new(),
            (true, true) => " (the model has no `params`)".to_string(),
            (true, false) => format!(" (parameters: {})", known.join(", ")),
        }
    }

    fn positive(&self, n: &Num, what: &str) -> Result<f64, ModelError> {
        let v = self.num(n)?;
        if v <= 0.0 {
            return Err(at(
                n,
                format!("{what} must be positive, got {}", readable(v)),
            ));
        }
        Ok(v)
    }

    fn non_negative(&self, n: &Num, what: &str) -> Result<f64, ModelError> {
        let v = self.num(n)?;
        if v.is_nan() || v < 0.0 {
            return Err(at(
                n,
                format!("{what} must be 0 or more, got {}", readable(v)),
            ));
        }
        Ok(v)
    }

    fn count(&self, n: &Num, what: &str, max: u64) -> Result<u64, ModelError> {
        let v = self.num(n)?;
        if v < 0.0 || (v - v.round()).abs() > 1e-9 {
            return Err(at(
                n,
                format!("{what} must be a whole number >= 0, got {}", readable(v)),
            ));
        }
        // Compared before the cast, which would saturate 1e300 to 2^64 - 1.
        if v > max as f64 {
            return Err(at(
                n,
                format!("{what} is {}, more than the {max} supported", readable(v)),
            ));
        }
        Ok(v.round() as u64)
    }

    fn dist(&self, d: &Spanned<DistSpec>) -> Result<Dist, ModelError> {
        let mean = |m| self.positive(m, "the mean");
        let r = match &d.value {
            DistSpec::Exponential(m) => Dist::exponential(mean(m)?),
            DistSpec::Deterministic(v) => Dist::deterministic(self.num(v)?),
            DistSpec::Uniform { min, max } => Dist::uniform(self.num(min)?, self.num(max)?),
            DistSpec::Erlang { k, mean: m } => {
                Dist::erlang(self.count(k, "k", 1000)? as u32, mean(m)?)
            }
            DistSpec::Hyperexponential { mean: m, cv } => {
                Dist::hyperexponential(mean(m)?, self.num(cv)?)
            }
            DistSpec::Lognormal { mean: m, cv } => Dist::lognormal(mean(m)?, self.num(cv)?),
            DistSpec::Gamma { mean: m, cv } => Dist::gamma(mean(m)?, self.num(cv)?),
            DistSpec::Normal { mean: m, sd } => Dist::normal(self.num(m)?, self.num(sd)?),
            DistSpec::Empirical {
                file,
                samples,
                scale,
            } => Dist::empirical(self.empirical(d, file.as_ref(), samples.as_deref(), scale)?),
        };
        r.map_err(|e| at(d, e.to_string()))
    }

    fn empirical(
        &self,
        d: &Spanned<DistSpec>,
        file: Option<&Spanned<String>>,
        samples: Option<&[Num]>,
        scale: &Option<Num>,
    ) -> Result<Vec<f64>, ModelError> {
        let scale = match scale {
            Some(s) => self.positive(s, "scale")?,
            None => 1.0,
        };
        let values: Vec<f64> = match (file, samples) {
            (Some(f), None) => self.samples[&f.value].clone()?,
            (None, Some(s)) => s.iter().map(|x| self.num(x)).collect::<Result<_, _>>()?,
            _ => return Err(at(d, "empirical needs either `file` or `samples`")),
        };
        Ok(values.into_iter().map(|x| x * scale).collect())
    }
}

/// Map entries in file order (serde gives a `HashMap`).
fn in_file_order<K, V>(
    map: impl IntoIterator<Item = (K, V)>,
    key: impl Fn(&K) -> (u64, u64),
) -> Vec<(K, V)> {
    let mut v: Vec<(K, V)> = map.into_iter().collect();
    v.sort_by_key(|(k, _)| key(k));
    v
}

/// A spanned value's (line, column).
fn loc<T>(s: &Spanned<T>) -> (u64, u64) {
    (s.referenced.line(), s.referenced.column())
}
