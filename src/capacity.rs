//! Capacity questions: the largest value of a parameter (a load) or the
//! smallest (servers, containers) at which a response-time objective
//! holds, by bisection on the analytic solution where the model allows it
//! and on simulation otherwise.
//!
//! Percentiles are analytic only where the probe is one visit to one of a
//! set of identical open FCFS M/M/c stations (as in the shipped open
//! models): the waiting time is 0 with probability 1 − C and otherwise
//! exponential with rate cμ − λ, the response time adds the service. Any
//! other model's percentiles come from simulation.

use serde::Serialize;

use crate::bind::Bind;
use crate::load_scale::{self, LOAD_SCALE};
use crate::model::{ModelError, Params, Stability, Template};
use crate::qpn::{Dist, Scheduling, ValidNet, Warmup};
use crate::solve::{Analysis, analyse};
use crate::validate::calibration::Calibration;
use sim::simulated;

mod band;
mod pooled;
mod prediction;
mod range;
mod sim;
mod slo;

pub use prediction::{PredictionBasis, calibrated_statistic};
pub use range::{DefaultRange, default_range};
pub use slo::{Slo, Stat};

/// A band around an answer: [low, high], an end `None` where no value in
/// the range meets the objective.
pub type Band = [Option<f64>; 2];

/// What is wrong with a capacity question.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CapacityError {
    /// A colour the probe does not measure.
    #[error("probe `{probe}` has no class `{color}` (it measures {known})")]
    UnknownColor {
        /// The probe.
        probe: String,
        /// The colour asked.
        color: String,
        /// Its colours.
        known: String,
    },
    /// An objective that does not parse.
    #[error(
        "SLO `{0}`: expected STAT<=LIMIT, STAT one of mean, p50, p90, p95, p99 and LIMIT a time in ms or s, e.g. p95<=50ms or mean<=1.2s"
    )]
    Slo(String),
    /// A limit without its unit.
    #[error("SLO `{given}`: the limit needs a unit: {stat}<={number}ms or {stat}<={number}s")]
    SloUnit {
        /// The objective as given.
        given: String,
        /// Its statistic.
        stat: String,
        /// Its number.
        number: String,
    },
    /// The load multiplier cannot be used on this model.
    #[error("{0}")]
    LoadScale(#[from] crate::load_scale::LoadScaleError),
    /// A parameter the model does not have.
    #[error("the model has no parameter `{0}`")]
    UnknownParam(String),
    /// A probe the model does not have.
    #[error("the model has no probe `{0}`")]
    UnknownProbe(String),
    /// A bad range.
    #[error("range {lo}..{hi}: LO must be below HI")]
    Range {
        /// Low end.
        lo: f64,
        /// High end.
        hi: f64,
    },
    /// A calibration of another statistic than the objective's.
    #[error(
        "the calibration is of the {calibration}'s errors, the objective of the {slo}: a prediction band takes held-out errors of the objective's statistic (mean or p95)"
    )]
    Calibration {
        /// The calibration's statistic.
        calibration: String,
        /// The objective's.
        slo: String,
    },
    /// More simulated requests per evaluation than a search keeps.
    #[error(
        "{0} simulated requests per evaluation: more than the {max} a search keeps (it ranks every passage's time)",
        max = sim::MAX_REQUESTS
    )]
    Requests(u64),
    /// A model that cannot be evaluated at some value (not for lack of a
    /// steady state, which only fails the objective).
    #[error("at {param} = {value}: {why}")]
    Model {
        /// The parameter.
        param: String,
        /// Its value.
        value: f64,
        /// What went wrong.
        why: String,
    },
}

/// Quantile `p` (0–1) of the response time of an M/M/c FCFS queue with
/// arrival rate `lambda`, mean service `d` and `c` servers; `None` when it
/// has no steady state.
pub fn mmc_quantile(lambda: f64, d: f64, c: u32, p: f64) -> Option<f64> {
    let mu = 1.0 / d;
    let alpha = f64::from(c) * mu - lambda;
    if alpha <= 0.0 {
        return None;
    }
    let wait_prob = crate::numeric::erlang_c(c, lambda * d);
    // P(R > t): no wait (service alone), or an Exp(α) wait plus service.
    let tail = |t: f64| {
        let conv = if (alpha - mu).abs() < 1e-12 * mu {
            (-mu * t).exp() * (1.0 + mu * t)
        } else {
            (alpha * (-mu * t).exp() - mu * (-alpha * t).exp()) / (alpha - mu)
        };
        (1.0 - wait_prob) * (-mu * t).exp() + wait_prob * conv
    };
    let (mut lo, mut hi) = (0.0, d);
    while tail(hi) > 1.0 - p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) > 1.0 - p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// The statistic of one probe and colour at one parameter value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The parameter's value.
    #[serde(serialize_with = "crate::number::whole")]
    pub value: f64,
    /// The statistic, seconds (`None`: no steady state, or not measured).
    pub stat_s: Option<f64>,
    /// Its CI half-width (simulated means), seconds.
    pub ci_half_width_s: Option<f64>,
    /// The mean, seconds.
    pub mean_s: Option<f64>,
    /// How it was obtained (analytic method, `simulation`, or why none).
    pub method: String,
    /// The model's utilization there: the mean over its queueing places,
    /// from the analytic solver where it solves the model (and the search
    /// may be analytic), else from the simulation that gave the statistic
    /// (the mean's run, or the percentile's replications); as `validate`
    /// reads its calibration runs' (`model_utilization`, the simulated
    /// mean over the queueing places).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
    /// A simulated mean whose CI still held the target after 16 times the
    /// requests: the step was decided on the point estimate.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub uncertain: bool,
}

/// How each value is evaluated.
#[derive(Debug, Clone)]
pub struct Query {
    /// The parameter searched.
    pub param: String,
    /// The objective.
    pub slo: Slo,
    /// Probe (default the first).
    pub probe: Option<String>,
    /// Where to search.
    pub range: (f64, f64),
    /// Whole values only (servers, containers).
    pub integer: bool,
    /// Never analytic.
    pub simulate_only: bool,
    /// Simulated requests per evaluation.
    pub requests: u64,
    /// Simulation seed (the same at every value: common random numbers).
    pub seed: u64,
    /// Warm-up.
    pub warmup: Warmup,
    /// Fixed settings.
    pub base: Params,
    /// Parameters bound to estimated demands (their values apply; their
    /// joint draws give the answer's estimation band).
    pub binds: Vec<Bind>,
    /// Held-out errors of the objective's statistic (mean or p95): the
    /// answer then carries its prediction band (see [`prediction`]).
    pub calibration: Option<Calibration>,
    /// A constant time added to every statistic, seconds: latency outside
    /// the model (network, client), so that the objective is on the
    /// measured time (0: none).
    pub offset_s: f64,
    /// One colour of the probe (a request class) [default: all its
    /// colours together].
    pub color: Option<String>,
}

/// The answer to a capacity question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The parameter.
    pub param: String,
    /// The best value meeting the objective; `None` when none in the range
    /// does.
    #[serde(serialize_with = "crate::number::whole_opt")]
    pub value: Option<f64>,
    /// The bracket the answer lies in: [meets, fails] (or the reverse for a
    /// parameter the statistic falls with).
    #[serde(serialize_with = "crate::number::whole_pair")]
    pub interval: (f64, f64),
    /// Where the search looked.
    #[serde(serialize_with = "crate::number::whole_pair")]
    pub range: (f64, f64),
    /// Whether the statistic rises with the parameter (a load: the answer
    /// is the largest value meeting the objective), else falls (servers).
    #[serde(skip)]
    pub rising: bool,
    /// With bound demands: [low, high] of the answer solved at the 2.5 %
    /// and 97.5 % draws (see [`band`]); an end is `None` where no value in
    /// the range meets the objective.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::number::whole_band"
    )]
    pub estimation_band: Option<Band>,
    /// The joint draws behind `estimation_band`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimation_draws: Option<usize>,
    /// With a calibration: the band of the whole method's error (held-out
    /// runs), the question solved at the band's ends (see [`prediction`]);
    /// [low, high] as `estimation_band`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::number::whole_band"
    )]
    pub prediction_band: Option<Band>,
    /// What `prediction_band` is calibrated on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction_basis: Option<PredictionBasis>,
    /// With a calibration but no band: why (too few held-out runs), in
    /// words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_prediction_band: Option<String>,
    /// The objective, as given.
    pub slo: Slo,
    /// The probe and colour.
    pub probe: String,
    /// What happened, in words.
    pub verdict: String,
    /// The evaluation at `value` (or, when none meets the objective, at the
    /// best value tried).
    pub at: Evaluation,
    /// Every evaluation, in order.
    pub steps: Vec<Evaluation>,
}

/// Evaluates the objective's statistic at `value`.
///
/// # Errors
/// A model that cannot be built at that value for another reason than
/// stability.
pub fn evaluate(template: &Template, q: &Query, value: f64) -> Result<Evaluation, CapacityError> {
    let params = params_at(q, template, value)?;
    let model = match template.instantiate(&params, Stability::Reject) {
        Ok(m) => m,
        Err(e @ ModelError::Unstable { .. }) => {
            return Ok(Evaluation {
                value,
                stat_s: None,
                ci_half_width_s: None,
                mean_s: None,
                method: format!("unstable: {e}"),
                uncertain: false,
                utilization: None,
            });
        }
        Err(e) => {
            return Err(CapacityError::Model {
                param: q.param.clone(),
                value,
                why: e.to_string(),
            });
        }
    };
    let probe = q
        .probe
        .clone()
        .unwrap_or_else(|| model.net.probes[0].name.clone());
    let Some(p) = model.net.probes.iter().find(|p| p.name == probe) else {
        return Err(CapacityError::UnknownProbe(probe));
    };
    if let Some(c) = &q.color
        && !p.colors.iter().any(|&k| &model.net.colors[k] == c)
    {
        return Err(CapacityError::UnknownColor {
            probe,
            color: c.clone(),
            known: p
                .colors
                .iter()
                .map(|&k| model.net.colors[k].as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let solved = if q.simulate_only {
        None
    } else {
        analyse(&model.net).ok()
    };
    let mut e = match solved
        .as_ref()
        .and_then(|a| analytic(&model.net, a, &probe, q, value))
    {
        Some(e) => e,
        None => {
            let mut e = simulated(&model.net, &probe, q, value)?;
            e.utilization = solved
                .as_ref()
                .and_then(analytic_utilization)
                .or(e.utilization);
            e
        }
    };
    e.stat_s = e.stat_s.map(|s| s + q.offset_s);
    e.mean_s = e.mean_s.map(|s| s + q.offset_s);
    Ok(e)
}

/// The mean utilization of the queueing places in a simulation report
/// (over its rows per place and colour, as a study reads it).
pub(crate) fn simulated_utilization(report: &crate::qpn::SimReport) -> Option<f64> {
    let us: Vec<f64> = report.places.iter().filter_map(|p| p.utilization).collect();
    (!us.is_empty()).then(|| us.iter().sum::<f64>() / us.len() as f64)
}

/// The mean utilization of the queueing places the solver maps (one value
/// per place: its rows per colour share it).
pub(crate) fn analytic_utilization(a: &Analysis) -> Option<f64> {
    let mut seen: Vec<(&str, f64)> = Vec::new();
    for p in &a.places {
        if let Some(u) = p.utilization
            && !seen.iter().any(|(name, _)| *name == p.place)
        {
            seen.push((&p.place, u));
        }
    }
    let n = seen.len() as f64;
    (n > 0.0).then(|| seen.iter().map(|(_, u)| u).sum::<f64>() / n)
}

/// The settings at `value`: the base, the bound values, the searched
/// parameter (the [`LOAD_SCALE`] multiplying the loads).
fn params_at(q: &Query, template: &Template, value: f64) -> Result<Params, CapacityError> {
    let mut settings: Vec<(&str, f64)> = q
        .binds
        .iter()
        .map(|b| (b.param.as_str(), b.value))
        .collect();
    settings.push((&q.param, value));
    load_scale::apply(template, &q.base, &settings).map_err(CapacityError::from)
}

/// The analytic evaluation, where the solver maps the probe (and, for a
/// percentile, the model is identical open M/M/c stations visited once).
fn analytic(
    net: &ValidNet,
    a: &Analysis,
    probe: &str,
    q: &Query,
    value: f64,
) -> Option<Evaluation> {
    let stat = q.slo.stat;
    let mean = pooled::analytic_mean(net, a, probe, q.color.as_deref())?;
    let stat_s = match stat {
        Stat::Mean => mean,
        Stat::P(pct) => analytic_quantile(net, a, mean, f64::from(pct) / 100.0)?,
    };
    Some(Evaluation {
        value,
        stat_s: Some(stat_s),
        ci_half_width_s: Some(0.0),
        mean_s: Some(mean),
        method: a.method.clone(),
        uncertain: false,
        utilization: analytic_utilization(a),
    })
}

/// Quantile `p` (0–1) of a probe's response time whose analytic mean is
/// `probe_mean`, where the model is identical open M/M/c FCFS stations
/// visited once (else `None`: only simulation gives it).
pub fn analytic_quantile(
    net: &ValidNet,
    a: &crate::solve::Analysis,
    probe_mean: f64,
    p: f64,
) -> Option<f64> {
    mmc_stations(net, a, probe_mean).and_then(|(lambda, d, c)| mmc_quantile(lambda, d, c, p))
}

/// (λ per station, D, c) when every queueing place is the same FCFS
/// station with exponential service of one colour, all equally loaded,
/// and the probe's mean is one station's residence time (one visit).
fn mmc_stations(
    net: &ValidNet,
    a: &crate::solve::Analysis,
    probe_mean: f64,
) -> Option<(f64, f64, u32)> {
    let queues: Vec<_> = net.places.iter().filter_map(|p| p.queue.as_ref()).collect();
    let first = queues.first()?;
    let exp_mean = |q: &crate::qpn::Queue| {
        let ds: Vec<f64> = q
            .service
            .iter()
            .flatten()
            .map(|d| match d {
                Dist::Exponential { mean } => Some(*mean),
                _ => None,
            })
            .collect::<Option<Vec<f64>>>()?;
        (ds.len() == 1).then(|| ds[0])
    };
    let d = exp_mean(first)?;
    let same = |q: &&crate::qpn::Queue| {
        q.scheduling == Scheduling::Fcfs && q.servers == first.servers && exp_mean(q) == Some(d)
    };
    if !queues.iter().all(same) || a.places.is_empty() {
        return None;
    }
    let lambda = a.places[0].throughput;
    let all_equal = a.places.iter().all(|p| {
        (p.throughput - lambda).abs() <= 1e-9 * lambda
            && (p.mean_residence_s - probe_mean).abs() <= 1e-9 * probe_mean
    });
    all_equal.then_some((lambda, d, first.servers))
}

/// A factor on the statistic of an evaluation (1: the model's own; a
/// prediction band's end, see [`prediction`]).
type Scale<'a> = &'a dyn Fn(&Evaluation) -> f64;

/// [`evaluate`] with its statistic and CI multiplied by `scale` of it.
fn scaled(
    template: &Template,
    q: &Query,
    v: f64,
    scale: Scale,
) -> Result<Evaluation, CapacityError> {
    let mut e = evaluate(template, q, v)?;
    let f = scale(&e);
    if f != 1.0 {
        e.stat_s = e.stat_s.map(|x| x * f).filter(|x| x.is_finite());
        e.ci_half_width_s = e.ci_half_width_s.map(|h| h * f);
    }
    Ok(e)
}

/// [`evaluate`] (scaled), and, while a simulated statistic's CI holds the
/// target, again with 4 and 16 times the requests (the same seed; at most
/// `sim::MAX_REQUESTS`); still
/// unclear, it is marked `uncertain` and decided on the point estimate.
fn clear_of_target(
    template: &Template,
    q: &Query,
    v: f64,
    scale: Scale,
) -> Result<Evaluation, CapacityError> {
    let straddles = |e: &Evaluation| match (e.stat_s, e.ci_half_width_s) {
        (Some(x), Some(h)) => h > 0.0 && (x - q.slo.limit_s).abs() < h,
        _ => false,
    };
    let mut e = scaled(template, q, v, scale)?;
    let mut more = q.clone();
    for _ in 0..2 {
        if !straddles(&e) {
            return Ok(e);
        }
        let grown = (more.requests * 4).min(sim::MAX_REQUESTS.max(q.requests));
        if grown == more.requests {
            break;
        }
        more.requests = grown;
        e = scaled(template, &more, v, scale)?;
    }
    e.uncertain = straddles(&e);
    Ok(e)
}

/// Whether an evaluation meets the objective (no steady state never does).
fn meets(e: &Evaluation, slo: &Slo) -> bool {
    e.stat_s.is_some_and(|s| s <= slo.limit_s)
}

/// Answers the question by bisection over `q.range`: the statistic is
/// taken to move one way with the parameter (up with a load, down with
/// servers), judged from the two ends. With bound demands that have draws,
/// the answer carries its estimation band (see [`band`]); with a
/// calibration, its prediction band (see [`prediction`]).
///
/// # Errors
/// A bad range, an unknown parameter or probe, a model that cannot be
/// built, a calibration of another statistic than the objective's.
pub fn search(template: &Template, q: &Query) -> Result<Answer, CapacityError> {
    prediction::check(q)?;
    if q.requests > sim::MAX_REQUESTS {
        return Err(CapacityError::Requests(q.requests));
    }
    let mut a = solve(template, q)?;
    if let Some(c) = &q.calibration {
        prediction::fill(template, q, c, &mut a)?;
    }
    if let Some((ends, n)) = band::estimation_band(template, q, &a)? {
        a.estimation_band = Some(ends);
        a.estimation_draws = Some(n);
    }
    Ok(a)
}

/// [`search`] at the bound values alone (no band).
fn solve(template: &Template, q: &Query) -> Result<Answer, CapacityError> {
    solve_scaled(template, q, &|_| 1.0)
}

/// [`solve`] of the statistic times `scale`.
fn solve_scaled(template: &Template, q: &Query, scale: Scale) -> Result<Answer, CapacityError> {
    let (lo, hi) = q.range;
    if !template.has_param(&q.param) {
        if q.param != LOAD_SCALE {
            return Err(CapacityError::UnknownParam(q.param.clone()));
        }
        load_scale::check(template)?;
    }
    if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
        return Err(CapacityError::Range { lo, hi });
    }
    let mut steps = Vec::new();
    let mut eval = |v: f64| -> Result<Evaluation, CapacityError> {
        let e = clear_of_target(template, q, v, scale)?;
        steps.push(e.clone());
        Ok(e)
    };
    let (at_lo, at_hi) = (eval(lo)?, eval(hi)?);
    let probe = match &q.probe {
        Some(p) => p.clone(),
        None => first_probe(template, q, lo)?,
    };
    // Rising: the statistic grows with the parameter (or the high end has
    // no steady state); the answer is then the largest value that meets it.
    let rising = match (at_lo.stat_s, at_hi.stat_s) {
        (Some(a), Some(b)) => b >= a,
        (_, None) => true,
        (None, Some(_)) => false,
    };
    let (good_end, bad_end) = if rising {
        (at_lo, at_hi)
    } else {
        (at_hi, at_lo)
    };
    let word = if rising { "largest" } else { "smallest" };
    let answer = |value, interval, verdict, at, steps| Answer {
        rising,
        ..answer(&probe, q, value, interval, verdict, at, steps)
    };
    if meets(&bad_end, &q.slo) {
        return Ok(answer(
            Some(bad_end.value),
            (bad_end.value, bad_end.value),
            format!("met everywhere in the range: the {word} value tried is the range's end"),
            bad_end,
            steps,
        ));
    }
    if !meets(&good_end, &q.slo) {
        let v = good_end.value;
        return Ok(answer(
            None,
            (v, v),
            "no value in the range meets it; `at` is the best value tried".into(),
            good_end,
            steps,
        ));
    }
    let tolerance = tolerance(q);
    let (good, bad) = bisect(&mut eval, q, (good_end, bad_end.value), rising, tolerance)?;
    let verdict = format!(
        "the {word} value that meets it, to {}",
        if q.integer {
            "a whole number".to_string()
        } else {
            format!("{tolerance:.3e}")
        }
    );
    Ok(answer(
        Some(good.value),
        (good.value, bad),
        verdict,
        good,
        steps,
    ))
}

/// The bisection's tolerance: a whole number, or 1e-4 of the range.
fn tolerance(q: &Query) -> f64 {
    if q.integer {
        1.0
    } else {
        1e-4 * (q.range.1 - q.range.0)
    }
}

/// The model's first probe, at the range's low end.
fn first_probe(template: &Template, q: &Query, lo: f64) -> Result<String, CapacityError> {
    let params = params_at(q, template, lo)?;
    let model = template
        .instantiate(&params, Stability::Allow)
        .map_err(|e| CapacityError::Model {
            param: q.param.clone(),
            value: lo,
            why: e.to_string(),
        })?;
    Ok(model.net.probes[0].name.clone())
}

/// Bisection between a value that meets the objective and one that does
/// not, to `tolerance` (whole numbers with `q.integer`, rounded towards
/// the side that meets it): the last evaluation that meets it and the
/// nearest value that does not.
fn bisect(
    eval: &mut dyn FnMut(f64) -> Result<Evaluation, CapacityError>,
    q: &Query,
    (mut good, mut bad): (Evaluation, f64),
    rising: bool,
    tolerance: f64,
) -> Result<(Evaluation, f64), CapacityError> {
    while (bad - good.value).abs() > tolerance {
        let mid = 0.5 * (good.value + bad);
        let mid = if q.integer {
            if rising { mid.floor() } else { mid.ceil() }
        } else {
            mid
        };
        if mid == good.value || mid == bad {
            break;
        }
        let e = eval(mid)?;
        if meets(&e, &q.slo) {
            good = e;
        } else {
            bad = mid;
        }
    }
    Ok((good, bad))
}

fn answer(
    probe: &str,
    q: &Query,
    value: Option<f64>,
    interval: (f64, f64),
    verdict: String,
    at: Evaluation,
    steps: Vec<Evaluation>,
) -> Answer {
    Answer {
        param: q.param.clone(),
        value,
        interval,
        slo: q.slo,
        probe: probe.to_string(),
        verdict,
        at,
        steps,
        range: q.range,
        rising: true,
        estimation_band: None,
        estimation_draws: None,
        prediction_band: None,
        prediction_basis: None,
        no_prediction_band: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmc_quantiles_match_the_closed_forms() {
        // M/M/1: R is exponential with rate μ − λ, at several loads.
        for lambda in [1.0, 3.0, 6.0, 9.0, 9.9] {
            for p in [0.5f64, 0.9, 0.95, 0.99] {
                let want = -(1.0 - p).ln() / (10.0 - lambda);
                let got = mmc_quantile(lambda, 0.1, 1, p).unwrap();
                assert!(
                    (got - want).abs() < 1e-9 * want,
                    "λ {lambda} p {p}: {got} vs {want}"
                );
            }
        }
        // No wait at all as λ → 0: the service's own quantile.
        let q = mmc_quantile(1e-9, 1.0, 4, 0.9).unwrap();
        assert!((q - (10f64).ln()).abs() < 1e-6, "{q}");
        // α = μ (c = 2, λ = μ): the Erlang-2 tail e^{−μt}(1 + μt).
        let q = mmc_quantile(1.0, 1.0, 2, 0.95).unwrap();
        let c = crate::numeric::erlang_c(2, 1.0);
        let tail = (1.0 - c) * (-q).exp() + c * (-q).exp() * (1.0 + q);
        assert!((tail - 0.05).abs() < 1e-9, "{tail}");
        assert!(mmc_quantile(2.0, 1.0, 2, 0.5).is_none());
    }
}
