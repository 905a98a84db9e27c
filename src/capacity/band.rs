//! The estimation band of a capacity answer: the question solved again at
//! the ends of the prediction band of the bound demands.
//!
//! The joint draws are ranked by the objective's statistic at the answer
//! (every bound parameter at its k-th draw, the searched parameter at the
//! answer); the draws at the 2.5 % and 97.5 % ranks (linearly between the
//! two nearest, as [`crate::stats::quantile_sorted`] does) are the band's
//! ends, and the search is run at each. Where one demand moves the answer
//! one way, this is exactly the answer at that demand's quantiles; with
//! several, the ranking by the statistic keeps the draws' joint shape
//! instead of pairing every demand's own extreme. Cost: one evaluation per
//! draw and two searches (simulated evaluations simulate every draw).

use super::{Answer, Band, CapacityError, Query, evaluate, solve};
use crate::model::Template;

/// Quantiles of the ends.
const ENDS: [f64; 2] = [0.025, 0.975];

/// `q` with every bound parameter at `values` and no draws.
fn at_values(q: &Query, values: &[f64]) -> Query {
    let mut at = q.clone();
    for (b, &v) in at.binds.iter_mut().zip(values) {
        b.value = v;
        b.draws.clear();
    }
    at
}

/// The band's [low, high] and the number of draws, or `None` without
/// draws.
///
/// # Errors
/// A model that cannot be evaluated at a draw.
pub(super) fn estimation_band(
    template: &Template,
    q: &Query,
    answer: &Answer,
) -> Result<Option<(Band, usize)>, CapacityError> {
    let n = q.binds.first().map_or(0, |b| b.draws.len());
    if n == 0 {
        return Ok(None);
    }
    let v = answer.value.unwrap_or(answer.at.value);
    let draw = |k: usize| -> Vec<f64> { q.binds.iter().map(|b| b.draws[k]).collect() };
    let mut ranked = Vec::with_capacity(n);
    for k in 0..n {
        let e = evaluate(template, &at_values(q, &draw(k)), v)?;
        ranked.push((e.stat_s.unwrap_or(f64::INFINITY), k));
    }
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut ends = [None, None];
    for (slot, p) in ends.iter_mut().zip(ENDS) {
        let pos = p * (n - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        let f = pos - lo as f64;
        let (a, b) = (draw(ranked[lo].1), draw(ranked[hi].1));
        let values: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + f * (y - x)).collect();
        *slot = solve(template, &at_values(q, &values))?.value;
    }
    // The low-statistic draw is the optimistic end: the larger load, the
    // fewer servers.
    let [optimistic, pessimistic] = ends;
    let band = if answer.rising {
        [pessimistic, optimistic]
    } else {
        [optimistic, pessimistic]
    };
    Ok(Some((band, n)))
}
