//! One experiment: traces → estimation → model parameters → simulation
//! and analysis → comparison, each step in a file of its own.

use super::comparison::{compare_prediction, demand_check};
use super::estimation::estimations;
use super::models::{generated_model, read_model};
use super::offset::{Reading, latency_offset};
use super::params::{Estimates, params};
use super::prediction::{band, predict};
use super::traces::read_traces;
use super::{Experiment, ExperimentError, ExperimentResult, Files};
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
    let model = template
        .instantiate(&params, Stability::Reject)
        .map_err(|source| ExperimentError::model(e, source))?;
    // 4. Simulation and analysis.
    let mut p = predict(e, &model, seed)?;
    p.roles = roles;
    let mut prediction_band_s = band(e, &template, &params, &estimated, seed, &p);
    let reading = Reading::of(&model, traces.as_ref(), &p);
    let offset = match &e.estimate {
        Some(s) if s.latency_offset => Some(latency_offset(e, files, &template, &estimates, seed)?),
        _ => None,
    };
    if let Some(o) = &offset {
        p.shift(o.offset_s);
        prediction_band_s = prediction_band_s.map(|b| b.map(|x| x.map(|x| x + o.offset_s)));
    }
    // 5. Comparison.
    let d = demand_check(e, files, &estimated, &model, traces.as_ref())?;
    let mut c = compare_prediction(traces.as_ref(), e.measured_mean_s, &p);
    let load = traces.as_ref().and_then(|t| t.load.as_ref());
    c.warnings.extend(unseen_workers(e, files, load)?);
    c.warnings
        .extend(demand_at_load.as_ref().and_then(|l| l.fallback.clone()));
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
        demand_s: d.demand_s,
        demand_ci_s: d.demand_ci_s,
        demand_at_load,
        true_demand_s: d.true_demand_s,
        demand_error_pct: d.demand_error_pct,
        simulated_s: p.simulated.mean_s,
        analytic_error_pct: c.analytic_error_pct,
        analytic_s: p.analytic_s,
        prediction_band_s,
        analytic: p.analytic,
        error_pct: c.error_pct,
        simulated: p.simulated,
        measured_s: c.measured_s,
        measured: c.measured,
        comparison: c.comparison,
        warnings: c.warnings,
        simulated_utilization: p.utilization,
        events: p.events,
        classes: c.classes,
        user_classes: c.user_classes,
        reading,
        latency_offset: offset,
    })
}

/// A warning when the run has a number of API workers (its metadata) that
/// none of its estimation runs had: the demand per request may depend on
/// the configuration (the testbed's first recording read one worker 15 %
/// cheaper per request than two, its second 30 % dearer at 39 users: a
/// fit on the others can see neither).
fn unseen_workers(
    e: &Experiment,
    files: &dyn Files,
    load: Option<&super::RunLoad>,
) -> Result<Option<String>, ExperimentError> {
    let field = super::MetadataField::ApiWorkers;
    let Some(own) = load.and_then(|l| l.value(field).ok()) else {
        return Ok(None);
    };
    let mut seen: Vec<f64> = Vec::new();
    for run in &e.estimate_from {
        let Some(path) = &run.metadata else { continue };
        if let Ok(w) = super::traces::read_metadata(files, path)?.value(field) {
            seen.push(w);
        }
    }
    seen.sort_by(f64::total_cmp);
    seen.dedup();
    if seen.is_empty() || seen.contains(&own) {
        return Ok(None);
    }
    let list: Vec<String> = seen.iter().map(|w| w.to_string()).collect();
    Ok(Some(format!(
        "this run has {own} API worker(s), but every estimation run had {}: the demands were never measured in this configuration, and the prediction cannot see what it changes",
        list.join(" or ")
    )))
}
