//! Checks of the whole net that point back into the file: modes that can
//! never fire, and the offered load of open models.

use super::OpenLoads;
use super::transitions::ModeSpans;
use crate::model::{ModelError, Stability};
use crate::qpn::{self, Dist, Net};

/// The first mode that can never fire, reported at its line.
pub(super) fn dead_modes(net: &Net, spans: &ModeSpans) -> Result<(), ModelError> {
    let Some(&(t, m)) = net.dead_modes().first() else {
        return Ok(());
    };
    let can = net.reachable();
    let tr = &net.transitions[t];
    let why = tr.modes[m]
        .inputs
        .iter()
        .find(|a| !can[a.place][a.color])
        .map(|a| {
            format!(
                "place `{}` never holds colour `{}`",
                net.places[a.place].name, net.colors[a.color]
            )
        })
        .unwrap_or_default();
    let (line, column) = spans[t][m];
    Err(ModelError::At {
        line,
        column,
        message: format!(
            "transition `{}` mode `{}` can never fire: {why}",
            tr.name, tr.modes[m].name
        ),
    })
}

/// Leaves out the modes that can no longer fire because modes of weight 0
/// were left out (a class with no arrivals: its service and departure
/// modes go too). A transition left with no mode is refused at its line.
pub(super) fn prune_after_zero_weights(
    net: &mut Net,
    spans: &mut ModeSpans,
) -> Result<(), ModelError> {
    loop {
        let dead = net.dead_modes();
        if dead.is_empty() {
            return Ok(());
        }
        for (t, tr) in net.transitions.iter().enumerate() {
            let gone = dead.iter().filter(|d| d.0 == t).count();
            if gone > 0 && gone == tr.modes.len() {
                let (line, column) = spans[t][0];
                return Err(ModelError::At {
                    line,
                    column,
                    message: format!(
                        "transition `{}` can never fire: the modes of weight 0 left out were all that fed it",
                        tr.name
                    ),
                });
            }
        }
        // Highest mode index first within a transition, so the indices
        // still to remove hold.
        for &(t, m) in dead.iter().rev() {
            net.transitions[t].modes.remove(m);
            spans[t].remove(m);
        }
    }
}

/// The open loads; with [`Stability::Reject`], an error for the first
/// place offered its capacity or more.
pub(super) fn stability(net: &Net, policy: Stability) -> Result<OpenLoads, ModelError> {
    let loads = open_loads(net);
    if let Some(loads) = &loads
        && policy == Stability::Reject
        && let Some((place, load, servers)) = loads.iter().find(|(_, l, c)| l >= c)
    {
        return Err(ModelError::Unstable {
            place: place.clone(),
            load: *load,
            servers: *servers,
        });
    }
    Ok(loads)
}

/// Offered load (busy servers) and capacity (servers, or the last value
/// of a load-dependent rate; at most the CPUs of a CPU limit) of each
/// non-IS queueing place
/// (places sharing a queue together, under the queue's name) of an open
/// net whose token flows follow from its sources by routing weights;
/// `None` for closed nets or nets with joins.
pub fn open_loads(net: &Net) -> OpenLoads {
    let flows = qpn::open_flows(net)?;
    let nc = net.colors.len();
    let mut loads: Vec<(String, f64, f64)> = Vec::new();
    for (p, pl) in net.places.iter().enumerate() {
        let Some(q) = pl.queue.as_ref().filter(|q| q.scheduling.has_servers()) else {
            continue;
        };
        let load: f64 = (0..nc)
            .map(|c| flows[p][c] * q.service[c].as_ref().map_or(0.0, Dist::mean))
            .sum();
        let name = q.shared.map_or(&pl.name, |k| &net.queues[k].name);
        match loads
            .iter_mut()
            .find(|l| q.shared.is_some() && &l.0 == name)
        {
            Some(l) => l.1 += load,
            // A load-dependent rate holds up to its last value's work; a
            // CPU limit serves at most its CPUs' work.
            None => loads.push((
                name.clone(),
                load,
                q.load_dependence
                    .last()
                    .copied()
                    .unwrap_or(q.servers as f64)
                    .min(q.cpu_limit.map_or(f64::INFINITY, |l| l.cpus())),
            )),
        }
    }
    Some(loads)
}
