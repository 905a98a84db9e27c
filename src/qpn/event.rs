//! The event list, tokens and the busy-server integral: what the engine
//! and the queue disciplines share.

use std::collections::BinaryHeap;

/// At most this many probes (each token carries one start stamp per probe).
pub const MAX_PROBES: usize = 6;

/// A token: when it entered its current place, and when each probe started
/// on it (NaN: not started).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub entered: f64,
    pub probe: [f64; MAX_PROBES],
}

impl Token {
    pub fn fresh(now: f64) -> Self {
        Token {
            entered: now,
            probe: [f64::NAN; MAX_PROBES],
        }
    }
}

/// A heap entry that `BinaryHeap` pops earliest first: ordered by `key`
/// (a time, or a PS virtual finishing time), ties broken by the sequence
/// number of scheduling, so runs are reproducible.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Earliest<T> {
    pub key: f64,
    pub seq: u64,
    pub item: T,
}

impl<T> PartialEq for Earliest<T> {
    fn eq(&self, o: &Self) -> bool {
        self.seq == o.seq
    }
}
impl<T> Eq for Earliest<T> {}
impl<T> PartialOrd for Earliest<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Earliest<T> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the least key.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.key.total_cmp(&self.key).then(o.seq.cmp(&self.seq))
    }
}

/// A min-heap of `T` by key, ties in insertion order.
#[derive(Debug)]
pub(crate) struct MinHeap<T> {
    heap: BinaryHeap<Earliest<T>>,
    seq: u64,
}

impl<T> Default for MinHeap<T> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<T> MinHeap<T> {
    #[inline]
    pub fn push(&mut self, key: f64, item: T) {
        self.seq += 1;
        self.heap.push(Earliest {
            key,
            seq: self.seq,
            item,
        });
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(f64, T)> {
        self.heap.pop().map(|e| (e.key, e.item))
    }

    #[inline]
    pub fn peek_key(&self) -> Option<f64> {
        self.heap.peek().map(|e| e.key)
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// What a pending event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The queue of place `place` has something due; `tag` is the
    /// discipline's own (a job's slot, or a generation that a later
    /// reschedule makes stale).
    Queue { place: u32, tag: u32 },
    /// Timed transition `transition` fires, valid if `generation` is still
    /// its current one.
    Timed { transition: u32, generation: u32 },
}

/// The simulation's event list.
pub(crate) type Events = MinHeap<Target>;

/// Busy servers integrated over time.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Busy {
    pub busy: f64,
    pub area: f64,
    pub last: f64,
}

impl Busy {
    /// `busy` servers from `now` on.
    #[inline]
    pub fn set(&mut self, now: f64, busy: f64) {
        self.area += self.busy * (now - self.last);
        self.last = now;
        self.busy = busy;
    }

    /// The integral up to `now`.
    pub fn area_at(&self, now: f64) -> f64 {
        self.area + self.busy * (now - self.last)
    }
}
