//! Whether a method's fit can be trusted on these data, in words: absurd
//! validation errors, utilization the traced requests do not explain
//! (background load), and, with several classes, per-class response times
//! that follow another discipline than the one assumed.
//!
//! And a response-time method whose queueing equation the measurements do
//! not follow across load ([`load_trend`]: a resource time-sliced by an
//! interpreter lock, a pool that queues outside the CPU). The check
//! compares whole runs (or, in one run, its quarters), never single
//! intervals: a test of the per-interval residual against utilization
//! flagged every response-time method on a trace generated from the very
//! model (−19 % from U = 0.56 to 0.95 on `traces/example`), because an
//! interval's counting noise moves its U and its R together.
//!
//! A distrusted method keeps its numbers but is kept out of `recommended`,
//! and the report says why.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use super::discipline::Discipline;
use super::estimator::Estimator;
use super::methods::Method;
use super::methods::rr::ResponseTimeRegression;
use super::observations::{Observations, Row};

/// A cross-validated relative error above this (the prediction off by
/// more than 2×) means the method failed on these data.
const ABSURD: f64 = 1.0;

/// Background utilization that counts: above this fraction...
const BACKGROUND_MIN: f64 = 0.02;
/// ...and this many standard errors above zero.
const BACKGROUND_T: f64 = 3.0;

/// Share of a class's throughput variance that is load, not counting
/// noise, for the background judgement to stand.
const MIN_RELIABILITY: f64 = 0.8;

/// var(load) / var(X) of class `r`: the reliability of its throughput as a
/// measure of its arrival rate.
fn reliability(obs: &Observations, r: usize) -> f64 {
    let n = obs.rows.len() as f64;
    let mean = obs.rows.iter().map(|x| x.throughput[r]).sum::<f64>() / n;
    let var = obs
        .rows
        .iter()
        .map(|x| (x.throughput[r] - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    let noise = obs
        .rows
        .iter()
        .map(|x| x.throughput[r] / x.length)
        .sum::<f64>()
        / n;
    if var <= 0.0 {
        0.0
    } else {
        ((var - noise) / var).max(0.0)
    }
}

/// Utilization that the traced requests do not explain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Background {
    /// The intercept of U = a + Σ X_r·D_r / c (fraction of capacity).
    pub utilization: f64,
    /// Its standard error.
    pub standard_error: f64,
}

/// The other discipline must fit the response times with at most this
/// share of the assumed one's error to count as clearly better.
const CLEARLY_BETTER: f64 = 0.85;

/// How well the per-class response times follow each discipline: the
/// mean relative residual (weighted by requests) of the observed-state
/// response equations fitted by `rr` under each. Where the classes'
/// demands are alike both fit the same; where they differ, FCFS makes
/// every class wait the same time and PS slows every class by the same
/// factor, and the measured times follow one of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisciplineFit {
    /// The discipline assumed.
    pub assumed: Discipline,
    /// Mean relative residual under FCFS.
    pub error_fcfs: f64,
    /// Mean relative residual under processor sharing.
    pub error_ps: f64,
    /// The other discipline, when it fits clearly better (its error at most
    /// 85 % of the assumed one's).
    pub better: Option<Discipline>,
}

/// [`DisciplineFit`] with several classes; `None` with one (both
/// disciplines give the same equations) or when `rr` cannot fit.
pub(super) fn discipline_fit(obs: &Observations) -> Option<DisciplineFit> {
    if obs.n_classes() < 2 {
        return None;
    }
    let rows: Vec<usize> = (0..obs.rows.len()).collect();
    // One copy of the observations serves both disciplines.
    let mut o = obs.clone();
    let mut error = |discipline: Discipline| -> Option<f64> {
        o.discipline = discipline;
        let d = ResponseTimeRegression.estimate(&o, &rows).ok()?;
        let (mut sum, mut weight) = (0.0, 0.0);
        for &i in &rows {
            for r in 0..o.n_classes() {
                let Some(eq) = o.response_equation(i, r) else {
                    continue;
                };
                let fit = crate::numeric::dot(&eq.coefficients, &d);
                sum += eq.requests as f64 * ((fit - eq.response) / eq.response).abs();
                weight += eq.requests as f64;
            }
        }
        (weight > 0.0).then(|| sum / weight)
    };
    let error_fcfs = error(Discipline::Fcfs)?;
    let error_ps = error(Discipline::Ps)?;
    let (own, other, alternative) = match obs.discipline {
        Discipline::Fcfs => (error_fcfs, error_ps, Discipline::Ps),
        Discipline::Ps => (error_ps, error_fcfs, Discipline::Fcfs),
    };
    Some(DisciplineFit {
        assumed: obs.discipline,
        error_fcfs,
        error_ps,
        better: (other <= CLEARLY_BETTER * own).then_some(alternative),
    })
}

/// What the data say against some methods' assumptions.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Evidence<'a> {
    /// Utilization the traced requests do not explain.
    pub background: Option<&'a Background>,
    /// How the response times follow each discipline.
    pub discipline: Option<&'a DisciplineFit>,
}

/// A discipline's name in a sentence.
fn named(d: Discipline) -> &'static str {
    match d {
        Discipline::Fcfs => "first come, first served",
        Discipline::Ps => "processor sharing",
    }
}

/// Why method `m`'s demands are not to be trusted, if they are not;
/// `trend` is [`load_trend`] of its demands (only response-time methods
/// have one).
pub(super) fn distrust(
    m: Method,
    errors: (Option<f64>, Option<f64>),
    evidence: Evidence<'_>,
    intercept: bool,
    trend: Option<&LoadTrend>,
) -> Option<String> {
    if let Some(t) = trend {
        return Some(format!(
            "its queueing equation does not follow the measured response times across load: the predicted mean is {:+.0} % off at utilization {:.2} but {:+.0} % off at {:.2} (± {:.0} %); the resource slows down with load otherwise than the model (a lock, a pool, caches), so its demands answer the response times of neither load",
            100.0 * t.low_error,
            t.low_utilization,
            100.0 * t.high_error,
            t.high_utilization,
            100.0 * t.standard_error
        ));
    }
    if let Some(f) = evidence
        .discipline
        .filter(|_| m.traits().splits_by_discipline)
        && let Some(better) = f.better
    {
        let (own, other) = match better {
            Discipline::Ps => (f.error_fcfs, f.error_ps),
            Discipline::Fcfs => (f.error_ps, f.error_fcfs),
        };
        return Some(format!(
            "its split between the classes assumes {}, but the measured response times follow {} better (errors {:.1} % against {:.1} %): rerun with --discipline {}",
            named(f.assumed),
            named(better),
            100.0 * own,
            100.0 * other,
            match better {
                Discipline::Ps => "ps",
                Discipline::Fcfs => "fcfs",
            }
        ));
    }
    if let Some(b) = evidence
        .background
        .filter(|_| m.traits().counts_background(intercept))
    {
        return Some(format!(
            "it counts the {:.3} of utilization that the traced requests do not explain (background load) as their demand",
            b.utilization
        ));
    }
    if let Some(e) = errors.0.filter(|e| *e > ABSURD) {
        return Some(format!(
            "its demands predict response times {:.0} % off the measured ones on average (more than 2×)",
            100.0 * e
        ));
    }
    if let Some(e) = errors.1.filter(|e| *e > ABSURD) {
        return Some(format!(
            "its demands predict a utilization {:.0} % off the measured one on average (more than 2×)",
            100.0 * e
        ));
    }
    None
}

/// The intercept of the utilization law with a constant, U = a + Σ X·D/c,
/// when it is clearly above zero: load on the resource that the traced
/// requests do not explain.
///
/// Judged only where the load varies well beyond the counting noise of
/// the throughputs: an interval's X counts a Poisson number of
/// completions, variance ≈ X/Δ, and at a steady load that noise is all
/// the variation there is; the regression then flattens its slope towards
/// 0 (regression dilution) and the intercept swallows the demand. (On a
/// clean 1 M-request trace at a constant rate, U 0.79, the intercept came
/// out 0.081 ± 0.011 before this guard.)
pub(super) fn background(obs: &Observations) -> Option<Background> {
    let n = obs.rows.len();
    let k = obs.n_classes();
    if n <= k + 1 || (0..k).any(|r| reliability(obs, r) < MIN_RELIABILITY) {
        return None;
    }
    let c = f64::from(obs.servers);
    let a = DMatrix::from_fn(n, k + 1, |i, j| match j {
        0 => 1.0,
        j => obs.rows[i].throughput[j - 1] / c,
    });
    let u = DVector::from_fn(n, |i, _| obs.rows[i].utilization);
    let fit = crate::numeric::least_squares(&a, &u)?;
    let x = fit.x;
    let s2 = fit.residual.norm_squared() / (n - k - 1) as f64;
    let se = (s2 * fit.inv_gram[(0, 0)]).sqrt();
    (x[0] > BACKGROUND_MIN && x[0] > BACKGROUND_T * se).then(|| Background {
        utilization: x[0],
        standard_error: se,
    })
}

/// The predicted mean response time off by more than this much more at
/// one load than at another...
const TREND_MIN: f64 = 0.15;
/// ...and by this many standard errors...
const TREND_T: f64 = 3.0;
/// ...between loads at least this far apart (utilization).
const TREND_SPAN: f64 = 0.15;
/// A single run is cut into this many stretches of time.
const SEGMENTS: usize = 4;
/// Consecutive intervals per block in a group's standard error (blocks,
/// not intervals: neighbouring intervals' response times are correlated).
const BLOCK: usize = 5;

/// How far off the steady-state prediction of the mean response time is
/// at the lowest and at the highest load, when the two differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadTrend {
    /// Mean predicted utilization of the least loaded run (or stretch).
    pub low_utilization: f64,
    /// (Predicted − measured) / measured mean response time there.
    pub low_error: f64,
    /// Mean predicted utilization of the most loaded one.
    pub high_utilization: f64,
    /// The relative error there.
    pub high_error: f64,
    /// Standard error of the difference between the two.
    pub standard_error: f64,
}

/// [`LoadTrend`] of method `m`'s demands `d`, for a method that fits
/// response times, when the relative error of the predicted
/// mean response time moves by more than [`TREND_MIN`] (and
/// [`TREND_T`] standard errors) between the least and the most loaded
/// group of intervals, [`TREND_SPAN`] apart in utilization. The groups
/// are the runs, or a single run's [`SEGMENTS`] stretches of time; each is
/// predicted at its own mean throughputs (a steady-state answer to its
/// mean load, as a capacity question asks it), and its error's standard
/// error comes from blocks of [`BLOCK`] intervals. `None` when the loads
/// are too close to tell or the errors agree.
pub(super) fn load_trend(obs: &Observations, m: Method, d: &[f64]) -> Option<LoadTrend> {
    if !m.traits().fits_response_times {
        return None;
    }
    let groups: Vec<std::ops::Range<usize>> = match obs.runs.len() {
        0 | 1 => {
            let n = obs.rows.len();
            (0..SEGMENTS)
                .map(|s| s * n / SEGMENTS..(s + 1) * n / SEGMENTS)
                .collect()
        }
        _ => obs.runs.iter().map(|r| r.rows.clone()).collect(),
    };
    let scored: Vec<(f64, f64, f64)> = groups
        .into_iter()
        .filter_map(|g| group_error(obs, d, g))
        .collect();
    let low = scored.iter().min_by(|a, b| a.0.total_cmp(&b.0))?;
    let high = scored.iter().max_by(|a, b| a.0.total_cmp(&b.0))?;
    let se = (low.2 * low.2 + high.2 * high.2).sqrt();
    let moved = (high.1 - low.1).abs();
    (high.0 - low.0 >= TREND_SPAN && moved > TREND_MIN && moved > TREND_T * se).then_some(
        LoadTrend {
            low_utilization: low.0,
            low_error: low.1,
            high_utilization: high.0,
            high_error: high.1,
            standard_error: se,
        },
    )
}

/// (Mean predicted utilization, relative error of the predicted mean
/// response time, its standard error) of the rows in `g`; `None` with
/// fewer than two blocks or no response time.
fn group_error(
    obs: &Observations,
    d: &[f64],
    g: std::ops::Range<usize>,
) -> Option<(f64, f64, f64)> {
    let n = obs.n_classes();
    let rows = &obs.rows[g];
    if rows.len() < 2 * BLOCK {
        return None;
    }
    let length: f64 = rows.iter().map(|r| r.length).sum();
    let x: Vec<f64> = (0..n)
        .map(|r| rows.iter().map(|w| w.throughput[r] * w.length).sum::<f64>() / length)
        .collect();
    let u = x.iter().zip(d).map(|(x, d)| x * d).sum::<f64>() / f64::from(obs.servers);
    if u >= 0.995 {
        return None;
    }
    let f = crate::numeric::response_factor(u, obs.servers);
    let predicted: Vec<f64> = (0..n)
        .map(|r| obs.discipline.response(&x, r, d, f))
        .collect();
    // Relative error of a set of rows: completion-weighted over classes.
    let error = |rows: &[Row]| -> Option<f64> {
        let (mut sum, mut weight) = (0.0, 0.0);
        for row in rows {
            for r in 0..n {
                if let Some(rt) = row.response[r].filter(|v| *v > 0.0) {
                    let w = row.completions[r] as f64;
                    sum += w * rt / predicted[r];
                    weight += w;
                }
            }
        }
        // predicted / (weighted mean of measured / predicted) − 1.
        (weight > 0.0 && sum > 0.0).then(|| weight / sum - 1.0)
    };
    let all = error(rows)?;
    let blocks: Vec<f64> = rows.chunks_exact(BLOCK).filter_map(error).collect();
    if blocks.len() < 2 {
        return None;
    }
    let m = blocks.len() as f64;
    let mean = blocks.iter().sum::<f64>() / m;
    let var = blocks.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (m - 1.0);
    Some((u, all, (var / m).sqrt()))
}
