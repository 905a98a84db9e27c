//! The load model a report carries: the candidates' leave-one-run-out
//! errors, the chosen forms with their parameters and intervals, and the
//! demands at a new load ([`LoadModel::at_load`]).

use serde::Serialize;

use super::load::{RunLoad, distinct_loads, run_loads};
use super::load_forms::{Col, Fit, LoadChoice, LoadForm, Spec, loro, present};
use super::observations::Observations;

/// Per-class combinations are tried exhaustively up to this many.
const MAX_COMBINATIONS: usize = 729;

/// A fitted parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    /// `D` (constant), `D̄` and `β` (linear_u: D̄ at the runs' mean
    /// utilization, β per unit of utilization, relative), `a` and `b`
    /// (inverse_x: seconds, and seconds × requests/s).
    pub name: String,
    /// Its value.
    pub value: f64,
    /// Its interval.
    pub ci: (f64, f64),
}

/// One class's load form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassLoad {
    /// The class.
    pub class: String,
    /// The chosen form.
    pub form: LoadForm,
    /// Its parameters (a shared slope is the model's).
    pub parameters: Vec<Parameter>,
    /// Its demand at the runs' mean load, seconds, and its interval.
    pub demand_at_mean_s: f64,
    /// The interval of `demand_at_mean_s`.
    pub demand_at_mean_ci_s: (f64, f64),
    /// Runs it appears in.
    pub runs: usize,
    /// Distinct loads among them.
    pub loads: usize,
    /// Leave-one-run-out error of each form for this class, the other
    /// classes at their chosen forms (`None`: not determined or not
    /// comparable by leaving runs out).
    pub loro_error: std::collections::BTreeMap<LoadForm, Option<f64>>,
}

/// A combination of forms and its leave-one-run-out error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// In words.
    pub name: String,
    /// Parameters.
    pub parameters: usize,
    /// Mean relative error of the held-out runs' demand per request.
    pub loro_error: Option<f64>,
}

/// How the demands move with load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadModel {
    /// The chosen combination, in words.
    pub chosen: String,
    /// Per class.
    pub classes: Vec<ClassLoad>,
    /// A slope shared by every class (its form and parameter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<(LoadForm, Parameter)>,
    /// Every candidate compared.
    pub candidates: Vec<Candidate>,
    /// The runs' means.
    pub runs: Vec<RunLoad>,
    /// Ū, the runs' mean utilization.
    pub mean_utilization: f64,
    /// Runs minus parameters: 0 means the intervals come from the runs'
    /// measurement noise alone.
    pub dof: usize,
    /// What limited the choice (classes with too few loads, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip)]
    fit: Fit,
    #[serde(skip)]
    confidence: f64,
}

/// The demands at one load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AtLoad {
    /// The fixed point's utilization.
    pub utilization: f64,
    /// Per class (the model's order): demand and interval, seconds.
    pub demands: Vec<(f64, (f64, f64))>,
}

impl LoadModel {
    /// The utilization and each class's demand at per-class throughputs
    /// `lambda` (the model's class order); `None` when the demands leave
    /// no utilization below 1 there with every present class's demand
    /// positive (a form fitted on noisy runs can fall below 0 beyond
    /// them). A class absent at this load (λ = 0) keeps its demand at the
    /// runs' mean load: it does not move the fixed point, and a form says
    /// nothing about it here.
    pub fn at_load(&self, lambda: &[f64]) -> Option<AtLoad> {
        let u = self.fit.utilization_at(lambda, self.fit.servers)?;
        let x: f64 = lambda.iter().sum();
        let t = self.fit.quantile(self.confidence);
        let demands = (0..self.classes.len())
            .map(|c| match lambda.get(c) {
                Some(&l) if l > 0.0 => {
                    let (d, se) = self.fit.demand(c, u, x);
                    (d, (d - t * se, d + t * se))
                }
                _ => {
                    let at_mean = &self.classes[c];
                    (at_mean.demand_at_mean_s, at_mean.demand_at_mean_ci_s)
                }
            })
            .collect();
        Some(AtLoad {
            utilization: u,
            demands,
        })
    }
}

/// The load model of `obs`'s runs, or why there is none.
pub fn load_model(
    obs: &Observations,
    choice: LoadChoice,
    confidence: f64,
) -> Result<LoadModel, LoadModelError> {
    let runs = run_loads(obs);
    let k = obs.n_classes();
    let servers = f64::from(obs.servers);
    if runs.len() < 2 {
        return Err(LoadModelError::TooFewRuns);
    }
    let ubar = runs.iter().map(|r| r.utilization).sum::<f64>() / runs.len() as f64;
    let loads: Vec<(usize, usize)> = (0..k)
        .map(|c| {
            let us: Vec<f64> = runs
                .iter()
                .filter(|r| present(r, c))
                .map(|r| r.utilization)
                .collect();
            (us.len(), distinct_loads(&us))
        })
        .collect();
    let notes = load_notes(&obs.classes, &runs, &loads);
    let eligible: Vec<bool> = loads.iter().map(|l| l.1 >= 2).collect();
    let specs = candidates(k, &eligible, choice);
    let errors: Vec<Option<f64>> = specs
        .iter()
        .map(|s| loro(s, &runs, servers, ubar))
        .collect();
    let all: Vec<&RunLoad> = runs.iter().collect();
    let chosen = choose(&specs, &errors, choice, |s| {
        Fit::new(s, &all, servers, ubar).is_some_and(|f| f.positive_on(&runs))
    })
    .ok_or_else(|| match Fit::new(&specs[0], &all, servers, ubar) {
        Some(f) => LoadModelError::NotPositive {
            classes: f.not_positive(&runs, &obs.classes),
        },
        None => undetermined(obs),
    })?;
    let spec = specs[chosen].clone();
    let fit = Fit::new(&spec, &all, servers, ubar).ok_or_else(|| undetermined(obs))?;
    let t = fit.quantile(confidence);
    let classes = class_loads(&obs.classes, &spec, &fit, &runs, &loads, t);
    let shared = spec.shared.and_then(|f| {
        let (v, se) = fit.param(Col::Shared(f))?;
        Some((f, parameter(slope_name(f), v, se, t)))
    });
    Ok(LoadModel {
        chosen: spec.name(&obs.classes),
        classes,
        shared,
        candidates: specs
            .iter()
            .zip(&errors)
            .map(|(s, e)| Candidate {
                name: s.name(&obs.classes),
                parameters: k
                    + s.forms.iter().filter(|f| **f != LoadForm::Constant).count()
                    + usize::from(s.shared.is_some()),
                loro_error: *e,
            })
            .collect(),
        mean_utilization: ubar,
        dof: fit.dof,
        runs,
        notes,
        fit,
        confidence,
    })
}

/// Each class's chosen form, parameters and demand at the runs' mean
/// load, and each form's leave-one-run-out error for it.
fn class_loads(
    classes: &[String],
    spec: &Spec,
    fit: &Fit,
    runs: &[RunLoad],
    loads: &[(usize, usize)],
    t: f64,
) -> Vec<ClassLoad> {
    let n = runs.len() as f64;
    let mean_x = runs.iter().map(|r| r.throughput).sum::<f64>() / n;
    let (ubar, servers) = (fit.ubar, fit.servers);
    (0..classes.len())
        .map(|c| {
            let (d, se) = fit.demand(c, ubar, mean_x);
            ClassLoad {
                class: classes[c].clone(),
                form: spec.forms[c],
                parameters: parameters(fit, c, spec.forms[c], t),
                demand_at_mean_s: d,
                demand_at_mean_ci_s: (d - t * se, d + t * se),
                runs: loads[c].0,
                loads: loads[c].1,
                loro_error: per_class_errors(spec, c, runs, servers, ubar),
            }
        })
        .collect()
}

/// Why the runs give no load model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadModelError {
    /// One run (or none).
    #[error("load dependence needs two or more runs")]
    TooFewRuns,
    /// The runs' means do not determine the classes' demands.
    #[error(
        "load dependence: the runs' means do not determine the classes' demands (rank {rank} of {classes} classes{}): group the classes",
        if groups.is_empty() { String::new() } else { format!("; moving together: {}", groups.join("; ")) }
    )]
    Undetermined {
        /// Rank of the run-mean design.
        rank: usize,
        /// Classes.
        classes: usize,
        /// Classes that move together across the runs, each `a + b`.
        groups: Vec<String>,
    },
    /// Every fit leaves a class a demand of 0 or less at a run's load.
    #[error(
        "load dependence: every fit gives {} a demand of 0 or less at the runs' loads (the runs barely separate the classes): group the classes or add runs of other mixes",
        classes.join(", ")
    )]
    NotPositive {
        /// The classes the constant fit gives no positive demand.
        classes: Vec<String>,
    },
}

fn undetermined(obs: &Observations) -> LoadModelError {
    let id = super::identify::identify_runs(obs);
    LoadModelError::Undetermined {
        rank: id.rank,
        classes: obs.n_classes(),
        groups: id.collinear_groups.iter().map(|g| g.join(" + ")).collect(),
    }
}

/// The combinations to compare: constant; with `Auto` every per-class
/// combination of forms over the classes with loads enough (each class
/// alone when there are too many) and each slope shared by all; with one
/// form, that form for every eligible class, and shared.
fn candidates(k: usize, eligible: &[bool], choice: LoadChoice) -> Vec<Spec> {
    let mut out = vec![Spec::constant(k)];
    let forms: Vec<LoadForm> = match choice {
        LoadChoice::Auto => vec![LoadForm::LinearU, LoadForm::InverseX],
        LoadChoice::Only(LoadForm::Constant) => return out,
        LoadChoice::Only(f) => vec![f],
    };
    let idx: Vec<usize> = (0..k).filter(|&c| eligible[c]).collect();
    let per_class = |assign: &dyn Fn(usize) -> LoadForm| Spec {
        forms: (0..k).map(assign).collect(),
        shared: None,
    };
    let options = forms.len() + 1;
    let combos = options.checked_pow(idx.len() as u32).unwrap_or(usize::MAX);
    if choice == LoadChoice::Auto && combos <= MAX_COMBINATIONS {
        for code in 1..combos {
            let mut pick = vec![LoadForm::Constant; k];
            let mut rest = code;
            for &c in &idx {
                pick[c] = [LoadForm::Constant, forms[0], forms[1]][rest % options];
                rest /= options;
            }
            out.push(per_class(&|c| pick[c]));
        }
    } else if !idx.is_empty() {
        for &f in &forms {
            out.push(per_class(&|c| {
                if eligible[c] { f } else { LoadForm::Constant }
            }));
        }
    }
    for &f in &forms {
        out.push(Spec {
            forms: vec![LoadForm::Constant; k],
            shared: Some(f),
        });
    }
    out
}

/// The candidate to fit: with `Auto`, the least leave-one-run-out error
/// (ties to fewer parameters, i.e. the earlier); with one form, the
/// per-class one when the runs determine it, else the shared one; the
/// constant when nothing else fits.
fn choose(
    specs: &[Spec],
    errors: &[Option<f64>],
    choice: LoadChoice,
    fits: impl Fn(&Spec) -> bool,
) -> Option<usize> {
    let pick = match choice {
        LoadChoice::Auto => errors
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.map(|e| (i, e)))
            .filter(|&(i, _)| fits(&specs[i]))
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
            .map(|p| p.0),
        LoadChoice::Only(_) => (1..specs.len()).find(|&i| fits(&specs[i])),
    };
    pick.or_else(|| fits(&specs[0]).then_some(0))
}

/// Class `c`'s leave-one-run-out error under each form, the others as in
/// `spec` (a shared slope dropped).
fn per_class_errors(
    spec: &Spec,
    c: usize,
    runs: &[RunLoad],
    servers: f64,
    ubar: f64,
) -> std::collections::BTreeMap<LoadForm, Option<f64>> {
    LoadForm::ALL
        .into_iter()
        .map(|f| {
            let mut s = Spec {
                forms: spec.forms.clone(),
                shared: None,
            };
            s.forms[c] = f;
            (f, loro(&s, runs, servers, ubar))
        })
        .collect()
}

fn slope_name(f: LoadForm) -> &'static str {
    match f {
        LoadForm::LinearU => "dD/dU",
        _ => "b",
    }
}

fn parameter(name: &str, v: f64, se: f64, t: f64) -> Parameter {
    Parameter {
        name: name.into(),
        value: v,
        ci: (v - t * se, v + t * se),
    }
}

/// Class `c`'s parameters under form `f`: D; D̄ and β = (dD/dU)/D̄; a and
/// b.
fn parameters(fit: &Fit, c: usize, f: LoadForm, t: f64) -> Vec<Parameter> {
    let Some((level, se)) = fit.param(Col::Level(c)) else {
        return Vec::new();
    };
    match f {
        LoadForm::Constant => vec![parameter("D", level, se, t)],
        LoadForm::LinearU => {
            let (slope, sse) = fit.param(Col::Slope(c, f)).unwrap_or((0.0, 0.0));
            vec![
                parameter("D̄", level, se, t),
                parameter("β", slope / level, sse / level.abs(), t),
            ]
        }
        LoadForm::InverseX => {
            let (b, bse) = fit.param(Col::Slope(c, f)).unwrap_or((0.0, 0.0));
            vec![parameter("a", level, se, t), parameter("b", b, bse, t)]
        }
    }
}

/// Says which classes have too few loads for a form, and what they need.
fn load_notes(classes: &[String], runs: &[RunLoad], loads: &[(usize, usize)]) -> Vec<String> {
    let mut notes = Vec::new();
    for (c, &(n, distinct)) in loads.iter().enumerate() {
        let at: Vec<String> = runs
            .iter()
            .filter(|r| present(r, c))
            .map(|r| format!("U {:.3}", r.utilization))
            .collect();
        match distinct {
            0 | 1 => notes.push(format!(
                "{}: constant: {n} run(s) ({}) give {distinct} distinct load(s); a load form needs runs of it at two or more loads at least {:.0} % apart (three or more to choose a form by leaving runs out)",
                classes[c],
                if at.is_empty() { "none".to_string() } else { at.join(", ") },
                100.0 * super::load::DISTINCT_LOAD
            )),
            2 => notes.push(format!(
                "{}: two loads ({}): a form of its own can be fitted but not tested by leaving a run out; a run at a third load would",
                classes[c],
                at.join(", ")
            )),
            _ => {}
        }
    }
    notes
}
