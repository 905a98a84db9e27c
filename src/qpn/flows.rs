//! Mean token flows of an open net, from its sources through its routing:
//! what the model builder's stability check and the open-load diagnosis
//! ask.

use super::net::{Net, Timing};

/// Per (place, colour): the modes that take a token there, as
/// (transition, mode, share of the tokens).
type Routes = Vec<Vec<Vec<(usize, usize, f64)>>>;

/// Mean token arrival rates (per second) at every (place, colour) of an
/// open net, from its sources through its routing.
///
/// Sources are timed transitions without inputs, firing at 1 / mean delay,
/// each mode in proportion to its weight. A token that becomes available at
/// (p, c) is taken by one of the immediate modes whose only input is one
/// token of (p, c), in proportion to transition weight × mode weight (what
/// SimQPN does when that token alone enables them). Returns `None` for nets
/// this does not describe: initial tokens, no source, joins (modes with
/// several inputs), or timed transitions with inputs.
pub fn open_flows(net: &Net) -> Option<Vec<Vec<f64>>> {
    if net.places.iter().any(|p| p.initial.iter().any(|&n| n > 0)) {
        return None;
    }
    let (source, consumers) = sources_and_consumers(net)?;
    propagate(net, &source, &routes(net, &consumers))
}

/// Tokens per second each (place, colour) gets from the sources, and the
/// immediate modes that take a token there as (transition, mode,
/// transition weight); `None` for a timed transition with inputs, a join,
/// or no source.
fn sources_and_consumers(net: &Net) -> Option<(Vec<Vec<f64>>, Routes)> {
    let (np, nc) = (net.places.len(), net.colors.len());
    let mut source = vec![vec![0.0; nc]; np];
    let mut has_source = false;
    let mut consumers: Routes = vec![vec![Vec::new(); nc]; np];
    for (ti, t) in net.transitions.iter().enumerate() {
        match &t.timing {
            Timing::Timed { delay } => {
                if t.modes.iter().any(|m| !m.inputs.is_empty()) {
                    return None;
                }
                has_source = true;
                let rate = 1.0 / delay.mean();
                let total: f64 = t.modes.iter().map(|m| m.weight).sum();
                for m in &t.modes {
                    for a in &m.outputs {
                        source[a.place][a.color] += rate * m.weight / total * a.count as f64;
                    }
                }
            }
            Timing::Immediate { weight } => {
                for (mi, m) in t.modes.iter().enumerate() {
                    if m.inputs.len() != 1 || m.inputs[0].count != 1 {
                        return None;
                    }
                    let a = m.inputs[0];
                    consumers[a.place][a.color].push((ti, mi, *weight));
                }
            }
        }
    }
    has_source.then_some((source, consumers))
}

/// The routing share of each consuming mode: its transition's weight
/// among the transitions there, times its weight among that transition's
/// modes there.
fn routes(net: &Net, consumers: &Routes) -> Routes {
    consumers
        .iter()
        .map(|row| {
            row.iter()
                .map(|cons| {
                    let mut tw: Vec<(usize, f64)> = Vec::new();
                    for &(t, _, w) in cons {
                        if !tw.iter().any(|x| x.0 == t) {
                            tw.push((t, w));
                        }
                    }
                    let wsum: f64 = tw.iter().map(|x| x.1).sum();
                    let mut out = Vec::new();
                    for &(t, w) in &tw {
                        let modes: Vec<usize> =
                            cons.iter().filter(|x| x.0 == t).map(|x| x.1).collect();
                        let weight = |m: usize| net.transitions[t].modes[m].weight;
                        let msum: f64 = modes.iter().map(|&m| weight(m)).sum();
                        for m in modes {
                            out.push((t, m, w / wsum * weight(m) / msum));
                        }
                    }
                    out
                })
                .collect()
        })
        .collect()
}

/// The flows: the sources' tokens passed along the routes until they
/// settle (relative change below 1e-13); `None` when they grow without
/// bound.
fn propagate(net: &Net, source: &[Vec<f64>], routes: &Routes) -> Option<Vec<Vec<f64>>> {
    let (np, nc) = (net.places.len(), net.colors.len());
    let mut flow = source.to_vec();
    for _ in 0..100_000 {
        let mut next = source.to_vec();
        for p in 0..np {
            for c in 0..nc {
                if flow[p][c] == 0.0 {
                    continue;
                }
                for &(t, m, share) in &routes[p][c] {
                    for a in &net.transitions[t].modes[m].outputs {
                        next[a.place][a.color] += flow[p][c] * share * a.count as f64;
                    }
                }
            }
        }
        let diff = next
            .iter()
            .flatten()
            .zip(flow.iter().flatten())
            .map(|(a, b)| (a - b).abs() / a.abs().max(1e-300))
            .fold(0.0, f64::max);
        flow = next;
        if diff < 1e-13 {
            return Some(flow);
        }
        if flow.iter().flatten().any(|v| !v.is_finite() || *v > 1e300) {
            return None;
        }
    }
    Some(flow)
}

#[cfg(test)]
mod tests {
    use super::open_flows;
    use crate::qpn::net::Timing;
    use crate::qpn::testing::{arc, det, place, transition, valid};

    #[test]
    fn a_source_splits_by_transition_weight_then_by_mode_weight() {
        // 2 tokens/s into A; two transitions of equal weight take them,
        // the first to B or C by mode weights 1 : 3, the second to D.
        let mut split = transition(
            "split",
            Timing::Immediate { weight: 1.0 },
            vec![
                (vec![arc(0, 1)], vec![arc(1, 1)]),
                (vec![arc(0, 1)], vec![arc(2, 1)]),
            ],
        );
        split.modes[1].weight = 3.0;
        let net = valid(
            ["A", "B", "C", "D"].map(|n| place(n, None, 0)).to_vec(),
            vec![
                transition(
                    "arrive",
                    Timing::Timed { delay: det(0.5) },
                    vec![(vec![], vec![arc(0, 1)])],
                ),
                split,
                transition(
                    "other",
                    Timing::Immediate { weight: 1.0 },
                    vec![(vec![arc(0, 1)], vec![arc(3, 1)])],
                ),
            ],
            vec![],
        );
        let f = open_flows(&net).unwrap();
        assert_eq!([f[0][0], f[1][0], f[2][0], f[3][0]], [2.0, 0.25, 0.75, 1.0]);
    }

    #[test]
    fn feedback_settles_at_the_geometric_sum_and_a_closed_net_has_no_flows() {
        // 1 token/s into Q; a quarter of the tokens leaving Q go back:
        // 1 / (1 - 1/4) = 4/3 per second.
        let mut leave = transition(
            "leave",
            Timing::Immediate { weight: 1.0 },
            vec![
                (vec![arc(0, 1)], vec![]),
                (vec![arc(0, 1)], vec![arc(0, 1)]),
            ],
        );
        leave.modes[0].weight = 3.0;
        let source = transition(
            "arrive",
            Timing::Timed { delay: det(1.0) },
            vec![(vec![], vec![arc(0, 1)])],
        );
        let net = valid(
            vec![place("Q", None, 0)],
            vec![source, leave.clone()],
            vec![],
        );
        let f = open_flows(&net).unwrap();
        assert!((f[0][0] - 4.0 / 3.0).abs() < 1e-12, "{}", f[0][0]);
        let closed = valid(vec![place("Q", None, 1)], vec![leave], vec![]);
        assert_eq!(open_flows(&closed), None);
    }
}
