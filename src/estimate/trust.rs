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

/// Runs whose class shares differ by at most this much (each share) are
/// one mix.
const SAME_MIX: f64 = 0.05;

/// The rows of the runs of each mix (runs whose class shares are within
/// [`SAME_MIX`] of the group's first run), in order.
fn mix_groups(obs: &Observations) -> Vec<Vec<usize>> {
    let shares = |span: &std::ops::Range<usize>| -> Vec<f64> {
        let done: Vec<f64> = (0..obs.n_classes())
            .map(|r| obs.rows[span.clone()].iter().map(|x| x.throughput[r]).sum())
            .collect();
        let total = done.iter().sum::<f64>().max(f64::MIN_POSITIVE);
        done.iter().map(|d| d / total).collect()
    };
    let spans: Vec<std::ops::Range<usize>> = match obs.runs.is_empty() {
        true => std::iter::once(0..obs.rows.len()).collect(),
        false => obs.runs.iter().map(|r| r.rows.clone()).collect(),
    };
    let mut groups: Vec<(Vec<f64>, Vec<usize>)> = Vec::new();
    for span in spans {
        let mix = shares(&span);
        let same = |g: &&mut (Vec<f64>, Vec<usize>)| {
            g.0.iter().zip(&mix).all(|(a, b)| (a - b).abs() <= SAME_MIX)
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => g.1.extend(span),
            None => groups.push((mix, span.collect())),
        }
    }
    groups.into_iter().map(|g| g.1).collect()
}

/// var(load) / var(X) of class `r` within the `groups` (each about its
/// own mean): the reliability of its throughput as a measure of its
/// arrival rate where the mix is the same. `None` when the class never
/// varies there.
fn reliability(obs: &Observations, groups: &[Vec<usize>], r: usize) -> Option<f64> {
    let (mut var, mut noise, mut n) = (0.0, 0.0, 0.0);
    for g in groups {
        let mean = g.iter().map(|&i| obs.rows[i].throughput[r]).sum::<f64>() / g.len() as f64;
        for &i in g {
            let x = &obs.rows[i];
            var += (x.throughput[r] - mean).powi(2);
            noise += x.throughput[r] / x.length;
            n += 1.0;
        }
    }
    let dof = n - groups.len() as f64;
    if dof < 1.0 {
        return Some(0.0);
    }
    let (var, noise) = (var / dof, noise / n);
    (var > 0.0 || noise > 0.0).then(|| {
        if var <= 0.0 {
            0.0
        } else {
            ((var - noise) / var).max(0.0)
        }
    })
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

/// What the checks found of one method's demands.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Findings<'a> {
    /// Its cross-validated response-time and utilization errors.
    pub errors: (Option<f64>, Option<f64>),
    /// [`load_trend`] of its demands (only response-time methods have one).
    pub trend: Option<&'a LoadTrend>,
    /// [`above_response`] of its demands.
    pub above: Option<&'a AboveResponse>,
}

/// Why method `m`'s demands are not to be trusted, if they are not.
pub(super) fn distrust(
    m: Method,
    findings: Findings<'_>,
    evidence: Evidence<'_>,
    intercept: bool,
) -> Option<String> {
    let errors = findings.errors;
    if let Some(t) = findings.trend {
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
    if let Some(a) = findings.above.filter(|a| !a.least_response_s.is_finite()) {
        return Some(format!(
            "its demand of {} ({:.4} s) would saturate the resource at the measured throughputs (utilization {:.2}, averaged over the runs), so its requests would wait without end, where they took {:.4} s on average: a demand that large does not fit the measurements",
            a.class, a.demand_s, a.utilization, a.measured_s
        ));
    }
    if let Some(a) = findings.above {
        return Some(format!(
            "its demand of {} ({:.4} s) would take at least {:.4} s at the utilization {:.2} it gives the measured throughputs (the model's queueing there), more than the measured mean response time {:.4} s: a demand that large does not fit the measurements",
            a.class, a.demand_s, a.least_response_s, a.utilization, a.measured_s
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
/// Only variation in load at one mix can show it: the runs are grouped by
/// their class mix ([`mix_groups`]) and each group has demands of its
/// own, so that differences between the mixes (per-class demands that are
/// not constant across mixes, classes that are really several) never
/// read as background. (Across three runs of three mixes, one of them
/// 0.1 cheaper than its classes' demands, the single regression found a
/// background of 0.18 ± 0.007.)
///
/// Judged only where the load within a mix varies well beyond the
/// counting noise of the throughputs: an interval's X counts a Poisson
/// number of completions, variance ≈ X/Δ, and at a steady load that noise
/// is all the variation there is; the regression then flattens its slope
/// towards 0 (regression dilution) and the intercept swallows the demand.
/// (On a clean 1 M-request trace at a constant rate, U 0.79, the
/// intercept came out 0.081 ± 0.011 before this guard.)
pub(super) fn background(obs: &Observations) -> Option<Background> {
    let groups = mix_groups(obs);
    let k = obs.n_classes();
    // Per group, the classes it has: its columns.
    let mut columns: Vec<(usize, usize)> = Vec::new();
    for (g, rows) in groups.iter().enumerate() {
        for r in 0..k {
            if rows.iter().any(|&i| obs.rows[i].throughput[r] > 0.0) {
                columns.push((g, r));
            }
        }
    }
    let n = obs.rows.len();
    let reliable =
        (0..k).all(|r| reliability(obs, &groups, r).is_none_or(|v| v >= MIN_RELIABILITY));
    if n <= columns.len() + 1 || !reliable {
        return None;
    }
    let mut group_of = vec![0; n];
    for (g, rows) in groups.iter().enumerate() {
        rows.iter().for_each(|&i| group_of[i] = g);
    }
    let c = f64::from(obs.servers);
    let a = DMatrix::from_fn(n, columns.len() + 1, |i, j| match j {
        0 => 1.0,
        j => {
            let (g, r) = columns[j - 1];
            if group_of[i] == g {
                obs.rows[i].throughput[r] / c
            } else {
                0.0
            }
        }
    });
    let u = DVector::from_fn(n, |i, _| obs.rows[i].utilization);
    let fit = crate::numeric::least_squares(&a, &u)?;
    let x = fit.x;
    let s2 = fit.residual.norm_squared() / (n - columns.len() - 1) as f64;
    let se = (s2 * fit.inv_gram[(0, 0)]).sqrt();
    (x[0] > BACKGROUND_MIN && x[0] > BACKGROUND_T * se).then(|| Background {
        utilization: x[0],
        standard_error: se,
    })
}

/// A demand the measured response times rule out: at the utilization the
/// demands give the measured throughputs, the model's queueing would make
/// the class's requests take longer than they did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AboveResponse {
    /// The class (or [`super::MIX`], the mix-weighted mean).
    pub class: String,
    /// The demand, seconds.
    pub demand_s: f64,
    /// The least mean response time the model gives it, seconds.
    pub least_response_s: f64,
    /// The measured mean response time, seconds.
    pub measured_s: f64,
    /// The utilization the demands give the mean measured throughputs.
    pub utilization: f64,
}

/// Measured means may sit this far below the model's least response time
/// (besides 3 standard errors) before a demand is ruled out.
const ABOVE_SLACK: f64 = 0.05;

/// The first class (of the `identifiable` ones, then the mix-weighted
/// mean of all) whose demand in `d` the measured response times rule out.
///
/// The test: the model's steady-state response time with the method's
/// own demands at each run's mean measured throughputs (U = Σ X̄·D / c,
/// the queueing the model adds when it is given these demands; per run,
/// since runs of other mixes and loads queue differently), against the
/// measured mean response time; ruled out above it by more than 5 % and 3
/// standard errors (of the per-interval means). For processor sharing
/// that is D·f(U) > R̄ (one server: D > R̄·(1 − U)); for FCFS D_r + (f −
/// 1)·D̄. The factor f is convex in U, so at the mean load it is at most
/// the mean of the intervals' factors (Jensen): the test errs towards
/// keeping a method. The measured utilization is not used: a series that
/// also counts work the requests do not wait behind (other cores, a
/// foreign process) would rule out the right demands. Background work on
/// the CPU and non-CPU latency only lengthen the measured times, which
/// also keeps methods.
pub(super) fn above_response(
    obs: &Observations,
    d: &[f64],
    identifiable: Option<&[bool]>,
) -> Option<AboveResponse> {
    let n = obs.n_classes();
    let spans: Vec<std::ops::Range<usize>> = match obs.runs.is_empty() {
        true => std::iter::once(0..obs.rows.len()).collect(),
        false => obs.runs.iter().map(|r| r.rows.clone()).collect(),
    };
    // Per run, at its own mean throughputs: (utilization, each class's
    // least response time, infinite where the demands saturate it).
    let per_run: Vec<(f64, Vec<f64>)> = spans
        .iter()
        .map(|span| {
            let rows = &obs.rows[span.clone()];
            let length: f64 = rows
                .iter()
                .map(|r| r.length)
                .sum::<f64>()
                .max(f64::MIN_POSITIVE);
            let x: Vec<f64> = (0..n)
                .map(|r| rows.iter().map(|w| w.throughput[r] * w.length).sum::<f64>() / length)
                .collect();
            let u = crate::numeric::dot(&x, d) / f64::from(obs.servers);
            let f = crate::numeric::response_factor(u.min(0.995), obs.servers);
            let least = (0..n)
                .map(|r| match u < 0.995 {
                    true => obs.discipline.response(&x, r, d, f),
                    false => f64::INFINITY,
                })
                .collect();
            (u, least)
        })
        .collect();
    let per_class = (0..n).filter(|&r| identifiable.is_none_or(|id| id[r]));
    let mix: Vec<usize> = (0..n).collect();
    per_class
        .map(|r| (obs.classes[r].clone(), vec![r]))
        .chain(std::iter::once((super::MIX.to_string(), mix)))
        .find_map(|(class, set)| {
            above_for(obs, d, &spans, &per_run, &set).map(|a| AboveResponse { class, ..a })
        })
}

/// [`above_response`] for the classes `set` together (completion-weighted)
/// with each run's (`spans`) utilization and least response times.
fn above_for(
    obs: &Observations,
    d: &[f64],
    spans: &[std::ops::Range<usize>],
    per_run: &[(f64, Vec<f64>)],
    set: &[usize],
) -> Option<AboveResponse> {
    let (mut w, mut wr, mut wd, mut wl, mut wu) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (span, (u, least)) in spans.iter().zip(per_run) {
        for row in &obs.rows[span.clone()] {
            for &r in set {
                if let Some(rt) = row.response[r] {
                    let n = row.completions[r] as f64;
                    (w, wr, wd) = (w + n, wr + n * rt, wd + n * d[r]);
                    (wl, wu) = (wl + n * least[r], wu + n * u);
                }
            }
        }
    }
    if w <= 0.0 {
        return None;
    }
    let measured = wr / w;
    let mut var = 0.0;
    for row in &obs.rows {
        for &r in set {
            if let Some(rt) = row.response[r] {
                var += (row.completions[r] as f64 * (rt - measured)).powi(2);
            }
        }
    }
    let (least, se) = (wl / w, var.sqrt() / w);
    (least > measured * (1.0 + ABOVE_SLACK) + 3.0 * se).then(|| AboveResponse {
        class: String::new(),
        demand_s: wd / w,
        least_response_s: least,
        measured_s: measured,
        utilization: wu / w,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::RunSpan;
    use crate::estimate::testdata::{estimated, quick};

    /// Runs at steady loads, one per `(xa, xb, background)`, 40 rows of 30
    /// s each, demands 0.02 s (a) and 0.04 s (b) on one processor-sharing
    /// server: throughputs with their counting noise (± √(X/Δ)), the
    /// utilization the requests and the background give, responses
    /// D/(1 − U).
    fn steady_runs(runs: &[(f64, f64, f64)]) -> Observations {
        let d = [0.02, 0.04];
        let mut rows = Vec::new();
        let mut spans = Vec::new();
        for (k, &(xa, xb, bg)) in runs.iter().enumerate() {
            let first = rows.len();
            for i in 0..40 {
                let t = (k * 40 + i) as f64;
                let wobble = |x: f64, p: f64| x + (x / 30.0).sqrt() * (t * p).sin() * 1.4;
                let x = [wobble(xa, 0.77), wobble(xb, 1.31)];
                let u = bg + x[0] * d[0] + x[1] * d[1];
                let r: Vec<f64> = d.iter().map(|d| d / (1.0 - u)).collect();
                rows.push(Row {
                    length: 30.0,
                    throughput: x.to_vec(),
                    response: r.iter().map(|r| Some(*r)).collect(),
                    completions: x.iter().map(|x| (x * 30.0) as u64).collect(),
                    utilization: u,
                    in_system: x.iter().zip(&r).map(|(x, r)| x * r).collect(),
                    arrived: Vec::new(),
                });
            }
            spans.push(RunSpan {
                name: format!("run{k}"),
                rows: first..rows.len(),
            });
        }
        let mut obs = Observations::new(vec!["a".into(), "b".into()], 1, rows);
        obs.runs = spans;
        obs.discipline = Discipline::Ps;
        obs
    }

    #[test]
    fn the_background_test_reads_load_within_a_mix_never_the_mixes() {
        // Three runs, three mixes, no background: the mixed run is cheaper
        // than the per-class demands say (its requests share caches), so
        // no U = a + Σ X·D fits all three; the old test, regressing across
        // the mixes, read that as a background of 0.2.
        let mut obs = steady_runs(&[(10.0, 0.0, 0.0), (0.0, 5.0, 0.0), (5.0, 5.0, 0.0)]);
        for r in &mut obs.rows[80..] {
            r.utilization -= 0.1;
        }
        assert_eq!(background(&obs), None);
        // Two runs of one mix at different loads show a background of 0.1.
        let obs = steady_runs(&[(5.0, 5.0, 0.1), (2.0, 2.0, 0.1)]);
        let b = background(&obs).expect("detected");
        assert!((b.utilization - 0.1).abs() < 0.005, "{b:?}");
        // And one run at a steady load shows nothing.
        let obs = steady_runs(&[(5.0, 5.0, 0.1)]);
        assert_eq!(background(&obs), None);
    }

    /// One steady run of class `a` whose utilization series also counts
    /// `foreign` of a process on other cores (the requests do not wait
    /// behind it).
    fn with_foreign(foreign: f64) -> Observations {
        let two = steady_runs(&[(10.0, 0.0, 0.0)]);
        let rows = two.rows.iter().map(|r| Row {
            throughput: r.throughput[..1].to_vec(),
            response: r.response[..1].to_vec(),
            completions: r.completions[..1].to_vec(),
            in_system: r.in_system[..1].to_vec(),
            utilization: r.utilization + foreign,
            ..r.clone()
        });
        let mut obs = Observations::new(vec!["a".into()], 1, rows.collect());
        obs.discipline = Discipline::Ps;
        obs
    }

    #[test]
    fn a_demand_that_saturates_the_resource_says_so_without_an_infinite_time() {
        // 0.9 of a foreign process: the utilization law gives about 0.11 s
        // per request, 1.1 of the resource at 10 requests/s (it used to
        // say "would take at least inf s").
        let r = estimated(&with_foreign(0.9), &quick(Method::ALL));
        let saturating: Vec<&str> = r
            .estimates
            .iter()
            .filter_map(|e| e.distrusted.as_deref())
            .filter(|why| why.contains("saturate"))
            .collect();
        assert!(!saturating.is_empty(), "{:?}", r.estimates);
        for why in saturating {
            assert!(!why.contains("inf"), "{why}");
        }
    }

    #[test]
    fn a_demand_above_the_measured_response_time_is_not_trusted() {
        // One steady run whose utilization series also counts 0.15 of a
        // foreign process on other cores (the requests do not wait behind
        // it): the utilization-law methods put it on the requests, a mean
        // demand of 0.035 s, which the queueing at the 0.35 it gives would
        // make take 0.054 s where the requests took 0.025 s; their
        // errors stay under 2×, which the old checks let pass.
        let r = estimated(&with_foreign(0.15), &quick(Method::ALL));
        // The least response time the model gives a demand at the
        // utilization it gives 10 requests/s.
        let least = |d: f64| d / (1.0 - 10.0 * d);
        let measured = 0.02 / (1.0 - 0.2);
        let mut ruled_out = 0;
        for e in &r.estimates {
            if least(e.demand_s) > 1.1 * measured {
                ruled_out += 1;
                let why = e.distrusted.as_deref().unwrap_or_default();
                assert!(why.contains("measured mean response time"), "{e:?}");
                assert_ne!(r.recommended.as_deref(), Some(e.method.as_str()));
            }
        }
        // The utilization-law methods at least (0.035 s).
        let over = |id: &str| {
            Method::from_id(id)
                .unwrap()
                .traits()
                .counts_background(false)
        };
        assert!(ruled_out >= r.estimates.iter().filter(|e| over(&e.method)).count());
        assert!(ruled_out >= 3, "{ruled_out}");
    }
}
