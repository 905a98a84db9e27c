//! A probe's statistic over all its colours together: a multi-class
//! model's objective is on every request, not on its first class.
//!
//! Analytic: the colours' means weighted by their throughputs at the
//! probe's end place (where each passage ends; the solver's per-colour
//! rows there). Simulated: the colours' means weighted by their passage
//! counts, and a percentile of every colour's passages together. A query
//! for one colour (`Query::color`) takes that colour's alone.

use crate::qpn::{ProbePoint, ValidNet};
use crate::solve::Analysis;

/// The probe's mean over its colours, from the solver; `None` where a
/// colour's mean or its throughput at the end place is not known.
pub(super) fn analytic_mean(
    net: &ValidNet,
    a: &Analysis,
    probe: &str,
    color: Option<&str>,
) -> Option<f64> {
    let rows: Vec<_> = a
        .probes
        .iter()
        .filter(|p| p.name == probe && color.is_none_or(|c| p.color == c))
        .collect();
    if let [one] = rows.as_slice() {
        return one.mean_s;
    }
    let p = net.probes.iter().find(|p| p.name == probe)?;
    let end = match p.end.first()? {
        ProbePoint::Enter(i) | ProbePoint::Exit(i) => &net.places[*i].name,
        ProbePoint::Transition(_) => return None,
    };
    let (mut sum, mut weight) = (0.0, 0.0);
    for r in rows {
        let x = a
            .places
            .iter()
            .find(|v| &v.place == end && v.color == r.color)?
            .throughput;
        sum += x * r.mean_s?;
        weight += x;
    }
    (weight > 0.0).then(|| sum / weight)
}
