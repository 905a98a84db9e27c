//! The sliding window of a live trace: a ring buffer of intervals (never
//! of requests), each with its classes' completions and response-time
//! sums and the resource's busy time from utilization samples. Memory is
//! the window's intervals times the classes, whatever the request rate.

use std::collections::VecDeque;

use crate::estimate::Row;
use crate::trace::Grid;

/// One interval's sums.
#[derive(Debug, Clone, Default)]
struct Slot {
    /// Completions per class.
    done: Vec<u64>,
    /// Response-time sums per class, seconds.
    rt_sum: Vec<f64>,
    /// Utilization × seconds covered by samples.
    busy: f64,
    /// Seconds of the interval that samples cover.
    covered: f64,
}

impl Slot {
    fn class(&mut self, class: usize) -> (&mut u64, &mut f64) {
        if self.done.len() <= class {
            self.done.resize(class + 1, 0);
            self.rt_sum.resize(class + 1, 0.0);
        }
        (&mut self.done[class], &mut self.rt_sum[class])
    }
}

/// The ring of intervals `base ..= base + slots.len() - 1` on `grid`.
#[derive(Debug)]
pub(super) struct Window {
    width: f64,
    capacity: usize,
    grid: Grid,
    base: i64,
    slots: VecDeque<Slot>,
    /// Records that fell before the ring (too late to count).
    pub(super) late: u64,
}

/// A closed interval as the estimators see it: its index and its row.
pub(super) type Closed = (i64, Row);

impl Window {
    /// A ring of `capacity` intervals of `width` seconds.
    pub(super) fn new(width: f64, capacity: usize) -> Self {
        Self {
            width,
            capacity: capacity.max(2),
            grid: Grid {
                origin: 0.0,
                width,
                closed_origin: false,
            },
            base: 0,
            slots: VecDeque::with_capacity(capacity.max(2)),
            late: 0,
        }
    }

    /// The interval holding `t` (the grid starts at time 0, so that
    /// intervals of epoch times end on whole multiples of the width).
    pub(super) fn index(&self, t: f64) -> i64 {
        self.grid.index(t)
    }

    /// `(start, end]` of interval `k`.
    pub(super) fn bounds(&self, k: i64) -> (f64, f64) {
        self.grid.bounds(k)
    }

    /// Interval `k`'s slot, moving the ring forward when `k` is past its
    /// end; `None` when `k` is before the ring.
    fn slot(&mut self, k: i64) -> Option<&mut Slot> {
        if self.slots.is_empty() {
            self.base = k;
        }
        if k < self.base {
            self.late += 1;
            return None;
        }
        let last = self.base + self.capacity as i64 - 1;
        if k > last {
            let drop = (k - last) as usize;
            if drop >= self.slots.len() {
                self.slots.clear();
                self.base = k + 1 - self.capacity as i64;
            } else {
                self.slots.drain(..drop);
                self.base += drop as i64;
            }
        }
        let at = (k - self.base) as usize;
        if self.slots.len() <= at {
            self.slots.resize_with(at + 1, Slot::default);
        }
        self.slots.get_mut(at)
    }

    /// A request of `class` that completed at `end` after `response` s.
    pub(super) fn complete(&mut self, class: usize, end: f64, response: f64) {
        let k = self.index(end);
        if let Some(slot) = self.slot(k) {
            let (done, rt) = slot.class(class);
            *done += 1;
            *rt += response;
        }
    }

    /// Utilization `u` over `(end - span, end]`, spread over the intervals
    /// it overlaps.
    pub(super) fn utilization(&mut self, end: f64, span: f64, u: f64) {
        let start = end - span;
        let (first, last) = (self.index(start.next_up()), self.index(end));
        for k in first..=last {
            // A sample reaching back before the ring is not late.
            if k < self.base && !self.slots.is_empty() {
                continue;
            }
            let (a, b) = self.bounds(k);
            let overlap = b.min(end) - a.max(start);
            if overlap > 0.0
                && let Some(slot) = self.slot(k)
            {
                slot.busy += u * overlap;
                slot.covered += overlap;
            }
        }
    }

    /// The closed intervals `from ..= to` that hold a completion and whose
    /// utilization samples cover at least half of them, as rows over
    /// `classes` classes.
    pub(super) fn rows(&self, from: i64, to: i64, classes: usize) -> Vec<Closed> {
        let first = from.max(self.base);
        (first..=to)
            .filter_map(|k| {
                let slot = self.slots.get(usize::try_from(k - self.base).ok()?)?;
                self.row(slot, classes).map(|row| (k, row))
            })
            .collect()
    }

    fn row(&self, slot: &Slot, classes: usize) -> Option<Row> {
        let done: Vec<u64> = (0..classes)
            .map(|c| slot.done.get(c).copied().unwrap_or(0))
            .collect();
        if slot.covered < 0.5 * self.width || done.iter().all(|&n| n == 0) {
            return None;
        }
        let rt = |c: usize| slot.rt_sum.get(c).copied().unwrap_or(0.0);
        let w = self.width;
        Some(Row {
            length: w,
            throughput: done.iter().map(|&n| n as f64 / w).collect(),
            response: (0..classes)
                .map(|c| (done[c] > 0).then(|| rt(c) / done[c] as f64))
                .collect(),
            utilization: slot.busy / slot.covered,
            in_system: (0..classes).map(|c| rt(c) / w).collect(),
            completions: done,
            arrived: Vec::new(),
        })
    }

    /// The first interval the ring still holds.
    pub(super) fn first(&self) -> i64 {
        self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_and_utilization_land_in_their_intervals_and_the_ring_forgets_old_ones() {
        let mut w = Window::new(1.0, 3);
        w.complete(0, 100.5, 0.25);
        w.complete(0, 100.75, 0.5);
        w.complete(1, 101.0, 0.1);
        // 50 % over (99.5, 101.5]: half of (99, 100], all of (100, 101],
        // half of (101, 102].
        w.utilization(101.5, 2.0, 0.5);
        let k = w.index(100.5);
        assert_eq!(w.index(101.0), k, "(start, end]: 101 ends the interval");
        let rows = w.rows(k, k, 2);
        assert_eq!(rows.len(), 1);
        let row = &rows[0].1;
        assert_eq!(row.completions, [2, 1]);
        assert_eq!(row.throughput, [2.0, 1.0]);
        assert_eq!(row.response, [Some(0.375), Some(0.1)]);
        assert!((row.utilization - 0.5).abs() < 1e-12);
        // Interval k+1 has samples but no completion: no row.
        assert!(w.rows(k + 1, k + 1, 2).is_empty());
        // Three intervals later the ring has moved past k.
        w.complete(0, 103.5, 0.1);
        assert!(w.first() > k);
        w.complete(0, 100.5, 0.1);
        assert_eq!(w.late, 1, "a completion before the ring is counted late");
    }
}
