//! One experiment: traces → estimation → model parameters → simulation
//! and analysis → comparison, each step in a file of its own.

use super::comparison::{class_comparisons, read_truth, user_class_comparisons, utilization_check};
use super::estimation::estimations;
use super::models::{generated_model, read_model};
use super::params::{Estimates, params};
use super::prediction::{band, predict};
use super::traces::read_traces;
use super::{Experiment, ExperimentError, ExperimentResult, Files};
use crate::compare::{compare, error_pct, mean_only};
use crate::model::Stability;

/// Runs one experiment with `seed`.
///
/// # Errors
/// [`ExperimentError`], naming the step that failed: unreadable or invalid
/// traces, an estimation that gives no usable demand, a model that does
/// not load, a failed simulation.
pub fn run_experiment(
    e: &Experiment,
    files: &dyn Files,
    seed: u64,
) -> Result<ExperimentResult, ExperimentError> {
    // 1. Traces.
    let traces = if e.requests.is_empty() {
        None
    } else {
        Some(read_traces(e, files)?)
    };
    // 2. Estimation.
    let (estimation, by_resource) = estimations(e, files, traces.as_ref(), seed)?;
    // 3. Model parameters.
    let (template, roles) = match &e.workload {
        Some(w) => generated_model(e, w, files, estimation.as_ref())?,
        None => (read_model(e, files)?, Vec::new()),
    };
    let estimates = Estimates {
        main: estimation.as_ref(),
        by_resource: &by_resource,
    };
    let (params, estimated, demand_at_load) = params(e, &template, traces.as_ref(), &estimates)?;
    // One estimated parameter is "the demand" of the result's fields.
    let demand = match estimated.as_slice() {
        [(_, d)] => Some(*d),
        _ => None,
    };
    let model = template
        .instantiate(&params, Stability::Reject)
        .map_err(|source| model_error(e, source))?;
    // 4. Simulation and analysis.
    let mut p = predict(e, &model, seed)?;
    p.roles = roles;
    let prediction_band_s = band(e, &template, &params, &estimated, seed, &p);
    // 5. Comparison.
    let measured = match (&traces, e.measured_mean_s) {
        (Some(t), _) => t.summary(None),
        (None, Some(m)) => Some(mean_only(m)),
        (None, None) => None,
    };
    let comparison = measured.as_ref().map(|m| compare(m, &p.simulated));
    let classes = traces
        .as_ref()
        .map(|t| class_comparisons(t, &p))
        .unwrap_or_default();
    let user_classes = traces
        .as_ref()
        .map(|t| user_class_comparisons(t, &p))
        .unwrap_or_default();
    let warnings = utilization_check(
        traces.as_ref().and_then(|t| t.measured.mean_utilization),
        p.utilization,
    );
    let measured_s = measured.as_ref().and_then(|m| m.mean_s);
    let err_of = |v: Option<f64>| match (measured_s, v) {
        (Some(m), Some(s)) => Some(error_pct(m, s)),
        _ => None,
    };
    let true_demand_s = match (e.true_demand_s, &e.truth) {
        (Some(d), _) => Some(d),
        (None, Some(p)) => Some(read_truth(files, p, traces.as_ref().map(|t| &t.resources))?),
        (None, None) => None,
    };
    let demand_s = demand
        .map(|(d, _)| d)
        .or_else(|| model.params.get("demand").copied());
    let demand_error_pct = match (true_demand_s, demand) {
        (Some(t), Some((d, _))) => Some((t - d) / t * 100.0),
        _ => None,
    };
    Ok(ExperimentResult {
        index: 0,
        name: e.name.clone(),
        model: model.name.clone(),
        model_file: e.model.display().to_string(),
        seed,
        params: model.params.clone(),
        traces: traces.map(|t| t.measured),
        estimation,
        resource_estimations: by_resource,
        demand_s,
        demand_ci_s: demand.and_then(|(_, ci)| ci),
        demand_at_load,
        true_demand_s,
        demand_error_pct,
        simulated_s: p.simulated.mean_s,
        analytic_error_pct: err_of(p.analytic_s),
        analytic_s: p.analytic_s,
        prediction_band_s,
        analytic: p.analytic,
        error_pct: err_of(p.simulated.mean_s),
        simulated: p.simulated,
        measured_s,
        measured,
        comparison,
        warnings: warnings.into_iter().collect(),
        simulated_utilization: p.utilization,
        events: p.events,
        classes,
        user_classes,
    })
}

pub(super) fn model_error(e: &Experiment, source: crate::model::ModelError) -> ExperimentError {
    ExperimentError::Model {
        path: e.model.clone(),
        source,
    }
}
