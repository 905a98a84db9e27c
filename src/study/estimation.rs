//! Step 2: the estimation of the experiment's demands, from its own traces
//! or from its runs, over its resources and over each resource a parameter
//! names on its own.

use super::traces::{Traces, read_table, resources_of};
use super::{Experiment, ExperimentError, Files, ParamSource};
use crate::estimate::{Config, Observations, Report, estimate};
use crate::trace::IntervalTable;

/// The estimation, from the experiment's own traces or from its runs: over
/// the experiment's resources, and over each resource a parameter names on
/// its own (none without `estimate`).
pub(super) fn estimations(
    e: &Experiment,
    files: &dyn Files,
    traces: Option<&Traces>,
    seed: u64,
) -> Result<(Option<Report>, std::collections::BTreeMap<String, Report>), ExperimentError> {
    let mut by_resource = std::collections::BTreeMap::new();
    let Some(spec) = &e.estimate else {
        return Ok((None, by_resource));
    };
    let runs = estimation_runs(e, files, traces)?;
    let named: Vec<(&str, &IntervalTable)> = runs.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let resources = match (traces, e.estimate_from.is_empty()) {
        (Some(t), true) => t.resources.clone(),
        _ => resources_of(e, &runs[0].1.resources)?,
    };
    let main = estimate_demands(e, &named, &resources, spec, seed)?;
    for r in named_resources(e) {
        let one = estimate_demands(e, &named, std::slice::from_ref(&r), spec, seed)?;
        by_resource.insert(r, one);
    }
    Ok((Some(main), by_resource))
}

/// The runs to estimate from: the experiment's `estimate_from`, else its
/// own traces.
pub(super) fn estimation_runs(
    e: &Experiment,
    files: &dyn Files,
    traces: Option<&Traces>,
) -> Result<Vec<(String, IntervalTable)>, ExperimentError> {
    if e.estimate_from.is_empty() {
        let t = traces.ok_or(ExperimentError::NoTraces)?;
        return Ok(vec![("run".to_string(), t.table.clone())]);
    }
    e.estimate_from
        .iter()
        .map(|r| {
            let table = read_table(
                e,
                files,
                &r.requests,
                &r.utilization,
                &mut |_| {},
                &mut |_| {},
            )?
            .0;
            Ok((r.name.clone(), table))
        })
        .collect()
}

/// The resources that parameters estimate on their own (`resource:`), in
/// order, each once.
pub(super) fn named_resources(e: &Experiment) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, src) in &e.params {
        if let ParamSource::Estimate {
            resource: Some(r), ..
        } = src
            && !out.contains(r)
        {
            out.push(r.clone());
        }
    }
    out
}

/// The demands of the experiment's containers, from its traces.
pub(super) fn estimate_demands(
    e: &Experiment,
    runs: &[(&str, &IntervalTable)],
    resources: &[String],
    spec: &super::EstimateSpec,
    seed: u64,
) -> Result<Report, ExperimentError> {
    let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
    let total = spec.background.as_deref();
    let (mut obs, diag) = Observations::with_total(runs, &resources, total, e.servers, false)
        .map_err(ExperimentError::Estimation)?;
    obs.discipline = spec.discipline;
    if diag.saturated > 0 {
        log::warn!(
            "experiment {}: {} interval(s) with utilization >= 0.99 left out: estimators break down on saturated data",
            e.name,
            diag.saturated
        );
    }
    let cfg = Config {
        methods: spec.methods.clone(),
        folds: spec.folds,
        seed,
        bootstrap: spec.bootstrap,
        intercept: false,
        combine: spec.combine.clone(),
        confidence: 0.95,
        load_dependence: spec.load_dependence,
        background: total.is_some(),
        ..Config::default()
    };
    let name = if resources.len() == 1 {
        resources[0].to_string()
    } else {
        format!(
            "{} (mean of {} containers)",
            resources.join("+"),
            resources.len()
        )
    };
    Ok(estimate(&obs, diag, &cfg, &name, runs[0].1.grid.width))
}
