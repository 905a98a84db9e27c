//! One experiment: traces → estimation → simulation and analysis →
//! comparison.

use std::path::Path;

use super::{
    Analytic, Experiment, ExperimentError, ExperimentResult, Files, LoadAdjustment, Measured,
    MeasuredTraces, ParamSource, Pick, SeriesPoint,
};
use crate::compare::{Accumulator, Summary, compare, error_pct, mean_only};
use crate::estimate::{Config, Observations, Report, estimate};
use crate::model::{Model, Params, Stability, Template};
use crate::qpn::{Control, RunConfig, StopRule, choose_probe, simulate};
use crate::trace::{IntervalTable, Pipeline, UtilSeries, read_utilization};

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
    // 2. Estimation, from the experiment's own traces or from its runs.
    let estimation = match (&traces, &e.estimate) {
        (_, Some(spec)) if !e.estimate_from.is_empty() => {
            let runs = e
                .estimate_from
                .iter()
                .map(|r| {
                    Ok((
                        r.name.clone(),
                        read_table(e, files, &r.requests, &r.utilization, &mut |_| {})?.0,
                    ))
                })
                .collect::<Result<Vec<_>, ExperimentError>>()?;
            let named: Vec<(&str, &IntervalTable)> =
                runs.iter().map(|(n, t)| (n.as_str(), t)).collect();
            let resources = resources_of(e, &runs[0].1.resources)?;
            Some(estimate_demands(e, &named, &resources, spec, seed)?)
        }
        (Some(t), Some(spec)) => Some(estimate_demands(
            e,
            &[("run", &t.table)],
            &t.resources,
            spec,
            seed,
        )?),
        (None, Some(_)) => return Err(ExperimentError::NoTraces),
        _ => None,
    };
    // 3. Model parameters.
    let template = read_model(e, files)?;
    let (params, demand, demand_at_load) =
        params(e, &template, traces.as_ref(), estimation.as_ref())?;
    let model = template
        .instantiate(&params, Stability::Reject)
        .map_err(|source| model_error(e, source))?;
    // 4. Simulation and analysis.
    let p = predict(e, &model, seed)?;
    let prediction_band_s = match demand {
        Some((_, Some(ci))) => band(e, &template, &params, ci, seed, &p),
        _ => None,
    };
    // 5. Comparison.
    let measured = match (&traces, e.measured_mean_s) {
        (Some(t), _) => Some(t.response.summary()),
        (None, Some(m)) => Some(mean_only(m)),
        (None, None) => None,
    };
    let comparison = measured.as_ref().map(|m| compare(m, &p.simulated));
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
        simulated_utilization: p.utilization,
        events: p.events,
    })
}

/// The prediction at the ends of the estimated demand's interval (the
/// demand's 2.5 % and 97.5 % bootstrap quantiles): the band of the
/// predicted mean, since the mean rises with the demand. Analytic where
/// the model is solved, else simulated with the prediction's seed (common
/// random numbers). An end without a steady state has no value.
fn band(
    e: &Experiment,
    template: &Template,
    params: &Params,
    (lo, hi): (f64, f64),
    seed: u64,
    p: &Prediction,
) -> Option<[Option<f64>; 2]> {
    let name = e
        .params
        .iter()
        .find(|(_, src)| matches!(src, ParamSource::Estimate { .. }))?
        .0
        .clone();
    let at = |d: f64| -> Option<f64> {
        let mut q = params.clone();
        q.set(&name, d);
        let model = template.instantiate(&q, Stability::Reject).ok()?;
        if p.analytic_s.is_some() {
            let a = crate::solve::analyse(&model.net).ok()?;
            return a.probe_mean(&p.probe.0, &p.probe.1);
        }
        let report = simulate(&model.net, &run_config(e, seed), Control::default()).ok()?;
        report
            .probes
            .iter()
            .find(|r| r.name == p.probe.0 && r.color == p.probe.1)?
            .mean_s
    };
    Some([at(lo), at(hi)])
}

/// What the model predicts for the experiment's probe.
struct Prediction {
    /// The probe's name and colour.
    probe: (String, String),
    simulated: Summary,
    analytic_s: Option<f64>,
    analytic: Analytic,
    /// Mean simulated utilization of the queueing places.
    utilization: Option<f64>,
    events: u64,
}

/// How the experiment's model is simulated.
fn run_config(e: &Experiment, seed: u64) -> RunConfig {
    RunConfig {
        stop: StopRule::Requests(e.run.requests),
        warmup: e.run.warmup,
        replications: e.run.replications,
        seed,
        ..RunConfig::default()
    }
}

/// Simulates the model, and solves it analytically where it can.
fn predict(e: &Experiment, model: &Model, seed: u64) -> Result<Prediction, ExperimentError> {
    let report = simulate(&model.net, &run_config(e, seed), Control::default())
        .map_err(ExperimentError::Simulation)?;
    let names: Vec<&str> = report.probes.iter().map(|p| p.name.as_str()).collect();
    let probe = &report.probes[choose_probe(&names, e.probe.as_deref())?];
    let (analytic_s, analytic) = match crate::solve::analyse(&model.net) {
        Ok(a) => (
            a.probe_mean(&probe.name, &probe.color),
            Analytic::Solved { method: a.method },
        ),
        Err(err) => (
            None,
            Analytic::NotSolved {
                reason: err.to_string(),
            },
        ),
    };
    let utils: Vec<f64> = report.places.iter().filter_map(|p| p.utilization).collect();
    Ok(Prediction {
        probe: (probe.name.clone(), probe.color.clone()),
        simulated: Summary::from(probe),
        analytic_s,
        analytic,
        utilization: (!utils.is_empty()).then(|| utils.iter().sum::<f64>() / utils.len() as f64),
        events: report.events,
    })
}

fn model_error(e: &Experiment, source: crate::model::ModelError) -> ExperimentError {
    ExperimentError::Model {
        path: e.model.clone(),
        source,
    }
}

/// The experiment's model, parsed once; sample files are read beside it.
fn read_model(e: &Experiment, files: &dyn Files) -> Result<Template, ExperimentError> {
    let text = files.read_to_string(&e.model)?;
    let dir = e.model.parent().map(Path::to_path_buf).unwrap_or_default();
    let read_file = |name: &str| files.read_to_string(&dir.join(name));
    Template::parse(&text, &read_file).map_err(|source| model_error(e, source))
}

/// The demands of the experiment's containers, from its traces.
fn estimate_demands(
    e: &Experiment,
    runs: &[(&str, &IntervalTable)],
    resources: &[String],
    spec: &super::EstimateSpec,
    seed: u64,
) -> Result<Report, ExperimentError> {
    let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
    let (mut obs, diag) = Observations::from_runs(runs, &resources, e.servers, false)
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

/// The chosen demand and its CI, seconds.
type Chosen = (f64, Option<(f64, f64)>);

/// Why a parameter has no value: the reason in words, for
/// [`ExperimentError::Param`].
type Why = std::borrow::Cow<'static, str>;

/// The model's parameter settings, the estimated demand among them, and
/// how it was moved to the experiment's load.
fn params(
    e: &Experiment,
    template: &Template,
    traces: Option<&Traces>,
    estimation: Option<&Report>,
) -> Result<(Params, Option<Chosen>, Option<LoadAdjustment>), ExperimentError> {
    let mut params = Params::new();
    let mut demand = None;
    let mut adjustment = None;
    let mut think = Vec::new();
    let param = |name: &str, why: &str| ExperimentError::Param {
        name: name.to_string(),
        why: why.to_string(),
    };
    for (name, src) in &e.params {
        match src {
            ParamSource::Value(v) => {
                params.set(name, v.clone());
            }
            ParamSource::Measured(Measured::ThinkTime) => think.push(name),
            ParamSource::Measured(m) => {
                let t = traces.ok_or_else(|| param(name, "measured values need traces"))?;
                params.set(name, t.measured_value(*m));
            }
            ParamSource::Estimate { pick, class } => {
                let r = estimation
                    .ok_or_else(|| param(name, "an estimate needs `estimate` and traces"))?;
                let mut d = chosen(r, pick, class.as_deref()).map_err(|why| param(name, &why))?;
                if e.estimate.as_ref().is_some_and(|s| s.load_dependence) {
                    let a = at_load(e, r, d.0, traces).map_err(|why| param(name, &why))?;
                    d = (
                        d.0 * a.factor,
                        d.1.map(|(lo, hi)| (lo * a.factor, hi * a.factor)),
                    );
                    adjustment = Some(a);
                }
                demand = Some(d);
                params.set(name, d.0);
            }
        }
    }
    for (key, v) in [("servers", e.servers), ("containers", e.containers)] {
        if template.has_param(key) && !e.params.iter().any(|(n, _)| n == key) {
            params.set(key, f64::from(v));
        }
    }
    if !think.is_empty() {
        let z = think_time(e, template, &params, traces)?;
        for name in think {
            params.set(name, z);
        }
    }
    Ok((params, demand, adjustment))
}

/// The load adjustment of demand `d` (estimated around the runs' mean
/// utilization) to the experiment's load: the fixed point of
/// U = λ·d·(1 + β·(U − Ū))/c, linear in U.
fn at_load(
    e: &Experiment,
    r: &Report,
    d: f64,
    traces: Option<&Traces>,
) -> Result<LoadAdjustment, Why> {
    let [l] = r.load_dependence.as_slice() else {
        return Err(match r.load_dependence.len() {
            0 => "load dependence needs runs at several loads (`estimate_from` with two or more)"
                .into(),
            _ => "load-dependent demand is passed for one class only".into(),
        });
    };
    let t = traces.ok_or(Why::from(
        "load dependence needs the experiment's traces (its load)",
    ))?;
    let lambda = t.measured.throughput / f64::from(e.containers);
    let c = f64::from(e.servers);
    let (beta, mean) = (l.beta, l.mean_utilization);
    let below = c - lambda * d * beta;
    let u = lambda * d * (1.0 - beta * mean) / below;
    if !(below > 0.0 && u > 0.0 && u < 1.0) {
        return Err(format!(
            "with β = {beta:.3} the demand has no utilization below 1 at {lambda:.4} requests/s per container"
        )
        .into());
    }
    Ok(LoadAdjustment {
        mean_utilization: mean,
        utilization: u,
        beta,
        factor: 1.0 + beta * (u - mean),
    })
}

/// Z = N / X − R from the traces, with N the model's `clients`.
fn think_time(
    e: &Experiment,
    template: &Template,
    params: &Params,
    traces: Option<&Traces>,
) -> Result<f64, ExperimentError> {
    let t = traces.ok_or(ExperimentError::NoTraces)?;
    let values = template
        .resolve(params)
        .map_err(|source| model_error(e, source))?;
    let n = *values.get("clients").ok_or(ExperimentError::NoClients)?;
    let r = t.response.summary().mean_s.unwrap_or(f64::NAN);
    let z = n / t.measured.throughput - r;
    if z.is_nan() || z <= 0.0 {
        return Err(ExperimentError::ThinkTime {
            clients: n,
            throughput: t.measured.throughput,
            response: r,
        });
    }
    Ok(z)
}

/// The estimate a parameter asks for, or why there is none: the words
/// that complete [`ExperimentError::Param`].
fn chosen(r: &Report, pick: &Pick, class: Option<&str>) -> Result<Chosen, Why> {
    let failures = |only: Option<&str>| -> Vec<String> {
        r.failures
            .iter()
            .map(|f| f.to_string())
            .filter(|f| only.is_none_or(|m| f.starts_with(m)))
            .collect()
    };
    let method = match pick {
        Pick::Combined => r
            .estimates
            .iter()
            .find(|x| x.method.starts_with("combined"))
            .map(|x| x.method.clone())
            .ok_or_else(|| {
                let why = failures(None);
                Why::from(format!(
                    "no combined estimate (list the methods to average under `combine`){}",
                    if why.is_empty() {
                        String::new()
                    } else {
                        format!("; failures: {}", why.join("; "))
                    }
                ))
            })?,
        Pick::Recommended => r
            .recommended
            .clone()
            .ok_or(Why::from("no method could be recommended"))?,
        Pick::Method(m) => m.id().to_string(),
    };
    let e = r
        .estimates
        .iter()
        .find(|x| x.method == method && class.is_none_or(|c| x.class == c))
        .ok_or_else(|| {
            let why = failures(Some(&method));
            Why::from(format!(
                "no `{method}` estimate{}{}",
                class
                    .map(|c| format!(" of class `{c}`"))
                    .unwrap_or_default(),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {}", why.join("; "))
                }
            ))
        })?;
    Ok((e.demand_s, e.ci_low_s.zip(e.ci_high_s)))
}

/// Everything read from an experiment's traces.
struct Traces {
    table: IntervalTable,
    resources: Vec<String>,
    response: Accumulator,
    measured: MeasuredTraces,
}

impl Traces {
    /// A measured quantity for a model parameter.
    fn measured_value(&self, m: Measured) -> f64 {
        let x = self.measured.throughput;
        match m {
            Measured::Throughput => x,
            Measured::Interarrival => 1.0 / x,
            Measured::ResponseTime => self.response.summary().mean_s.unwrap_or(f64::NAN),
            Measured::ThinkTime => unreachable!("needs the model's clients: see think_time"),
        }
    }
}

/// The experiment's containers among the utilization's resources.
fn resources_of(e: &Experiment, known: &[String]) -> Result<Vec<String>, ExperimentError> {
    let resources: Vec<String> = if e.resources.is_empty() {
        known.to_vec()
    } else {
        e.resources.clone()
    };
    if e.estimate.is_some() && resources.len() != e.containers as usize {
        return Err(ExperimentError::Containers {
            containers: e.containers,
            resources,
        });
    }
    Ok(resources)
}

/// One run's files aggregated into its interval table (on the
/// estimation's interval); `each` sees every request.
fn read_table(
    e: &Experiment,
    files: &dyn Files,
    requests: &[std::path::PathBuf],
    utilization: &[std::path::PathBuf],
    each: &mut dyn FnMut(&crate::trace::Request),
) -> Result<(IntervalTable, Vec<String>), ExperimentError> {
    let trace_error = |p: &Path| {
        let path = p.to_path_buf();
        move |source| ExperimentError::Trace { path, source }
    };
    let mut samples = Vec::new();
    for p in utilization {
        samples.extend(read_utilization(files.open(p)?).map_err(trace_error(p))?);
    }
    let util = UtilSeries::from_samples(samples).map_err(ExperimentError::Utilization)?;
    let known = util.resources().to_vec();
    let interval = e.estimate.as_ref().and_then(|s| s.interval_s);
    let mut pipeline = Pipeline::new(util, interval, false);
    for p in requests {
        pipeline
            .add_requests(files.open(p)?, &mut *each)
            .map_err(trace_error(p))?;
    }
    let table = pipeline.finish().map_err(ExperimentError::Requests)?;
    Ok((table, known))
}

fn read_traces(e: &Experiment, files: &dyn Files) -> Result<Traces, ExperimentError> {
    let mut response = Accumulator::default();
    let (table, known) = read_table(e, files, &e.requests, &e.utilization, &mut |r| {
        if r.success {
            response.push(r.response_time);
        }
    })?;
    let resources = resources_of(e, &known)?;
    if response.count() == 0 {
        return Err(ExperimentError::NoSuccess);
    }
    let measured = measured(&table, &resources)?;
    Ok(Traces {
        table,
        resources,
        response,
        measured,
    })
}

/// The per-interval series and the means over the experiment's resources.
fn measured(
    table: &IntervalTable,
    resources: &[String],
) -> Result<MeasuredTraces, ExperimentError> {
    let idx: Vec<usize> = resources
        .iter()
        .map(|r| table.resource_index(r))
        .collect::<Result<_, _>>()
        .map_err(ExperimentError::Resource)?;
    let origin = table.intervals.first().map_or(0.0, |iv| iv.start);
    let series = table
        .intervals
        .iter()
        .map(|iv| {
            let done: u64 = iv.classes.iter().map(|c| c.completions).sum();
            let rt: f64 = iv
                .classes
                .iter()
                .filter_map(|c| c.mean_response_s.map(|m| m * c.completions as f64))
                .sum();
            let us: Option<Vec<f64>> = idx.iter().map(|&r| iv.utilization[r]).collect();
            SeriesPoint {
                t_s: iv.end - origin,
                response_s: (done > 0).then(|| rt / done as f64),
                utilization: us
                    .filter(|u| !u.is_empty())
                    .map(|u| u.iter().sum::<f64>() / u.len() as f64),
            }
        })
        .collect();
    let s = &table.summary;
    let means: Vec<f64> = resources
        .iter()
        .filter_map(|r| s.mean_utilization.get(r).copied())
        .collect();
    Ok(MeasuredTraces {
        requests: s.used,
        duration_s: s.duration_s,
        throughput: s.used as f64 / s.duration_s,
        mean_utilization: (!means.is_empty())
            .then(|| means.iter().sum::<f64>() / means.len() as f64),
        series,
    })
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
    let text = files.read_to_string(path)?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|err| ctx(err.to_string()))?;
    let rows = doc["truth"].as_array().ok_or_else(|| {
        ctx("expected the truth.json of `demandsim generate` (a `truth` list)".into())
    })?;
    let ds: Vec<f64> = rows
        .iter()
        .filter(|t| {
            resources.is_none_or(|rs| {
                t["place"]
                    .as_str()
                    .is_some_and(|p| rs.iter().any(|r| r == p))
            })
        })
        .filter_map(|t| t["true_demand_s"].as_f64())
        .collect();
    if ds.is_empty() {
        return Err(ctx("no true demand for the experiment's resources".into()));
    }
    Ok(ds.iter().sum::<f64>() / ds.len() as f64)
}
