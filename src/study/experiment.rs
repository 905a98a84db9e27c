//! One experiment: traces → estimation → simulation and analysis →
//! comparison.

use std::path::Path;

use super::{
    Experiment, ExperimentResult, Files, Measured, MeasuredTraces, ParamSource, Pick, SeriesPoint,
};
use crate::compare::{Accumulator, Summary, compare, error_pct, mean_only};
use crate::estimate::{Config, Observations, Report, estimate};
use crate::model_io::{LoadOptions, Model, Stability, load};
use crate::qpn::{Control, RunConfig, StopRule, default_probe, simulate};
use crate::trace::{
    Aggregator, IntervalTable, Labels, RequestReader, UtilSeries, UtilizationReader,
};

/// Runs one experiment with `seed`; the error names the step that failed.
///
/// # Errors
/// A message: unreadable or invalid traces, an estimation that gives no
/// usable demand, a model that does not load, a failed simulation.
pub fn run_experiment(
    e: &Experiment,
    files: &dyn Files,
    seed: u64,
) -> Result<ExperimentResult, String> {
    // 1. Traces.
    let traces = if e.requests.is_empty() {
        None
    } else {
        Some(read_traces(e, files)?)
    };
    // 2. Estimation.
    let estimation = match (&traces, &e.estimate) {
        (Some(t), Some(spec)) => {
            let resources: Vec<&str> = t.resources.iter().map(String::as_str).collect();
            let (obs, diag) = Observations::from_balanced(&t.table, &resources, e.servers, false)
                .map_err(|err| format!("estimation: {err}"))?;
            let cfg = Config {
                methods: spec.methods.clone(),
                folds: spec.folds,
                seed,
                bootstrap: spec.bootstrap,
                intercept: false,
                combine: spec.combine.clone(),
                confidence: 0.95,
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
            Some(estimate(&obs, diag, &cfg, &name, t.table.grid.width))
        }
        (None, Some(_)) => return Err("estimation needs request and utilization traces".into()),
        _ => None,
    };
    // 3. Model parameters.
    let text = files.read_to_string(&e.model)?;
    let dir = e.model.parent().map(Path::to_path_buf).unwrap_or_default();
    let read_file = |name: &str| files.read_to_string(&dir.join(name));
    let load_with = |overrides: &[(String, String)]| -> Result<Model, String> {
        let opts = LoadOptions {
            overrides,
            stability: Stability::Reject,
            read_file: &read_file,
        };
        load(&text, &opts).map_err(|err| format!("{}: {err}", e.model.display()))
    };
    let defaults = load_with(&[])?;
    let mut overrides: Vec<(String, String)> = Vec::new();
    let mut demand = None;
    let mut think = Vec::new();
    for (name, src) in &e.params {
        let value = match src {
            ParamSource::Value(v) => v.clone(),
            ParamSource::Measured(Measured::ThinkTime) => {
                think.push(name.clone());
                continue;
            }
            ParamSource::Measured(m) => {
                let t = traces
                    .as_ref()
                    .ok_or_else(|| format!("parameter {name}: measured values need traces"))?;
                let x = t.measured.throughput;
                let v = match m {
                    Measured::Throughput => x,
                    Measured::Interarrival => 1.0 / x,
                    Measured::ResponseTime => t.response.summary().mean_s.unwrap_or(f64::NAN),
                    Measured::ThinkTime => unreachable!("handled above"),
                };
                fmt(v)
            }
            ParamSource::Estimate { pick, class } => {
                let r = estimation.as_ref().ok_or_else(|| {
                    format!("parameter {name}: an estimate needs `estimate` and traces")
                })?;
                let (d, ci) = chosen(r, pick, class.as_deref())
                    .map_err(|err| format!("parameter {name}: {err}"))?;
                demand = Some((d, ci));
                fmt(d)
            }
        };
        overrides.push((name.clone(), value));
    }
    for (key, v) in [("servers", e.servers), ("containers", e.containers)] {
        if defaults.params.contains_key(key) && !e.params.iter().any(|(n, _)| n == key) {
            overrides.push((key.to_string(), v.to_string()));
        }
    }
    if !think.is_empty() {
        let t = traces
            .as_ref()
            .ok_or_else(|| "the measured think time needs traces".to_string())?;
        let partial = load_with(&overrides)?;
        let n = *partial.params.get("clients").ok_or_else(|| {
            "the measured think time (Z = N / X − R) needs a `clients` parameter".to_string()
        })?;
        let r = t.response.summary().mean_s.unwrap_or(f64::NAN);
        let z = n / t.measured.throughput - r;
        if z.is_nan() || z <= 0.0 {
            return Err(format!(
                "the measured think time N / X − R = {n} / {:.4} − {r:.4} is not positive: the traces do not fit a closed model with {n} clients",
                t.measured.throughput
            ));
        }
        for name in think {
            overrides.push((name, fmt(z)));
        }
    }
    let model = load_with(&overrides)?;
    // 4. Simulation and analysis.
    let cfg = RunConfig {
        stop: StopRule::Requests(e.run.requests),
        warmup: e.run.warmup,
        replications: e.run.replications,
        seed,
        ..RunConfig::default()
    };
    let report = simulate(&model.net, &cfg, Control::default())
        .map_err(|err| format!("simulation: {err}"))?;
    let probe_name = match &e.probe {
        Some(p) => p.clone(),
        None => default_probe(report.probes.iter().map(|p| p.name.as_str()))
            .map(|i| report.probes[i].name.clone())
            .ok_or_else(|| "the model has no probe".to_string())?,
    };
    let probe = report
        .probes
        .iter()
        .find(|p| p.name == probe_name)
        .ok_or_else(|| format!("the model has no probe `{probe_name}`"))?;
    let simulated = Summary::from(probe);
    let (analytic_s, analytic_method) = match crate::solve::analyse(&model.net) {
        Ok(a) => (
            a.probes
                .iter()
                .find(|p| p.name == probe.name && p.color == probe.color)
                .and_then(|p| p.mean_s),
            a.method,
        ),
        Err(err) => (None, err.to_string()),
    };
    let utils: Vec<f64> = report.places.iter().filter_map(|p| p.utilization).collect();
    let simulated_utilization =
        (!utils.is_empty()).then(|| utils.iter().sum::<f64>() / utils.len() as f64);
    // 5. Comparison.
    let measured = match (&traces, e.measured_mean_s) {
        (Some(t), _) => Some(t.response.summary()),
        (None, Some(m)) => Some(mean_only(m)),
        (None, None) => None,
    };
    let comparison = measured.as_ref().map(|m| compare(m, &simulated));
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
        name: e.name.clone(),
        model: model.name.clone(),
        model_file: e.model.display().to_string(),
        seed,
        params: model.params.clone(),
        traces: traces.map(|t| t.measured),
        estimation,
        demand_s,
        demand_ci_s: demand.and_then(|(_, ci)| ci),
        true_demand_s,
        demand_error_pct,
        simulated_s: simulated.mean_s,
        simulated,
        analytic_error_pct: err_of(analytic_s),
        analytic_s,
        analytic_method,
        error_pct: err_of(probe.mean_s),
        measured_s,
        measured,
        comparison,
        simulated_utilization,
        events: report.events,
    })
}

/// Full precision, so that the model sees exactly the number.
fn fmt(v: f64) -> String {
    format!("{v:e}")
}

/// The chosen estimate and its CI.
type Chosen = (f64, Option<(f64, f64)>);

fn chosen(r: &Report, pick: &Pick, class: Option<&str>) -> Result<Chosen, String> {
    let method = match pick {
        Pick::Combined => r
            .estimates
            .iter()
            .find(|x| x.method.starts_with("combined"))
            .map(|x| x.method.clone())
            .ok_or_else(|| {
                let why: Vec<String> = r.failures.iter().map(|f| f.to_string()).collect();
                format!(
                    "no combined estimate (list the methods to average under `combine`){}",
                    if why.is_empty() {
                        String::new()
                    } else {
                        format!("; failures: {}", why.join("; "))
                    }
                )
            })?,
        Pick::Recommended => r
            .recommended
            .clone()
            .ok_or_else(|| "no method could be recommended".to_string())?,
        Pick::Method(m) => m.id().to_string(),
    };
    let e = r
        .estimates
        .iter()
        .find(|x| x.method == method && class.is_none_or(|c| x.class == c))
        .ok_or_else(|| {
            let why: Vec<String> = r
                .failures
                .iter()
                .map(|f| f.to_string())
                .filter(|f| f.starts_with(&method))
                .collect();
            format!(
                "no `{method}` estimate{}{}",
                class
                    .map(|c| format!(" of class `{c}`"))
                    .unwrap_or_default(),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {}", why.join("; "))
                }
            )
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

fn read_traces(e: &Experiment, files: &dyn Files) -> Result<Traces, String> {
    let mut samples = Vec::new();
    for p in &e.utilization {
        let ctx = |err: &dyn std::fmt::Display| format!("{}: {err}", p.display());
        let reader = UtilizationReader::new(files.open(p)?).map_err(|err| ctx(&err))?;
        for s in reader {
            samples.push(s.map_err(|err| ctx(&err))?);
        }
    }
    let util = UtilSeries::from_samples(samples).map_err(|err| format!("utilization: {err}"))?;
    let resources: Vec<String> = if e.resources.is_empty() {
        util.resources().to_vec()
    } else {
        e.resources.clone()
    };
    if e.estimate.is_some() && resources.len() != e.containers as usize {
        return Err(format!(
            "{} container(s), but the utilization traces hold {} resource(s) ({}); name them under `resources`",
            e.containers,
            resources.len(),
            resources.join(", ")
        ));
    }
    let width = e
        .estimate
        .as_ref()
        .and_then(|s| s.interval_s)
        .or_else(|| util.grid(None).map(|g| g.width))
        .unwrap_or(30.0);
    let mut agg = Aggregator::new(util.grid(Some(width)), width, false);
    let mut labels = Labels::new();
    let mut response = Accumulator::default();
    for p in &e.requests {
        let ctx = |err: &dyn std::fmt::Display| format!("{}: {err}", p.display());
        let mut reader = RequestReader::new(files.open(p)?).map_err(|err| ctx(&err))?;
        // Class ids are per file; map them onto one table.
        let mut map: Vec<Option<crate::trace::LabelId>> = Vec::new();
        while let Some(r) = reader.next_request() {
            let mut r = r.map_err(|err| ctx(&err))?;
            let i = r.class.0 as usize;
            if map.len() <= i {
                map.resize(i + 1, None);
            }
            let id = *map[i].get_or_insert_with(|| labels.intern(reader.classes().name(r.class)));
            r.class = id;
            if r.success {
                response.push(r.response_time);
            }
            agg.push(&r);
        }
    }
    let table = agg
        .finish(&labels, &util)
        .map_err(|err| format!("requests: {err}"))?;
    if response.count() == 0 {
        return Err("the request traces hold no successful request".into());
    }
    let idx: Vec<usize> = resources
        .iter()
        .map(|r| table.resource_index(r).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
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
    let measured = MeasuredTraces {
        requests: s.used,
        duration_s: s.duration_s,
        throughput: s.used as f64 / s.duration_s,
        mean_utilization: (!means.is_empty())
            .then(|| means.iter().sum::<f64>() / means.len() as f64),
        series,
    };
    Ok(Traces {
        table,
        resources,
        response,
        measured,
    })
}

/// The true demand in a `truth.json` of `demandsim generate`: the mean
/// over the experiment's resources (all places when there are none).
fn read_truth(
    files: &dyn Files,
    path: &Path,
    resources: Option<&Vec<String>>,
) -> Result<f64, String> {
    let ctx = |err: &dyn std::fmt::Display| format!("{}: {err}", path.display());
    let text = files.read_to_string(path)?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|err| ctx(&err))?;
    let rows = doc["truth"]
        .as_array()
        .ok_or_else(|| ctx(&"expected the truth.json of `demandsim generate` (a `truth` list)"))?;
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
        return Err(ctx(&"no true demand for the experiment's resources"));
    }
    Ok(ds.iter().sum::<f64>() / ds.len() as f64)
}
