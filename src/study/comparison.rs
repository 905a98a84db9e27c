//! Step 5: measured against predicted, overall and per class, and the
//! checks that say when a prediction cannot be trusted.

use std::path::Path;

use super::params::Estimated;
use super::prediction::Prediction;
use super::traces::Traces;
use super::{ClassComparison, Experiment, ExperimentError, Files};
use crate::compare::{Comparison, Summary, compare, error_pct, mean_only};
use crate::model::Model;

/// The measured side against the prediction.
pub(super) struct Compared {
    /// Measured response time (the mean only, for a published figure).
    pub(super) measured: Option<Summary>,
    pub(super) measured_s: Option<f64>,
    pub(super) comparison: Option<Comparison>,
    /// Of the simulated mean and of the analytic one.
    pub(super) error_pct: Option<f64>,
    pub(super) analytic_error_pct: Option<f64>,
    pub(super) classes: Vec<ClassComparison>,
    pub(super) user_classes: Vec<ClassComparison>,
    pub(super) warnings: Vec<String>,
}

/// The prediction against the traces, or against a published mean.
pub(super) fn compare_prediction(
    traces: Option<&Traces>,
    published_mean_s: Option<f64>,
    p: &Prediction,
) -> Compared {
    let measured = match (traces, published_mean_s) {
        (Some(t), _) => t.summary(None),
        (None, Some(m)) => Some(mean_only(m)),
        (None, None) => None,
    };
    let measured_s = measured.as_ref().and_then(|m| m.mean_s);
    let err_of = |v: Option<f64>| match (measured_s, v) {
        (Some(m), Some(s)) => Some(error_pct(m, s)),
        _ => None,
    };
    let warnings = utilization_check(
        traces.and_then(|t| t.measured.mean_utilization),
        p.utilization,
    );
    Compared {
        comparison: measured.as_ref().map(|m| compare(m, &p.simulated)),
        measured,
        measured_s,
        error_pct: err_of(p.simulated.mean_s),
        analytic_error_pct: err_of(p.analytic_s),
        classes: traces.map(|t| class_comparisons(t, p)).unwrap_or_default(),
        user_classes: traces
            .map(|t| user_class_comparisons(t, p))
            .unwrap_or_default(),
        warnings: warnings.into_iter().collect(),
    }
}

/// The demand the model ran with against the true one, where known.
pub(super) struct DemandCheck {
    pub(super) demand_s: Option<f64>,
    pub(super) demand_ci_s: Option<(f64, f64)>,
    pub(super) true_demand_s: Option<f64>,
    pub(super) demand_error_pct: Option<f64>,
}

/// "The demand" of the result: the one estimated parameter, else the
/// model's `demand`; and the true demand, given or read from the truth
/// file.
pub(super) fn demand_check(
    e: &Experiment,
    files: &dyn Files,
    estimated: &[Estimated],
    model: &Model,
    traces: Option<&Traces>,
) -> Result<DemandCheck, ExperimentError> {
    let demand = match estimated {
        [(_, d)] => Some(*d),
        _ => None,
    };
    let true_demand_s = match (e.true_demand_s, &e.truth) {
        (Some(d), _) => Some(d),
        (None, Some(p)) => Some(read_truth(files, p, traces.map(|t| &t.resources))?),
        (None, None) => None,
    };
    Ok(DemandCheck {
        demand_s: demand
            .map(|(d, _)| d)
            .or_else(|| model.params.get("demand").copied()),
        demand_ci_s: demand.and_then(|(_, ci)| ci),
        true_demand_s,
        demand_error_pct: match (true_demand_s, demand) {
            (Some(t), Some((d, _))) => Some((t - d) / t * 100.0),
            _ => None,
        },
    })
}

/// The utilization law as a check of the demands the model ran with: at
/// the measured throughput, the model's utilization is Σ X·D, so a gap to
/// the measured utilization of more than a tenth (and 2 points) means the
/// demands do not fit this run's load (a demand that changes with load, a
/// wrong mix), and the predicted response time cannot be trusted.
fn utilization_check(measured: Option<f64>, simulated: Option<f64>) -> Option<String> {
    let (m, s) = (measured?, simulated?);
    ((s - m).abs() > (0.1 * m).max(0.02)).then(|| {
        format!(
            "the model's utilization is {:.1} % against {:.1} % measured: its demands are {:+.0} % off for this run (its load, its mix), so the predicted response time cannot be trusted",
            100.0 * s,
            100.0 * m,
            100.0 * (s - m) / m
        )
    })
}

/// Measured against predicted per request class, where the probe has
/// several colours: one row per class of the traces (a class the model
/// lacks has no prediction), in the traces' order.
fn class_comparisons(t: &Traces, p: &Prediction) -> Vec<ClassComparison> {
    if p.colors.len() < 2 {
        return Vec::new();
    }
    (0..t.table.classes.len())
        .filter_map(|i| {
            let requests = t.class_count(i);
            let measured = t.summary(Some(i))?;
            let class = &t.table.classes[i];
            let predicted = p.predicted(|colour| match p.roles.as_slice() {
                [] => colour == class,
                roles => roles
                    .iter()
                    .any(|r| r.colour == colour && r.request.as_ref() == Some(class)),
            });
            let throughput = requests as f64 / t.measured.duration_s;
            Some(class_row(class, requests, throughput, &measured, predicted))
        })
        .filter(|c| c.requests > 0)
        .collect()
}

/// Per user class of the traces that is a profile of the generated
/// behaviour model: its requests measured against the profile's request
/// colours together.
fn user_class_comparisons(t: &Traces, p: &Prediction) -> Vec<ClassComparison> {
    t.by_user_class
        .iter()
        .filter(|(name, _)| p.roles.iter().any(|r| r.profile.as_ref() == Some(name)))
        .map(|(name, measured)| {
            let predicted = p.predicted(|colour| {
                p.roles.iter().any(|r| {
                    r.colour == colour && r.profile.as_ref() == Some(name) && r.request.is_some()
                })
            });
            let throughput = measured.count as f64 / t.measured.duration_s;
            class_row(name, measured.count, throughput, measured, predicted)
        })
        .collect()
}

pub(super) fn class_row(
    class: &str,
    requests: u64,
    throughput: f64,
    measured: &Summary,
    predicted: Option<(Summary, Option<f64>)>,
) -> ClassComparison {
    let err = |m: Option<f64>, s: Option<f64>| match (m, s) {
        (Some(m), Some(s)) if m > 0.0 => Some(error_pct(m, s)),
        _ => None,
    };
    let p95 = |s: &Summary| s.percentiles_s[2];
    let (sim, analytic_s) = match &predicted {
        Some((s, a)) => (Some(s), *a),
        None => (None, None),
    };
    ClassComparison {
        class: class.to_string(),
        requests,
        throughput,
        measured_mean_s: measured.mean_s,
        measured_p95_s: p95(measured),
        predicted_mean_s: sim.and_then(|s| s.mean_s),
        predicted_p95_s: sim.and_then(p95),
        analytic_s,
        error_pct: err(measured.mean_s, sim.and_then(|s| s.mean_s)),
        p95_error_pct: err(p95(measured), sim.and_then(p95)),
    }
}

/// The true demand in a `truth.json` of `demandsim generate`: the mean
/// over the experiment's resources (all places when there are none).
fn read_truth(
    files: &dyn Files,
    path: &Path,
    resources: Option<&Vec<String>>,
) -> Result<f64, ExperimentError> {
    let ctx = |why: String| ExperimentError::Truth {
        path: path.to_path_buf(),
        why,
    };
    /// The part of `generate`'s truth.json read here.
    #[derive(serde::Deserialize)]
    struct TruthFile {
        truth: Option<Vec<TruthRow>>,
    }
    #[derive(serde::Deserialize)]
    struct TruthRow {
        place: Option<String>,
        true_demand_s: Option<f64>,
    }
    let text = files.read_to_string(path)?;
    let doc: TruthFile = serde_json::from_str(&text).map_err(|err| ctx(err.to_string()))?;
    let rows = doc.truth.ok_or_else(|| {
        ctx("expected the truth.json of `demandsim generate` (a `truth` list)".into())
    })?;
    let ds: Vec<f64> = rows
        .iter()
        .filter(|t| resources.is_none_or(|rs| t.place.as_ref().is_some_and(|p| rs.contains(p))))
        .filter_map(|t| t.true_demand_s)
        .collect();
    if ds.is_empty() {
        return Err(ctx("no true demand for the experiment's resources".into()));
    }
    Ok(ds.iter().sum::<f64>() / ds.len() as f64)
}
