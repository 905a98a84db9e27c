//! Every choice `plan` makes for the user, from the flags, else the runs'
//! metadata, else the traces, else a stated default; each with its reason.

use serde::Serialize;

use super::input::{Find, PlanError, PlanOptions, RunInput};
use super::model::Kind;
use crate::run_dir::Workload;

/// One choice and its reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// What was chosen.
    pub what: String,
    /// The choice.
    pub chosen: String,
    /// Why.
    pub why: String,
}

/// The protocol the choices make.
#[derive(Debug, Clone, PartialEq)]
pub struct Protocol {
    /// Closed or open, as the runs were.
    pub kind: Kind,
    /// The requests' CPU series.
    pub resource: String,
    /// The total series with background work, if any.
    pub background: Option<String>,
    /// CPUs.
    pub servers: u32,
    /// The column that names a request's class.
    pub class_column: String,
    /// The classes.
    pub classes: Vec<String>,
    /// Indices of the runs fitted.
    pub fit: Vec<usize>,
    /// Index of the run whose mix and load the questions start from.
    pub base: usize,
    /// Each class's demand fitted as a function of load.
    pub load_dependence: bool,
    /// A worker pool the requests hold (some run's metadata names one).
    pub pool: bool,
}

/// The protocol and the decisions that made it.
///
/// # Errors
/// Runs that disagree on their resource, servers or workload; a resource
/// that cannot be chosen; `--fit` or `--mix-of` naming a run not given.
pub fn decide(runs: &[RunInput], o: &PlanOptions) -> Result<(Protocol, Vec<Decision>), PlanError> {
    let mut d = Vec::new();
    let mut note = |what: &str, chosen: String, why: String| {
        d.push(Decision {
            what: what.into(),
            chosen,
            why,
        });
    };
    let fit = fit_runs(runs, o)?;
    let names = |ix: &[usize]| {
        ix.iter()
            .map(|&i| runs[i].name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let why_fit = if o.fit.is_some() {
        "--fit".to_string()
    } else {
        "every run given (--fit picks fewer); each is also predicted from a fit on the others"
            .into()
    };
    note("runs fitted", names(&fit), why_fit);
    let (kind, why) = workload(runs)?;
    note("workload", format!("{kind:?}").to_lowercase(), why);
    let (resource, why) = resource(runs, o)?;
    note("resource", resource.clone(), why);
    let (background, why) = background(runs, o, &resource)?;
    note(
        "background",
        background.clone().unwrap_or_else(|| "none".into()),
        why,
    );
    let (servers, why) = agreed(runs, o.servers, "servers", |r| r.meta.servers, 1)?;
    note("servers", servers.to_string(), why);
    let (pool, why) = pool(runs);
    note(
        "workers",
        if pool { "each run's own" } else { "no pool" }.into(),
        why,
    );
    let (class_column, classes, why) = classes(runs, o)?;
    note(
        "classes",
        format!("{class_column}: {}", classes.join(", ")),
        why,
    );
    note(
        "discipline",
        "ps".into(),
        "the requests share CPUs that the kernel time-slices: processor sharing".into(),
    );
    let (load_dependence, why) = load_dependence(o, fit.len());
    note(
        "load dependence",
        if load_dependence { "auto" } else { "none" }.into(),
        why,
    );
    let (base, why) = base_run(runs, o, &fit)?;
    note("mix and load", runs[base].name.clone(), why);
    if let Some(find) = o.find {
        let why = find_why(find, kind);
        note("question", find.param().into(), why);
    }
    let p = Protocol {
        kind,
        resource,
        background,
        servers,
        class_column,
        classes,
        fit,
        base,
        load_dependence,
        pool,
    };
    Ok((p, d))
}

/// A worker pool when some run's metadata names one.
fn pool(runs: &[RunInput]) -> (bool, String) {
    if runs.iter().any(|r| r.meta.workers.is_some()) {
        (true, "the runs' metadata names the workers a request holds while served (API processes): a pool in the model".into())
    } else {
        (false, "no run's metadata names a worker pool (`workers:` in run.yaml): nothing but the CPUs limits the requests".into())
    }
}

/// The flag, else load forms with two fitted runs or more (the plan then
/// validates both and keeps the closer).
fn load_dependence(o: &PlanOptions, fitted: usize) -> (bool, String) {
    match o.load_dependence {
        Some(l) => (l, "--load-dependence".into()),
        None if fitted >= 2 => (true, "each class's demand may move with load: constant, linear in the utilization or a + b/X, whichever predicts the fitted runs best left out one at a time".into()),
        None => (false, "one fitted run: no load can be told from another".into()),
    }
}

fn fit_runs(runs: &[RunInput], o: &PlanOptions) -> Result<Vec<usize>, PlanError> {
    let Some(names) = &o.fit else {
        return Ok((0..runs.len()).collect());
    };
    names
        .iter()
        .map(|n| {
            runs.iter()
                .position(|r| &r.name == n)
                .ok_or_else(|| PlanError::UnknownRun {
                    flag: "--fit",
                    name: n.clone(),
                    known: known(runs),
                })
        })
        .collect()
}

pub(super) fn known(runs: &[RunInput]) -> String {
    runs.iter()
        .map(|r| r.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn workload(runs: &[RunInput]) -> Result<(Kind, String), PlanError> {
    let closed = runs
        .iter()
        .filter(|r| matches!(r.meta.workload, Some(Workload::Closed { .. })))
        .count();
    match closed {
        0 => Ok((
            Kind::Open,
            "no run's metadata gives users and a think time: requests arrive at the measured rate".into(),
        )),
        n if n == runs.len() => Ok((
            Kind::Closed,
            "every run's metadata gives its users and think time: each run is predicted as the closed workload it was, its throughput too".into(),
        )),
        _ => Err(PlanError::Disagree {
            what: "workload".into(),
            detail: format!(
                "{closed} of {} runs are closed (users and a think time in their metadata), the others not",
                runs.len()
            ),
        }),
    }
}

/// One value all runs share: the flag, else the runs' metadata (which
/// must agree), else `default`.
fn agreed<T: PartialEq + Copy + std::fmt::Display>(
    runs: &[RunInput],
    flag: Option<T>,
    what: &str,
    get: impl Fn(&RunInput) -> Option<T>,
    default: T,
) -> Result<(T, String), PlanError> {
    if let Some(v) = flag {
        return Ok((v, format!("--{what}")));
    }
    let given: Vec<(&str, T)> = runs
        .iter()
        .filter_map(|r| Some((r.name.as_str(), get(r)?)))
        .collect();
    match given.first() {
        None => Ok((
            default,
            format!("no run's metadata says; the default is {default}"),
        )),
        Some(&(first, v)) => {
            if let Some(&(other, w)) = given.iter().find(|(_, w)| *w != v) {
                return Err(PlanError::Disagree {
                    what: what.into(),
                    detail: format!(
                        "{first} has {v}, {other} {w}; plan one kind of run at a time, or give --{what}"
                    ),
                });
            }
            Ok((v, "the runs' metadata (run.yaml or run.json)".into()))
        }
    }
}

fn resource(runs: &[RunInput], o: &PlanOptions) -> Result<(String, String), PlanError> {
    let from_meta = |r: &RunInput| r.meta.resource.clone();
    let (name, why) = if let Some(r) = &o.resource {
        (r.clone(), "--resource".to_string())
    } else if let Some(r) = runs.iter().find_map(from_meta) {
        if let Some(other) = runs.iter().find(|x| from_meta(x).is_some_and(|y| y != r)) {
            return Err(PlanError::Disagree {
                what: "resource".into(),
                detail: format!(
                    "{} names {}, another run {r}",
                    other.name,
                    from_meta(other).unwrap_or_default()
                ),
            });
        }
        (r, "the runs' run.yaml".to_string())
    } else {
        let first = &runs[0].facts.resources;
        if first.len() != 1 {
            return Err(PlanError::NoResource {
                run: runs[0].name.clone(),
                known: first.join(", "),
            });
        }
        (
            first[0].clone(),
            "the only series in the utilization".to_string(),
        )
    };
    every_run_has(runs, &name)?;
    Ok((name, why))
}

/// Every run's utilization has the series `name`.
fn every_run_has(runs: &[RunInput], name: &str) -> Result<(), PlanError> {
    match runs
        .iter()
        .find(|r| !r.facts.resources.iter().any(|x| x == name))
    {
        Some(r) => Err(PlanError::MissingSeries {
            run: r.name.clone(),
            series: name.to_string(),
            known: r.facts.resources.join(", "),
        }),
        None => Ok(()),
    }
}

fn background(
    runs: &[RunInput],
    o: &PlanOptions,
    resource: &str,
) -> Result<(Option<String>, String), PlanError> {
    let (name, why) = match (
        &o.background,
        runs.iter().find_map(|r| r.meta.background.clone()),
    ) {
        (Some(b), _) if b == "none" => {
            return Ok((None, "--background none: work beside the requests on the same CPUs is not modelled (it ran below the requests' priority, or is not theirs to compete with)".into()));
        }
        (Some(b), _) => (b.clone(), "--background"),
        (None, Some(b)) => (b, "the runs' run.yaml"),
        (None, None) => {
            return Ok((None, "no total CPU series named (--background or `background:` in run.yaml): work beside the requests on the same CPUs is not modelled".into()));
        }
    };
    if name == resource {
        return Err(PlanError::Disagree {
            what: "background".into(),
            detail: format!(
                "the background series `{name}` is the requests' own resource; name the core's or host's total"
            ),
        });
    }
    every_run_has(runs, &name)?;
    let why = format!(
        "{why}: the total CPU of the core; what it holds beyond `{resource}` is fitted as background work (a law in the classes' throughputs) and competes for the CPUs in the model"
    );
    Ok((Some(name), why))
}

/// The class column: `--class-column`, else the load generator's user
/// classes where the requests carry fewer of them than endpoints (each a
/// fixed mix of endpoints: across runs, what the runs can tell apart),
/// else the endpoints.
fn classes(runs: &[RunInput], o: &PlanOptions) -> Result<(String, Vec<String>, String), PlanError> {
    let union = |col: &str| -> Option<Vec<String>> {
        let mut all = std::collections::BTreeSet::new();
        for r in runs {
            all.extend(r.facts.values(col)?.iter().cloned());
        }
        Some(all.into_iter().collect())
    };
    let (col, why) = match &o.class_column {
        Some(c) => (c.clone(), "--class-column".to_string()),
        None => match (union("user_class"), union("class")) {
            (Some(u), Some(c)) if !u.is_empty() && u.len() < c.len() => (
                "user_class".to_string(),
                format!(
                    "the requests carry the load generator's user classes ({} of them against {} endpoints); each is a fixed mix of endpoints, so across runs it is the user classes that the runs can tell apart",
                    u.len(),
                    c.len()
                ),
            ),
            _ => (
                "class".to_string(),
                "the requests' `class` column".to_string(),
            ),
        },
    };
    let values = union(&col).ok_or_else(|| PlanError::NoClassColumn {
        column: col.clone(),
        run: runs
            .iter()
            .find(|r| r.facts.values(&col).is_none())
            .map(|r| r.name.clone())
            .unwrap_or_default(),
    })?;
    if values.is_empty() {
        return Err(PlanError::NoClassColumn {
            column: col,
            run: runs[0].name.clone(),
        });
    }
    Ok((col, values, why))
}

fn base_run(
    runs: &[RunInput],
    o: &PlanOptions,
    fit: &[usize],
) -> Result<(usize, String), PlanError> {
    if let Some(name) = &o.mix_of {
        let i = runs
            .iter()
            .position(|r| &r.name == name)
            .ok_or_else(|| PlanError::UnknownRun {
                flag: "--mix-of",
                name: name.clone(),
                known: known(runs),
            })?;
        return Ok((
            i,
            "--mix-of: its class mix, its load and its configuration".into(),
        ));
    }
    let i = fit[fit.len() / 2];
    Ok((
        i,
        "the middle of the fitted runs as given (--mix-of picks another): its class mix, load and configuration are the base of the questions".into(),
    ))
}

fn find_why(find: Find, kind: Kind) -> String {
    match (find, kind) {
        (Find::ArrivalRate, Kind::Closed) => "--find arrival_rate: asked of the open model (Poisson arrivals at the base run's mix), though the runs were closed".into(),
        (Find::Users, Kind::Open) => "--find users: asked of the closed model (users thinking the base run's mean time between requests), though the runs were open".into(),
        _ => format!("--find {}", find.param()),
    }
}
