//! How an experiment's workload was read (open at the measured
//! throughput, or closed with the generator's users and think time), and
//! the constant latency offset: the non-CPU time per request (network,
//! client) the model's queues do not hold, estimated from the estimation
//! runs and added to the predictions.

use serde::Serialize;

use super::params::{Estimates, params};
use super::prediction::{Prediction, predict};
use super::traces::{Traces, read_traces};
use super::{Experiment, ExperimentError, Files, MetadataField};
use crate::compare::{Summary, error_pct};
use crate::model::{Model, Stability, Template};

/// How the experiment's workload was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reading {
    /// Open: requests arrive at the rates the parameters give (the
    /// measured throughput), whatever the response time.
    Open,
    /// Closed: a fixed population cycles through the model (users
    /// thinking), so the throughput is predicted too.
    Closed {
        /// The generator's users, from the run's metadata.
        users: Option<f64>,
        /// Their mean think time, from the run's metadata, seconds.
        think_s: Option<f64>,
        /// Measured completions per second.
        measured_throughput: Option<f64>,
        /// Predicted probe passages per second (simulated).
        predicted_throughput: Option<f64>,
        /// (measured − predicted) / measured × 100.
        throughput_error_pct: Option<f64>,
    },
}

impl Reading {
    /// The reading of `model`: closed when no transition makes a measured
    /// token (a colour some probe measures) from nothing, with the run's
    /// users and think time where its metadata has them. A source of other
    /// colours (background work competing for the CPU) leaves the requests'
    /// population closed.
    pub(super) fn of(model: &Model, traces: Option<&Traces>, p: &Prediction) -> Self {
        if makes_measured_tokens(model) {
            return Self::Open;
        }
        let load = traces.and_then(|t| t.load.as_ref());
        let field = |f| load.and_then(|l| l.value(f).ok());
        let measured = traces.map(|t| t.measured.throughput);
        Self::Closed {
            users: field(MetadataField::Users),
            think_s: field(MetadataField::ThinkS),
            measured_throughput: measured,
            predicted_throughput: p.throughput,
            throughput_error_pct: measured.zip(p.throughput).map(|(m, x)| error_pct(m, x)),
        }
    }

    /// The reading in words, for tables.
    pub fn describe(&self) -> String {
        let sig = |x: f64| format!("{}", (x * 1e4).round() / 1e4);
        match self {
            Self::Open => "open (measured throughput)".into(),
            Self::Closed { users, think_s, .. } => match (users, think_s) {
                (Some(n), Some(z)) => format!("closed ({} users, Z {} s)", n, sig(*z)),
                (Some(n), None) => format!("closed ({n} users)"),
                _ => "closed".into(),
            },
        }
    }
}

/// Whether a source mode (no inputs) makes a token of a colour some probe
/// measures: requests that arrive from outside, an open workload.
fn makes_measured_tokens(model: &Model) -> bool {
    let net = &model.net;
    let measured = |c| net.probes.iter().any(|p| p.colors.contains(&c));
    net.transitions.iter().any(|t| {
        t.modes
            .iter()
            .any(|m| m.inputs.is_empty() && m.outputs.iter().any(|a| measured(a.color)))
    })
}

/// The constant non-CPU time per request: measured mean response time
/// minus the model's predicted one, per estimation run, combined by
/// inverse-variance weights (each run's variance from the measured mean's
/// CI and the simulation's), the interval widened by the Birge ratio
/// √(χ²/(n − 1)) when the runs disagree beyond their own noise. The
/// intercept of measured against predicted with the slope held at 1: the
/// model's queueing is taken as right, what is left is the offset. In a
/// closed model it is added to the response, not to the users' cycle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyOffset {
    /// The offset, seconds (added to every predicted time).
    pub offset_s: f64,
    /// Its 95 % interval, seconds.
    pub ci_s: (f64, f64),
    /// The runs it comes from.
    pub runs: Vec<OffsetRun>,
}

/// One estimation run's measured and predicted means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OffsetRun {
    /// The run.
    pub name: String,
    /// Measured mean response time, seconds.
    pub measured_s: f64,
    /// The model's prediction at the run's load (analytic where solved,
    /// else simulated), seconds.
    pub predicted_s: f64,
    /// Standard error of measured − predicted, seconds.
    pub se_s: f64,
}

/// The latency offset from the experiment's estimation runs, each
/// predicted with the model at its own load (its measured throughput, its
/// metadata).
///
/// # Errors
/// Fewer than two estimation runs, or a run that cannot be read or
/// predicted.
pub(super) fn latency_offset(
    e: &Experiment,
    files: &dyn Files,
    template: &Template,
    estimates: &Estimates<'_>,
    seed: u64,
) -> Result<LatencyOffset, ExperimentError> {
    if e.estimate_from.len() < 2 {
        return Err(ExperimentError::Offset(format!(
            "the latency offset needs at least two runs under `estimate_from` (it has {})",
            e.estimate_from.len()
        )));
    }
    let mut runs = Vec::new();
    for (k, r) in e.estimate_from.iter().enumerate() {
        let run = Experiment {
            requests: r.requests.clone(),
            utilization: r.utilization.clone(),
            metadata: r.metadata.clone(),
            estimate_from: Vec::new(),
            ..e.clone()
        };
        let why = |w: String| ExperimentError::Offset(format!("run {}: {w}", r.name));
        let traces = read_traces(&run, files).map_err(|x| why(x.to_string()))?;
        let (values, _, _) =
            params(&run, template, Some(&traces), estimates).map_err(|x| why(x.to_string()))?;
        let model = template
            .instantiate(&values, Stability::Reject)
            .map_err(|x| why(x.to_string()))?;
        let p = predict(&run, &model, super::experiment_seed(seed, k))
            .map_err(|x| why(x.to_string()))?;
        let measured = traces
            .summary(None)
            .ok_or_else(|| why("no response time".into()))?;
        let (predicted_s, sim_h) = match (p.analytic_s, p.simulated.mean_s) {
            (Some(a), _) => (a, Some(0.0)),
            (None, Some(s)) => (s, p.simulated.ci_half_width_s),
            (None, None) => return Err(why("the model predicts no response time".into())),
        };
        let se = |h: Option<f64>| h.map_or(f64::NAN, |h| h / 1.96);
        runs.push(OffsetRun {
            name: r.name.clone(),
            measured_s: measured.mean_s.unwrap_or(f64::NAN),
            predicted_s,
            se_s: se(measured.ci_half_width_s).hypot(se(sim_h)),
        });
    }
    let (offset_s, ci_s) = combine(&runs).ok_or_else(|| {
        ExperimentError::Offset("the runs' measured and predicted means give no offset".into())
    })?;
    Ok(LatencyOffset {
        offset_s,
        ci_s,
        runs,
    })
}

/// The weighted mean of the runs' differences and its 95 % interval
/// (see [`LatencyOffset`]); with a run whose standard error is unknown or
/// zero, the plain mean with Student's t over the runs' spread.
fn combine(runs: &[OffsetRun]) -> Option<(f64, (f64, f64))> {
    let d: Vec<f64> = runs.iter().map(|r| r.measured_s - r.predicted_s).collect();
    if d.len() < 2 || d.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let n = d.len() as f64;
    let (mean, se, q) = if runs.iter().all(|r| r.se_s.is_finite() && r.se_s > 0.0) {
        let w: Vec<f64> = runs.iter().map(|r| r.se_s.powi(-2)).collect();
        let sw: f64 = w.iter().sum();
        let mean = d.iter().zip(&w).map(|(x, w)| x * w).sum::<f64>() / sw;
        let chi2: f64 = d.iter().zip(&w).map(|(x, w)| w * (x - mean).powi(2)).sum();
        let birge = (chi2 / (n - 1.0)).sqrt().max(1.0);
        (mean, birge / sw.sqrt(), 1.96)
    } else {
        let mean = d.iter().sum::<f64>() / n;
        let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let q = crate::stats::student_t_quantile(0.95, n - 1.0);
        (mean, (var / n).sqrt(), q)
    };
    Some((mean, (mean - q * se, mean + q * se)))
}

impl Prediction {
    /// Every predicted time `o` seconds later: each colour's simulated
    /// summary (mean, percentiles, quantiles, not its CI's width) and
    /// analytic mean, and the overall ones.
    pub(super) fn shift(&mut self, o: f64) {
        for c in &mut self.colors {
            shift_summary(&mut c.simulated, o);
            c.analytic_s = c.analytic_s.map(|a| a + o);
        }
        shift_summary(&mut self.simulated, o);
        self.analytic_s = self.analytic_s.map(|a| a + o);
    }
}

fn shift_summary(s: &mut Summary, o: f64) {
    s.mean_s = s.mean_s.map(|m| m + o);
    for p in &mut s.percentiles_s {
        *p = p.map(|x| x + o);
    }
    for q in &mut s.quantiles_s {
        *q += o;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(measured_s: f64, predicted_s: f64, se_s: f64) -> OffsetRun {
        OffsetRun {
            name: "r".into(),
            measured_s,
            predicted_s,
            se_s,
        }
    }

    fn shipped(name: &str, set: &[(&str, f64)]) -> Model {
        let path = format!("{}/models/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
        let yaml = std::fs::read_to_string(path).unwrap();
        let mut params = crate::model::Params::new();
        for (k, v) in set {
            params.set(*k, *v);
        }
        let opts = crate::model::LoadOptions {
            params,
            ..Default::default()
        };
        crate::model::load(&yaml, &opts).unwrap()
    }

    #[test]
    fn a_source_of_background_work_alone_leaves_the_workload_closed() {
        let closed = shipped("testbed-users-closed", &[("background_u", 0.2)]);
        assert!(!makes_measured_tokens(&closed));
        assert!(!makes_measured_tokens(&shipped("testbed-closed", &[])));
        assert!(makes_measured_tokens(&shipped(
            "testbed-users",
            &[("background_u", 0.2)]
        )));
        assert!(makes_measured_tokens(&shipped("qpn1-open", &[])));
    }

    #[test]
    fn runs_that_agree_give_the_weighted_mean_and_its_standard_error() {
        // Differences 0.2 and 0.3 ms with SEs 0.1 and 0.2 ms: weights 4:1,
        // mean 0.22 ms; χ² = 100·0.02² ·… < 1, so no widening.
        let (m, (lo, hi)) = combine(&[run(1.2e-3, 1e-3, 1e-4), run(2.3e-3, 2e-3, 2e-4)]).unwrap();
        assert!((m - 0.22e-3).abs() < 1e-12, "{m}");
        let se = 1.0 / (1e8_f64 + 0.25e8).sqrt();
        assert!((hi - m - 1.96 * se).abs() < 1e-12 && (m - lo - 1.96 * se).abs() < 1e-12);
    }

    #[test]
    fn runs_that_disagree_widen_the_interval_and_unknown_errors_use_the_spread() {
        // 0.2 and 1.2 ms, each ± 0.1 ms: χ² = 50, Birge ratio √50.
        let (m, (lo, hi)) = combine(&[run(1.2e-3, 1e-3, 1e-4), run(3.2e-3, 2e-3, 1e-4)]).unwrap();
        assert!((m - 0.7e-3).abs() < 1e-12);
        let se = 50f64.sqrt() * 1e-4 / 2f64.sqrt();
        assert!((hi - lo - 2.0 * 1.96 * se).abs() < 1e-12, "{lo} {hi}");
        // No standard errors: Student's t with one degree of freedom.
        let (m, (lo, _)) = combine(&[run(1.2e-3, 1e-3, f64::NAN), run(3.2e-3, 2e-3, 0.0)]).unwrap();
        assert!((m - 0.7e-3).abs() < 1e-12);
        let q = crate::stats::student_t_quantile(0.95, 1.0);
        assert!((m - lo - q * 0.5e-3).abs() < 1e-12, "{lo}");
        assert!(combine(&[run(1.0, 0.5, 0.1)]).is_none(), "one run");
    }
}
