//! A study file's `params:`: where each model parameter's value comes
//! from (a number, an expression, a measured or estimated value, the run's
//! metadata, the fitted background), checked as the file is read.

use super::*;

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum ParamSpec {
    Number(f64),
    Expr(String),
    Measured {
        measured: String,
        #[serde(default)]
        class: Option<String>,
    },
    Estimate {
        estimate: String,
        #[serde(default)]
        class: Option<String>,
        #[serde(default)]
        resource: Option<String>,
    },
    Metadata {
        metadata: String,
    },
    Background {
        background: String,
    },
}

/// The experiment's model parameters and where each value comes from.
pub(super) fn params(
    name: &str,
    e: &ExpSpec,
    has_requests: bool,
) -> Result<Vec<(String, ParamSource)>, StudyFileError> {
    let mut params = Vec::new();
    for (k, p) in &e.params {
        let src = match p {
            ParamSpec::Number(v) if v.is_finite() => ParamSource::Value(ParamValue::Number(*v)),
            ParamSpec::Number(v) => {
                return Err(invalid(
                    name,
                    format!("parameter `{k}`: {v} is not a number"),
                ));
            }
            ParamSpec::Expr(s) => ParamSource::Value(ParamValue::Expr(s.clone())),
            ParamSpec::Measured { measured, class } => ParamSource::Measured {
                what: measured_quantity(name, k, measured, class.as_deref())?,
                class: class.clone(),
            },
            ParamSpec::Estimate {
                estimate,
                class,
                resource,
            } => ParamSource::Estimate {
                pick: pick(name, estimate, &format!("parameter `{k}`"))?,
                class: class.clone(),
                resource: resource.clone(),
            },
            ParamSpec::Metadata { metadata } => metadata_field(name, k, metadata, e)?,
            ParamSpec::Background { background } if background == "utilization" => {
                ParamSource::Background
            }
            ParamSpec::Background { background } => {
                return Err(invalid(
                    name,
                    format!(
                        "parameter `{k}`: unknown background quantity `{background}`; expected utilization"
                    ),
                ));
            }
        };
        if matches!(src, ParamSource::Background)
            && e.estimate.as_ref().is_none_or(|s| s.background.is_none())
        {
            return Err(invalid(
                name,
                format!(
                    "parameter `{k}`: `background: utilization` needs `estimate: {{background: RESOURCE}}`, the total utilization series"
                ),
            ));
        }
        check_placeholders(name, k, p)?;
        if matches!(src, ParamSource::Measured { .. }) && !has_requests {
            return Err(invalid(
                name,
                format!("parameter `{k}`: measured values need `requests` traces"),
            ));
        }
        params.push((k.clone(), src));
    }
    Ok(params)
}

/// A parameter written once for every class (`demand_{c}`) uses in its
/// `class:` or expression only the placeholders of its name (the model's
/// class sets say what they range over, when the experiment runs).
fn check_placeholders(name: &str, k: &str, p: &ParamSpec) -> Result<(), StudyFileError> {
    let text = match p {
        ParamSpec::Expr(s) => Some(s),
        ParamSpec::Measured { class, .. } | ParamSpec::Estimate { class, .. } => class.as_ref(),
        ParamSpec::Number(_) | ParamSpec::Metadata { .. } | ParamSpec::Background { .. } => None,
    };
    let in_name: Vec<&str> = placeholders(k).into_iter().map(|(_, v)| v).collect();
    if let Some((_, v)) = text
        .into_iter()
        .flat_map(|t| placeholders(t))
        .find(|(_, v)| !in_name.contains(v))
    {
        return Err(invalid(
            name,
            format!(
                "parameter `{k}`: `{{{v}}}` stands for no class here: write it in the parameter's name too (`demand_{{{v}}}: {{estimate: sdl, class: \"{{{v}}}\"}}`)"
            ),
        ));
    }
    Ok(())
}

/// A field of the run's metadata (`{metadata: users}`), which needs the
/// experiment's `metadata` file.
fn metadata_field(
    name: &str,
    k: &str,
    field: &str,
    e: &ExpSpec,
) -> Result<ParamSource, StudyFileError> {
    let why = match MetadataField::from_id(field) {
        Some(f) if e.metadata.is_some() => return Ok(ParamSource::Metadata(f)),
        Some(_) => "needs the run's metadata file (`metadata: run.json`)".to_string(),
        None => format!("unknown field; expected {}", MetadataField::ids()),
    };
    Err(invalid(
        name,
        format!("parameter `{k}`: `{{metadata: {field}}}` {why}"),
    ))
}

/// A `measured:` quantity by name; a think time is of all classes.
fn measured_quantity(
    name: &str,
    k: &str,
    measured: &str,
    class: Option<&str>,
) -> Result<Measured, StudyFileError> {
    let m = match measured {
        "throughput" => Measured::Throughput,
        "interarrival" => Measured::Interarrival,
        "think_time" => Measured::ThinkTime,
        "response_time" => Measured::ResponseTime,
        other => {
            return Err(invalid(
                name,
                format!(
                    "parameter `{k}`: unknown measured quantity `{other}`; expected throughput, interarrival, think_time or response_time"
                ),
            ));
        }
    };
    if m == Measured::ThinkTime && class.is_some() {
        return Err(invalid(
            name,
            format!("parameter `{k}`: a think time is measured over all classes (drop `class`)"),
        ));
    }
    Ok(m)
}
