//! Step 5: measured against predicted, overall and per class, and the
//! checks that say when a prediction cannot be trusted.

use std::path::Path;

use super::prediction::Prediction;
use super::traces::Traces;
use super::{ClassComparison, ExperimentError, Files};
use crate::compare::{Summary, error_pct};

/// The utilization law as a check of the demands the model ran with: at
/// the measured throughput, the model's utilization is Σ X·D, so a gap to
/// the measured utilization of more than a tenth (and 2 points) means the
/// demands do not fit this run's load (a demand that changes with load, a
/// wrong mix), and the predicted response time cannot be trusted.
pub(super) fn utilization_check(measured: Option<f64>, simulated: Option<f64>) -> Option<String> {
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
pub(super) fn class_comparisons(t: &Traces, p: &Prediction) -> Vec<ClassComparison> {
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
pub(super) fn user_class_comparisons(t: &Traces, p: &Prediction) -> Vec<ClassComparison> {
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
pub(super) fn read_truth(
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
