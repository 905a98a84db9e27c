//! Step 3b: parameter resolution. Each of the experiment's parameter
//! sources becomes a value: a number or expression, a measured quantity of
//! the traces, or a demand estimate (moved to the experiment's load where
//! the demands depend on it).

use super::error::Why;
use super::traces::Traces;
use super::{
    ClassAtLoad, Experiment, ExperimentError, LoadAdjustment, Measured, ParamSource, Pick,
};
use crate::estimate::LoadChoice;
use crate::estimate::Report;
use crate::model::{ParamValue, Params, Template, placeholders};

/// The estimation reports a parameter may pick from.
pub(super) struct Estimates<'a> {
    /// Over the experiment's resources.
    pub(super) main: Option<&'a Report>,
    /// Over one resource each, for parameters that name it.
    pub(super) by_resource: &'a std::collections::BTreeMap<String, Report>,
}

/// The chosen demand and its CI, seconds.
pub(super) type Chosen = (f64, Option<(f64, f64)>);

/// An estimated model parameter: its name and value.
pub(super) type Estimated = (String, Chosen);

/// The model's parameter settings, the estimated demand among them, and
/// how it was moved to the experiment's load.
pub(super) fn params(
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
    let sources = written_out(e, template)?;
    for (name, src) in &sources {
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
            ParamSource::Metadata(field) => {
                params.set(name, metadata_value(e, traces, name, *field)?);
            }
            ParamSource::Estimate {
                pick,
                class,
                resource,
            } => {
                let (d, a) = estimated_value(e, estimates, traces, pick, class, resource)
                    .map_err(|why| param(name, &why))?;
                adjustment = a.or(adjustment);
                estimated.push((name.clone(), d));
                params.set(name, d.0);
            }
            ParamSource::Background => {
                let u =
                    background_at(e, estimates.main, traces).map_err(|why| param(name, &why))?;
                params.set(name, u);
            }
        }
    }
    say_absent(e, &absent, estimates);
    for (key, v) in [("servers", e.servers), ("containers", e.containers)] {
        if template.has_param(key) && !sources.iter().any(|(n, _)| n == key) {
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

/// The estimate a parameter asks for, moved to the experiment's load
/// where the demands depend on it (and then how).
fn estimated_value(
    e: &Experiment,
    estimates: &Estimates<'_>,
    traces: Option<&Traces>,
    pick: &Pick,
    class: &Option<String>,
    resource: &Option<String>,
) -> Result<(Chosen, Option<LoadAdjustment>), Why> {
    let r = match resource {
        Some(res) => estimates.by_resource.get(res),
        None => estimates.main,
    }
    .ok_or(Why::from("an estimate needs `estimate` and traces"))?;
    let d = chosen(r, pick, class.as_deref())?;
    if e.estimate
        .as_ref()
        .is_none_or(|s| s.load_dependence.is_none())
    {
        return Ok((d, None));
    }
    let a = at_load(e, r, traces)?;
    if a.fallback.is_some() {
        return Ok((d, Some(a)));
    }
    let at = a.demand(class.as_deref())?;
    Ok(((at.0, Some(at.1)), Some(a)))
}

/// A field of the run's metadata (`{metadata: users}`), the file named in
/// any error.
fn metadata_value(
    e: &Experiment,
    traces: Option<&Traces>,
    name: &str,
    field: super::MetadataField,
) -> Result<f64, ExperimentError> {
    let (Some(path), Some(load)) = (&e.metadata, traces.and_then(|t| t.load.as_ref())) else {
        return Err(ExperimentError::Param {
            name: name.into(),
            why: "the run's metadata needs `metadata: FILE` and the run's traces".into(),
        });
    };
    load.value(field)
        .map_err(|source| ExperimentError::Metadata {
            path: path.clone(),
            source,
        })
}

/// The background utilization the estimation's law gives at the
/// experiment's measured per-class throughputs (per container).
fn background_at(
    e: &Experiment,
    main: Option<&Report>,
    traces: Option<&Traces>,
) -> Result<f64, Why> {
    let fit = main
        .and_then(|r| r.background_work.as_ref())
        .ok_or(Why::from(
            "`background: utilization` needs `estimate: {background: …}` and traces",
        ))?;
    let t = traces.ok_or(Why::from(
        "`background: utilization` needs the experiment's traces",
    ))?;
    let k = f64::from(e.containers);
    let x = fit
        .per_request
        .iter()
        .map(|w| {
            t.measured_value(Measured::Throughput, Some(&w.class))
                .map(|x| x / k)
        })
        .collect::<Result<Vec<f64>, Why>>()?;
    Ok(fit.utilization_at(&x).value.max(0.0))
}

/// Says which classes a measured parameter found no request of: a class
/// the estimation knows is merely absent from this run (a read-only mix
/// has no buy requests); one nobody has seen may be a typo.
fn say_absent(e: &Experiment, absent: &[&str], estimates: &Estimates<'_>) {
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
}

/// The experiment's parameter sources, those written once for every class
/// (`demand_{c}: {estimate: sdl, class: "{c}"}`) written out over the
/// model's class sets: `demand_login` of class `login`, … (placeholders
/// in parameter names and expressions as identifiers, in `class` as the
/// member is written). A source written for one name wins over the same
/// name written out. In name order, as the study file's map gives them.
pub(super) fn written_out(
    e: &Experiment,
    template: &Template,
) -> Result<Vec<(String, ParamSource)>, ExperimentError> {
    let mut out: Vec<(String, ParamSource)> = Vec::new();
    for (key, src) in &e.params {
        if placeholders(key).is_empty() {
            continue;
        }
        let why = |why: String| ExperimentError::Param {
            name: key.clone(),
            why,
        };
        for b in template.classes().expand(key).map_err(why)? {
            let name = b.ident(key).expect("bound by its own placeholders");
            let unbound = |v: String| why(format!("`{{{v}}}` is not in the parameter's name"));
            let class =
                |c: &Option<String>| c.as_ref().map(|c| b.name(c).map_err(unbound)).transpose();
            let src = match src {
                ParamSource::Value(ParamValue::Expr(x)) => {
                    ParamSource::Value(ParamValue::Expr(b.ident(x).map_err(unbound)?))
                }
                ParamSource::Value(v) => ParamSource::Value(v.clone()),
                ParamSource::Measured { what, class: c } => ParamSource::Measured {
                    what: *what,
                    class: class(c)?,
                },
                ParamSource::Estimate {
                    pick,
                    class: c,
                    resource,
                } => ParamSource::Estimate {
                    pick: pick.clone(),
                    class: class(c)?,
                    resource: resource.clone(),
                },
                ParamSource::Metadata(f) => ParamSource::Metadata(*f),
                ParamSource::Background => ParamSource::Background,
            };
            out.push((name, src));
        }
    }
    // Written for one name: replaces the same name written out.
    for (key, src) in &e.params {
        if placeholders(key).is_empty() {
            out.retain(|(n, _)| n != key);
            out.push((key.clone(), src.clone()));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The estimated demands at the experiment's load ([`LoadAdjustment`]),
/// from the load model's forms and the experiment's per-class
/// throughputs.
pub(super) fn at_load(
    e: &Experiment,
    r: &Report,
    traces: Option<&Traces>,
) -> Result<LoadAdjustment, Why> {
    let Some(m) = r.load_dependence.as_ref() else {
        let why = r
            .failures
            .iter()
            .find(|f| f.starts_with("load dependence"))
            .cloned()
            .unwrap_or_else(|| {
                "load dependence needs runs at several loads (`estimate_from` with two or more)"
                    .into()
            });
        // `auto` may choose constant demands: where no form fits, the
        // estimate's own demands are that choice, said as such.
        let auto = e.estimate.as_ref().and_then(|s| s.load_dependence) == Some(LoadChoice::Auto);
        return match auto {
            true => Ok(LoadAdjustment::own_demands(
                "none".into(),
                f64::NAN,
                format!("{why}: the estimate's own demands used"),
            )),
            false => Err(Why::from(why)),
        };
    };
    let t = traces.ok_or(Why::from(
        "load dependence needs the experiment's traces (its load)",
    ))?;
    let mut lambda = Vec::new();
    for l in &m.classes {
        let x = t.measured_value(Measured::Throughput, Some(&l.class))?;
        lambda.push(x / f64::from(e.containers));
    }
    let Some(at) = m.at_load(&lambda) else {
        // The forms break down here (no utilization below 1 with positive
        // demands): the method's own demands stand in, and the experiment
        // says so.
        return Ok(LoadAdjustment::own_demands(
            m.chosen.clone(),
            m.mean_utilization,
            format!(
                "the fitted load forms ({}) leave no utilization below 1 with positive demands at this experiment's load ({:.4} requests/s): the estimate's own demands used",
                m.chosen, t.measured.throughput
            ),
        ));
    };
    Ok(LoadAdjustment {
        mean_utilization: m.mean_utilization,
        chosen: m.chosen.clone(),
        utilization: at.utilization,
        fallback: None,
        classes: m
            .classes
            .iter()
            .zip(at.demands)
            .map(|(l, (d, ci))| ClassAtLoad {
                class: l.class.clone(),
                form: l.form,
                demand_s: d,
                ci_s: ci,
            })
            .collect(),
    })
}

impl LoadAdjustment {
    /// No demand moved: the estimate's own demands stand in, for `why`
    /// (`utilization` is the runs' mean, not a fixed point).
    fn own_demands(chosen: String, mean_utilization: f64, why: String) -> Self {
        Self {
            mean_utilization,
            chosen,
            utilization: mean_utilization,
            classes: Vec::new(),
            fallback: Some(why),
        }
    }

    /// The demand and interval for a parameter of `class`; without one,
    /// the only class's (with several, the parameter has to name its
    /// class: a mix has no single form).
    pub(super) fn demand(&self, class: Option<&str>) -> Result<(f64, (f64, f64)), Why> {
        let at = match (class, self.classes.as_slice()) {
            (Some(c), all) => all
                .iter()
                .find(|x| x.class == c)
                .ok_or_else(|| Why::from(format!("no load form was fitted for class `{c}`")))?,
            (None, [one]) => one,
            (None, _) => {
                return Err(
                    "with several classes, a load-dependent demand names its class (`class: C`)"
                        .into(),
                );
            }
        };
        Ok((at.demand_s, at.ci_s))
    }
}

/// Z = N / X − R from the traces, with N the model's `clients`.
pub(super) fn think_time(
    e: &Experiment,
    template: &Template,
    params: &Params,
    traces: Option<&Traces>,
) -> Result<f64, ExperimentError> {
    let t = traces.ok_or(ExperimentError::NoTraces)?;
    let values = template
        .resolve(params)
        .map_err(|source| ExperimentError::model(e, source))?;
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
pub(super) fn chosen(r: &Report, pick: &Pick, class: Option<&str>) -> Result<Chosen, Why> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The study's `demand_{c}` and `rate_{c}`, written out over the
    /// model's classes, are the study written out by hand; a name written
    /// on its own wins.
    #[test]
    fn a_binding_written_once_is_one_per_class() {
        let model = "classes: [b-1, a]\nparams: {\"d_{c}\": 1, \"r_{c}\": 1, k: 1}\ncolors: [\"{c}\"]\nplaces: {Q: {}}\n";
        let template =
            Template::parse(model, &|_| Err(std::io::ErrorKind::NotFound.into())).unwrap();
        let study = |params: &str| {
            let yaml = format!(
                "experiments:\n  - {{name: e, model: m.yaml, requests: r.csv, utilization: u.csv, params: {{{params}}}}}\n"
            );
            crate::study_file::load_study(&yaml)
                .unwrap()
                .experiments
                .remove(0)
        };
        let once = study(
            "\"d_{c}\": {estimate: sdl, class: \"{c}\"}, \"r_{c}\": {measured: throughput, class: \"{c}\"}, \"k_{c}\": \"2 * d_{c}\", d_a: 0.5",
        );
        let by_hand = study(
            "d_b_1: {estimate: sdl, class: b-1}, d_a: 0.5, r_b_1: {measured: throughput, class: b-1}, r_a: {measured: throughput, class: a}, k_b_1: 2 * d_b_1, k_a: 2 * d_a",
        );
        assert_eq!(
            written_out(&once, &template).unwrap(),
            written_out(&by_hand, &template).unwrap()
        );
        let names: Vec<String> = written_out(&once, &template)
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["d_a", "d_b_1", "k_a", "k_b_1", "r_a", "r_b_1"]);
        let e = written_out(&study("\"d_{x}\": 1"), &template).unwrap_err();
        assert_eq!(
            e.to_string(),
            "parameter d_{x}: `{x}` names no class set (sets: c)"
        );
    }
}
