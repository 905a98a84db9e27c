//! Routing of request tokens as a Markov chain over (place, colour) states,
//! the chains of colours that tokens switch between, and the expected
//! visits per state.
//!
//! A mode that takes one request token and gives one of another colour
//! switches its class; the colours a token can switch between form a
//! *chain*, which the solver treats as one class whose demand at each
//! station is the visit-weighted sum of its colours' demands (product form
//! holds with class switching; Baskett, Chandy, Muntz & Palacios, JACM
//! 22(2), 1975, §4; Lavenberg, "Computer Performance Modeling Handbook",
//! 1983, ch. 3).

use crate::qpn::{Net, Timing};

/// Where a token in state `s = place · colours + colour` goes next.
pub(super) type Routing = Vec<Vec<Hop>>;

/// One way out of a state.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hop {
    /// The next state, `None` for leaving the net.
    pub to: Option<usize>,
    /// Its probability.
    pub prob: f64,
    /// The transition that takes the token.
    pub transition: usize,
}

/// The chains: colours joined by class-switching modes, in colour order;
/// each a list of colours, and per colour its chain (request classes only).
pub(super) fn chains(net: &Net, is_class: &[bool]) -> (Vec<Vec<usize>>, Vec<Option<usize>>) {
    let nc = net.colors.len();
    let mut root: Vec<usize> = (0..nc).collect();
    fn find(root: &mut [usize], mut c: usize) -> usize {
        while root[c] != c {
            root[c] = root[root[c]];
            c = root[c];
        }
        c
    }
    for m in net.transitions.iter().flat_map(|t| &t.modes) {
        let ins: Vec<_> = m.inputs.iter().filter(|a| is_class[a.color]).collect();
        let outs: Vec<_> = m.outputs.iter().filter(|a| is_class[a.color]).collect();
        if let ([i], [o]) = (ins.as_slice(), outs.as_slice()) {
            let (a, b) = (find(&mut root, i.color), find(&mut root, o.color));
            root[a.max(b)] = a.min(b);
        }
    }
    let mut list: Vec<Vec<usize>> = Vec::new();
    let mut chain_of = vec![None; nc];
    for c in (0..nc).filter(|&c| is_class[c]) {
        let r = find(&mut root, c);
        let h = match chain_of[r] {
            Some(h) => h,
            None => {
                list.push(Vec::new());
                list.len() - 1
            }
        };
        chain_of[r] = Some(h);
        chain_of[c] = Some(h);
        list[h].push(c);
    }
    (list, chain_of)
}

/// Where a request token goes from every state: among the immediate modes
/// that take it, in proportion to transition weight × mode weight, to the
/// place and colour of the mode's one request output.
pub(super) fn route(net: &Net, is_class: &[bool]) -> Routing {
    let (np, nc) = (net.places.len(), net.colors.len());
    // Per state, the immediate transitions that take it (in transition
    // order) with their modes that do: one pass over the modes, not one per
    // state (100,000 copies made that 10^10 steps).
    let mut found: Vec<Vec<(usize, Vec<usize>)>> = vec![Vec::new(); np * nc];
    for (ti, t) in net.transitions.iter().enumerate() {
        if !matches!(t.timing, Timing::Immediate { .. }) {
            continue;
        }
        for (m, mode) in t.modes.iter().enumerate() {
            for a in mode.inputs.iter().filter(|a| is_class[a.color]) {
                let s = &mut found[a.place * nc + a.color];
                match s.last_mut() {
                    Some((last, modes)) if *last == ti => {
                        if modes.last() != Some(&m) {
                            modes.push(m);
                        }
                    }
                    _ => s.push((ti, vec![m])),
                }
            }
        }
    }
    found
        .into_iter()
        .map(|f| takers(net, f, is_class))
        .collect()
}

/// The hops out of one state, given the transitions that take it.
fn takers(net: &Net, found: Vec<(usize, Vec<usize>)>, is_class: &[bool]) -> Vec<Hop> {
    let nc = net.colors.len();
    let weight = |ti: usize| match net.transitions[ti].timing {
        Timing::Immediate { weight } => weight,
        Timing::Timed { .. } => 0.0,
    };
    let wsum: f64 = found.iter().map(|t| weight(t.0)).sum();
    let mut next = Vec::new();
    for (ti, modes) in found {
        let (t, w) = (&net.transitions[ti], weight(ti));
        let msum: f64 = modes.iter().map(|&m| t.modes[m].weight).sum();
        for m in modes {
            let share = w / wsum * t.modes[m].weight / msum;
            let to = t.modes[m]
                .outputs
                .iter()
                .find(|a| is_class[a.color])
                .map(|a| a.place * nc + a.color);
            next.push(Hop {
                to,
                prob: share,
                transition: ti,
            });
        }
    }
    next
}

/// Expected visits to every state: `x = inject + Σ_s x_s P[s]`, not
/// propagating out of `reference` (a closed chain's cycle ends there).
pub(super) fn propagate(
    routing: &Routing,
    inject: &[f64],
    reference: Option<usize>,
) -> Option<Vec<f64>> {
    let n = routing.len();
    let mut x = inject.to_vec();
    for _ in 0..1_000_000 {
        let mut next = inject.to_vec();
        for s in 0..n {
            if Some(s) == reference || x[s] == 0.0 {
                continue;
            }
            for hop in &routing[s] {
                if let Some(q) = hop.to {
                    next[q] += x[s] * hop.prob;
                }
            }
        }
        let diff = next
            .iter()
            .zip(&x)
            .map(|(a, b)| (a - b).abs() / a.abs().max(1e-300))
            .fold(0.0, f64::max);
        x = next;
        if diff < 1e-14 {
            return Some(x);
        }
        if x.iter().any(|v| !v.is_finite() || *v > 1e12) {
            return None;
        }
    }
    None
}
