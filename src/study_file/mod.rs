//! The YAML form of a study file (see `traces/reference/study.yaml`).
//!
//! ```yaml
//! name: my-study
//! data: measured               # optional: measured, published or
//!                              # generated (the report says which)
//! seed: 7                      # optional; `--seed` wins
//! defaults:                    # any experiment field; params are merged
//!   run: {requests: 100000, replications: 1, warmup: auto}
//!   estimate: {methods: all, combine: [rort, rortu], bootstrap: 200, folds: 5,
//!              discipline: fcfs,       # or ps: how the CPU shares itself
//!              load_dependence: false, # auto (or true): each class's load
//!                                      # form, chosen by leave-one-run-out
//!                                      # error (or constant, linear_u,
//!                                      # inverse_x), and
//!                                      # the demand at the experiment's load
//!              latency_offset: false,  # true: non-CPU time per request,
//!                                      # from 2+ runs, added to predictions
//!              background: services}   # optional: the total (host or core)
//!                                      # utilization the resources share;
//!                                      # fits U_bg = b0 + Σ X_c·w_c / c
//! experiments:
//!   - name: ET1
//!     model: ../../models/qpn1-open.yaml
//!     requests: ET1/requests.csv.gz      # one file or a list
//!     utilization: ET1/utilization.csv   # one file or a list
//!     resources: [CO1]                   # default: every resource
//!     servers: 12                        # per container
//!     containers: 1
//!     truth: ET1/truth.json              # or true_demand_s: 0.9976
//!     class_column: user_class           # optional: the classes are this
//!                                        # column's values (estimation,
//!                                        # measured values, comparison)
//!     metadata: ET1/run.json             # optional: load.users, .think_s, …
//!     estimate_from:                     # optional: estimate from other runs
//!       - {name: low, requests: low/requests.csv, utilization: low/utilization.csv}
//!     params:
//!       arrival_rate: {measured: throughput}   # throughput, interarrival,
//!                                              # think_time, response_time;
//!                                              # `class: X` for one class
//!       demand: {estimate: combined}           # combined, recommended, or
//!                                              # a method id; `class:` too
//!       clients: 90                            # a number or an expression
//!       demand_{c}: {estimate: sdl, class: "{c}"}   # once for every member of
//!       rate_{c}: {measured: throughput, class: "{c}"} # the model's set `c`
//!       users: {metadata: users}               # or think_s, api_workers
//!       background_u: {background: utilization} # the fitted U_bg at the
//!                                      # experiment's per-class throughputs
//!                                      # (needs `estimate: {background: …}`)
//!   - name: ET1-published
//!     model: ../../models/qpn1-open.yaml
//!     measured_mean_s: 0.904                   # a published mean
//!     params: {arrival_rate: 6.242, demand: 0.997588333}
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::estimate::{Discipline, LoadChoice, LoadForm, Method};
use crate::model::{ParamValue, placeholders, yaml_message};
use crate::qpn::Warmup;
use crate::study::{
    BehaviorWorkload, EstimateSpec, Experiment, Measured, MetadataField, ParamSource, Pick,
    RunFiles, RunSpec, Study,
};

mod params;
mod validate;

use params::{ParamSpec, params};

/// A problem in a study file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StudyFileError {
    /// The YAML itself is malformed.
    #[error("{message}")]
    Yaml {
        /// The YAML parser's message, with its location.
        message: String,
    },
    /// No `experiments`.
    #[error("the study lists no experiments")]
    NoExperiments,
    /// An experiment without a name.
    #[error("experiment {index}: no `name`")]
    NoName {
        /// 1-based position in the list.
        index: usize,
    },
    /// Two experiments of one name.
    #[error("experiment `{name}` is listed twice")]
    Duplicate {
        /// The name.
        name: String,
    },
    /// An invalid field of an experiment.
    #[error("experiment `{name}`: {message}")]
    Experiment {
        /// The experiment.
        name: String,
        /// The field and what is wrong with it.
        message: String,
    },
    /// An invalid field of the `validate:` section.
    #[error("validate: {message}")]
    Validate {
        /// The field and what is wrong with it.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StudySpec {
    name: Option<String>,
    description: Option<String>,
    data: Option<crate::study::DataKind>,
    seed: Option<u64>,
    #[serde(default)]
    defaults: ExpSpec,
    experiments: Vec<ExpSpec>,
    validate: Option<validate::ValidateY>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSpec {
    name: Option<String>,
    model: Option<String>,
    requests: Option<OneOrMany>,
    utilization: Option<OneOrMany>,
    estimate_from: Option<Vec<RunY>>,
    resources: Option<Vec<String>>,
    servers: Option<u32>,
    containers: Option<u32>,
    estimate: Option<EstSpec>,
    #[serde(default)]
    params: BTreeMap<String, ParamSpec>,
    measured_mean_s: Option<f64>,
    true_demand_s: Option<f64>,
    truth: Option<String>,
    run: Option<RunSpecY>,
    probe: Option<String>,
    workload: Option<WorkloadY>,
    class_column: Option<String>,
    metadata: Option<String>,
}

/// `workload: {behavior: B.json, users: 40, demands: recommended, think:
/// learnt, session_gap: 1.0}` (users: one number, one per profile in
/// order, or `{PROFILE: N, …}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadY {
    behavior: String,
    users: UsersY,
    demands: Option<String>,
    think: Option<ThinkY>,
    session_gap: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum UsersY {
    All(u64),
    PerProfile(Vec<u64>),
    Named(BTreeMap<String, u64>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ThinkY {
    Mean(f64),
    Named(String),
}

/// One run to estimate from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunY {
    name: Option<String>,
    requests: OneOrMany,
    utilization: OneOrMany,
    metadata: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn paths(&self) -> Vec<PathBuf> {
        match self {
            Self::One(s) => vec![s.into()],
            Self::Many(v) => v.iter().map(PathBuf::from).collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EstSpec {
    methods: Option<OneOrMany>,
    #[serde(default)]
    combine: Vec<String>,
    bootstrap: Option<usize>,
    folds: Option<usize>,
    interval: Option<f64>,
    discipline: Option<Discipline>,
    load_dependence: Option<LoadDependenceY>,
    background: Option<String>,
    #[serde(default)]
    latency_offset: bool,
}

/// `load_dependence: true | false | auto | constant | linear_u | inverse_x`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum LoadDependenceY {
    Flag(bool),
    Form(String),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunSpecY {
    requests: Option<u64>,
    replications: Option<usize>,
    warmup: Option<WarmupY>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum WarmupY {
    Count(u64),
    Text(String),
}

/// Parses and checks a study file. Paths stay as written (relative to the
/// study file's folder, by convention).
///
/// # Errors
/// Malformed YAML (with its line) or an invalid value (naming the
/// experiment and the field).
pub fn load_study(yaml: &str) -> Result<Study, StudyFileError> {
    let spec: StudySpec = serde_saphyr::from_str(yaml).map_err(|e| StudyFileError::Yaml {
        message: yaml_message(&e),
    })?;
    if spec.experiments.is_empty() {
        return Err(StudyFileError::NoExperiments);
    }
    let mut experiments = Vec::new();
    for (i, x) in spec.experiments.iter().enumerate() {
        let e = merge(&spec.defaults, x);
        let name = e
            .name
            .clone()
            .ok_or(StudyFileError::NoName { index: i + 1 })?;
        if experiments.iter().any(|o: &Experiment| o.name == name) {
            return Err(StudyFileError::Duplicate { name });
        }
        experiments.push(experiment(&name, &e)?);
    }
    Ok(Study {
        name: spec.name.unwrap_or_else(|| "study".into()),
        description: spec.description.unwrap_or_default(),
        data: spec.data,
        seed: spec.seed,
        experiments,
        validate: spec
            .validate
            .as_ref()
            .map(validate::validate_spec)
            .transpose()?,
    })
}

fn merge(d: &ExpSpec, x: &ExpSpec) -> ExpSpec {
    let mut params = d.params.clone();
    params.extend(x.params.clone());
    let run = match (&d.run, &x.run) {
        (Some(a), Some(b)) => Some(RunSpecY {
            requests: b.requests.or(a.requests),
            replications: b.replications.or(a.replications),
            warmup: b.warmup.clone().or_else(|| a.warmup.clone()),
        }),
        (a, b) => b.clone().or_else(|| a.clone()),
    };
    ExpSpec {
        name: x.name.clone(),
        model: x.model.clone().or_else(|| d.model.clone()),
        requests: x.requests.clone().or_else(|| d.requests.clone()),
        utilization: x.utilization.clone().or_else(|| d.utilization.clone()),
        estimate_from: x.estimate_from.clone().or_else(|| d.estimate_from.clone()),
        resources: x.resources.clone().or_else(|| d.resources.clone()),
        servers: x.servers.or(d.servers),
        containers: x.containers.or(d.containers),
        estimate: x.estimate.clone().or_else(|| d.estimate.clone()),
        params,
        measured_mean_s: x.measured_mean_s.or(d.measured_mean_s),
        true_demand_s: x.true_demand_s.or(d.true_demand_s),
        truth: x.truth.clone().or_else(|| d.truth.clone()),
        run,
        probe: x.probe.clone().or_else(|| d.probe.clone()),
        workload: x.workload.clone().or_else(|| d.workload.clone()),
        class_column: x.class_column.clone().or_else(|| d.class_column.clone()),
        metadata: x.metadata.clone().or_else(|| d.metadata.clone()),
    }
}

/// An invalid field of experiment `name`.
fn invalid(name: &str, message: impl Into<String>) -> StudyFileError {
    StudyFileError::Experiment {
        name: name.to_string(),
        message: message.into(),
    }
}

fn method(name: &str, s: &str, what: &str) -> Result<Method, StudyFileError> {
    Method::from_id(s.trim()).ok_or_else(|| {
        invalid(
            name,
            format!("{what}: unknown method `{s}`; expected {}", Method::ids()),
        )
    })
}

fn experiment(name: &str, e: &ExpSpec) -> Result<Experiment, StudyFileError> {
    let workload = e.workload.as_ref().map(|w| workload(name, w)).transpose()?;
    let model = match (&e.model, &e.workload) {
        (Some(m), None) => m.clone(),
        (None, Some(w)) => w.behavior.clone(),
        (Some(_), Some(_)) => {
            return Err(invalid(
                name,
                "`model` and `workload: {behavior}` together: a behaviour workload generates its model",
            ));
        }
        (None, None) => return Err(invalid(name, "no `model`")),
    };
    let paths = |f: &Option<OneOrMany>| f.as_ref().map(OneOrMany::paths).unwrap_or_default();
    let (requests, utilization) = (paths(&e.requests), paths(&e.utilization));
    let (estimate, estimate_from) =
        estimation(name, e, workload.is_some(), &requests, &utilization)?;
    let params = params(name, e, !requests.is_empty())?;
    if let Some(ParamSource::Estimate {
        pick: Pick::Combined,
        ..
    }) = params
        .iter()
        .map(|(_, s)| s)
        .find(|s| matches!(s, ParamSource::Estimate { .. }))
        && estimate.as_ref().is_some_and(|s| s.combine.is_empty())
    {
        return Err(invalid(
            name,
            "`estimate: combined` needs `estimate: {combine: [...]}`",
        ));
    }
    let run = run_spec(name, e)?;
    let containers = e.containers.unwrap_or(1);
    let servers = e.servers.unwrap_or(1);
    if containers == 0 || servers == 0 {
        return Err(invalid(name, "servers and containers must be at least 1"));
    }
    if let Some(m) = e.measured_mean_s
        && !(m.is_finite() && m > 0.0)
    {
        return Err(invalid(
            name,
            format!("measured_mean_s must be positive, got {m}"),
        ));
    }
    Ok(Experiment {
        name: name.to_string(),
        model: model.into(),
        requests,
        utilization,
        estimate_from,
        resources: e.resources.clone().unwrap_or_default(),
        servers,
        containers,
        estimate,
        params,
        measured_mean_s: e.measured_mean_s,
        true_demand_s: e.true_demand_s,
        truth: e.truth.as_ref().map(PathBuf::from),
        run,
        probe: e.probe.clone(),
        workload,
        class_column: e.class_column.clone(),
        metadata: e.metadata.as_ref().map(PathBuf::from),
    })
}

/// The experiment's estimation settings and the runs it estimates from
/// (its own traces when none are named); an estimate parameter or a
/// behaviour workload asks for the default settings.
fn estimation(
    name: &str,
    e: &ExpSpec,
    behavior: bool,
    requests: &[PathBuf],
    utilization: &[PathBuf],
) -> Result<(Option<EstimateSpec>, Vec<RunFiles>), StudyFileError> {
    let has_estimate_param = e
        .params
        .values()
        .any(|p| matches!(p, ParamSpec::Estimate { .. }));
    let estimate = match &e.estimate {
        Some(s) => Some(estimate_spec(name, s)?),
        None if has_estimate_param || behavior => Some(EstimateSpec::default()),
        None => None,
    };
    let estimate_from: Vec<RunFiles> = e
        .estimate_from
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| RunFiles {
            name: r.name.clone().unwrap_or_else(|| format!("run {}", i + 1)),
            requests: r.requests.paths(),
            utilization: r.utilization.paths(),
            metadata: r.metadata.as_ref().map(PathBuf::from),
        })
        .collect();
    if estimate.is_some()
        && estimate_from.is_empty()
        && (requests.is_empty() || utilization.is_empty())
    {
        return Err(invalid(
            name,
            "estimation needs `requests` and `utilization` traces",
        ));
    }
    Ok((estimate, estimate_from))
}

fn pick(name: &str, s: &str, what: &str) -> Result<Pick, StudyFileError> {
    Ok(match s {
        "combined" => Pick::Combined,
        "recommended" => Pick::Recommended,
        m => Pick::Method(method(name, m, what)?),
    })
}

fn workload(name: &str, w: &WorkloadY) -> Result<BehaviorWorkload, StudyFileError> {
    use crate::behavior::to_qpn::{ThinkTimes, Users};
    let users = match &w.users {
        UsersY::All(0) => return Err(invalid(name, "workload: `users` must be at least 1")),
        UsersY::All(n) => Users::Mixed(*n),
        UsersY::PerProfile(v) => Users::PerProfile(v.clone()),
        UsersY::Named(m) => Users::Named(m.iter().map(|(k, v)| (k.clone(), *v)).collect()),
    };
    let think = match &w.think {
        None => ThinkTimes::Learnt,
        Some(ThinkY::Mean(m)) if *m > 0.0 && m.is_finite() => ThinkTimes::Mean(*m),
        Some(ThinkY::Named(s)) if s == "learnt" => ThinkTimes::Learnt,
        Some(ThinkY::Named(s)) if s == "exponential" => ThinkTimes::Exponential,
        Some(ThinkY::Named(s)) if s == "deterministic" => ThinkTimes::Deterministic,
        Some(_) => {
            return Err(invalid(
                name,
                "workload: `think` is learnt, exponential, deterministic or a positive number of seconds",
            ));
        }
    };
    if let Some(g) = w.session_gap
        && !(g > 0.0 && g.is_finite())
    {
        return Err(invalid(
            name,
            "workload: `session_gap` must be a positive number of seconds",
        ));
    }
    Ok(BehaviorWorkload {
        behavior: PathBuf::from(&w.behavior),
        users,
        demands: pick(
            name,
            w.demands.as_deref().unwrap_or("recommended"),
            "workload: `demands`",
        )?,
        think,
        session_gap_s: w.session_gap,
    })
}

/// The run length, with the defaults filled in.
fn run_spec(name: &str, e: &ExpSpec) -> Result<RunSpec, StudyFileError> {
    let run = e.run.clone().unwrap_or_default();
    let defaults = RunSpec::default();
    let warmup = match &run.warmup {
        None => defaults.warmup,
        Some(WarmupY::Count(n)) => Warmup::Count(*n),
        Some(WarmupY::Text(t)) => t
            .parse()
            .map_err(|m| invalid(name, format!("run.warmup: {m}")))?,
    };
    let run = RunSpec {
        requests: run.requests.unwrap_or(defaults.requests),
        replications: run.replications.unwrap_or(defaults.replications),
        warmup,
    };
    if run.requests == 0 || run.replications == 0 {
        return Err(invalid(
            name,
            "run.requests and run.replications must be at least 1",
        ));
    }
    Ok(run)
}

fn estimate_spec(name: &str, s: &EstSpec) -> Result<EstimateSpec, StudyFileError> {
    let d = EstimateSpec::default();
    let methods = match &s.methods {
        None => d.methods,
        Some(OneOrMany::One(a)) if a == "all" => d.methods,
        Some(m) => {
            let names: Vec<String> = match m {
                OneOrMany::One(a) => a.split(',').map(str::to_string).collect(),
                OneOrMany::Many(v) => v.clone(),
            };
            let mut ms = names
                .iter()
                .map(|n| method(name, n, "estimate.methods"))
                .collect::<Result<Vec<_>, _>>()?;
            ms.dedup();
            ms
        }
    };
    let combine = s
        .combine
        .iter()
        .map(|n| method(name, n, "estimate.combine"))
        .collect::<Result<Vec<_>, _>>()?;
    let folds = s.folds.unwrap_or(d.folds);
    if folds < 2 {
        return Err(invalid(name, "estimate.folds must be at least 2"));
    }
    if let Some(i) = s.interval
        && !(i.is_finite() && i > 0.0)
    {
        return Err(invalid(
            name,
            format!("estimate.interval must be positive seconds, got {i}"),
        ));
    }
    let bootstrap = s.bootstrap.unwrap_or(d.bootstrap);
    if bootstrap > crate::estimate::MAX_RESAMPLES {
        return Err(invalid(
            name,
            format!(
                "estimate.bootstrap is {bootstrap}, more than the {} supported",
                crate::estimate::MAX_RESAMPLES
            ),
        ));
    }
    Ok(EstimateSpec {
        methods,
        combine,
        bootstrap,
        folds,
        interval_s: s.interval,
        discipline: s.discipline.unwrap_or_default(),
        load_dependence: load_choice(name, s.load_dependence.as_ref())?,
        latency_offset: s.latency_offset,
        background: s.background.clone(),
    })
}

/// `estimate.load_dependence`: `true` is `auto`.
fn load_choice(
    name: &str,
    y: Option<&LoadDependenceY>,
) -> Result<Option<LoadChoice>, StudyFileError> {
    Ok(match y {
        None | Some(LoadDependenceY::Flag(false)) => None,
        Some(LoadDependenceY::Flag(true)) => Some(LoadChoice::Auto),
        Some(LoadDependenceY::Form(s)) if s == "auto" => Some(LoadChoice::Auto),
        Some(LoadDependenceY::Form(s)) => match LoadForm::from_id(s) {
            Some(f) => Some(LoadChoice::Only(f)),
            None => {
                return Err(invalid(
                    name,
                    format!(
                        "estimate.load_dependence: unknown `{s}`; expected true, false, auto, {}",
                        LoadForm::ALL.map(LoadForm::id).join(", ")
                    ),
                ));
            }
        },
    })
}

#[cfg(test)]
mod tests;
