//! Processor sharing on `servers` servers: n jobs are each served at rate
//! min(1, servers / n); with a load-dependent rate alpha (LINE's
//! `setLoadDependence`), at alpha(n) / n instead, alpha(n) the last value
//! given for n beyond the list (`servers` then only counts busy servers).
//!
//! Virtual time runs at that rate; a job arriving at virtual time v with
//! service s finishes at virtual time v + s, so the jobs sit in a heap by
//! virtual finishing time and only the earliest has a wake-up pending:
//! O(log n) per arrival or completion. A reschedule bumps the generation,
//! which makes the earlier wake-up stale.

use super::discipline::{Ctx, Discipline, Job, Setup};
use super::slab::Slab;
use crate::qpn::event::MinHeap;

#[derive(Debug)]
pub(crate) struct Ps {
    servers: u32,
    /// alpha(1), alpha(2), …; empty: min(n, servers).
    alpha: Box<[f64]>,
    /// Virtual time at `last`.
    vt: f64,
    last: f64,
    /// Slots by virtual finishing time.
    heap: MinHeap<u32>,
    jobs: Slab,
    generation: u32,
}

impl Ps {
    /// Service rate of each job with `n` jobs present.
    #[inline]
    fn rate(&self, n: usize) -> f64 {
        if !self.alpha.is_empty() {
            // Empty, the rate is never used over time (0 jobs × any rate).
            let n = n.max(1);
            self.alpha[n.min(self.alpha.len()) - 1] / n as f64
        } else if n <= self.servers as usize {
            1.0
        } else {
            f64::from(self.servers) / n as f64
        }
    }

    /// Advances virtual time to `now`.
    #[inline]
    fn advance(&mut self, now: f64) {
        self.vt += (now - self.last) * self.rate(self.heap.len());
        self.last = now;
    }

    /// Wakes up at the earliest finishing job, forgetting the previous
    /// wake-up.
    fn reschedule(&mut self, ctx: &mut Ctx<'_>) {
        self.generation = self.generation.wrapping_add(1);
        let rate = self.rate(self.heap.len());
        if let Some(v) = self.heap.peek_key() {
            ctx.wake_at(ctx.now + (v - self.vt).max(0.0) / rate, self.generation);
        }
        ctx.set_busy(self.busy());
    }
}

impl Discipline for Ps {
    fn new(q: &Setup<'_>) -> Self {
        Self {
            servers: q.servers,
            alpha: q.rate.into(),
            vt: 0.0,
            last: 0.0,
            heap: MinHeap::default(),
            jobs: Slab::default(),
            generation: 0,
        }
    }

    fn arrive(&mut self, job: Job, ctx: &mut Ctx<'_>) {
        self.advance(ctx.now);
        let slot = self.jobs.insert(job);
        self.heap.push(self.vt + job.service, slot);
        self.reschedule(ctx);
    }

    fn complete(&mut self, generation: u32, ctx: &mut Ctx<'_>) -> Option<Job> {
        if generation != self.generation {
            return None;
        }
        self.advance(ctx.now);
        let (_, slot) = self.heap.pop().expect("a pending PS job");
        let job = self.jobs.remove(slot);
        self.reschedule(ctx);
        Some(job)
    }

    fn busy(&self) -> f64 {
        self.heap.len().min(self.servers as usize) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Harness, close, setup};
    use super::*;

    #[test]
    fn two_jobs_on_one_server_share_it_equally() {
        let mut h = Harness::<Ps>::new(&setup(1, &[0]));
        h.arrive(0.0, 0, 1.0);
        h.arrive(0.0, 0, 2.0);
        // Both at rate 1/2: the short one is done at 2; the long one has 1
        // s left, served alone: done at 3.
        let times: Vec<f64> = h.run_until(100.0).iter().map(|d| d.0).collect();
        assert!(close(times[0], 2.0) && close(times[1], 3.0), "{times:?}");
        assert!(close(h.area(), 3.0));
    }

    #[test]
    fn a_late_arrival_slows_the_job_in_service() {
        let mut h = Harness::<Ps>::new(&setup(1, &[0]));
        h.arrive(0.0, 0, 2.0);
        h.arrive(1.0, 0, 0.5);
        // From t = 1 both at rate 1/2: the new one needs 1 s (done at 2),
        // the first has 1 − 0.5 = 0.5 s left then: done at 2.5.
        let times: Vec<f64> = h.run_until(100.0).iter().map(|d| d.0).collect();
        assert!(close(times[0], 2.0) && close(times[1], 2.5), "{times:?}");
    }

    /// One server twice as fast with two jobs, 2.5 times with three or
    /// more: jobs of 3, 2 and 1 s of work arriving together.
    #[test]
    fn a_load_dependent_rate_is_shared_equally_and_its_last_value_holds_beyond() {
        let alpha = [1.0, 2.0, 2.5];
        let mut h = Harness::<Ps>::new(&Setup {
            rate: &alpha,
            ..setup(1, &[0])
        });
        h.arrive(0.0, 0, 3.0);
        h.arrive(0.0, 0, 2.0);
        h.arrive(0.0, 0, 1.0);
        h.arrive(0.0, 0, 1.0);
        // Four jobs at 2.5/4 each: the two 1 s jobs finish at 1.6. Two
        // left with 2 and 1 s to go, at 2/2 each: the shorter at 2.6. The
        // last alone at rate 1, 1 s left: 3.6.
        let times: Vec<f64> = h.run_until(100.0).iter().map(|d| d.0).collect();
        assert_eq!(times.len(), 4);
        for (t, want) in times.iter().zip([1.6, 1.6, 2.6, 3.6]) {
            assert!(close(*t, want), "{times:?}");
        }
        // One server busy throughout.
        assert!(close(h.area(), 3.6));
    }

    #[test]
    fn with_more_servers_than_jobs_nobody_is_slowed() {
        let mut h = Harness::<Ps>::new(&setup(3, &[0]));
        h.arrive(0.0, 0, 1.0);
        h.arrive(0.0, 0, 2.0);
        h.arrive(0.0, 0, 3.0);
        let times: Vec<f64> = h.run_until(100.0).iter().map(|d| d.0).collect();
        assert_eq!(times, vec![1.0, 2.0, 3.0]);
    }
}
