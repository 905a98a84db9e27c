//! Parameters with placeholders: `demand_{c}: 0.01` (one default for
//! every member), `rate_{c}: {a: 0.5, b: 2}` (a table: one level per
//! placeholder, a number at any level standing for every entry below it,
//! `"*"` for every entry a table and the tables inside it leave out).
//! Each becomes ordinary parameters, `demand_a`, `demand_b`, …

use serde_saphyr::Spanned;

use super::text::expression;
use crate::model::classes::{Binding, Classes, is_identifier, unbound};
use crate::model::spec::{Map, Name, ParamSrc};
use crate::model::{BOOL_MESSAGE, ModelError, ParamValue, at};

type Table = [(Name, Spanned<ParamSrc>)];

/// Every parameter, placeholders expanded, in file order (a template's
/// parameters in its sets' order).
///
/// # Errors
/// See [`ModelError::At`]: a table entry missing or naming no member, a
/// name used twice, a placeholder that names no set.
pub(crate) fn expand(
    params: &Map<Name, Spanned<ParamSrc>>,
    classes: &Classes,
) -> Result<Vec<(Name, ParamValue)>, ModelError> {
    let mut out: Vec<(Name, ParamValue)> = Vec::new();
    for (k, v) in params {
        for (name, value) in one(k, v, classes)? {
            if let Some((first, _)) = out.iter().find(|(n, _)| n.value == name.value) {
                return Err(at(
                    k,
                    format!(
                        "parameter `{}` is defined twice (also at line {}, column {})",
                        name.value,
                        first.referenced.line(),
                        first.referenced.column()
                    ),
                ));
            }
            out.push((name, value));
        }
    }
    Ok(out)
}

/// One entry of `params`, expanded.
fn one(
    k: &Name,
    v: &Spanned<ParamSrc>,
    classes: &Classes,
) -> Result<Vec<(Name, ParamValue)>, ModelError> {
    let named = |text: String| Spanned::new(text, k.referenced, k.defined);
    if unbound(&k.value, &Binding::default()).is_empty() {
        return Ok(vec![(
            named(k.value.clone()),
            scalar(k, v, &Binding::default(), classes)?,
        )]);
    }
    let bindings = classes.expand(&k.value).map_err(|m| at(k, m))?;
    if let (ParamSrc::Table(t), Some(b)) = (&v.value, bindings.first()) {
        let vars: Vec<&str> = b.vars().collect();
        check_keys(k, t, &vars, &[], classes)?;
    }
    let mut out = Vec::new();
    for b in &bindings {
        let name = b.ident(&k.value).expect("every placeholder bound");
        if !is_identifier(&name) {
            return Err(at(
                k,
                format!(
                    "parameter `{name}` (from `{}`): a parameter's name is letters, digits and _, starting with a letter",
                    k.value
                ),
            ));
        }
        let value = match &v.value {
            ParamSrc::Table(t) => {
                let vars: Vec<&str> = b.vars().collect();
                let cell = lookup(k, v, t, &vars, b, None)?;
                scalar(k, cell, b, classes)?
            }
            _ => scalar(k, v, b, classes)?,
        };
        out.push((named(name), value));
    }
    Ok(out)
}

/// A number or an expression (placeholders replaced from `b`).
fn scalar(
    k: &Name,
    v: &Spanned<ParamSrc>,
    b: &Binding,
    classes: &Classes,
) -> Result<ParamValue, ModelError> {
    match &v.value {
        ParamSrc::Number(x) => Ok(ParamValue::Number(*x)),
        ParamSrc::Expr(s) => expression(s, b, classes)
            .map(ParamValue::Expr)
            .map_err(|m| at(v, format!("parameter `{}`: {m}", k.value))),
        ParamSrc::Bool => Err(at(v, BOOL_MESSAGE)),
        ParamSrc::Table(_) if b.vars().next().is_none() => Err(at(
            v,
            format!(
                "parameter `{}`: a table needs placeholders in the parameter's name, one per level (`rate_{{c}}: {{login: 0.5, …}}`)",
                k.value
            ),
        )),
        ParamSrc::Table(_) => Err(at(
            v,
            format!(
                "parameter `{}`: a number or an expression is expected here (the name has {} placeholder(s), so the table has as many levels)",
                k.value,
                b.vars().count()
            ),
        )),
    }
}

/// The cell of table `t` for binding `b` (from level `depth` on, the
/// placeholders `vars`); `star` the nearest `"*"` around it.
fn lookup<'t>(
    k: &Name,
    whole: &'t Spanned<ParamSrc>,
    t: &'t Table,
    vars: &[&str],
    b: &Binding,
    star: Option<&'t Spanned<ParamSrc>>,
) -> Result<&'t Spanned<ParamSrc>, ModelError> {
    let member = b.get(vars[0]).expect("bound");
    let find = |key: &str| t.iter().find(|(n, _)| n.value == key).map(|(_, v)| v);
    let star = find("*").or(star);
    let Some(cell) = find(member).or(star) else {
        let path: Vec<&str> = b
            .members()
            .take(b.vars().count() - vars.len() + 1)
            .collect();
        return Err(at(
            whole,
            format!(
                "parameter `{}`: the table has no entry for {} (add it, or `\"*\": VALUE` for every entry left out)",
                k.value,
                path.iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(" › ")
            ),
        ));
    };
    match &cell.value {
        ParamSrc::Table(inner) if vars.len() > 1 => lookup(k, whole, inner, &vars[1..], b, star),
        _ => Ok(cell),
    }
}

/// Every key of table `t` (at the level of `vars[prefix.len()]`) is a
/// member that placeholder ranges over there, or `"*"`.
fn check_keys(
    k: &Name,
    t: &Table,
    vars: &[&str],
    prefix: &[&str],
    classes: &Classes,
) -> Result<(), ModelError> {
    let depth = prefix.len();
    let allowed = classes.level(vars, prefix).map_err(|m| at(k, m))?;
    for (key, v) in t {
        if key.value == "*" {
            if matches!(v.value, ParamSrc::Table(_)) {
                return Err(at(v, "`\"*\"` takes a number or an expression"));
            }
            continue;
        }
        if !allowed.contains(&key.value) {
            let under = match prefix {
                [] => String::new(),
                p => format!(" under {}", p.join(" › ")),
            };
            return Err(at(
                key,
                format!(
                    "parameter `{}`: `{}` is not a member `{{{}}}` ranges over{under} (members: {})",
                    k.value,
                    key.value,
                    vars[depth],
                    allowed.join(", ")
                ),
            ));
        }
        if let ParamSrc::Table(inner) = &v.value
            && depth + 1 < vars.len()
        {
            let mut p = prefix.to_vec();
            p.push(&key.value);
            check_keys(k, inner, vars, &p, classes)?;
        }
    }
    Ok(())
}
