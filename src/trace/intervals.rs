//! Interval aggregation: requests and utilization samples → per-interval,
//! per-class throughput, response time and time-weighted utilization.
//!
//! Intervals are left-open, right-closed: interval `k` is
//! `(origin + k·width, origin + (k+1)·width]`. A request counts as an
//! arrival in the interval holding its start and as a completion (with its
//! response time) in the interval holding its end. Memory grows with the
//! number of intervals, never with the number of requests. Each interval
//! also says what queue its arrivals found ([`Interval::arrived`], from
//! [`super::replay`]).

use std::collections::BTreeMap;

use super::interval_table::{ClassStats, Interval, IntervalTable, ResponseSummary, TraceSummary};
use super::replay::{Found, Replay, arrivals};
use super::util_series::{Grid, UtilSeries};
use super::{Labels, Request, TraceError};
use crate::stats::QuantileSketch;

/// Utilization at or above this marks an interval as saturated.
pub const SATURATION: f64 = 0.99;

/// Most intervals a trace may span; more means mixed units or a stray row.
pub const MAX_INTERVALS: i64 = 20_000_000;

/// Spans longer than this many intervals must be at least 1 % occupied
/// (by requests or utilization samples): two requests a month apart on a
/// 1 s grid would otherwise build a table of millions of empty intervals
/// (found by fuzzing: 2 rows made 19.5 million intervals and 13 GB).
const SPARSE_CHECK_FROM: i64 = 1_000_000;

#[derive(Debug, Clone, Copy, Default)]
struct ClassAcc {
    arrivals: u64,
    completions: u64,
    rt_sum: f64,
    /// Request-seconds spent in the system inside the interval by
    /// requests that start or end in it.
    busy: f64,
    /// Change, from this interval on, in the number of requests that
    /// cover whole intervals (a difference array: a request spanning
    /// intervals `a..=b` adds 1 at `a + 1` and takes it back at `b`).
    cover_delta: i64,
}

/// Streams requests into intervals.
#[derive(Debug)]
pub struct Aggregator {
    grid: Option<Grid>,
    width: f64,
    include_failed: bool,
    bins: BTreeMap<i64, Vec<ClassAcc>>,
    /// The interval last touched, out of `bins` while it is: requests
    /// mostly start and end in the interval of the one before, and the
    /// map lookup was an eighth of reading a large trace.
    hot: Option<(i64, Vec<ClassAcc>)>,
    requests: u64,
    failed: u64,
    out_of_start_order: u64,
    out_of_end_order: u64,
    last_start: f64,
    last_row_end: f64,
    first_start: f64,
    last_end: f64,
    rt_sum: f64,
    sketch: QuantileSketch,
    replay: Replay,
    /// Requests that came as interval-level rows (no percentiles for them).
    interval_level: u64,
    /// Whether an interval-level row was longer than the grid's intervals.
    coarse_rows: bool,
}

impl Aggregator {
    /// An aggregator on `grid`, or, when `None`, on a grid of `width`
    /// seconds anchored at the first request pushed.
    pub fn new(grid: Option<Grid>, width: f64, include_failed: bool) -> Self {
        Self {
            grid,
            width,
            include_failed,
            bins: BTreeMap::new(),
            hot: None,
            requests: 0,
            failed: 0,
            out_of_start_order: 0,
            out_of_end_order: 0,
            last_start: f64::NEG_INFINITY,
            last_row_end: f64::NEG_INFINITY,
            first_start: f64::INFINITY,
            last_end: f64::NEG_INFINITY,
            rt_sum: 0.0,
            sketch: QuantileSketch::default(),
            replay: Replay::default(),
            interval_level: 0,
            coarse_rows: false,
        }
    }

    fn slot(&mut self, k: i64, class: usize) -> &mut ClassAcc {
        if self.hot.as_ref().is_none_or(|h| h.0 != k) {
            let taken = self.bins.remove(&k).unwrap_or_default();
            if let Some((key, v)) = self.hot.replace((k, taken)) {
                self.bins.insert(key, v);
            }
        }
        let v = &mut self.hot.as_mut().expect("just set").1;
        if v.len() <= class {
            v.resize(class + 1, ClassAcc::default());
        }
        &mut v[class]
    }

    /// Adds one request.
    pub fn push(&mut self, r: &Request) {
        self.requests += 1;
        if r.start < self.last_start {
            self.out_of_start_order += 1;
        }
        if r.end() < self.last_row_end {
            self.out_of_end_order += 1;
        }
        self.last_start = r.start;
        self.last_row_end = r.end();
        if !r.success {
            self.failed += 1;
            if !self.include_failed {
                return;
            }
        }
        let grid = *self.grid.get_or_insert(Grid {
            origin: r.start,
            width: self.width,
            closed_origin: true,
        });
        let end = r.end();
        self.first_start = self.first_start.min(r.start);
        self.last_end = self.last_end.max(end);
        self.rt_sum += r.response_time;
        self.sketch.push(r.response_time);
        let class = r.class.0 as usize;
        let (first, last) = (grid.index(r.start), grid.index(end));
        self.replay.push(r.start, end, class, first);
        // Each interval's numbers at once (the same sums as field by field
        // in any order): the hot interval changes at most twice a request.
        let arrived = self.slot(first, class);
        arrived.arrivals += 1;
        if first == last {
            arrived.completions += 1;
            arrived.rt_sum += r.response_time;
            arrived.busy += r.response_time;
            return;
        }
        // Time in system: the partial first and last intervals directly,
        // the whole ones between through the difference array, so a
        // request costs O(1) however many intervals it spans and only the
        // intervals where requests start or end hold an entry (the sparse
        // check in `finish` counts those).
        arrived.busy += grid.bounds(first).1 - r.start;
        let spans_whole = last - first > 1;
        if spans_whole {
            self.slot(first + 1, class).cover_delta += 1;
        }
        let done = self.slot(last, class);
        done.completions += 1;
        done.rt_sum += r.response_time;
        done.busy += end - grid.bounds(last).0;
        if spans_whole {
            done.cover_delta -= 1;
        }
    }

    /// Adds one interval-level row (an `intervals.csv` row): its requests
    /// complete in the interval that holds the row's midpoint, arrive in
    /// it too, and spend completions × mean response time in the system
    /// there (Little's law; the exact overlaps are not known).
    pub fn push_interval(&mut self, r: &super::IntervalRecord) {
        let all = r.completions.saturating_add(r.failures);
        self.requests = self.requests.saturating_add(all);
        self.failed = self.failed.saturating_add(r.failures);
        let used = if self.include_failed {
            all
        } else {
            r.completions
        };
        let Some(mean) = r.mean_response_s.filter(|_| used > 0) else {
            return;
        };
        let start = r.end - r.width;
        let grid = *self.grid.get_or_insert(Grid {
            origin: start,
            width: self.width,
            closed_origin: true,
        });
        self.coarse_rows |= r.width > grid.width * (1.0 + 1e-9);
        self.first_start = self.first_start.min(start);
        self.last_end = self.last_end.max(r.end);
        self.rt_sum += used as f64 * mean;
        self.interval_level += used;
        let c = self.slot(grid.index(r.end - r.width / 2.0), r.class.0 as usize);
        c.arrivals = c.arrivals.saturating_add(used);
        c.completions = c.completions.saturating_add(used);
        c.rt_sum += used as f64 * mean;
        c.busy += used as f64 * mean;
    }

    /// Builds the table against the utilization `util`.
    ///
    /// # Errors
    /// When the data span more than 20 million intervals (mixed units).
    pub fn finish(
        mut self,
        labels: &Labels,
        util: &UtilSeries,
    ) -> Result<IntervalTable, TraceError> {
        if let Some((key, v)) = self.hot.take() {
            self.bins.insert(key, v);
        }
        if self.interval_level > 0 {
            log::warn!(
                "interval-level input: no percentiles, and the methods that fit response times use each interval's mean number in system, not the queue each request found"
            );
        }
        if self.coarse_rows {
            log::warn!(
                "interval-level rows are longer than the {} s intervals: each lands whole in one interval; use an interval at least as long as the input's",
                self.width
            );
        }
        let (mut found, late) = std::mem::take(&mut self.replay).finish();
        if late > 0 && late * 100 <= self.requests {
            log::warn!(
                "{late} requests started more than {} s before requests already read (response times that long in a completion-ordered file); the queue they found is left out of the per-class equations",
                super::replay::HORIZON
            );
        } else if late > 0 {
            log::warn!(
                "{late} of {} requests came more than {} s out of start order (a shuffled or merged file?): the queue each request found cannot be replayed, so the per-class response equations use the intervals' time averages; sort the file by start time to use it",
                self.requests,
                super::replay::HORIZON
            );
            found.clear();
        }
        // Logs in start order or in completion order are both normal; rows
        // in neither order suggest a merged or shuffled file.
        let unordered = self.out_of_start_order.min(self.out_of_end_order);
        if unordered > 0 {
            log::warn!(
                "rows are in neither start nor completion order ({unordered} out of order); aggregation does not mind, but check that the file is what you think"
            );
        }
        let grid = self
            .grid
            .or_else(|| util.grid(Some(self.width)))
            .unwrap_or(Grid {
                origin: 0.0,
                width: self.width,
                closed_origin: false,
            });
        let req_range = self
            .bins
            .first_key_value()
            .map(|(&lo, _)| (lo, *self.bins.last_key_value().unwrap().0));
        let range = match (req_range, util.index_range(&grid)) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (r, None) | (None, r) => r,
        };
        let intervals = match range {
            Some((lo, hi)) => {
                self.check_span(&grid, util, lo, hi)?;
                self.intervals(&grid, util, (labels.len(), &found), lo, hi)
            }
            None => Vec::new(),
        };
        let summary = self.summary(util, &intervals);
        Ok(IntervalTable {
            grid,
            classes: labels.names().to_vec(),
            resources: util.resources().to_vec(),
            intervals,
            summary,
        })
    }

    /// Refuses spans of intervals far larger than the data fill (mixed
    /// units, an absurd timestamp) before they are built.
    fn check_span(
        &self,
        grid: &Grid,
        util: &UtilSeries,
        lo: i64,
        hi: i64,
    ) -> Result<(), TraceError> {
        let span = hi - lo + 1;
        let occupied = self.bins.len() as u64 + util.sample_count() as u64;
        let sparse = span > SPARSE_CHECK_FROM && occupied.saturating_mul(100) < span as u64;
        if span <= MAX_INTERVALS && !sparse {
            return Ok(());
        }
        // Far-off indices are clamped (Grid::index): the requests' own
        // extremes say where the data really are.
        let a = grid.bounds(lo).0.min(self.first_start);
        let b = grid.bounds(hi).1.max(self.last_end);
        let huge = span > MAX_INTERVALS;
        Err(TraceError::Span {
            intervals: if huge {
                ((b - a) / grid.width).ceil()
            } else {
                span as f64
            },
            width: grid.width,
            from: a,
            to: b,
            occupied: (!huge).then_some(occupied),
        })
    }

    /// Intervals `lo..=hi` of the grid, every class in each.
    fn intervals(
        &self,
        grid: &Grid,
        util: &UtilSeries,
        (n_classes, found): (usize, &Found),
        lo: i64,
        hi: i64,
    ) -> Vec<Interval> {
        let empty = Vec::new();
        let mut cover = vec![0i64; n_classes];
        let mut intervals = Vec::new();
        for k in lo..=hi {
            let (start, end) = grid.bounds(k);
            let accs = self.bins.get(&k).unwrap_or(&empty);
            let classes = (0..n_classes)
                .map(|c| {
                    let a = accs.get(c).copied().unwrap_or_default();
                    cover[c] += a.cover_delta;
                    let busy = a.busy + cover[c] as f64 * (end - start);
                    ClassStats {
                        arrivals: a.arrivals,
                        completions: a.completions,
                        throughput: a.completions as f64 / grid.width,
                        mean_response_s: (a.completions > 0)
                            .then(|| a.rt_sum / a.completions as f64),
                        mean_in_system: busy / grid.width,
                    }
                })
                .collect();
            let utilization: Vec<Option<f64>> = (0..util.resources().len())
                .map(|r| util.mean_over(r, start, end))
                .collect();
            let saturated = utilization.iter().flatten().any(|&u| u >= SATURATION);
            intervals.push(Interval {
                start,
                end,
                classes,
                arrived: arrivals(found.get(&k), n_classes),
                utilization,
                saturated,
            });
        }
        intervals
    }

    fn summary(&self, util: &UtilSeries, intervals: &[Interval]) -> TraceSummary {
        let used = self.sketch.count() + self.interval_level;
        // Interval-level rows carry no distribution: no percentiles.
        let q = |p: f64| self.sketch.quantile(p).filter(|_| self.interval_level == 0);
        TraceSummary {
            requests: self.requests,
            failed: self.failed,
            used,
            first_start_s: (used > 0).then_some(self.first_start),
            last_end_s: (used > 0).then_some(self.last_end),
            duration_s: if used > 0 {
                self.last_end - self.first_start
            } else {
                0.0
            },
            response: ResponseSummary {
                mean_response_s: (used > 0).then(|| self.rt_sum / used as f64),
                p50_response_s: q(0.5),
                p90_response_s: q(0.9),
                p95_response_s: q(0.95),
                p99_response_s: q(0.99),
                max_response_s: self.sketch.max().filter(|_| self.interval_level == 0),
            },
            mean_utilization: util
                .resources()
                .iter()
                .enumerate()
                .filter_map(|(r, name)| util.mean(r).map(|m| (name.clone(), m)))
                .collect(),
            intervals: intervals.len(),
            saturated_intervals: intervals.iter().filter(|i| i.saturated).count(),
            origins: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::LabelId;
    use crate::trace::util_series::tests::util;

    fn req(start: f64, rt: f64, class: u32) -> Request {
        Request {
            start,
            response_time: rt,
            class: LabelId(class),
            success: true,
            resource: None,
            origin: Default::default(),
        }
    }

    /// The error `finish` gives for requests `(start, response time)`
    /// on a grid of `width` seconds anchored at the first one.
    fn refusal(width: f64, reqs: &[(f64, f64)]) -> String {
        let mut labels = Labels::new();
        labels.intern("default");
        let mut agg = Aggregator::new(None, width, false);
        for &(start, rt) in reqs {
            agg.push(&req(start, rt, 0));
        }
        agg.finish(&labels, &UtilSeries::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn departures_every_half_second_over_two_to_four_give_two_per_second() {
        // Departures at 1, 1.5, ..., 4.5 (zero response time); (2, 4]
        // holds 2.5, 3, 3.5 and 4 but not 2.
        let mut agg = Aggregator::new(
            Some(Grid {
                origin: 0.0,
                width: 2.0,
                closed_origin: false,
            }),
            2.0,
            false,
        );
        for i in 0..8 {
            agg.push(&req(1.0 + 0.5 * i as f64, 0.0, 0));
        }
        let mut labels = Labels::new();
        labels.intern("default");
        let t = agg.finish(&labels, &UtilSeries::default()).unwrap();
        let iv = t.intervals.iter().find(|i| i.start == 2.0).unwrap();
        assert_eq!(iv.classes[0].throughput, 2.0);
        assert_eq!(iv.classes[0].completions, 4);
    }

    #[test]
    fn requests_count_at_start_and_end_with_empty_intervals_missing() {
        let mut labels = Labels::new();
        labels.intern("a");
        labels.intern("b");
        let u = util(&[(10.0, 0.2), (20.0, 0.4), (30.0, 0.995), (40.0, 0.1)]);
        let mut agg = Aggregator::new(u.grid(None), 10.0, false);
        agg.push(&req(1.0, 2.0, 0)); // (0,10] arrival and completion
        agg.push(&req(5.0, 7.0, 1)); // arrives in 0, completes at 12 in 1
        agg.push(&req(10.0, 10.0, 0)); // start exactly at 10 -> interval 0; ends at 20 -> interval 1
        let mut failed = req(3.0, 1.0, 0);
        failed.success = false;
        agg.push(&failed);
        let t = agg.finish(&labels, &u).unwrap();
        assert_eq!(t.grid.origin, 0.0);
        assert_eq!(t.intervals.len(), 4);
        let i0 = &t.intervals[0];
        assert_eq!((i0.classes[0].arrivals, i0.classes[0].completions), (2, 1));
        assert_eq!(i0.classes[0].mean_response_s, Some(2.0));
        assert_eq!((i0.classes[1].arrivals, i0.classes[1].completions), (1, 0));
        assert_eq!(i0.classes[1].mean_response_s, None);
        let i1 = &t.intervals[1];
        assert_eq!(i1.classes[0].mean_response_s, Some(10.0));
        assert_eq!(i1.classes[1].mean_response_s, Some(7.0));
        assert_eq!(i1.classes[1].throughput, 0.1);
        assert_eq!(t.intervals[2].classes[0].mean_response_s, None);
        assert!(t.intervals[2].saturated && !t.intervals[1].saturated);
        assert_eq!(t.summary.saturated_intervals, 1);
        assert_eq!(
            (t.summary.requests, t.summary.failed, t.summary.used),
            (4, 1, 3)
        );
        assert_eq!(t.summary.duration_s, 19.0);
        assert!((t.summary.response.mean_response_s.unwrap() - 19.0 / 3.0).abs() < 1e-12);
        assert!((t.summary.mean_utilization["cpu"] - 1.695 / 4.0).abs() < 1e-12);
    }

    #[test]
    fn a_requests_only_grid_starts_at_the_first_request() {
        let mut labels = Labels::new();
        labels.intern("default");
        let mut agg = Aggregator::new(None, 30.0, false);
        agg.push(&req(100.0, 1.0, 0));
        agg.push(&req(130.0, 0.5, 0));
        let t = agg.finish(&labels, &UtilSeries::default()).unwrap();
        assert_eq!(t.intervals.len(), 2);
        assert_eq!((t.intervals[0].start, t.intervals[0].end), (100.0, 130.0));
        assert_eq!(t.intervals[0].classes[0].arrivals, 2);
        assert_eq!(t.intervals[1].classes[0].completions, 1);
        assert!(t.intervals[0].utilization.is_empty());
    }

    #[test]
    fn milliseconds_mixed_with_seconds_are_caught() {
        let err = refusal(1.0, &[(1.7e9, 1.0), (1.7e12, 1.0)]);
        assert!(err.contains("milliseconds mixed with seconds"), "{err}");
    }

    #[test]
    fn absurd_times_are_refused_without_overflow_or_a_long_loop() {
        // Found by the `canonical` fuzz target: a start of 1.7e60 s then
        // 7e12 s overflowed the interval index; a response time of 1e15 s
        // would have been spread over 3e13 intervals before the check.
        for reqs in [[(1.7e60, 0.5), (7e12, 0.5)], [(1.0, 1e15), (2.0, 0.1)]] {
            let err = refusal(30.0, &reqs);
            assert!(err.contains("milliseconds mixed with seconds"), "{err}");
        }
    }

    #[test]
    fn long_empty_spans_are_refused_and_long_full_ones_kept() {
        // Found by the `canonical` fuzz target: 2 rows, 19.5 M intervals.
        let err = refusal(30.0, &[(1_286_540_252.0, 0.58), (700_000_000.0, 0.5)]);
        assert!(
            err.contains("span 19551343 intervals of 30 s") && err.contains("only 2 of them"),
            "{err}"
        );
        // Also found by fuzzing: one response of 5.6e8 s, 18.5 M intervals
        // of time in system; refused, after O(1) work for that request.
        let err = refusal(30.0, &[(45.0, 35.0), (20.0, 556_555_555.5)]);
        assert!(err.contains("span 18551853 intervals"), "{err}");
        // 1.2 M intervals of 1 ms, one request in every 50th: 2 % full.
        let mut labels = Labels::new();
        labels.intern("default");
        let mut agg = Aggregator::new(None, 0.001, false);
        for i in 0..24_000 {
            agg.push(&req(f64::from(i) * 0.05, 0.0, 0));
        }
        let t = agg.finish(&labels, &UtilSeries::default()).unwrap();
        assert_eq!(t.summary.requests, 24_000);
        assert!(t.intervals.len() > 1_190_000, "{}", t.intervals.len());
    }

    #[test]
    fn each_class_says_what_its_arrivals_found_and_how_long_they_took() {
        // A (class a) 1..6, B (b) 2..3, C (a) 4..5, in completion order.
        let mut agg = Aggregator::new(
            Some(Grid {
                origin: 0.0,
                width: 10.0,
                closed_origin: true,
            }),
            10.0,
            false,
        );
        for r in [req(2.0, 1.0, 1), req(4.0, 1.0, 0), req(1.0, 5.0, 0)] {
            agg.push(&r);
        }
        let mut labels = Labels::new();
        labels.intern("a");
        labels.intern("b");
        let t = agg.finish(&labels, &UtilSeries::default()).unwrap();
        let arrived = &t.intervals[0].arrived;
        // A found nobody, C found A (B had left): a found 0.5 of a, 0 of b.
        let a = arrived[0].as_ref().unwrap();
        assert_eq!((a.count, a.mean_response_s), (2, 3.0));
        assert_eq!(a.found, vec![(0, 0.5)]);
        let b = arrived[1].as_ref().unwrap();
        assert_eq!(
            (b.count, b.mean_response_s, b.found.clone()),
            (1, 1.0, vec![(0, 1.0)])
        );
    }

    #[test]
    fn time_in_system_matches_brute_force_overlaps() {
        // Requests of two classes spanning 0 to 40 intervals of 10 s,
        // against each interval's overlap summed request by request.
        let mut labels = Labels::new();
        labels.intern("a");
        labels.intern("b");
        let grid = Grid {
            origin: 0.0,
            width: 10.0,
            closed_origin: false,
        };
        let mut agg = Aggregator::new(Some(grid), 10.0, false);
        let mut x = 0.37_f64;
        let mut reqs = Vec::new();
        for i in 0..300 {
            x = (x * 7919.0 + 0.123).fract(); // a fixed pseudo-random walk
            let start = 400.0 * x;
            let rt = if i % 3 == 0 { 400.0 * x * x } else { 3.0 * x };
            reqs.push(req(start, rt, i % 2));
        }
        for r in &reqs {
            agg.push(r);
        }
        let t = agg.finish(&labels, &UtilSeries::default()).unwrap();
        for iv in &t.intervals {
            for c in 0..2 {
                let want: f64 = reqs
                    .iter()
                    .filter(|r| r.class.0 as usize == c)
                    .map(|r| (r.end().min(iv.end) - r.start.max(iv.start)).max(0.0))
                    .sum();
                let got = iv.classes[c].mean_in_system * 10.0;
                assert!(
                    (got - want).abs() < 1e-9,
                    "({}, {}] class {c}: {got} != {want}",
                    iv.start,
                    iv.end
                );
            }
        }
    }
}
