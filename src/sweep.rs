//! What-if sweeps: a model solved over the Cartesian grid of some of its
//! parameters, analytically where it is product-form and by simulation
//! otherwise, with estimation bands from the estimated demand's bootstrap
//! draws, prediction bands from held-out errors ([`Calibration`]), and
//! deterministic shards that merge back into the whole.
//!
//! Every point draws its seed from the sweep seed and its own index, so any
//! subset of the points (a shard) gives the same numbers as the full run.
//! The module takes a parsed [`Template`] and values; it opens no files.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::bind::Bind;
use crate::load_scale::{self, LOAD_SCALE};
use crate::model::{ModelError, ParamValue, Params, Stability, Template};
use crate::qpn::{Control, RunConfig, StopRule, Warmup, simulate};
use crate::solve::analyse;
pub use crate::validate::calibration::{Calibration, Statistic};

/// Most points a grid may have.
const MAX_POINTS: usize = 10_000_000;

/// What is wrong with a sweep's request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SweepError {
    /// A `--grid` that does not parse.
    #[error("grid `{spec}`: {why}")]
    Axis {
        /// The specification as given.
        spec: String,
        /// What was expected.
        why: String,
    },
    /// No axis at all.
    #[error("the grid is empty: give at least one NAME=V1,V2,… or NAME=LO..HI:STEPS")]
    Empty,
    /// An axis over a parameter the model does not have.
    #[error("the model has no parameter `{0}`")]
    UnknownParam(String),
    /// Two axes over one parameter.
    #[error("`{0}` is swept twice")]
    Twice(String),
    /// Too many points.
    #[error("the grid has {0} points, more than 10,000,000")]
    TooLarge(usize),
    /// A shard that does not parse or is out of range.
    #[error("shard `{0}`: expected I/N with 1 ≤ I ≤ N")]
    Shard(String),
    /// The load multiplier cannot be used on this model.
    #[error("{0}")]
    LoadScale(#[from] crate::load_scale::LoadScaleError),
}

/// One swept parameter and its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Parameter name.
    pub name: String,
    /// Values, in order.
    pub values: Vec<f64>,
}

impl Axis {
    /// Parses `NAME=V1,V2,…` or `NAME=LO..HI:STEPS` (STEPS values from LO
    /// to HI inclusive, evenly spaced).
    ///
    /// # Errors
    /// [`SweepError::Axis`] naming what was expected.
    pub fn parse(spec: &str) -> Result<Self, SweepError> {
        let bad = |why: &str| SweepError::Axis {
            spec: spec.to_string(),
            why: why.to_string(),
        };
        let (name, rest) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected NAME=V1,V2,… or NAME=LO..HI:STEPS"))?;
        let number = |s: &str| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(&format!("`{}` is not a number", s.trim())))
        };
        let values = if let Some((range, steps)) = rest.split_once(':') {
            let (lo, hi) = range
                .split_once("..")
                .ok_or_else(|| bad("expected LO..HI:STEPS"))?;
            let (lo, hi) = (number(lo)?, number(hi)?);
            let steps: usize = steps
                .trim()
                .parse()
                .ok()
                .filter(|&s| s >= 1)
                .ok_or_else(|| bad("STEPS must be a whole number ≥ 1"))?;
            // Checked before the values are made (10⁹ steps took 8 GB).
            if steps > MAX_POINTS {
                return Err(bad(&format!(
                    "{steps} steps, more than the {MAX_POINTS} points a grid may have"
                )));
            }
            if lo > hi {
                return Err(bad(&format!("LO {lo} is above HI {hi}")));
            }
            if steps == 1 {
                vec![lo]
            } else {
                let step = (hi - lo) / (steps - 1) as f64;
                (0..steps).map(|k| lo + step * k as f64).collect()
            }
        } else {
            rest.split(',').map(number).collect::<Result<Vec<_>, _>>()?
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(bad("the parameter name is empty"));
        }
        Ok(Self {
            name: name.to_string(),
            values,
        })
    }
}

/// The Cartesian product of the axes; the last axis varies fastest.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The axes, in the order given.
    pub axes: Vec<Axis>,
}

impl Grid {
    /// A grid over `template`'s parameters.
    ///
    /// # Errors
    /// No axis, an axis over a parameter the model lacks, or too many
    /// points.
    pub fn new(axes: Vec<Axis>, template: &Template) -> Result<Self, SweepError> {
        if axes.is_empty() {
            return Err(SweepError::Empty);
        }
        if let Some(a) = axes.iter().find(|a| !template.has_param(&a.name)) {
            if a.name != LOAD_SCALE {
                return Err(SweepError::UnknownParam(a.name.clone()));
            }
            load_scale::check(template)?;
        }
        for (i, a) in axes.iter().enumerate() {
            if axes[..i].iter().any(|b| b.name == a.name) {
                return Err(SweepError::Twice(a.name.clone()));
            }
        }
        let len = axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
            .unwrap_or(usize::MAX);
        if len > MAX_POINTS {
            return Err(SweepError::TooLarge(len));
        }
        Ok(Self { axes })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Whether the grid has no point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The parameter values of point `index`.
    pub fn point(&self, index: usize) -> BTreeMap<String, f64> {
        let mut rest = index;
        let mut out = BTreeMap::new();
        for a in self.axes.iter().rev() {
            let n = a.values.len();
            out.insert(a.name.clone(), a.values[rest % n]);
            rest /= n;
        }
        out
    }
}

/// Shard `index` of `of` (1-based): the points whose index is
/// `index − 1` modulo `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which shard, 1 to `of`.
    pub index: usize,
    /// How many.
    pub of: usize,
}

impl Shard {
    /// Parses `I/N`.
    ///
    /// # Errors
    /// [`SweepError::Shard`].
    pub fn parse(s: &str) -> Result<Self, SweepError> {
        let bad = || SweepError::Shard(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, of): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > of {
            return Err(bad());
        }
        Ok(Self { index, of })
    }

    /// Whether point `i` is in this shard.
    pub fn holds(&self, i: usize) -> bool {
        i % self.of == self.index - 1
    }
}

/// A short fingerprint of an input's bytes (64-bit FNV-1a, hex): shards
/// record their inputs' so that `merge` can refuse parts run on other
/// data. Not cryptographic: it tells versions of a file apart.
pub fn fingerprint(bytes: &[u8]) -> String {
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{h:016x}")
}

/// How each point is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Analytically where the model is product-form, else by simulation.
    #[default]
    Auto,
    /// Analytically only (a point that is not product-form says why).
    Analytic,
    /// By simulation only.
    Simulate,
}

/// A sweep's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// How points are solved.
    pub method: Method,
    /// Simulated requests per point (first probe passages).
    pub requests: u64,
    /// Independent replications per simulated point (the CI is then
    /// across replications).
    pub replications: usize,
    /// Warm-up rule of the simulations.
    pub warmup: Warmup,
    /// The sweep's seed; point i simulates with a seed from it and i.
    pub seed: u64,
    /// Fixed settings (`--set`).
    pub base: Params,
    /// Parameters bound to estimated demands, their draws joined
    /// ([`crate::bind::join`]): draw k of every bind is one joint draw.
    pub binds: Vec<Bind>,
    /// A load multiplier at every point ([`LOAD_SCALE`]; a grid axis of it
    /// takes precedence).
    pub load_scale: Option<f64>,
    /// Only this shard's points.
    pub shard: Option<Shard>,
    /// Elasticities of every probe's mean at every point.
    pub sensitivity: bool,
    /// Held-out errors, at most one calibration per statistic (mean,
    /// p95): every point's prediction band of that statistic.
    pub calibrations: Vec<Calibration>,
}

/// One probe's prediction at one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbePrediction {
    /// Probe name.
    pub name: String,
    /// Colour.
    pub color: String,
    /// Mean response time, seconds.
    pub mean_s: Option<f64>,
    /// Half-width of its 95 % CI (simulation; 0 for an analytic mean).
    pub ci_half_width_s: Option<f64>,
    /// 95th percentile (simulated, or analytic where the model is
    /// identical open M/M/c FCFS stations visited once).
    pub p95_s: Option<f64>,
    /// 2.5 % quantile of the mean over the bound demand's draws.
    pub band_low_s: Option<f64>,
    /// 97.5 % quantile of it.
    pub band_high_s: Option<f64>,
    /// The prediction band of the mean (held-out errors, widened by the
    /// amplification at the point's utilization): its low end, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_low_s: Option<f64>,
    /// Its high end (`None`: beyond what a number holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_high_s: Option<f64>,
    /// The prediction band of the p95: its low end, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_prediction_low_s: Option<f64>,
    /// Its high end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_prediction_high_s: Option<f64>,
    /// With `sensitivity`: d ln R / d ln θ of the mean for every positive
    /// numeric parameter θ that can be moved (not whole-number ones such
    /// as servers).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub elasticities: BTreeMap<String, f64>,
}

/// One grid point's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Index in the grid.
    pub index: usize,
    /// Parameter values of the point (the grid's, and the bound ones).
    #[serde(serialize_with = "crate::number::whole_map")]
    pub params: BTreeMap<String, f64>,
    /// How it was solved: the analytic method, `simulation`, or why it has
    /// no numbers (e.g. `unstable: …`).
    pub method: String,
    /// The model's utilization there (mean over its queueing places), which
    /// the prediction band's widening reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
    /// Per probe and colour; empty when the point has no numbers.
    pub probes: Vec<ProbePrediction>,
}

pub use crate::stats::point_seed;

mod bands;
use bands::{band, prediction_bands};

/// Runs the sweep (this shard's points, in parallel); `tick` is called once
/// per point done.
pub fn run(template: &Template, grid: &Grid, cfg: &Config, tick: &(dyn Fn() + Sync)) -> Vec<Point> {
    let indices: Vec<usize> = (0..grid.len())
        .filter(|&i| cfg.shard.is_none_or(|s| s.holds(i)))
        .collect();
    indices
        .par_iter()
        .map(|&i| {
            let p = point(template, grid, cfg, i);
            tick();
            p
        })
        .collect()
}

/// Why a point has no numbers, in words (`unstable: …`, a model that
/// cannot be built, an analytic solution asked of a model that has none).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
struct NoAnswer(String);

/// A point solved: how, its probes, the model's utilization.
type Solved = (String, Vec<ProbePrediction>, Option<f64>);

/// The means, CIs and percentiles at one set of parameters, how they were
/// obtained, and the model's utilization; `Err` says why there are none.
fn solve_at(
    template: &Template,
    params: &Params,
    cfg: &Config,
    seed: u64,
) -> Result<Solved, NoAnswer> {
    let model = template
        .instantiate(params, Stability::Reject)
        .map_err(|e| match e {
            e @ ModelError::Unstable { .. } => NoAnswer(format!("unstable: {e}")),
            e => NoAnswer(e.to_string()),
        })?;
    let analytic = match cfg.method {
        Method::Simulate => None,
        _ => match analyse(&model.net) {
            Ok(a) => Some(a),
            Err(e) if cfg.method == Method::Analytic => return Err(NoAnswer(e.to_string())),
            Err(_) => None,
        },
    };
    if let Some(a) = analytic {
        // The p95 where `capacity` has it in closed form (M/M/c stations).
        let p95 =
            |mean: Option<f64>| crate::capacity::analytic_quantile(&model.net, &a, mean?, 0.95);
        let probes = a
            .probes
            .iter()
            .map(|p| prediction(&p.name, &p.color, p.mean_s, Some(0.0), p95(p.mean_s)))
            .collect();
        let u = crate::capacity::analytic_utilization(&a);
        return Ok((a.method, probes, u));
    }
    let run = RunConfig {
        stop: StopRule::Requests(cfg.requests),
        warmup: cfg.warmup,
        replications: cfg.replications.max(1),
        seed,
        ..RunConfig::default()
    };
    let report =
        simulate(&model.net, &run, Control::default()).map_err(|e| NoAnswer(e.to_string()))?;
    let probes = report
        .probes
        .iter()
        .map(|p| prediction(&p.name, &p.color, p.mean_s, p.ci_half_width_s, p.p95_s))
        .collect();
    let u = crate::capacity::simulated_utilization(&report);
    Ok(("simulation".into(), probes, u))
}

fn prediction(
    name: &str,
    color: &str,
    mean_s: Option<f64>,
    ci_half_width_s: Option<f64>,
    p95_s: Option<f64>,
) -> ProbePrediction {
    ProbePrediction {
        name: name.to_string(),
        color: color.to_string(),
        mean_s,
        ci_half_width_s,
        p95_s,
        band_low_s: None,
        band_high_s: None,
        prediction_low_s: None,
        prediction_high_s: None,
        p95_prediction_low_s: None,
        p95_prediction_high_s: None,
        elasticities: BTreeMap::new(),
    }
}

/// Point `index` of the grid.
fn point(template: &Template, grid: &Grid, cfg: &Config, index: usize) -> Point {
    let mut values = grid.point(index);
    if let Some(x) = cfg.load_scale {
        values.entry(LOAD_SCALE.to_string()).or_insert(x);
    }
    for b in &cfg.binds {
        values.insert(b.param.clone(), b.value);
    }
    let seed = point_seed(cfg.seed, index);
    let settings: Vec<(&str, f64)> = values.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let solved = load_scale::apply(template, &cfg.base, &settings)
        .map_err(|e| NoAnswer(e.to_string()))
        .and_then(|params| Ok((solve_at(template, &params, cfg, seed)?, params)));
    let (method, mut probes, utilization, params) = match solved {
        Ok(((method, probes, u), params)) => (method, probes, u, Some(params)),
        Err(why) => (why.0, Vec::new(), None, None),
    };
    prediction_bands(&cfg.calibrations, utilization, &mut probes);
    let draws = cfg.binds.first().map_or(0, |b| b.draws.len());
    if draws > 0 && !probes.is_empty() {
        band(template, &settings, cfg, seed, &mut probes);
    }
    if let Some(params) = params.filter(|_| cfg.sensitivity && !probes.is_empty()) {
        elasticities(template, &params, cfg, seed, &method, &mut probes);
    }
    Point {
        index,
        params: values,
        method,
        utilization,
        probes,
    }
}

/// d ln R / d ln θ by central differences in ln θ, for every positive
/// parameter whose moved values still make a model (whole-number ones
/// such as servers do not): a step of 1e-4 on an analytic point, 0.05 on a
/// simulated one (common random numbers: the point's seed).
fn elasticities(
    template: &Template,
    params: &Params,
    cfg: &Config,
    seed: u64,
    method: &str,
    probes: &mut [ProbePrediction],
) {
    let Ok(values) = template.resolve(params) else {
        return;
    };
    let h: f64 = if method == "simulation" { 0.05 } else { 1e-4 };
    for (name, &v) in values.iter().filter(|(_, v)| **v > 0.0) {
        let at = |f: f64| {
            let mut p = params.clone();
            p.set(name, ParamValue::Number(v * f));
            solve_at(template, &p, cfg, seed).ok().map(|x| x.1)
        };
        let (Some(up), Some(down)) = (at(h.exp()), at((-h).exp())) else {
            continue;
        };
        for probe in probes.iter_mut() {
            let mean = |ps: &[ProbePrediction]| {
                ps.iter()
                    .find(|q| q.name == probe.name && q.color == probe.color)
                    .and_then(|q| q.mean_s)
            };
            if let (Some(a), Some(b)) = (mean(&up), mean(&down)) {
                probe
                    .elasticities
                    .insert(name.clone(), (a.ln() - b.ln()) / (2.0 * h));
            }
        }
    }
}

/// Why a set of shards does not make the whole sweep.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    /// An index beyond the grid (index, grid size): parts of different
    /// sweeps.
    #[error("the parts are not of one sweep: point {0} is outside a grid of {1}")]
    Outside(usize, usize),
    /// Points missing.
    #[error("points missing: {}", indices(.0))]
    Missing(Vec<usize>),
    /// Points given twice.
    #[error("points given more than once: {}", indices(.0))]
    Duplicate(Vec<usize>),
}

/// A short list of indices (the first 20, then how many more).
fn indices(v: &[usize]) -> String {
    let shown: Vec<String> = v.iter().take(20).map(usize::to_string).collect();
    if v.len() > 20 {
        format!("{} and {} more", shown.join(", "), v.len() - 20)
    } else {
        shown.join(", ")
    }
}

/// Merges the points of several shards of one grid of `len` points into
/// the whole, in index order.
///
/// # Errors
/// Missing or duplicated points, named.
pub fn merge(len: usize, parts: Vec<Vec<Point>>) -> Result<Vec<Point>, MergeError> {
    by_index(len, parts.into_iter().flatten(), |p| p.index)
}

/// `items` of indices 0 to `len` − 1, each given once, in index order.
///
/// # Errors
/// [`MergeError`]: an index outside, missing or given more than once.
pub(crate) fn by_index<T>(
    len: usize,
    items: impl IntoIterator<Item = T>,
    index: impl Fn(&T) -> usize,
) -> Result<Vec<T>, MergeError> {
    let mut slots: Vec<Option<T>> = std::iter::repeat_with(|| None).take(len).collect();
    let mut twice = Vec::new();
    for p in items {
        let i = index(&p);
        match slots.get_mut(i) {
            None => return Err(MergeError::Outside(i, len)),
            Some(Some(_)) => twice.push(i),
            Some(slot) => *slot = Some(p),
        }
    }
    if !twice.is_empty() {
        twice.sort_unstable();
        twice.dedup();
        return Err(MergeError::Duplicate(twice));
    }
    let missing: Vec<usize> = (0..len).filter(|&i| slots[i].is_none()).collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing(missing));
    }
    Ok(slots.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_parse_lists_and_ranges_and_refuse_the_rest() {
        let a = Axis::parse("rate=1,2.5, 4").unwrap();
        assert_eq!((a.name.as_str(), a.values), ("rate", vec![1.0, 2.5, 4.0]));
        let a = Axis::parse("u=0.2..0.8:4").unwrap();
        let want = [0.2, 0.4, 0.6, 0.8];
        assert!(
            a.values
                .iter()
                .zip(want)
                .all(|(x, y)| (x - y).abs() < 1e-12)
        );
        for bad in [
            "rate",
            "rate=",
            "rate=1,x",
            "u=0.8..0.2:3",
            "u=0..1:0",
            "=1",
        ] {
            assert!(Axis::parse(bad).is_err(), "{bad}");
        }
        let e = Axis::parse("u=0.8..0.2:3").unwrap_err().to_string();
        assert!(e.contains("LO 0.8 is above HI 0.2"), "{e}");
    }

    #[test]
    fn points_enumerate_the_product_with_the_last_axis_fastest() {
        let grid = Grid {
            axes: vec![
                Axis::parse("a=1,2").unwrap(),
                Axis::parse("b=10,20,30").unwrap(),
            ],
        };
        assert_eq!(grid.len(), 6);
        let p = grid.point(4);
        assert_eq!((p["a"], p["b"]), (2.0, 20.0));
    }

    #[test]
    fn fingerprints_are_fnv1a_and_tell_one_byte_apart() {
        // FNV-1a's published test vectors (Fowler, Noll, Vo).
        assert_eq!(fingerprint(b""), "cbf29ce484222325");
        assert_eq!(fingerprint(b"a"), "af63dc4c8601ec8c");
        assert_ne!(fingerprint(b"rate: 1.0"), fingerprint(b"rate: 1.1"));
    }

    #[test]
    fn shards_partition_the_points_and_merge_refuses_gaps_and_repeats() {
        let shards: Vec<Shard> = (1..=3)
            .map(|i| Shard::parse(&format!("{i}/3")).unwrap())
            .collect();
        for i in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.holds(i)).count(), 1);
        }
        for bad in ["0/3", "4/3", "1", "a/b"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let pt = |index| Point {
            index,
            params: BTreeMap::new(),
            method: String::new(),
            utilization: None,
            probes: Vec::new(),
        };
        let merged = merge(3, vec![vec![pt(2), pt(0)], vec![pt(1)]]).unwrap();
        assert_eq!(
            merged.iter().map(|p| p.index).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(
            merge(3, vec![vec![pt(0)]]),
            Err(MergeError::Missing(vec![1, 2]))
        );
        assert_eq!(
            merge(2, vec![vec![pt(0), pt(1)], vec![pt(1)]]),
            Err(MergeError::Duplicate(vec![1]))
        );
    }
}
