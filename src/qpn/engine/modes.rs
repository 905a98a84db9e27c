//! Which modes of each transition are enabled, kept up to date as tokens
//! move rather than found by scanning every mode at every firing.
//!
//! Per (place, colour) the input arcs that take from it; per mode the
//! number of its input arcs that the tokens available now do not satisfy;
//! per transition its enabled modes in mode order, with their cumulative
//! weights. A change of what a (place, colour) offers touches only the
//! arcs on it, and a firing's weighted choice reads only the enabled
//! modes: a transition with a hundred modes of which one is enabled costs
//! what one mode costs.

use crate::qpn::net::Net;

#[cfg(test)]
mod tests;

/// Enabled modes up to this many are chosen among by subtracting weights
/// in mode order (bit for bit the arithmetic of a scan over all modes);
/// more, by a guided search of their cumulative weights.
const LINEAR_CHOICE: usize = 16;

/// `ModeIndex::pos` of a mode not enabled.
const OFF: u32 = u32::MAX;

/// An input arc, as its (place, colour) sees it.
#[derive(Debug, Clone, Copy)]
struct InArc {
    /// The mode's index in `ModeIndex::unsat`.
    mode: u32,
    transition: u32,
    /// Tokens it takes.
    count: u32,
}

/// The enabled modes of one transition.
#[derive(Debug, Clone, Default)]
struct Enabled {
    /// (mode, weight): in mode order when `sorted`; a mode is added at the
    /// end and removed by moving the last into its place, so that a mode's
    /// switching costs the same however many modes are on.
    on: Vec<(u32, f64)>,
    sorted: bool,
    /// Cumulative weights of `on`, when `fresh`.
    cum: Vec<f64>,
    /// With more than `LINEAR_CHOICE` modes on, when `fresh`: for each of
    /// `on.len()` equal stretches of the total weight, the first mode
    /// whose cumulative weight passes the stretch's start (where the
    /// search for a draw in that stretch begins).
    guide: Vec<u32>,
    fresh: bool,
}

/// The enabled modes of every transition of a net.
#[derive(Debug, Clone)]
pub(super) struct ModeIndex {
    nc: usize,
    /// Per (place, colour) (index place × colours + colour), where its
    /// arcs start in `arcs`; one more entry closes the last.
    arc_start: Vec<u32>,
    arcs: Vec<InArc>,
    /// Tokens each (place, colour) offers, as last told.
    avail: Vec<u32>,
    /// Per transition, the index of its first mode in `unsat`.
    mode_base: Vec<u32>,
    /// Per mode, its input arcs not satisfied.
    unsat: Vec<u32>,
    /// Per mode, its weight.
    weight: Vec<f64>,
    /// Per mode, where it is in its transition's `Enabled::on`, if on.
    pos: Vec<u32>,
    sets: Vec<Enabled>,
    /// Per transition of one mode, where that mode's inputs are in
    /// `inputs`: such a transition is not indexed (its `Enabled` stays
    /// empty) but read from `avail` when asked, which costs less than
    /// keeping it.
    single: Vec<Option<(u32, u32)>>,
    /// (slot, count) of the inputs of the transitions of one mode.
    inputs: Vec<(u32, u32)>,
}

impl ModeIndex {
    /// The index of an empty marking: only modes without inputs enabled.
    pub(super) fn new(net: &Net) -> Self {
        let nc = net.colors.len();
        let slots = net.places.len() * nc;
        let mut mode_base = Vec::with_capacity(net.transitions.len());
        let (mut unsat, mut weight, mut pos) = (Vec::new(), Vec::new(), Vec::new());
        let mut per_slot: Vec<Vec<InArc>> = vec![Vec::new(); slots];
        let mut sets = Vec::with_capacity(net.transitions.len());
        let (mut single, mut inputs) = (Vec::new(), Vec::new());
        for (t, tr) in net.transitions.iter().enumerate() {
            mode_base.push(unsat.len() as u32);
            sets.push(Enabled {
                on: Vec::with_capacity(tr.modes.len()),
                sorted: true,
                cum: Vec::with_capacity(tr.modes.len()),
                guide: Vec::with_capacity(tr.modes.len()),
                fresh: false,
            });
            if let [mode] = &tr.modes[..] {
                let start = inputs.len() as u32;
                inputs.extend(
                    mode.inputs
                        .iter()
                        .map(|a| ((a.place * nc + a.color) as u32, a.count)),
                );
                single.push(Some((start, inputs.len() as u32)));
                unsat.push(0);
                weight.push(mode.weight);
                pos.push(OFF);
                continue;
            }
            single.push(None);
            for (m, mode) in tr.modes.iter().enumerate() {
                let g = unsat.len() as u32;
                for a in &mode.inputs {
                    per_slot[a.place * nc + a.color].push(InArc {
                        mode: g,
                        transition: t as u32,
                        count: a.count,
                    });
                }
                let missing = mode.inputs.iter().filter(|a| a.count > 0).count();
                unsat.push(missing as u32);
                weight.push(mode.weight);
                pos.push(if missing == 0 {
                    sets[t].on.len() as u32
                } else {
                    OFF
                });
                if missing == 0 {
                    sets[t].on.push((m as u32, mode.weight));
                }
            }
        }
        let mut arc_start = Vec::with_capacity(slots + 1);
        let mut arcs = Vec::new();
        for list in per_slot {
            arc_start.push(arcs.len() as u32);
            arcs.extend(list);
        }
        arc_start.push(arcs.len() as u32);
        Self {
            nc,
            arc_start,
            arcs,
            avail: vec![0; slots],
            mode_base,
            unsat,
            weight,
            pos,
            sets,
            single,
            inputs,
        }
    }

    /// (Place `p`, colour `c`) now offers `n` tokens to transitions.
    #[inline]
    pub(super) fn set(&mut self, p: usize, c: usize, n: usize) {
        let slot = p * self.nc + c;
        let old = self.avail[slot];
        let new = n as u32;
        if old == new {
            return;
        }
        self.avail[slot] = new;
        for i in self.arc_start[slot]..self.arc_start[slot + 1] {
            let a = self.arcs[i as usize];
            let (was, is) = (old >= a.count, new >= a.count);
            if was == is {
                continue;
            }
            let g = a.mode as usize;
            if is {
                self.unsat[g] -= 1;
                if self.unsat[g] == 0 {
                    self.switch(a.transition as usize, g, true);
                }
            } else {
                if self.unsat[g] == 0 {
                    self.switch(a.transition as usize, g, false);
                }
                self.unsat[g] += 1;
            }
        }
    }

    /// Mode `g` (global index) of transition `t` becomes enabled or not.
    fn switch(&mut self, t: usize, g: usize, on: bool) {
        let m = g as u32 - self.mode_base[t];
        let set = &mut self.sets[t];
        if on {
            set.sorted &= set.on.last().is_none_or(|e| e.0 < m);
            self.pos[g] = set.on.len() as u32;
            set.on.push((m, self.weight[g]));
        } else {
            let at = self.pos[g] as usize;
            set.on.swap_remove(at);
            self.pos[g] = OFF;
            if let Some(&(moved, _)) = set.on.get(at) {
                self.pos[(self.mode_base[t] + moved) as usize] = at as u32;
                set.sorted = false;
            }
            set.sorted |= set.on.is_empty();
        }
        set.fresh = false;
    }

    /// Puts the enabled modes of `t` in mode order, if they are not.
    pub(super) fn sort(&mut self, t: usize) {
        let set = &mut self.sets[t];
        if set.sorted {
            return;
        }
        set.on.sort_unstable_by_key(|e| e.0);
        for (i, e) in set.on.iter().enumerate() {
            self.pos[(self.mode_base[t] + e.0) as usize] = i as u32;
        }
        set.sorted = true;
    }

    /// The global index of mode `m` of transition `t`: modes numbered
    /// through the transitions in order.
    #[inline]
    pub(super) fn global(&self, t: usize, m: usize) -> usize {
        self.mode_base[t] as usize + m
    }

    /// Whether some mode of `t` is enabled.
    #[inline]
    pub(super) fn any(&self, t: usize) -> bool {
        match self.single[t] {
            Some((start, end)) => self.inputs[start as usize..end as usize]
                .iter()
                .all(|&(slot, count)| self.avail[slot as usize] >= count),
            None => !self.sets[t].on.is_empty(),
        }
    }

    /// Whether `t` has one mode (then not indexed: `enabled` is empty).
    #[inline]
    pub(super) fn single(&self, t: usize) -> bool {
        self.single[t].is_some()
    }

    /// The enabled modes of `t` with their weights: in mode order after
    /// `sort(t)`.
    #[inline]
    pub(super) fn enabled(&self, t: usize) -> &[(u32, f64)] {
        &self.sets[t].on
    }

    /// An enabled mode of `t` (which has several) at random in proportion
    /// to the weights; `draw` gives a uniform number in [0, 1), called
    /// once. The mode whose stretch of the weights' running total holds
    /// the draw, as a scan of the modes in order finds it.
    pub(super) fn choose(&mut self, t: usize, draw: impl FnOnce() -> f64) -> usize {
        self.sort(t);
        let set = &mut self.sets[t];
        if !set.fresh {
            set.refresh();
        }
        let k = set.on.len();
        let r = draw();
        let mut u = r * set.cum[k - 1];
        if k <= LINEAR_CHOICE {
            for &(m, w) in &set.on {
                if u < w {
                    return m as usize;
                }
                u -= w;
            }
            return set.on[k - 1].0 as usize;
        }
        // The first mode whose cumulative weight exceeds u, searched from
        // where the guide points for u's stretch: back while the one before
        // also exceeds u (rounding), on while this one does not.
        let mut i = set.guide[((r * k as f64) as usize).min(k - 1)] as usize;
        while i > 0 && set.cum[i - 1] > u {
            i -= 1;
        }
        while i < k && set.cum[i] <= u {
            i += 1;
        }
        set.on[i.min(k - 1)].0 as usize
    }
}

impl Enabled {
    /// Cumulative weights, and the guide when there are many modes.
    fn refresh(&mut self) {
        self.cum.clear();
        let mut total = 0.0;
        for &(_, w) in &self.on {
            total += w;
            self.cum.push(total);
        }
        self.guide.clear();
        let k = self.on.len();
        if k > LINEAR_CHOICE {
            let stretch = total / k as f64;
            let mut i = 0;
            for b in 0..k {
                let start = b as f64 * stretch;
                while i < k - 1 && self.cum[i] <= start {
                    i += 1;
                }
                self.guide.push(i as u32);
            }
        }
        self.fresh = true;
    }
}
