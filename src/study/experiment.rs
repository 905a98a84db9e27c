//! One experiment: traces → estimation → simulation and analysis →
//! comparison.

use std::path::Path;

use super::{
    Analytic, ClassAtLoad, ClassComparison, Experiment, ExperimentError, ExperimentResult, Files,
    LoadAdjustment, Measured, MeasuredTraces, ParamSource, Pick, SeriesPoint,
};
use crate::behavior::to_qpn::{ColourRole, Demands, ModelOptions, to_qpn};
use crate::compare::{Accumulator, Summary, compare, error_pct, mean_only};
use crate::estimate::{Config, LoadDependence, Observations, Report, estimate};
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

fn class_row(
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

/// The prediction at the ends of the estimated demands' intervals (each
/// demand's 2.5 % and 97.5 % bootstrap quantiles, all demands at their
/// low ends together and at their high ends together): the band of the
/// predicted mean, since the mean rises with every demand. Analytic where
/// the model is solved, else simulated with the prediction's seed (common
/// random numbers). An end without a steady state has no value; no band
/// when an estimated demand has no interval.
fn band(
    e: &Experiment,
    template: &Template,
    params: &Params,
    estimated: &[Estimated],
    seed: u64,
    p: &Prediction,
) -> Option<[Option<f64>; 2]> {
    let ends: Vec<(&str, (f64, f64))> = estimated
        .iter()
        .map(|(name, (_, ci))| ci.map(|ci| (name.as_str(), ci)))
        .collect::<Option<_>>()?;
    if ends.is_empty() {
        return None;
    }
    let at = |high: bool| -> Option<f64> {
        let mut q = params.clone();
        for (name, (lo, hi)) in &ends {
            q.set(*name, if high { *hi } else { *lo });
        }
        let model = template.instantiate(&q, Stability::Reject).ok()?;
        if p.analytic_s.is_some() {
            return predict_analytic(&model, p);
        }
        let report = simulate(&model.net, &run_config(e, seed), Control::default()).ok()?;
        overall(
            &colors_of(&report, &p.probe, None)
                .iter()
                .collect::<Vec<_>>(),
        )
        .0
        .mean_s
    };
    Some([at(false), at(true)])
}

/// The analytic overall mean of the probe, weighted like the prediction's
/// colours (by their simulated counts).
fn predict_analytic(model: &Model, p: &Prediction) -> Option<f64> {
    let a = crate::solve::analyse(&model.net).ok()?;
    let colors: Vec<ColorPrediction> = p
        .colors
        .iter()
        .map(|c| ColorPrediction {
            color: c.color.clone(),
            simulated: c.simulated.clone(),
            analytic_s: a.probe_mean(&p.probe, &c.color),
        })
        .collect();
    overall(&colors.iter().collect::<Vec<_>>()).1
}

/// What the model predicts for one colour of the experiment's probe.
struct ColorPrediction {
    color: String,
    simulated: Summary,
    analytic_s: Option<f64>,
}

/// What the model predicts for the experiment's probe.
struct Prediction {
    /// The probe's name.
    probe: String,
    /// Per colour.
    colors: Vec<ColorPrediction>,
    /// All colours together.
    simulated: Summary,
    analytic_s: Option<f64>,
    analytic: Analytic,
    /// Mean simulated utilization of the queueing places.
    utilization: Option<f64>,
    events: u64,
    /// What each colour stands for, for a generated behaviour model
    /// (empty: each colour is the request class of its name).
    roles: Vec<ColourRole>,
}

impl Prediction {
    /// The colours `select` picks, together (their summaries' mixture, the
    /// analytic mean weighted by their counts); `None` when it picks none.
    fn predicted(&self, select: impl Fn(&str) -> bool) -> Option<(Summary, Option<f64>)> {
        let picked: Vec<&ColorPrediction> =
            self.colors.iter().filter(|c| select(&c.color)).collect();
        (!picked.is_empty()).then(|| overall(&picked))
    }
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

/// Simulates the model, and solves it analytically where it can. Every
/// colour of the chosen probe is kept; the overall figures are their
/// mixture (one colour: its own).
fn predict(e: &Experiment, model: &Model, seed: u64) -> Result<Prediction, ExperimentError> {
    let report = simulate(&model.net, &run_config(e, seed), Control::default())
        .map_err(ExperimentError::Simulation)?;
    let names: Vec<&str> = report.probes.iter().map(|p| p.name.as_str()).collect();
    let probe = report.probes[choose_probe(&names, e.probe.as_deref())?]
        .name
        .clone();
    let solved = crate::solve::analyse(&model.net);
    let colors = colors_of(&report, &probe, solved.as_ref().ok());
    let (simulated, analytic_s) = overall(&colors.iter().collect::<Vec<_>>());
    let analytic = match solved {
        Ok(a) => Analytic::Solved { method: a.method },
        Err(err) => Analytic::NotSolved {
            reason: err.to_string(),
        },
    };
    let utils: Vec<f64> = report.places.iter().filter_map(|p| p.utilization).collect();
    Ok(Prediction {
        probe,
        colors,
        simulated,
        analytic_s,
        analytic,
        utilization: (!utils.is_empty()).then(|| utils.iter().sum::<f64>() / utils.len() as f64),
        events: report.events,
        roles: Vec::new(),
    })
}

/// Every colour of `probe` in a simulation report, with its analytic mean
/// where the model is solved.
fn colors_of(
    report: &crate::qpn::SimReport,
    probe: &str,
    solved: Option<&crate::solve::Analysis>,
) -> Vec<ColorPrediction> {
    report
        .probes
        .iter()
        .filter(|r| r.name == probe)
        .map(|r| ColorPrediction {
            color: r.color.clone(),
            simulated: Summary::from(r),
            analytic_s: solved.and_then(|a| a.probe_mean(&r.name, &r.color)),
        })
        .collect()
}

/// The overall simulated summary and analytic mean of a probe's colours,
/// weighted by the simulated counts.
fn overall(colors: &[&ColorPrediction]) -> (Summary, Option<f64>) {
    let parts: Vec<&Summary> = colors.iter().map(|c| &c.simulated).collect();
    // The chosen probe has at least one colour (it was found among them).
    let simulated = crate::compare::mixture(&parts).unwrap_or_else(|| colors[0].simulated.clone());
    let analytic_s = match colors {
        [one] => one.analytic_s,
        _ => {
            let n: u64 = colors.iter().map(|c| c.simulated.count).sum();
            colors
                .iter()
                .filter(|c| c.simulated.count > 0)
                .map(|c| {
                    c.analytic_s
                        .map(|a| a * c.simulated.count as f64 / n as f64)
                })
                .sum::<Option<f64>>()
        }
    };
    (simulated, analytic_s)
}

fn model_error(e: &Experiment, source: crate::model::ModelError) -> ExperimentError {
    ExperimentError::Model {
        path: e.model.clone(),
        source,
    }
}

/// The estimation, from the experiment's own traces or from its runs: over
/// the experiment's resources, and over each resource a parameter names on
/// its own (none without `estimate`).
fn estimations(
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

/// The model of a behaviour workload: the behaviour file and the
/// estimated per-class demands (of the experiment's resources, as one
/// processor-sharing station of `servers` servers) as a closed net, and
/// what each of its colours stands for.
fn generated_model(
    e: &Experiment,
    w: &super::BehaviorWorkload,
    files: &dyn Files,
    estimation: Option<&Report>,
) -> Result<(Template, Vec<ColourRole>), ExperimentError> {
    let text = files.read_to_string(&w.behavior)?;
    let behavior: crate::behavior::BehaviorModel =
        serde_json::from_str(&text).map_err(|err| ExperimentError::Behavior {
            path: w.behavior.clone(),
            why: err.to_string(),
        })?;
    let r = estimation.ok_or(ExperimentError::NoTraces)?;
    let mut demands = Demands::new();
    // Each class once (estimates come method by method), without the
    // mix-weighted pseudo-class of an unidentifiable split.
    let classes: std::collections::BTreeSet<&str> = r
        .estimates
        .iter()
        .map(|x| x.class.as_str())
        .filter(|c| *c != crate::estimate::MIX)
        .collect();
    for class in classes {
        let (d, _) = chosen(r, &w.demands, Some(class)).map_err(|why| ExperimentError::Param {
            name: format!("workload demand of {class}"),
            why: why.into_owned(),
        })?;
        demands.insert(class, &r.resource, d);
    }
    let options = ModelOptions {
        users: w.users.clone(),
        think: w.think,
        session_gap_s: w.session_gap_s,
        servers: [(r.resource.clone(), u64::from(e.servers))].into(),
        name: format!("behavior of {}", w.behavior.display()),
    };
    let generated = to_qpn(&behavior, &demands, &options)?;
    let no_files = |name: &str| {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{name}: a generated model reads no sample file"),
        ))
    };
    let template =
        Template::parse(&generated.yaml(), &no_files).map_err(|source| model_error(e, source))?;
    Ok((template, generated.roles().to_vec()))
}

/// The experiment's model, parsed once; sample files are read beside it.
fn read_model(e: &Experiment, files: &dyn Files) -> Result<Template, ExperimentError> {
    let text = files.read_to_string(&e.model)?;
    let dir = e.model.parent().map(Path::to_path_buf).unwrap_or_default();
    let read_file = |name: &str| files.read_to_string(&dir.join(name));
    Template::parse(&text, &read_file).map_err(|source| model_error(e, source))
}

/// The runs to estimate from: the experiment's `estimate_from`, else its
/// own traces.
fn estimation_runs(
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
fn named_resources(e: &Experiment) -> Vec<String> {
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

/// The estimation reports a parameter may pick from.
struct Estimates<'a> {
    /// Over the experiment's resources.
    main: Option<&'a Report>,
    /// Over one resource each, for parameters that name it.
    by_resource: &'a std::collections::BTreeMap<String, Report>,
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

/// An estimated model parameter: its name and value.
type Estimated = (String, Chosen);

/// Why a parameter has no value: the reason in words, for
/// [`ExperimentError::Param`].
type Why = std::borrow::Cow<'static, str>;

/// The model's parameter settings, the estimated demand among them, and
/// how it was moved to the experiment's load.
fn params(
    e: &Experiment,
    template: &Template,
    traces: Option<&Traces>,
    estimates: &Estimates<'_>,
) -> Result<(Params, Vec<Estimated>, Option<LoadAdjustment>), ExperimentError> {
    let mut params = Params::new();
    let mut estimated = Vec::new();
    let mut absent: Vec<&str> = Vec::new();
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
            ParamSource::Measured {
                what: Measured::ThinkTime,
                ..
            } => think.push(name),
            ParamSource::Measured { what, class } => {
                let t = traces.ok_or_else(|| param(name, "measured values need traces"))?;
                let v = t
                    .measured_value(*what, class.as_deref())
                    .map_err(|why| param(name, &why))?;
                if v == 0.0
                    && let Some(c) = class
                {
                    absent.push(c.as_str());
                }
                params.set(name, v);
            }
            ParamSource::Estimate {
                pick,
                class,
                resource,
            } => {
                let r = match resource {
                    Some(res) => estimates.by_resource.get(res),
                    None => estimates.main,
                }
                .ok_or_else(|| param(name, "an estimate needs `estimate` and traces"))?;
                let mut d = chosen(r, pick, class.as_deref()).map_err(|why| param(name, &why))?;
                if e.estimate.as_ref().is_some_and(|s| s.load_dependence) {
                    let a = at_load(e, r, traces).map_err(|why| param(name, &why))?;
                    let f = a
                        .factor(class.as_deref())
                        .map_err(|why| param(name, &why))?;
                    d = (d.0 * f, d.1.map(|(lo, hi)| (lo * f, hi * f)));
                    adjustment = Some(a);
                }
                estimated.push((name.clone(), d));
                params.set(name, d.0);
            }
        }
    }
    // A class the estimation knows is merely absent from this run (a
    // read-only mix has no buy requests); one nobody has seen may be a typo.
    let (known, unknown): (Vec<&str>, Vec<&str>) = absent.iter().partition(|c| {
        estimates
            .main
            .is_some_and(|r| r.estimates.iter().any(|x| x.class == **c))
    });
    if !known.is_empty() {
        log::info!(
            "experiment {}: no request of class {} in this run: throughput 0",
            e.name,
            known.join(", ")
        );
    }
    if !unknown.is_empty() {
        log::warn!(
            "experiment {}: class {} is in neither this run's traces nor the estimation's: throughput 0 (a misspelt class?)",
            e.name,
            unknown.join(", ")
        );
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
    Ok((params, estimated, adjustment))
}

/// The estimated demands at the experiment's load ([`LoadAdjustment`]),
/// from the fitted D̄_r, β_r and Ū of every class and the experiment's
/// per-class throughputs.
fn at_load(e: &Experiment, r: &Report, traces: Option<&Traces>) -> Result<LoadAdjustment, Why> {
    if r.load_dependence.is_empty() {
        return Err(
            "load dependence needs runs at several loads (`estimate_from` with three or more)"
                .into(),
        );
    }
    let t = traces.ok_or(Why::from(
        "load dependence needs the experiment's traces (its load)",
    ))?;
    let mut lambda = Vec::new();
    for l in &r.load_dependence {
        let x = t.measured_value(Measured::Throughput, Some(&l.class))?;
        lambda.push(x / f64::from(e.containers));
    }
    let u = utilization_at_load(f64::from(e.servers), &lambda, &r.load_dependence).ok_or_else(|| {
        format!(
            "with the fitted load dependence the demands have no utilization below 1 at this experiment's load ({:.4} requests/s)",
            t.measured.throughput
        )
    })?;
    let mean = r.load_dependence[0].mean_utilization;
    Ok(LoadAdjustment {
        mean_utilization: mean,
        utilization: u,
        classes: r
            .load_dependence
            .iter()
            .map(|l| ClassAtLoad {
                class: l.class.clone(),
                beta: l.beta,
                factor: 1.0 + l.beta * (u - l.mean_utilization),
            })
            .collect(),
    })
}

/// The fixed point U = Σ_r λ_r·D̄_r·(1 + β_r·(U − Ū_r)) / c, linear in U:
/// U·(c − Σ λ D̄ β) = Σ λ D̄ (1 − β Ū). `None` when it is not in (0, 1).
fn utilization_at_load(c: f64, lambda: &[f64], fits: &[LoadDependence]) -> Option<f64> {
    let (mut work, mut below) = (0.0, c);
    for (x, l) in lambda.iter().zip(fits) {
        let w = x * l.demand_at_mean_s;
        work += w * (1.0 - l.beta * l.mean_utilization);
        below -= w * l.beta;
    }
    let u = work / below;
    (below > 0.0 && u > 0.0 && u < 1.0).then_some(u)
}

impl LoadAdjustment {
    /// The factor for a parameter of `class`; without one, the only
    /// class's (with several, the parameter has to name its class: a
    /// mix-weighted demand has no single β).
    fn factor(&self, class: Option<&str>) -> Result<f64, Why> {
        match (class, self.classes.as_slice()) {
            (Some(c), all) => all
                .iter()
                .find(|x| x.class == c)
                .map(|x| x.factor)
                .ok_or_else(|| format!("no load dependence was fitted for class `{c}`").into()),
            (None, [one]) => Ok(one.factor),
            (None, _) => Err(
                "with several classes, a load-dependent demand names its class (`class: C`)".into(),
            ),
        }
    }
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
    let r = t.mean_response(None).unwrap_or(f64::NAN);
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
    /// Per class (ids of `table.classes`), successful requests.
    by_class: Vec<Accumulator>,
    /// Per user class (the traces' `user_class` column), successful
    /// requests.
    by_user_class: Vec<(String, Summary)>,
    measured: MeasuredTraces,
}

impl Traces {
    /// A measured quantity for a model parameter, of all requests or of
    /// one class; a class the traces do not have has throughput 0 (the
    /// caller says so).
    fn measured_value(&self, m: Measured, class: Option<&str>) -> Result<f64, Why> {
        let Some(c) = class else {
            let x = self.measured.throughput;
            return Ok(match m {
                Measured::Throughput => x,
                Measured::Interarrival => 1.0 / x,
                Measured::ResponseTime => self.mean_response(None).unwrap_or(f64::NAN),
                Measured::ThinkTime => unreachable!("needs the model's clients: see think_time"),
            });
        };
        let idx = self.table.classes.iter().position(|n| n == c);
        let x = idx.map_or(0.0, |i| {
            self.class_count(i) as f64 / self.measured.duration_s
        });
        match m {
            Measured::Throughput => Ok(x),
            Measured::Interarrival if x > 0.0 => Ok(1.0 / x),
            Measured::ResponseTime => idx
                .and_then(|i| self.mean_response(Some(i)))
                .ok_or_else(|| format!("class `{c}` has no successful request").into()),
            _ => Err(format!("class `{c}` has no successful request").into()),
        }
    }

    /// Completed successful requests of class `i`.
    fn class_count(&self, i: usize) -> u64 {
        self.table
            .intervals
            .iter()
            .map(|iv| iv.classes[i].completions)
            .sum()
    }

    /// Mean response time of all requests or of class `i`: from the
    /// requests when there were per-request rows, else from the
    /// interval-level rows.
    fn mean_response(&self, class: Option<usize>) -> Option<f64> {
        let acc = match class {
            None => Some(&self.response),
            Some(i) => self.by_class.get(i),
        };
        if let Some(a) = acc.filter(|a| a.count() > 0) {
            return a.summary().mean_s;
        }
        let (mut n, mut sum) = (0u64, 0.0);
        for iv in &self.table.intervals {
            for (k, c) in iv.classes.iter().enumerate() {
                if class.is_none_or(|i| i == k) {
                    n += c.completions;
                    sum += c.mean_response_s.unwrap_or(0.0) * c.completions as f64;
                }
            }
        }
        (n > 0).then(|| sum / n as f64)
    }

    /// The measured summary of all requests or of class `i` (the mean only
    /// for interval-level input).
    fn summary(&self, class: Option<usize>) -> Option<Summary> {
        let acc = match class {
            None => Some(&self.response),
            Some(i) => self.by_class.get(i),
        };
        match acc {
            Some(a) if a.count() > 0 => Some(a.summary()),
            _ => self.mean_response(class).map(mean_only),
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
    file_done: &mut dyn FnMut(Option<&crate::trace::OriginLabels>),
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
        file_done(pipeline.last_origins());
    }
    let table = pipeline.finish().map_err(ExperimentError::Requests)?;
    Ok((table, known))
}

fn read_traces(e: &Experiment, files: &dyn Files) -> Result<Traces, ExperimentError> {
    let response = std::cell::RefCell::new(Accumulator::default());
    let by_class: std::cell::RefCell<Vec<Accumulator>> = Default::default();
    // Per user class: this file's accumulators (by the file's own ids),
    // then every file's summaries by name.
    let this_file: std::cell::RefCell<Vec<Accumulator>> = Default::default();
    let mut by_user_class: std::collections::BTreeMap<String, Vec<Summary>> = Default::default();
    let (table, known) = read_table(
        e,
        files,
        &e.requests,
        &e.utilization,
        &mut |r| {
            if !r.success {
                return;
            }
            response.borrow_mut().push(r.response_time);
            push_at(
                &mut by_class.borrow_mut(),
                r.class.0 as usize,
                r.response_time,
            );
            if let Some(g) = r.origin.user_class {
                push_at(&mut this_file.borrow_mut(), g.0 as usize, r.response_time);
            }
        },
        &mut |origins| {
            let done = std::mem::take(&mut *this_file.borrow_mut());
            let Some(o) = origins else { return };
            for (name, acc) in o.user_classes.names().iter().zip(&done) {
                if acc.count() > 0 {
                    by_user_class
                        .entry(name.clone())
                        .or_default()
                        .push(acc.summary());
                }
            }
        },
    )?;
    let (response, by_class) = (response.into_inner(), by_class.into_inner());
    let by_user_class = by_user_class
        .into_iter()
        .filter_map(|(name, parts)| {
            let refs: Vec<&Summary> = parts.iter().collect();
            let merged = match refs.as_slice() {
                [one] => (*one).clone(),
                _ => crate::compare::mixture(&refs)?,
            };
            Some((name, merged))
        })
        .collect();
    let resources = resources_of(e, &known)?;
    if table.summary.used == 0 {
        return Err(ExperimentError::NoSuccess);
    }
    let measured = measured(&table, &resources)?;
    Ok(Traces {
        table,
        resources,
        response,
        by_class,
        by_user_class,
        measured,
    })
}

fn push_at(accs: &mut Vec<Accumulator>, i: usize, x: f64) {
    if accs.len() <= i {
        accs.resize_with(i + 1, Accumulator::default);
    }
    accs[i].push(x);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(class: &str, d: f64, beta: f64, u: f64) -> LoadDependence {
        LoadDependence {
            class: class.into(),
            demand_at_mean_s: d,
            mean_utilization: u,
            beta,
            beta_ci: (beta, beta),
            significant: true,
        }
    }

    #[test]
    fn two_classes_meet_at_one_utilization_each_with_its_own_demand() {
        // Class a: 0.05 s at Ū 0.3, 20 % less per unit of U; class b:
        // 0.02 s, 50 % more per unit. 8 and 20 requests/s on 2 servers.
        let fits = [fit("a", 0.05, -0.2, 0.3), fit("b", 0.02, 0.5, 0.3)];
        let lambda = [8.0, 20.0];
        let u = utilization_at_load(2.0, &lambda, &fits).unwrap();
        // The fixed point, checked by its definition.
        let d = |l: &LoadDependence| l.demand_at_mean_s * (1.0 + l.beta * (u - 0.3));
        let again = (lambda[0] * d(&fits[0]) + lambda[1] * d(&fits[1])) / 2.0;
        assert!((u - again).abs() < 1e-12, "{u} vs {again}");
        // 0.4 at constant demands; b's rising demand outweighs a's fall.
        assert!(u > 0.4 && u < 0.45, "{u}");
        // No utilization below 1: refused.
        assert!(utilization_at_load(2.0, &[40.0, 50.0], &fits).is_none());
        // Each class's parameter takes its own factor.
        let at = |class: &str, beta: f64| ClassAtLoad {
            class: class.into(),
            beta,
            factor: 1.0 + beta * (u - 0.3),
        };
        let a = LoadAdjustment {
            mean_utilization: 0.3,
            utilization: u,
            classes: vec![at("a", -0.2), at("b", 0.5)],
        };
        assert_eq!(a.factor(Some("b")).unwrap(), 1.0 + 0.5 * (u - 0.3));
        assert!(a.factor(Some("c")).is_err());
        assert!(a.factor(None).is_err(), "a mix has no single β");
    }
}
