//! `--bind PARAM=FILE:CLASS` (repeatable) of `sweep` and `capacity`: the
//! estimate files read once each and their draws joined
//! ([`demandsim::bind::join`]).

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use demandsim::bind::{BindSpec, Estimates, Joined, MIX, join};
use demandsim::model::Template;

use super::UsageError;
use super::io::EstimatesJson;

/// The parts of `estimate --format json` that weight the `(mix)` class
/// and say how busy the measured runs were.
#[derive(serde::Deserialize)]
struct Extra {
    identifiability: Option<Weights>,
    #[serde(default)]
    runs: Vec<RunLoad>,
}

#[derive(serde::Deserialize)]
struct Weights {
    weights: Vec<f64>,
}

#[derive(serde::Deserialize)]
struct RunLoad {
    mean_utilization: f64,
}

/// The binds and what the bound estimates measured.
pub struct Bound {
    /// The binds, draws joined.
    pub joined: Joined,
    /// Every bound estimate's runs' mean utilizations (fractions).
    pub utilizations: Vec<f64>,
}

/// Reads the files the `--bind` specs name (each once) and joins their
/// draws with `seed`; the pairing is said on stderr.
pub fn read_binds(
    specs: &[String],
    method: Option<&str>,
    template: &Template,
    seed: u64,
) -> Result<Bound> {
    let mut utilizations = Vec::new();
    let mut files: Vec<String> = Vec::new();
    let mut sources = Vec::new();
    let mut binds = Vec::new();
    for spec in specs {
        let usage = || UsageError(format!("--bind {spec}: expected PARAM=FILE:CLASS"));
        let (param, rest) = spec.split_once('=').ok_or_else(usage)?;
        let (file, class) = rest.rsplit_once(':').ok_or_else(usage)?;
        if !template.has_param(param) {
            return Err(UsageError(format!("--bind: the model has no parameter `{param}`")).into());
        }
        let source = match files.iter().position(|f| f == file) {
            Some(i) => i,
            None => {
                let (estimates, loads) = read_estimates(file, method)?;
                sources.push(estimates);
                utilizations.extend(loads);
                files.push(file.to_string());
                files.len() - 1
            }
        };
        binds.push(BindSpec {
            param: param.to_string(),
            source,
            class: class.to_string(),
        });
    }
    let joined = join(&sources, &binds, seed).map_err(|e| match e {
        e @ demandsim::bind::BindError::Twice(_) => UsageError(format!("--bind: {e}")).into(),
        e => anyhow::Error::new(e),
    })?;
    if joined.draws == 0 && !binds.is_empty() {
        log::warn!("no draws in the bound estimates (estimate --draws N): no estimation band");
    } else {
        for n in &joined.notes {
            log::warn!("{n}");
        }
    }
    Ok(Bound {
        joined,
        utilizations,
    })
}

/// One estimate file: `method`'s demands (else the recommended one's),
/// its draws, the `(mix)` weights; and its runs' mean utilizations.
fn read_estimates(file: &str, method: Option<&str>) -> Result<(Estimates, Vec<f64>)> {
    let text = super::io::read_document(std::path::Path::new(file))?;
    let doc = EstimatesJson::parse(&text).with_context(|| file.to_string())?;
    let method = doc.method(method).with_context(|| file.to_string())?;
    let demands: Vec<(String, f64)> = doc
        .demands(&method)
        .map(|(c, d)| (c.to_string(), d))
        .collect();
    if demands.is_empty() {
        anyhow::bail!("{file}: no `{method}` estimate");
    }
    let draws: Vec<BTreeMap<String, f64>> = match &doc.draws {
        Some(ds) if doc.draws_method.as_deref() == Some(method.as_str()) => ds
            .iter()
            .map(|d| {
                d.iter()
                    .filter_map(|(c, x)| Some((c.clone(), (*x)?)))
                    .collect()
            })
            .collect(),
        Some(_) => anyhow::bail!(
            "{file}: the draws are of `{}`, not `{method}`; rerun estimate with --draws-method {method}",
            doc.draws_method.as_deref().unwrap_or("?")
        ),
        None => Vec::new(),
    };
    // The weights are in the estimation's class order: the method's rows
    // without the mix row (a class without a number keeps its place).
    let order: Vec<&str> = doc
        .estimates
        .iter()
        .filter(|e| e.method == method && e.class != MIX)
        .map(|e| e.class.as_str())
        .collect();
    let extra: Extra = serde_json::from_str(&text).with_context(|| file.to_string())?;
    let mix_weights = extra
        .identifiability
        .map(|i| i.weights)
        .filter(|w| w.len() == order.len() && order.len() == demands_without_mix(&demands));
    let estimates = Estimates {
        name: file.to_string(),
        demands,
        draws,
        mix_weights,
    };
    Ok((
        estimates,
        extra.runs.iter().map(|r| r.mean_utilization).collect(),
    ))
}

fn demands_without_mix(d: &[(String, f64)]) -> usize {
    d.iter().filter(|(c, _)| c != MIX).count()
}
