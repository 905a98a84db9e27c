//! Analytic solutions of product-form models: a fast predictor and the
//! simulator's oracle.
//!
//! [`analyse`] compiles a QPN into a queueing network when the net is
//! product-form (IS, PS and LCFS-PR places with any service distribution,
//! FCFS places with exponential class-independent service, Poisson sources,
//! probabilistic routing, pools that can never run out) and solves it;
//! otherwise it says in words what breaks product form. The solvers
//! themselves are in [`network`].
//!
//! The compilation, in steps: `shape.rs` (request classes, their chains
//! and populations; the reasons a net is not product-form), `routing.rs`
//! (routing as a chain over (place, colour) states), `compile.rs` (visits,
//! one station per queue with visit-weighted demands per chain, and
//! per-colour values from the solution), `probes.rs` (probe means from the
//! solution).

mod compile;
pub mod network;
mod probes;
mod routing;
mod shape;
#[cfg(test)]
mod tests;
mod values;

use crate::qpn::ValidNet;
use compile::{colour_values, place_values, stations, visits};
pub use network::{
    Algorithm, Solution, SolveError, Station, StationKind, StationResult, solve_approximate,
    solve_closed, solve_exact, solve_open,
};
use probes::{Solved, probe_values};
use shape::{Shape, limit_reasons, pool_reasons, station_reasons, transition_reasons};
pub use values::{Analysis, NotProductForm, PlaceValue, ProbeValue};

/// Exact MVA, or approximate MVA when the lattice is too large; a
/// load-dependent rate only exactly (the approximate method has none).
fn solve_closed_net(stations: &[Station], pops: &[u32]) -> Result<Solution, NotProductForm> {
    if stations
        .iter()
        .any(|s| matches!(s.kind, StationKind::LoadDependent { .. }))
    {
        solve_exact(stations, pops).map_err(|e| match e {
            SolveError::TooLarge(cells) => NotProductForm(vec![format!(
                "exact MVA would need {cells} population vectors x stations, and the \
                 approximate method does not take a load-dependent rate; simulate instead"
            )]),
            e => NotProductForm(vec![e.to_string()]),
        })
    } else {
        Ok(solve_closed(stations, pops))
    }
}

/// Compiles `net` to a product-form network and solves it.
///
/// # Errors
/// [`NotProductForm`] with every reason found, or an unstable open station.
pub fn analyse(net: &ValidNet) -> Result<Analysis, NotProductForm> {
    let shape = Shape::of(net);
    let mut reasons: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    station_reasons(&shape, &mut reasons);
    limit_reasons(&shape, &mut reasons);
    let sources = transition_reasons(&shape, &mut reasons);
    let open = !sources.is_empty();
    let closed = shape.classes.iter().any(|&c| shape.populations[c] > 0);
    if closed && open {
        reasons.push("the model is both open and closed".into());
    }
    if !closed && !open {
        reasons.push("no tokens and no sources".into());
    }
    pool_reasons(&shape, open, &mut reasons, &mut notes);
    if !reasons.is_empty() {
        reasons.dedup();
        return Err(NotProductForm(reasons));
    }
    let routing = routing::route(shape.net, &shape.is_class);
    let visits = visits(&shape, &routing, &sources)?;
    let stations = stations(&shape, &visits);
    let solution = if open {
        solve_open(&stations.list, shape.chains.len())
            .map_err(|e| NotProductForm(vec![e.to_string()]))?
    } else {
        let pops: Vec<u32> = (0..shape.chains.len())
            .map(|h| shape.chain_population(h).min(u32::MAX as u64) as u32)
            .collect();
        solve_closed_net(&stations.list, &pops)?
    };
    for h in (0..shape.chains.len()).filter(|&h| shape.chains[h].len() > 1) {
        notes.push(format!(
            "{}: solved as one class, its demand at each place the visit-weighted sum of its colours'",
            shape.chain_words(h)
        ));
    }
    let values = colour_values(&shape, &stations, &visits, &solution);
    let places = place_values(&shape, &stations, &values, &solution);
    let solved = Solved {
        shape: &shape,
        routing: &routing,
        closed,
        stations: &stations,
        visits: &visits,
        values: &values,
        solution: &solution,
    };
    let probes = probe_values(&solved, &mut notes);
    Ok(Analysis {
        method: solution.method.name().to_string(),
        notes,
        probes,
        places,
    })
}
