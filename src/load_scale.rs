//! A load multiplier over a model: the pseudo-parameter [`LOAD_SCALE`]
//! multiplies every load parameter at once, so that a multi-class model
//! (nine `rate_{c}`) can be swept or searched as one load.
//!
//! The load parameters are found by name, the names the shipped models
//! use: arrival rates (`arrival_rate`, `rate`, `rate_…`, `…_rate`) and, in
//! closed models, populations (`users`, `users_…`). A parameter written as
//! an expression is not scaled itself (it follows the ones it is computed
//! from); a population is rounded to a whole number of users. The module
//! takes a parsed [`Template`]; it opens no files.

use crate::model::{ParamValue, Params, Template};

/// The name of the load multiplier (1: the model as given).
pub const LOAD_SCALE: &str = "load_scale";

/// What is wrong with a scaled load.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadScaleError {
    /// Nothing to scale.
    #[error(
        "the model has no load parameter to scale (arrival rates named arrival_rate, rate_…, …_rate, or users)"
    )]
    NoLoad,
    /// The model has a parameter of that name itself.
    #[error("the model has its own parameter `load_scale`; the load multiplier cannot be used")]
    Taken,
    /// A multiplier that is not a positive number.
    #[error("load_scale = {0}: expected a number above 0")]
    NotPositive(f64),
}

/// Whether `name` is a load parameter's name.
pub fn is_load(name: &str) -> bool {
    name == "arrival_rate"
        || name == "rate"
        || name.starts_with("rate_")
        || name.ends_with("_rate")
        || name == "users"
        || name.starts_with("users_")
}

/// Whether `name` is a population (rounded when scaled).
fn is_population(name: &str) -> bool {
    name == "users" || name.starts_with("users_")
}

/// The load parameters of `template` under `params` (those whose value is
/// a number, not an expression of others), with their values, in file
/// order.
pub fn load_params(template: &Template, params: &Params) -> Vec<(String, f64)> {
    template
        .params()
        .filter(|(name, _)| is_load(name))
        .filter_map(
            |(name, default)| match params.get(name).unwrap_or(default) {
                ParamValue::Number(x) => Some((name.to_string(), *x)),
                // `--set rate_a=3` is an expression that is a number.
                ParamValue::Expr(e) => Some((name.to_string(), e.trim().parse().ok()?)),
            },
        )
        .collect()
}

/// Whether the template can take [`LOAD_SCALE`].
///
/// # Errors
/// [`LoadScaleError`]: no load parameter, or a parameter of that name.
pub fn check(template: &Template) -> Result<(), LoadScaleError> {
    if template.has_param(LOAD_SCALE) {
        return Err(LoadScaleError::Taken);
    }
    if load_params(template, &Params::new()).is_empty() {
        return Err(LoadScaleError::NoLoad);
    }
    Ok(())
}

/// `params` with every load parameter multiplied by `scale`.
///
/// # Errors
/// A multiplier that is not a positive number.
pub fn scaled(template: &Template, params: &Params, scale: f64) -> Result<Params, LoadScaleError> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(LoadScaleError::NotPositive(scale));
    }
    let mut out = params.clone();
    for (name, x) in load_params(template, params) {
        let v = if is_population(&name) {
            (x * scale).round()
        } else {
            x * scale
        };
        out.set(name, ParamValue::Number(v));
    }
    Ok(out)
}

/// `params` with `(name, value)` applied: a model parameter is set, the
/// [`LOAD_SCALE`] multiplies the loads (after every other setting).
///
/// # Errors
/// A multiplier that is not a positive number.
pub fn apply(
    template: &Template,
    params: &Params,
    settings: &[(&str, f64)],
) -> Result<Params, LoadScaleError> {
    let mut out = params.clone();
    let mut scale = None;
    for &(name, v) in settings {
        if name == LOAD_SCALE && !template.has_param(LOAD_SCALE) {
            scale = Some(v);
        } else {
            out.set(name, ParamValue::Number(v));
        }
    }
    match scale {
        Some(s) => scaled(template, &out, s),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_CLASSES: &str = include_str!("../tests/fixtures/models/two-ps.yaml");

    fn template() -> Template {
        Template::parse(TWO_CLASSES, &|_| Err(std::io::ErrorKind::NotFound.into())).unwrap()
    }

    #[test]
    fn every_rate_is_multiplied_and_expressions_follow_them() {
        let t = template();
        assert!(check(&t).is_ok());
        let p = apply(&t, &Params::new().with("rate_b", 4.0), &[(LOAD_SCALE, 1.5)]).unwrap();
        let v = t.resolve(&p).unwrap();
        assert_eq!((v["rate_a"], v["rate_b"], v["total"]), (3.0, 6.0, 9.0));
        assert_eq!(v["demand_a"], 0.1, "a demand is no load");
        assert_eq!(
            scaled(&t, &Params::new(), 0.0),
            Err(LoadScaleError::NotPositive(0.0))
        );
    }

    #[test]
    fn a_model_without_rates_cannot_be_scaled() {
        let yaml = TWO_CLASSES
            .replace("rate_{c}", "r_{c}")
            .replace("rate_a + rate_b", "1");
        let t = Template::parse(&yaml, &|_| Err(std::io::ErrorKind::NotFound.into())).unwrap();
        assert_eq!(check(&t), Err(LoadScaleError::NoLoad));
    }
}
