//! The questions `plan` answers at the base run's mix: the capacity
//! question (`--find`), the what-if (`--at`), each with the prediction
//! band of the held-out runs' errors and the estimation band of the
//! demands' intervals.
//!
//! The model predicts the requests' time on the CPUs; the non-CPU latency
//! the fit found (the latency offset) is added to every statistic, so an
//! objective on the measured time is asked of the model as the limit less
//! the offset.

use serde::Serialize;

use super::decide::Protocol;
use super::input::{At, Find, PlanError, PlanOptions, RunInput};
use super::model::{self, Kind, PROBE};
use crate::capacity::{self, Answer, Band, Query, Slo, Stat};
use crate::estimate::MIX;
use crate::model::{Params, Template, identifier};
use crate::qpn::Warmup;
use crate::study::ExperimentResult;
use crate::validate::{Calibration, Validation};

/// One class's fitted demand at the base run's load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassDemand {
    /// The class.
    pub class: String,
    /// Its demand, CPU seconds per request.
    pub demand_s: f64,
    /// Its 95 % interval, seconds.
    pub ci_s: Option<(f64, f64)>,
    /// Its share of the base run's requests.
    pub share: f64,
}

/// What the fit gave, at the base run's load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    /// The runs fitted.
    pub runs: Vec<String>,
    /// The method whose demands the model takes.
    pub method: String,
    /// Per class.
    pub classes: Vec<ClassDemand>,
    /// The background work's utilization at the base run's load.
    pub background_utilization: Option<f64>,
    /// The non-CPU time per request, seconds.
    pub latency_offset_s: f64,
    /// The base run.
    pub base: String,
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanAnswer {
    /// The question, in words.
    pub question: String,
    /// The parameter found (or the load of a what-if).
    pub param: String,
    /// The answer: the parameter's value, or the statistic (seconds) of a
    /// what-if; `None` when nothing in the range meets the objective.
    #[serde(serialize_with = "crate::number::whole_opt")]
    pub value: Option<f64>,
    /// Its unit.
    pub unit: &'static str,
    /// The band of the whole method's error, from the held-out runs.
    #[serde(serialize_with = "crate::number::whole_band")]
    pub prediction_band: Option<Band>,
    /// The band of the demands' intervals.
    #[serde(serialize_with = "crate::number::whole_band")]
    pub estimation_band: Option<Band>,
    /// Why there is no prediction band, or what it is.
    pub prediction_band_note: String,
    /// The fixed settings the question was asked at.
    #[serde(serialize_with = "crate::number::whole_map")]
    pub at: std::collections::BTreeMap<String, f64>,
    /// Where a `--find` searched (the base run's load / 20 to × 8; 1 to
    /// 64 containers or CPUs).
    #[serde(serialize_with = "crate::number::whole_opt_pair")]
    pub range: Option<(f64, f64)>,
    /// What happened, in words.
    pub verdict: String,
}

/// Every answer, the fit, and the open model's text when one was built.
pub(super) fn answers(
    p: &Protocol,
    o: &PlanOptions,
    runs: &[RunInput],
    base: &ExperimentResult,
    v: &Validation,
    model_yaml: &str,
    seed: u64,
) -> Result<(Vec<PlanAnswer>, Fit, Option<String>), PlanError> {
    let fit = fit(p, runs, base);
    let ctx = Context {
        offset: fit.latency_offset_s,
        calibration: calibration(v, o.slo.stat),
        seed,
        requests: o.requests,
    };
    let wants_open = o.find == Some(Find::ArrivalRate) && p.kind == Kind::Closed;
    let (kind, yaml) = if wants_open {
        (
            Kind::Open,
            model::doc(Kind::Open, &p.classes, p.pool).yaml(),
        )
    } else {
        (p.kind, model_yaml.to_string())
    };
    let template = Template::parse(&yaml, &|_| Err(std::io::Error::other("no files")))
        .map_err(|e| PlanError::Question(format!("the plan's model: {e}")))?;
    let mut params = base_params(&template, base, kind);
    let load = load_param(kind);
    let base_load = params.get(load).and_then(number).unwrap_or(1.0);
    let at_load = o.at.map(|a| match a {
        At::Times(k) => base_load * k,
        At::Value(x) => x,
    });
    let mut out = Vec::new();
    match o.find {
        Some(f @ (Find::Containers | Find::Cpus)) => {
            let l = round_load(kind, at_load.unwrap_or(base_load));
            params.set(load, l);
            out.push(ctx.find(&template, &params, f, &o.slo, (1.0, 64.0), &fit)?);
        }
        Some(f) => {
            let range = (
                round_load(kind, base_load / 20.0).max(1e-3),
                round_load(kind, base_load * 8.0),
            );
            out.push(ctx.find(&template, &params, f, &o.slo, range, &fit)?);
            if let Some(l) = at_load {
                out.push(ctx.what_if(
                    &template,
                    &params,
                    load,
                    round_load(kind, l),
                    &o.slo,
                    &fit,
                )?);
            }
        }
        None => {
            let l = round_load(kind, at_load.unwrap_or(base_load));
            out.push(ctx.what_if(&template, &params, load, l, &o.slo, &fit)?);
        }
    }
    Ok((out, fit, wants_open.then_some(yaml)))
}

struct Context {
    offset: f64,
    /// The held-out errors of the objective's statistic, or why none.
    calibration: Result<Calibration, NoCalibration>,
    seed: u64,
    /// Simulated requests per evaluation.
    requests: u64,
}

fn load_param(kind: Kind) -> &'static str {
    match kind {
        Kind::Closed => "users",
        Kind::Open => "arrival_rate",
    }
}

/// Users are whole.
fn round_load(kind: Kind, x: f64) -> f64 {
    match kind {
        Kind::Closed => x.round().max(1.0),
        Kind::Open => x,
    }
}

/// The base run's parameters as its prediction used them, for the
/// template's parameters; for the open model, its measured throughput as
/// the arrival rate.
fn base_params(template: &Template, base: &ExperimentResult, kind: Kind) -> Params {
    let mut params = Params::new();
    for (k, v) in &base.params {
        if template.has_param(k) || template.params().any(|(n, _)| expanded(n, k)) {
            params.set(k.clone(), *v);
        }
    }
    if kind == Kind::Open
        && let Some(t) = &base.traces
    {
        params.set("arrival_rate", t.throughput);
    }
    params
}

/// Whether `k` is one of the names `pattern` (`demand_{c}`) expands to.
fn expanded(pattern: &str, k: &str) -> bool {
    pattern.split_once("{c}").is_some_and(|(pre, post)| {
        k.starts_with(pre) && k.ends_with(post) && k.len() > pre.len() + post.len()
    })
}

fn fit(p: &Protocol, runs: &[RunInput], base: &ExperimentResult) -> Fit {
    let shares: Vec<f64> = p
        .classes
        .iter()
        .map(|c| {
            base.params
                .get(&format!("share_{}", identifier(c)))
                .copied()
                .unwrap_or(0.0)
        })
        .collect();
    let total: f64 = shares.iter().sum();
    let ci = |c: &str| -> Option<(f64, f64)> {
        let e = base.estimation.as_ref()?;
        let m = super::study::method().id();
        let row = |class: &str| {
            e.estimates
                .iter()
                .find(|r| r.method == m && r.class == class)
        };
        if row(c).is_some_and(|r| r.identifiable) {
            if let Some(l) = base
                .demand_at_load
                .as_ref()
                .filter(|l| l.fallback.is_none())
            {
                return l.classes.iter().find(|x| x.class == c).map(|x| x.ci_s);
            }
            let r = row(c)?;
            return Some((r.ci_low_s?, r.ci_high_s?));
        }
        // A class the runs cannot tell from the others has no interval of
        // its own: it takes the mix's, relative to the mix's estimate.
        let mix = row(MIX)?;
        let d = base.params.get(&format!("demand_{}", identifier(c)))?;
        (mix.demand_s > 0.0).then(|| {
            let scale = d / mix.demand_s;
            Some((mix.ci_low_s? * scale, mix.ci_high_s? * scale))
        })?
    };
    let classes = p
        .classes
        .iter()
        .zip(&shares)
        .map(|(c, s)| ClassDemand {
            class: c.clone(),
            demand_s: base
                .params
                .get(&format!("demand_{}", identifier(c)))
                .copied()
                .unwrap_or(f64::NAN),
            ci_s: ci(c),
            share: if total > 0.0 { s / total } else { 0.0 },
        })
        .collect();
    Fit {
        runs: p.fit.iter().map(|&i| runs[i].name.clone()).collect(),
        method: if base
            .demand_at_load
            .as_ref()
            .is_some_and(|l| l.fallback.is_none())
        {
            format!(
                "{}, each class's load form at the base run's load",
                super::study::method().id()
            )
        } else {
            super::study::method().id().to_string()
        },
        classes,
        background_utilization: base.params.get("background_u").copied(),
        latency_offset_s: base.latency_offset.as_ref().map_or(0.0, |l| l.offset_s),
        base: base.name.clone(),
    }
}

/// Why the answers have no prediction band.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum NoCalibration {
    /// The objective's statistic is not one validate measures.
    #[error(
        "no prediction band: the held-out runs measure errors of the mean and the p95, the objective is of the {0}"
    )]
    Statistic(Stat),
    /// The validation lacks it.
    #[error("no prediction band: {0}")]
    Missing(#[from] crate::validate::CalibrationError),
}

/// The held-out runs' errors of the objective's statistic (mean or p95).
fn calibration(v: &Validation, stat: Stat) -> Result<Calibration, NoCalibration> {
    let statistic = capacity::calibrated_statistic(stat).ok_or(NoCalibration::Statistic(stat))?;
    Ok(Calibration::from_validation(v, statistic)?)
}

impl Context {
    fn query(
        &self,
        params: &Params,
        param: &str,
        slo: &Slo,
        range: (f64, f64),
        integer: bool,
    ) -> Query {
        Query {
            param: param.into(),
            slo: *slo,
            probe: Some(PROBE.into()),
            range,
            integer,
            simulate_only: false,
            requests: self.requests,
            seed: self.seed,
            warmup: Warmup::Auto,
            base: params.clone(),
            binds: Vec::new(),
            calibration: self.calibration.as_ref().ok().cloned(),
            offset_s: self.offset,
            color: None,
        }
    }
}

fn with_demands(params: &Params, fit: &Fit, high: bool) -> Option<Params> {
    let mut p = params.clone();
    for c in &fit.classes {
        let (lo, hi) = c.ci_s?;
        let v = if high { hi } else { lo.max(f64::MIN_POSITIVE) };
        p.set(format!("demand_{}", identifier(&c.class)), v);
    }
    Some(p)
}

fn unit(param: &str) -> &'static str {
    match param {
        "arrival_rate" => "req/s",
        "users" => "users",
        "containers" => "containers",
        _ => "CPUs",
    }
}

impl Context {
    /// The `--find` question with its prediction band (solved at the
    /// band's ends, see [`capacity::search`]) and its estimation band
    /// (solved at the ends of the demands' intervals).
    fn find(
        &self,
        t: &Template,
        params: &Params,
        f: Find,
        slo: &Slo,
        range: (f64, f64),
        fit: &Fit,
    ) -> Result<PlanAnswer, PlanError> {
        let param = f.param();
        let question = format!(
            "{} with {}",
            match f {
                Find::ArrivalRate => "largest arrival rate",
                Find::Users => "most users",
                Find::Containers => "fewest containers",
                Find::Cpus => "fewest CPUs per container",
            },
            slo_text(slo)
        );
        let integer = f != Find::ArrivalRate;
        let q = self.query(params, param, slo, range, integer);
        let a = capacity::search(t, &q)?;
        let solve = |p: Params| -> Result<Option<f64>, PlanError> {
            let mut q = self.query(&p, param, slo, range, integer);
            q.calibration = None;
            Ok(capacity::search(t, &q)?.value)
        };
        let est = match (
            with_demands(params, fit, false),
            with_demands(params, fit, true),
        ) {
            (Some(lo), Some(hi)) => Some(order(&a, [solve(lo)?, solve(hi)?])),
            _ => None,
        };
        let note = match (
            &a.prediction_basis,
            &a.no_prediction_band,
            &self.calibration,
        ) {
            (Some(b), _, _) => b.label(),
            (None, Some(why), _) => why.clone(),
            (None, None, Err(why)) => why.to_string(),
            (None, None, Ok(_)) => String::new(),
        };
        Ok(PlanAnswer {
            question,
            param: param.into(),
            value: a.value,
            unit: unit(param),
            prediction_band: a.prediction_band,
            estimation_band: est,
            prediction_band_note: note,
            at: settings(params, Some(param)),
            range: Some(range),
            verdict: a.verdict.clone(),
        })
    }

    /// The statistic at one load, with both bands.
    fn what_if(
        &self,
        t: &Template,
        params: &Params,
        load: &str,
        value: f64,
        slo: &Slo,
        fit: &Fit,
    ) -> Result<PlanAnswer, PlanError> {
        let mut p = params.clone();
        p.set(load, value);
        let q = self.query(&p, load, slo, (value, value * 2.0), false);
        let eval = |p: &Params| -> Result<capacity::Evaluation, PlanError> {
            let mut q = q.clone();
            q.base = p.clone();
            Ok(capacity::evaluate(t, &q, value)?)
        };
        let at = eval(&p)?;
        let est = match (with_demands(&p, fit, false), with_demands(&p, fit, true)) {
            (Some(lo), Some(hi)) => Some([eval(&lo)?.stat_s, eval(&hi)?.stat_s]),
            _ => None,
        };
        let band = match (&self.calibration, at.stat_s) {
            (Ok(c), Some(s)) => c.band(s, at.utilization).map_err(|e| e.to_string()),
            (Err(why), _) => Err(why.to_string()),
            (_, None) => Err("no prediction band: the model has no steady state there".into()),
        };
        let (pred, note) = match band {
            Ok(b) => (Some([Some(b.low_s), Some(b.high_s)]), b.label()),
            Err(why) => (None, why),
        };
        let verdict = match at.stat_s {
            Some(s) if s <= slo.limit_s => format!("meets {}", slo_text(slo)),
            Some(_) => format!("misses {}", slo_text(slo)),
            None => "no steady state: the load exceeds the CPUs".into(),
        };
        Ok(PlanAnswer {
            question: format!(
                "{} at {load} = {}",
                slo_stat(slo),
                crate::number::shown(value)
            ),
            param: load.into(),
            value: at.stat_s,
            unit: "s",
            prediction_band: pred,
            estimation_band: est,
            prediction_band_note: note,
            at: settings(&p, None),
            range: None,
            verdict,
        })
    }
}

/// The fixed settings of a question (not the per-class tables, not the
/// parameter searched).
fn settings(p: &Params, searched: Option<&str>) -> std::collections::BTreeMap<String, f64> {
    p.iter()
        .filter(|(k, _)| {
            !k.starts_with("share_") && !k.starts_with("demand_") && Some(*k) != searched
        })
        .filter_map(|(k, v)| Some((k.to_string(), number(v)?)))
        .collect()
}

/// The answer's band ends in the order [low, high] of the parameter.
fn order(a: &Answer, ends: [Option<f64>; 2]) -> Band {
    match ends {
        [Some(x), Some(y)] if x > y => [Some(y), Some(x)],
        [x, y] if a.rising => [y, x],
        e => e,
    }
}

fn slo_stat(slo: &Slo) -> String {
    match slo.stat {
        Stat::Mean => "mean".into(),
        Stat::P(p) => format!("p{p}"),
    }
}

/// `p95 ≤ 50 ms`.
pub fn slo_text(slo: &Slo) -> String {
    let limit = if slo.limit_s < 1.0 {
        format!("{} ms", crate::number::shown(slo.limit_s * 1e3))
    } else {
        format!("{} s", crate::number::shown(slo.limit_s))
    };
    format!("{} ≤ {limit}", slo_stat(slo))
}

fn number(v: &crate::model::ParamValue) -> Option<f64> {
    match v {
        crate::model::ParamValue::Number(x) => Some(*x),
        crate::model::ParamValue::Expr(_) => None,
    }
}

impl PlanAnswer {
    /// `x` in the answer's unit, rounded for people (`69 users`, `68.68
    /// req/s`, `41.3 ms`, `1 container`).
    pub fn shown(&self, x: Option<f64>) -> String {
        let Some(v) = x else {
            return "none".into();
        };
        match self.unit {
            "s" => format!("{} ms", crate::number::shown((v * 1e4).round() / 10.0)),
            "req/s" => format!(
                "{} req/s",
                crate::number::shown((v * 100.0).round() / 100.0)
            ),
            unit if v == 1.0 => format!("1 {}", unit.trim_end_matches('s')),
            unit => format!("{} {unit}", crate::number::shown(v)),
        }
    }

    /// The answer, its bands each labelled, and what happened.
    pub fn lines(&self) -> Vec<String> {
        let band =
            |b: &Option<Band>| b.map(|[lo, hi]| format!("{} – {}", self.shown(lo), self.shown(hi)));
        let mut out = vec![format!("{}: {}", self.question, self.shown(self.value))];
        match band(&self.prediction_band) {
            Some(b) => out.push(format!("{b}  ({})", self.prediction_band_note)),
            None => out.push(self.prediction_band_note.clone()),
        }
        if let Some(b) = band(&self.estimation_band) {
            out.push(format!(
                "{b}  (estimation band: the demands' 95 % intervals)"
            ));
        }
        let searched = self.range.map(|(lo, hi)| {
            format!(
                "; searched {} to {}",
                self.shown(Some(lo)),
                self.shown(Some(hi))
            )
        });
        out.push(format!("{}{}", self.verdict, searched.unwrap_or_default()));
        out
    }
}
