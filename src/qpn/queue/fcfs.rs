//! First come first served on `servers` servers, with non-preemptive
//! priorities by colour: a freed server takes the oldest job of the
//! highest priority level waiting.

use std::collections::VecDeque;

use super::discipline::{Ctx, Discipline, Job, Setup};
use super::slab::Slab;

#[derive(Debug)]
pub(crate) struct Fcfs {
    servers: u32,
    busy: u32,
    /// One waiting line per priority level, highest first.
    waiting: Vec<VecDeque<Job>>,
    /// The level of each colour.
    level: Vec<usize>,
    /// Jobs in service.
    jobs: Slab,
}

impl Fcfs {
    fn start(&mut self, job: Job, ctx: &mut Ctx<'_>) {
        self.busy += 1;
        let slot = self.jobs.insert(job);
        ctx.wake_at(ctx.now + job.service, slot);
    }
}

impl Discipline for Fcfs {
    fn new(q: &Setup<'_>) -> Self {
        let mut prios: Vec<i32> = q.priority.to_vec();
        prios.sort_unstable_by(|a, b| b.cmp(a));
        prios.dedup();
        let level = q
            .priority
            .iter()
            .map(|p| prios.iter().position(|x| x == p).unwrap_or(0))
            .collect();
        Self {
            servers: q.servers,
            busy: 0,
            waiting: vec![VecDeque::new(); prios.len()],
            level,
            jobs: Slab::default(),
        }
    }

    fn arrive(&mut self, job: Job, ctx: &mut Ctx<'_>) {
        if self.busy < self.servers {
            self.start(job, ctx);
            ctx.set_busy(self.busy());
        } else {
            self.waiting[self.level[job.color]].push_back(job);
        }
    }

    fn complete(&mut self, slot: u32, ctx: &mut Ctx<'_>) -> Option<Job> {
        let job = self.jobs.remove(slot);
        self.busy -= 1;
        if let Some(next) = self.waiting.iter_mut().find_map(VecDeque::pop_front) {
            self.start(next, ctx);
        }
        ctx.set_busy(self.busy());
        Some(job)
    }

    fn busy(&self) -> f64 {
        f64::from(self.busy)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Harness, close, setup};
    use super::*;

    #[test]
    fn jobs_leave_in_arrival_order_on_one_server() {
        let mut h = Harness::<Fcfs>::new(&setup(1, &[0]));
        h.arrive(0.0, 0, 2.0);
        h.arrive(0.5, 0, 1.0);
        h.arrive(0.6, 0, 3.0);
        let done = h.run_until(100.0);
        let got: Vec<(f64, f64)> = done.iter().map(|d| (d.0, d.2)).collect();
        assert_eq!(got, vec![(2.0, 0.0), (3.0, 0.5), (6.0, 0.6)]);
        assert!(close(h.area(), 6.0));
    }

    #[test]
    fn two_servers_serve_two_jobs_at_once() {
        let mut h = Harness::<Fcfs>::new(&setup(2, &[0]));
        h.arrive(0.0, 0, 4.0);
        h.arrive(0.0, 0, 1.0);
        h.arrive(0.0, 0, 1.0);
        let times: Vec<f64> = h.run_until(100.0).iter().map(|d| d.0).collect();
        assert_eq!(times, vec![1.0, 2.0, 4.0]);
    }

    #[test]
    fn a_higher_priority_colour_overtakes_waiting_jobs_but_never_preempts() {
        let mut h = Harness::<Fcfs>::new(&setup(1, &[0, 5]));
        h.arrive(0.0, 0, 2.0); // in service
        h.arrive(0.1, 0, 1.0); // waits
        h.arrive(0.2, 1, 1.0); // high priority: waits, then goes first
        let got: Vec<(f64, usize)> = h.run_until(100.0).iter().map(|d| (d.0, d.1)).collect();
        assert_eq!(got, vec![(2.0, 0), (3.0, 1), (4.0, 0)]);
    }
}
