//! Infinite server: every job in service from its arrival; residence time
//! = its own service time.

use super::discipline::{Ctx, Discipline, Job, Setup};
use super::slab::Slab;

#[derive(Debug, Default)]
pub(crate) struct Is {
    jobs: Slab,
}

impl Discipline for Is {
    fn new(_: &Setup<'_>) -> Self {
        Self::default()
    }

    fn arrive(&mut self, job: Job, ctx: &mut Ctx<'_>) {
        let slot = self.jobs.insert(job);
        ctx.wake_at(ctx.now + job.service, slot);
        ctx.set_busy(self.busy());
    }

    fn complete(&mut self, slot: u32, ctx: &mut Ctx<'_>) -> Option<Job> {
        let job = self.jobs.remove(slot);
        ctx.set_busy(self.busy());
        Some(job)
    }

    fn busy(&self) -> f64 {
        self.jobs.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Harness, close, setup};
    use super::*;

    #[test]
    fn every_job_leaves_after_its_own_service_time() {
        let mut h = Harness::<Is>::new(&setup(1, &[0]));
        h.arrive(0.0, 0, 5.0);
        h.arrive(1.0, 0, 1.0);
        h.arrive(1.5, 0, 2.0);
        let done = h.run_until(10.0);
        let times: Vec<f64> = done.iter().map(|d| d.0).collect();
        assert_eq!(times, vec![2.0, 3.5, 5.0]);
        // 5 + 1 + 2 job-seconds in service.
        assert!(close(h.area(), 8.0));
    }
}
