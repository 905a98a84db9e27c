//! Measured against simulated response times: the error of the mean and of
//! the percentiles, and distances between the two distributions.
//!
//! Sign convention (the reference study's): error % = (measured −
//! simulated) / measured × 100, so a positive error means the model is too
//! optimistic (it predicts faster responses than were measured).
//!
//! Distributions are compared through their quantiles on the grid
//! p = 0.01 … 0.99 ([`crate::stats::QUANTILE_GRID`]), which both a
//! simulation report and a streamed trace provide in bounded memory. The
//! Kolmogorov–Smirnov distance is therefore resolved to about 0.01 and the
//! Wasserstein distance covers the central 99 % of the mass.
//!
//! Beside a simulation, the analytic solution where the model has one
//! ([`analytic_beside`]): per probe, its mean and whether it lies inside
//! the simulated CI; [`SimulationDoc`] is the two together, as `simulate`
//! writes them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Model;
use crate::qpn::{
    PlaceResult, ProbeResult, QueueResult, SimReport, ThrottleResult, ValidNet, WarmupReport,
};
use crate::stats::{BatchMeans, Moments, QuantileSketch, grid_p, quantile_grid};

/// One side of a comparison: a response-time distribution, seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Observations.
    pub count: u64,
    /// Mean, seconds.
    pub mean_s: Option<f64>,
    /// Half-width of the 95 % CI of the mean (batch means), seconds.
    pub ci_half_width_s: Option<f64>,
    /// 50th, 90th, 95th and 99th percentiles, seconds.
    pub percentiles_s: [Option<f64>; 4],
    /// Quantiles on the grid p = 0.01 … 0.99, seconds.
    pub quantiles_s: Vec<f64>,
}

/// The percentiles carried by a [`Summary`], in order.
pub const PERCENTILES: [(&str, f64); 4] =
    [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)];

impl From<&ProbeResult> for Summary {
    fn from(p: &ProbeResult) -> Self {
        Self {
            count: p.count,
            mean_s: p.mean_s,
            ci_half_width_s: p.ci_half_width_s,
            percentiles_s: [p.p50_s, p.p90_s, p.p95_s, p.p99_s],
            quantiles_s: p.quantiles_s.clone(),
        }
    }
}

/// Streams measured response times (in trace order) into a [`Summary`] in
/// bounded memory. The CI of the mean uses batch means, so it stays honest
/// when consecutive requests are correlated (they are, under load).
#[derive(Debug, Clone)]
pub struct Accumulator {
    moments: Moments,
    sketch: QuantileSketch,
    batches: BatchMeans,
}

impl Default for Accumulator {
    fn default() -> Self {
        Self {
            moments: Moments::default(),
            sketch: QuantileSketch::default(),
            batches: BatchMeans::new(16),
        }
    }
}

impl Accumulator {
    /// Adds one response time, seconds.
    pub fn push(&mut self, response_s: f64) {
        self.moments.push(response_s);
        self.sketch.push(response_s);
        self.batches.push(response_s);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.moments.count()
    }

    /// The sketch of what was pushed (for plots).
    pub fn sketch(&self) -> &QuantileSketch {
        &self.sketch
    }

    /// The summary of what was pushed.
    pub fn summary(&self) -> Summary {
        Summary {
            count: self.moments.count(),
            mean_s: self.moments.mean(),
            ci_half_width_s: self.batches.half_width(0.95),
            percentiles_s: PERCENTILES.map(|(_, p)| self.sketch.quantile(p)),
            quantiles_s: quantile_grid(&self.sketch),
        }
    }
}

/// A summary known only by its mean (a published figure, say).
pub fn mean_only(mean_s: f64) -> Summary {
    Summary {
        count: 0,
        mean_s: Some(mean_s),
        ci_half_width_s: None,
        percentiles_s: [None; 4],
        quantiles_s: Vec::new(),
    }
}

/// The summary of several classes' response times taken together (a
/// mixture weighted by their counts): the mean exactly, its CI from the
/// parts' half-widths (independent parts), the quantiles by inverting the
/// mixed distribution function built from each part's quantile grid
/// (linear between grid points; resolution about 0.01 in p). One part is
/// returned as it is.
pub fn mixture(parts: &[&Summary]) -> Option<Summary> {
    let parts: Vec<&Summary> = parts
        .iter()
        .copied()
        .filter(|p| p.count > 0 && p.mean_s.is_some())
        .collect();
    match parts.as_slice() {
        [] => return None,
        [one] => return Some((*one).clone()),
        _ => {}
    }
    let n: u64 = parts.iter().map(|p| p.count).sum();
    let w = |p: &Summary| p.count as f64 / n as f64;
    let mean = parts.iter().map(|p| w(p) * p.mean_s.unwrap_or(0.0)).sum();
    let ci = parts
        .iter()
        .map(|p| p.ci_half_width_s.map(|h| (w(p) * h).powi(2)))
        .sum::<Option<f64>>()
        .map(f64::sqrt);
    let grids_complete = parts.iter().all(|p| !p.quantiles_s.is_empty());
    let quantile =
        |target: f64| -> Option<f64> { grids_complete.then(|| mixed_quantile(&parts, n, target)) };
    let quantiles_s = if grids_complete {
        (0..crate::stats::QUANTILE_GRID)
            .map(|i| mixed_quantile(&parts, n, grid_p(i)))
            .collect()
    } else {
        Vec::new()
    };
    Some(Summary {
        count: n,
        mean_s: Some(mean),
        ci_half_width_s: ci,
        percentiles_s: PERCENTILES.map(|(_, p)| quantile(p)),
        quantiles_s,
    })
}

/// x with Σ wₖ·Fₖ(x) = p, by bisection; Fₖ interpolates part k's grid.
fn mixed_quantile(parts: &[&Summary], n: u64, p: f64) -> f64 {
    let cdf = |x: f64| -> f64 {
        parts
            .iter()
            .map(|s| s.count as f64 / n as f64 * grid_cdf(&s.quantiles_s, x))
            .sum()
    };
    let lo0 = parts
        .iter()
        .map(|s| s.quantiles_s[0])
        .fold(f64::INFINITY, f64::min);
    let hi0 = parts
        .iter()
        .map(|s| s.quantiles_s[s.quantiles_s.len() - 1])
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut lo, mut hi) = (lo0, hi0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// F(x) from the quantiles at p = 0.01 … 0.99, linear between them; 0
/// below the first and 1 from the last (the grid says nothing beyond).
fn grid_cdf(q: &[f64], x: f64) -> f64 {
    let m = q.len();
    if x < q[0] {
        return 0.0;
    }
    if x >= q[m - 1] {
        return 1.0;
    }
    let i = q.partition_point(|&v| v <= x).saturating_sub(1);
    let (a, b) = (q[i], q[(i + 1).min(m - 1)]);
    let frac = if b > a { (x - a) / (b - a) } else { 1.0 };
    grid_p(i) + frac * (grid_p(i + 1) - grid_p(i))
}

/// error % = (measured − simulated) / measured × 100.
pub fn error_pct(measured: f64, simulated: f64) -> f64 {
    (measured - simulated) / measured * 100.0
}

/// One compared statistic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// `mean`, `p50`, `p90`, `p95` or `p99`.
    pub statistic: &'static str,
    /// Measured value, seconds.
    pub measured_s: f64,
    /// Simulated value, seconds.
    pub simulated_s: f64,
    /// Half-width of the simulated value's CI (the mean only), seconds.
    pub simulated_ci_half_width_s: Option<f64>,
    /// (measured − simulated) / measured × 100.
    pub error_pct: f64,
}

/// The outcome of [`compare`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The mean and every percentile both sides have.
    pub lines: Vec<Line>,
    /// Kolmogorov–Smirnov distance between the distributions (0–1,
    /// resolution about 0.01); `None` without quantiles on both sides.
    pub ks: Option<f64>,
    /// Wasserstein-1 distance (mean absolute quantile difference over the
    /// central 99 %), seconds.
    pub wasserstein_s: Option<f64>,
    /// Largest |error %| over the lines.
    pub max_abs_error_pct: Option<f64>,
}

/// Compares a measured and a simulated summary.
pub fn compare(measured: &Summary, simulated: &Summary) -> Comparison {
    let mut lines = Vec::new();
    if let (Some(m), Some(s)) = (measured.mean_s, simulated.mean_s) {
        lines.push(Line {
            statistic: "mean",
            measured_s: m,
            simulated_s: s,
            simulated_ci_half_width_s: simulated.ci_half_width_s,
            error_pct: error_pct(m, s),
        });
    }
    for (k, (name, _)) in PERCENTILES.iter().enumerate() {
        if let (Some(m), Some(s)) = (measured.percentiles_s[k], simulated.percentiles_s[k]) {
            lines.push(Line {
                statistic: name,
                measured_s: m,
                simulated_s: s,
                simulated_ci_half_width_s: None,
                error_pct: error_pct(m, s),
            });
        }
    }
    let both = !measured.quantiles_s.is_empty()
        && measured.quantiles_s.len() == simulated.quantiles_s.len();
    let max_abs_error_pct = lines
        .iter()
        .map(|l| l.error_pct.abs())
        .fold(None, |a: Option<f64>, e| Some(a.map_or(e, |a| a.max(e))));
    Comparison {
        lines,
        ks: both.then(|| ks_distance(&measured.quantiles_s, &simulated.quantiles_s)),
        wasserstein_s: both.then(|| wasserstein(&measured.quantiles_s, &simulated.quantiles_s)),
        max_abs_error_pct,
    }
}

/// The CDF at `x` of a distribution given by its grid quantiles `q`
/// (piecewise linear between grid points; 0 below the first, 1 above the
/// last).
pub fn cdf_at(q: &[f64], x: f64) -> f64 {
    let n = q.len();
    if n == 0 {
        return f64::NAN;
    }
    if x < q[0] {
        return 0.0;
    }
    if x >= q[n - 1] {
        return if x > q[n - 1] { 1.0 } else { grid_p(n - 1) };
    }
    // Last index with q[i] <= x (quantiles are non-decreasing).
    let i = q.partition_point(|&v| v <= x) - 1;
    let (a, b) = (q[i], q[i + 1]);
    let t = if b > a { (x - a) / (b - a) } else { 1.0 };
    grid_p(i) + t * (grid_p(i + 1) - grid_p(i))
}

/// Kolmogorov–Smirnov distance sup |F_a − F_b|, evaluated at every grid
/// quantile of both distributions.
pub fn ks_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .chain(b)
        .map(|&x| (cdf_at(a, x) - cdf_at(b, x)).abs())
        .fold(0.0, f64::max)
}

/// Wasserstein-1 distance ∫ |Q_a(p) − Q_b(p)| dp by the midpoint rule on the
/// grid (the central 99 % of the mass), seconds.
pub fn wasserstein(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / 100.0
}

/// The analytic mean of a simulated probe row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalyticProbe {
    /// Mean, seconds.
    pub mean_s: f64,
    /// Whether it lies within the simulated mean ± the CI's half-width
    /// (`None` when the simulation has no CI).
    pub inside_ci: Option<bool>,
}

/// The analytic solution beside a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticBeside {
    /// Per probe row of the simulation, in its order; `None` where the
    /// model is not solved or the solution has no value for the probe.
    pub probes: Vec<Option<AnalyticProbe>>,
    /// The method used, or why the model is not solved, in words.
    pub summary: String,
}

/// The analytic value of every simulated probe row, where the net is
/// product-form, and whether it lies inside the simulated CI.
pub fn analytic_beside(net: &ValidNet, probes: &[ProbeResult]) -> AnalyticBeside {
    match crate::solve::analyse(net) {
        Ok(a) => AnalyticBeside {
            probes: probes
                .iter()
                .map(|p| {
                    let mean_s = a.probe_mean(&p.name, &p.color)?;
                    let inside_ci = p
                        .mean_s
                        .zip(p.ci_half_width_s)
                        .map(|(m, hw)| (mean_s - m).abs() <= hw);
                    Some(AnalyticProbe { mean_s, inside_ci })
                })
                .collect(),
            summary: a.method,
        },
        Err(e) => AnalyticBeside {
            probes: vec![None; probes.len()],
            summary: e.to_string(),
        },
    }
}

/// A simulation report with the model's name and parameters and the
/// analytic solution beside each probe: what `simulate --format json`
/// writes.
#[derive(Debug, Serialize)]
pub struct SimulationDoc<'a> {
    /// Model name.
    pub model: &'a str,
    /// Its parameters as simulated.
    pub params: &'a BTreeMap<String, f64>,
    /// The program's version.
    pub version: &'a str,
    /// Wall-clock seconds the run took.
    pub wall_s: f64,
    /// The analytic method, or why there is none.
    pub analytic: &'a str,
    /// See [`SimReport`].
    pub seed: u64,
    /// See [`SimReport`].
    pub replications: usize,
    /// See [`SimReport`].
    pub events: u64,
    /// See [`SimReport`].
    pub measured_time_s: f64,
    /// See [`SimReport`].
    pub ci_method: &'a str,
    /// See [`SimReport`].
    pub confidence: f64,
    /// See [`SimReport`].
    pub warmup: &'a WarmupReport,
    /// See [`SimReport`].
    pub interrupted: bool,
    /// Each probe row with its analytic mean.
    pub probes: Vec<ProbeBeside<'a>>,
    /// See [`SimReport`].
    pub places: &'a [PlaceResult],
    /// See [`SimReport`].
    pub queues: &'a [QueueResult],
    /// Queues under a CPU limit (left out when there are none).
    #[serde(skip_serializing_if = "<[ThrottleResult]>::is_empty")]
    pub throttling: &'a [ThrottleResult],
}

/// A simulated probe row with its analytic mean.
#[derive(Debug, Serialize)]
pub struct ProbeBeside<'a> {
    /// The simulated row.
    #[serde(flatten)]
    pub probe: &'a ProbeResult,
    /// Analytic mean, seconds.
    pub analytic_s: Option<f64>,
    /// Whether it lies inside the simulated CI.
    pub analytic_inside_ci: Option<bool>,
}

impl<'a> SimulationDoc<'a> {
    /// The document of a run of `model` that took `wall_s` seconds.
    pub fn new(
        model: &'a Model,
        report: &'a SimReport,
        beside: &'a AnalyticBeside,
        wall_s: f64,
        version: &'a str,
    ) -> Self {
        // Every field named: one added to the report is a compile error
        // here, not a silent gap in the document.
        let SimReport {
            seed,
            replications,
            events,
            measured_time_s,
            ci_method,
            confidence,
            warmup,
            interrupted,
            probes,
            places,
            queues,
            throttling,
        } = report;
        let probes = probes
            .iter()
            .zip(&beside.probes)
            .map(|(probe, a)| ProbeBeside {
                probe,
                analytic_s: a.map(|a| a.mean_s),
                analytic_inside_ci: a.and_then(|a| a.inside_ci),
            })
            .collect();
        Self {
            model: &model.name,
            params: &model.params,
            version,
            wall_s,
            analytic: &beside.summary,
            seed: *seed,
            replications: *replications,
            events: *events,
            measured_time_s: *measured_time_s,
            ci_method,
            confidence: *confidence,
            warmup,
            interrupted: *interrupted,
            probes,
            places,
            queues,
            throttling,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Exp};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn exp_summary(mean: f64, n: usize, seed: u64) -> Summary {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(crate::test_seed(seed));
        let d = Exp::new(1.0 / mean).unwrap();
        let mut acc = Accumulator::default();
        for _ in 0..n {
            acc.push(d.sample(&mut rng));
        }
        acc.summary()
    }

    #[test]
    fn sign_follows_the_study() {
        // Measured 1.0, simulated 0.9: the model is 10 % too fast.
        assert!((error_pct(1.0, 0.9) - 10.0).abs() < 1e-12);
        assert!((error_pct(1.0, 1.2) + 20.0).abs() < 1e-12);
    }

    #[test]
    fn same_distribution_is_close_and_scaled_one_is_far() {
        let a = exp_summary(1.0, 200_000, 1);
        let b = exp_summary(1.0, 200_000, 2);
        let c = compare(&a, &b);
        assert!(c.ks.unwrap() < 0.02, "{c:?}");
        assert!(c.wasserstein_s.unwrap() < 0.02, "{c:?}");
        assert!(c.max_abs_error_pct.unwrap() < 3.0, "{c:?}");
        // Exp(1) against Exp(mean 2): sup |e^{-x/2} − e^{-x}| = 1/4 at
        // x = 2 ln 2; W1 = |1 − 2| = 1 (0.99 of it on the central grid,
        // minus the tails: about 0.91).
        let d = exp_summary(2.0, 200_000, 3);
        let c = compare(&a, &d);
        assert!((c.ks.unwrap() - 0.25).abs() < 0.015, "{c:?}");
        let w = c.wasserstein_s.unwrap();
        assert!(w > 0.85 && w < 1.0, "{w}");
        // Mean error: (1 − 2) / 1 = −100 %.
        assert!((c.lines[0].error_pct + 100.0).abs() < 3.0, "{c:?}");
    }

    #[test]
    fn cdf_inverts_the_grid() {
        let q: Vec<f64> = (0..99).map(|i| grid_p(i) * 10.0).collect();
        assert!((cdf_at(&q, 5.0) - 0.5).abs() < 1e-12);
        assert!((cdf_at(&q, 5.05) - 0.505).abs() < 1e-12);
        assert_eq!(cdf_at(&q, -1.0), 0.0);
        assert_eq!(cdf_at(&q, 11.0), 1.0);
    }

    /// M/M/1 with λ 0.5/s and D 1 s: R = D / (1 − λD) = 2 s.
    const MM1: &str = "name: mm1\nparams: {rate: 0.5}\ncolors: [r]\nplaces:\n  S: {queue: fcfs, service: {r: {exponential: 1}}}\ntransitions:\n  arrive: {delay: {exponential: 1 / rate}, out: {S: r}}\n  leave: {in: {S: r}}\nprobes:\n  response: {start: {transition: arrive}, end: {transition: leave}}\n";

    fn probe(name: &str, mean_s: Option<f64>, hw: Option<f64>) -> ProbeResult {
        ProbeResult {
            name: name.into(),
            color: "r".into(),
            mean_s,
            ci_half_width_s: hw,
            p50_s: None,
            p90_s: None,
            p95_s: None,
            p99_s: None,
            quantiles_s: Vec::new(),
            count: 1000,
            batch_lag1: None,
        }
    }

    #[test]
    fn the_analytic_mean_sits_beside_each_probe_inside_or_outside_its_ci() {
        let m = crate::model::load(MM1, &crate::model::LoadOptions::default()).unwrap();
        let rows = [
            probe("response", Some(2.05), Some(0.1)),
            probe("response", Some(2.5), Some(0.1)),
            probe("response", Some(2.1), None),
            probe("elsewhere", Some(2.0), Some(0.1)),
        ];
        let b = analytic_beside(&m.net, &rows);
        let mean = |i: usize| b.probes[i].map(|p| p.mean_s);
        assert!((mean(0).unwrap() - 2.0).abs() < 1e-12, "{b:?}");
        let inside: Vec<Option<bool>> =
            b.probes[..3].iter().map(|p| p.unwrap().inside_ci).collect();
        assert_eq!(inside, [Some(true), Some(false), None]);
        assert_eq!(b.probes[3], None, "no such probe in the model");
        assert_eq!(b.summary, "open product-form (Erlang-C, M/M/inf, PS)");
        let report = SimReport {
            seed: 3,
            replications: 1,
            events: 10,
            measured_time_s: 5.0,
            ci_method: "batch means".into(),
            confidence: 0.95,
            warmup: WarmupReport {
                method: "none".into(),
                time_s: 0.0,
                passages: 0,
            },
            interrupted: false,
            probes: rows.to_vec(),
            places: Vec::new(),
            queues: Vec::new(),
            throttling: Vec::new(),
        };
        let md1 = MM1.replace("exponential: 1}", "deterministic: 1}");
        let md1 = crate::model::load(&md1, &crate::model::LoadOptions::default()).unwrap();
        let not = analytic_beside(&md1.net, &rows);
        assert_eq!(not.probes, [None; 4]);
        assert!(
            not.summary
                .starts_with("not product-form: FCFS place S has non-exponential service"),
            "{}",
            not.summary
        );
        let doc = SimulationDoc::new(&m, &report, &b, 0.5, "9.9");
        let v = serde_json::to_value(&doc).unwrap();
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        let mut want = keys(&serde_json::to_value(&report).unwrap());
        want.extend(["analytic", "model", "params", "version", "wall_s"].map(String::from));
        want.sort();
        assert_eq!(keys(&v), want, "the report's fields and five more");
        let mut want = keys(&serde_json::to_value(&rows[0]).unwrap());
        want.extend(["analytic_inside_ci", "analytic_s"].map(String::from));
        want.sort();
        assert_eq!(keys(&v["probes"][1]), want);
        assert_eq!(v["probes"][1]["analytic_inside_ci"], false);
        assert_eq!(v["probes"][3]["analytic_s"], serde_json::Value::Null);
        assert_eq!(
            (v["model"].as_str(), v["params"]["rate"].as_f64()),
            (Some("mm1"), Some(0.5))
        );
    }

    #[test]
    fn published_mean_only_compares_the_mean() {
        let sim = exp_summary(0.9, 10_000, 4);
        let c = compare(&mean_only(0.904), &sim);
        assert_eq!(c.lines.len(), 1);
        assert!(c.ks.is_none());
    }
}
