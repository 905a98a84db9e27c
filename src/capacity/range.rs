//! Where a capacity search looks when the user does not say: around the
//! loads that were measured, where the bound estimate says what they were,
//! else around the model's own value.
//!
//! A measured run's load is read through the model: its mean utilization
//! of the estimated resource is matched to the value of the searched load
//! at which the model's busiest queueing place is that busy (open models,
//! whose offered loads follow from their sources; the busiest place taken
//! for the estimated resource). The range is half the lowest measured load
//! to twice the highest, and never past 99 % utilization of that place.

use super::{CapacityError, Query, params_at};
use crate::load_scale::LOAD_SCALE;
use crate::model::{Stability, Template};
use crate::report::format::TEXT;

/// A default range and why it is that.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultRange {
    /// LO, HI.
    pub range: (f64, f64),
    /// Where it came from, in words.
    pub why: String,
}

/// Highest utilization the range reaches.
const TOP: f64 = 0.99;

/// The busiest queueing place's utilization at `value` (`None`: a closed
/// model, or one whose flows do not follow from its sources).
fn busiest(template: &Template, q: &Query, value: f64) -> Option<f64> {
    let params = params_at(q, template, value).ok()?;
    let model = template.instantiate(&params, Stability::Allow).ok()?;
    let loads = model.open_loads?;
    loads
        .iter()
        .map(|(_, load, servers)| load / servers)
        .filter(|u| u.is_finite())
        .reduce(f64::max)
}

/// The value at which the busiest place is `target` busy, by bisection
/// (the utilization rises with the load); `None` where it cannot be found.
fn value_at(template: &Template, q: &Query, from: f64, target: f64) -> Option<f64> {
    let u = |v: f64| busiest(template, q, v);
    let (mut lo, mut hi) = (0.0, from);
    let mut k = 0;
    while u(hi)? < target {
        lo = hi;
        hi *= 2.0;
        k += 1;
        if k > 60 {
            return None;
        }
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if u(mid)? < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// The range to search when none is given. `measured` are the measured
/// runs' mean utilizations of the estimated resource (fractions), from
/// the bound estimates; empty, or a parameter that is no load, or a model
/// whose utilization is not known without solving it: a tenth (1 for
/// whole numbers) to four times the parameter's value.
///
/// # Errors
/// A parameter the model lacks, a model that cannot be resolved.
pub fn default_range(
    template: &Template,
    q: &Query,
    is_load: bool,
    measured: &[f64],
) -> Result<DefaultRange, CapacityError> {
    let v = if q.param == LOAD_SCALE && !template.has_param(LOAD_SCALE) {
        1.0
    } else {
        let values = template
            .resolve(&q.base)
            .map_err(|e| CapacityError::Model {
                param: q.param.clone(),
                value: f64::NAN,
                why: e.to_string(),
            })?;
        *values
            .get(&q.param)
            .ok_or_else(|| CapacityError::UnknownParam(q.param.clone()))?
    };
    let shown = crate::number::shown(v);
    let fallback = |reason: &str| DefaultRange {
        range: if q.integer {
            (1.0, (4.0 * v).ceil().max(2.0))
        } else {
            (0.1 * v, 4.0 * v)
        },
        why: format!(
            "{} to four times the model's {} = {shown}{reason}",
            if q.integer { "1" } else { "a tenth" },
            q.param
        ),
    };
    let positive: Vec<f64> = measured.iter().copied().filter(|u| *u > 0.0).collect();
    if !is_load || q.integer || v <= 0.0 {
        return Ok(fallback(""));
    }
    if positive.is_empty() {
        return Ok(fallback(
            " (no measured loads: bind an estimate of the runs to search around them)",
        ));
    }
    let at = |u: f64| value_at(template, q, v, u.min(TOP));
    let found: Option<Vec<f64>> = positive.iter().map(|&u| at(u)).collect();
    let (Some(found), Some(top)) = (found, at(TOP)) else {
        return Ok(fallback(
            " (the model's utilization at a load is not known without solving it)",
        ));
    };
    let lo = found.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = found.iter().copied().fold(0.0, f64::max);
    let (u_lo, u_hi) = (
        positive.iter().copied().fold(f64::INFINITY, f64::min),
        positive.iter().copied().fold(0.0, f64::max),
    );
    let range = (0.5 * lo, (2.0 * hi).min(top));
    Ok(DefaultRange {
        range,
        why: format!(
            "the measured runs' loads ({} runs at {:.0}–{:.0} % utilization, {} = {}–{} in the model) halved and doubled, up to {:.0} % utilization",
            positive.len(),
            100.0 * u_lo,
            100.0 * u_hi,
            q.param,
            TEXT.num(Some(lo)),
            TEXT.num(Some(hi)),
            100.0 * TOP
        ),
    })
}
