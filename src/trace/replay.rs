//! The queue each request found on arrival: requests replayed in start
//! order against the set of those still in the system.
//!
//! An interval's time-average population is what its arrivals found only
//! when the load is steady within it. When the load or the mix changes
//! inside an interval, the classes that arrived in its busy part found
//! more, and an equation reading the time average for all of them
//! mis-splits the demands (−2 % on the smaller of two demands at 30 s
//! intervals, −8 % at 120 s, with the mix switching every five minutes).
//! Counting exactly removes that; averaging over finer sub-slots does not
//! (an arrival lengthens the stay of those behind it in its sub-slot,
//! which the sub-slot average then credits to it: +2.6 % at 3 s slots).
//!
//! Logs come in start order or in completion order, so requests wait in a
//! reorder buffer until no earlier start can still come: a request is
//! replayed once a start [`HORIZON`] seconds later has been pushed. A
//! request pushed after later starts were already replayed (a response
//! time above the horizon in a completion-ordered log) is counted as
//! `late` and left out of the averages. Memory: the requests of the last
//! horizon and those in the system, never the whole trace.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};

/// Seconds a request may start before one already pushed and still be
/// replayed in order.
pub const HORIZON: f64 = 120.0;

/// A time with a total order, for the heaps.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Time(f64);

impl Eq for Time {}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Time {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// What the requests of one class that arrived in one interval found, and
/// how long they took: the two sides of an observed-state response
/// equation, over the same requests.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Arrivals {
    /// Requests counted.
    pub count: u64,
    /// Their mean response time, seconds.
    pub mean_response_s: f64,
    /// Mean number of requests of each class in the system at their
    /// arrival (themselves not counted), as (class, mean) in class order;
    /// classes never found are left out, so that a log of many classes
    /// (a path each) costs memory in the pairs that met, not in the square
    /// of the classes.
    pub found: Vec<(usize, f64)>,
}

impl Arrivals {
    /// [`Arrivals::found`] as one entry per class of `n`.
    pub fn found_dense(&self, n: usize) -> Vec<f64> {
        let mut v = vec![0.0; n];
        for &(s, m) in &self.found {
            v[s] = m;
        }
        v
    }
}

/// Per arriving class: (requests, Σ response time, Σ requests found per
/// class, as (class, sum) in class order).
pub type ClassSums = Vec<(u64, f64, Vec<(usize, f64)>)>;

/// [`ClassSums`] per interval.
pub type Found = BTreeMap<i64, ClassSums>;

/// Requests gathered before they are sorted and replayed together, at
/// least.
const BATCH: usize = 8192;

/// Replays requests in start order.
#[derive(Debug)]
pub struct Replay {
    /// Waiting to be replayed, sorted up to `sorted`: (start, end, class,
    /// interval). Sorting a batch that is nearly in order is cheaper than a
    /// heap push and pop per request (the heap was a fifth of reading a
    /// large trace).
    /// Times are kept as their [`order_key`]s: integers sort faster than
    /// `total_cmp` compares (the sort was a sixth of aggregating).
    pending: Vec<(i64, i64, usize, i64)>,
    /// `pending`'s length that triggers the next sort: twice what the last
    /// one left (the requests inside the horizon stay pending), so that a
    /// busy log (more than `BATCH` requests per horizon) is not re-sorted
    /// whole on every push: each request is sorted a bounded number of
    /// times, O(log n) per request.
    threshold: usize,
    /// Requests passed through a sort, counted for the test that each is
    /// sorted a bounded number of times.
    #[cfg(test)]
    sorted: usize,
    /// In the system at the replay clock: (end, class).
    active: BinaryHeap<Reverse<(Time, usize)>>,
    /// Requests in the system per class.
    count: Vec<u64>,
    /// The classes with requests in the system, in no order: an arrival
    /// adds what it found over these only.
    present: Vec<usize>,
    /// Latest start replayed.
    clock: f64,
    /// Latest start pushed.
    newest: f64,
    /// Requests pushed after a later start was replayed.
    late: u64,
    found: Found,
    /// The interval last counted into, out of `found` while it is.
    hot: Option<(i64, ClassSums)>,
}

impl Default for Replay {
    fn default() -> Self {
        Self {
            pending: Vec::new(),
            threshold: BATCH,
            #[cfg(test)]
            sorted: 0,
            active: BinaryHeap::new(),
            count: Vec::new(),
            present: Vec::new(),
            clock: f64::NEG_INFINITY,
            newest: f64::NEG_INFINITY,
            late: 0,
            found: Found::new(),
            hot: None,
        }
    }
}

impl Replay {
    /// Adds a request of `class` over `start..end`, arriving in interval
    /// `k`.
    pub fn push(&mut self, start: f64, end: f64, class: usize, k: i64) {
        if start < self.clock {
            self.late += 1;
            return;
        }
        self.pending
            .push((order_key(start), order_key(end), class, k));
        self.newest = self.newest.max(start);
        if self.pending.len() >= self.threshold {
            self.release(self.newest - HORIZON);
            self.threshold = BATCH.max(2 * self.pending.len());
        }
    }

    /// Replays every pending request that starts before `until`, in start
    /// order (ties by end, class and interval: the same whatever the order
    /// they were pushed in).
    fn release(&mut self, until: f64) {
        #[cfg(test)]
        {
            self.sorted += self.pending.len();
        }
        // The keys order as `total_cmp` orders the times, so the order is
        // start, end, class, interval, as it always was.
        self.pending.sort_unstable();
        let due = self
            .pending
            .partition_point(|p| from_order_key(p.0) < until);
        let mut pending = std::mem::take(&mut self.pending);
        for (start, end, class, k) in pending.drain(..due) {
            self.replay(from_order_key(start), from_order_key(end), class, k);
        }
        self.pending = pending;
    }

    /// Counts what one request found and puts it in the system.
    fn replay(&mut self, start: f64, end: f64, class: usize, k: i64) {
        self.clock = start;
        while let Some(&Reverse((Time(e), c))) = self.active.peek() {
            if e > start {
                break;
            }
            self.active.pop();
            self.count[c] -= 1;
            if self.count[c] == 0 {
                self.present.retain(|&p| p != c);
            }
        }
        if self.count.len() <= class {
            self.count.resize(class + 1, 0);
        }
        let (arrivals, rt_sum, sums) = slot(&mut self.hot, &mut self.found, k, class);
        *arrivals += 1;
        *rt_sum += end - start;
        for &s in &self.present {
            let n = self.count[s] as f64;
            match sums.binary_search_by_key(&s, |e| e.0) {
                Ok(i) => sums[i].1 += n,
                Err(i) => sums.insert(i, (s, n)),
            }
        }
        self.active.push(Reverse((Time(end), class)));
        if self.count[class] == 0 {
            self.present.push(class);
        }
        self.count[class] += 1;
    }

    /// Replays what is left and returns the sums per interval, and how
    /// many requests came too late to be replayed.
    pub fn finish(mut self) -> (Found, u64) {
        self.release(f64::INFINITY);
        if let Some((key, v)) = self.hot.take() {
            self.found.insert(key, v);
        }
        (self.found, self.late)
    }
}

/// An integer that orders as [`f64::total_cmp`] orders `x` (its own
/// transformation), and gives `x` back through [`from_order_key`].
fn order_key(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// The time behind an [`order_key`] (the transformation is its own
/// inverse: it keeps the sign bit it depends on).
fn from_order_key(key: i64) -> f64 {
    f64::from_bits(order_key(f64::from_bits(key as u64)) as u64)
}

/// The sums of `class`'s arrivals in interval `k`, which becomes the hot
/// one (the one kept out of `found` while it is counted into).
fn slot<'a>(
    hot: &'a mut Option<(i64, ClassSums)>,
    found: &mut Found,
    k: i64,
    class: usize,
) -> &'a mut (u64, f64, Vec<(usize, f64)>) {
    if hot.as_ref().is_none_or(|h| h.0 != k) {
        let taken = found.remove(&k).unwrap_or_default();
        if let Some((key, v)) = hot.replace((k, taken)) {
            found.insert(key, v);
        }
    }
    let slot = &mut hot.as_mut().expect("just set").1;
    if slot.len() <= class {
        slot.resize(class + 1, (0, 0.0, Vec::new()));
    }
    &mut slot[class]
}

/// What each class's arrivals found in one interval, from its [`Found`]
/// entry; `n` classes.
pub fn arrivals(entry: Option<&ClassSums>, n: usize) -> Vec<Option<Arrivals>> {
    (0..n)
        .map(|r| {
            let (count, rt_sum, sums) = entry?.get(r)?;
            let k = *count as f64;
            (*count > 0).then(|| Arrivals {
                count: *count,
                mean_response_s: rt_sum / k,
                found: sums.iter().map(|&(s, sum)| (s, sum / k)).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: for each arrival, those with start < t < end.
    fn brute(reqs: &[(f64, f64, usize)]) -> Vec<Vec<u64>> {
        reqs.iter()
            .map(|&(t, _, _)| {
                let mut v = vec![0u64; 2];
                for &(s, e, c) in reqs {
                    if s < t && t < e {
                        v[c] += 1;
                    }
                }
                v
            })
            .collect()
    }

    #[test]
    fn counts_what_each_arrival_found_in_either_order() {
        // Distinct starts; some requests overlap many others.
        let reqs: Vec<(f64, f64, usize)> = (0..200)
            .map(|i| {
                let t = i as f64 * 0.37;
                let rt = 0.1 + ((i * 7919) % 13) as f64 * 0.45;
                (t, t + rt, i % 2)
            })
            .collect();
        let expect = brute(&reqs);
        for order in ["start", "end"] {
            let mut sorted = reqs.clone();
            if order == "end" {
                sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
            }
            let mut replay = Replay::default();
            // One interval per request, so each sum is one arrival's count.
            for &(s, e, c) in &sorted {
                let k = reqs.iter().position(|r| r.0 == s).unwrap() as i64;
                replay.push(s, e, c, k);
            }
            let (found, late) = replay.finish();
            assert_eq!(late, 0);
            for (k, want) in expect.iter().enumerate() {
                let c = reqs[k].2;
                let got = arrivals(found.get(&(k as i64)), 2);
                let got = got[c].as_ref().unwrap();
                assert_eq!(
                    got.found_dense(2),
                    vec![want[0] as f64, want[1] as f64],
                    "{order} {k}"
                );
                assert_eq!(got.mean_response_s, reqs[k].1 - reqs[k].0);
            }
        }
    }

    #[test]
    fn order_keys_order_as_total_cmp_and_give_the_time_back() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            5e-324,
            1.0,
            1.0 + f64::EPSILON,
            3600.0,
            f64::INFINITY,
        ];
        for a in xs {
            assert_eq!(from_order_key(order_key(a)).to_bits(), a.to_bits());
            for b in xs {
                assert_eq!(order_key(a).cmp(&order_key(b)), a.total_cmp(&b), "{a} {b}");
            }
        }
    }

    #[test]
    fn a_busy_log_sorts_each_request_a_bounded_number_of_times() {
        // 1,000 and 10,000 requests per second: 120,000 and 1.2 M inside
        // the horizon, far above a batch. Re-sorting the whole pending
        // batch on each push (as before) sorted 10⁹ elements for 200,000
        // requests at 1,000/s; doubling the trigger keeps it under 4 per
        // request, and every request is still replayed, in order.
        for rate in [1_000.0, 10_000.0] {
            let n = 300_000;
            let mut replay = Replay::default();
            for i in 0..n {
                // Completion order: each pushed when it ends, 0.1 s after.
                let t = i as f64 / rate;
                replay.push(t, t + 0.1, i % 3, (t / 10.0) as i64);
            }
            let sorted_while_pushing = replay.sorted;
            let (found, late) = replay.finish();
            assert_eq!(late, 0);
            let counted: u64 = found.values().flatten().map(|c| c.0).sum();
            assert_eq!(counted, n as u64);
            assert!(
                sorted_while_pushing <= 4 * n,
                "{rate}/s: {sorted_while_pushing} sorted for {n} requests"
            );
        }
    }

    #[test]
    fn many_classes_cost_the_pairs_that_met_not_their_square() {
        // 20,000 classes (a path each), one request every 10 ms lasting
        // 15 ms: each arrival finds at most one other. Dense sums held
        // 20,000 × 20,000 / 2 numbers (3.2 GB); the pairs that met are
        // fewer than the requests.
        let n = 20_000;
        let mut replay = Replay::default();
        for i in 0..n {
            let t = i as f64 * 0.01;
            replay.push(t, t + 0.015, i, 0);
        }
        let (found, _) = replay.finish();
        let pairs: usize = found.values().flatten().map(|c| c.2.len()).sum();
        assert_eq!(pairs, n - 1);
        // Class i found class i − 1, once.
        let got = arrivals(found.get(&0), n);
        assert_eq!(got[7].as_ref().unwrap().found, vec![(6, 1.0)]);
    }

    #[test]
    fn a_request_older_than_the_horizon_is_late_not_misplaced() {
        let mut replay = Replay::default();
        // A batch of requests a second apart up to 10,000 s: those before
        // 10,000 − 120 s are replayed when the batch fills.
        for i in 0..BATCH {
            replay.push(i as f64 * 10_000.0 / BATCH as f64, 0.5, 0, 1);
        }
        // Starts at 10 s, after later ones were replayed.
        replay.push(10.0, 700.0, 0, 0);
        let (found, late) = replay.finish();
        assert_eq!(late, 1);
        assert!(!found.contains_key(&0));
        assert_eq!(found[&1][0].0, BATCH as u64);
    }
}
