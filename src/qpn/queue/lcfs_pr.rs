//! Last come first served, preemptive resume, one server: an arrival
//! interrupts the job in service, which resumes with its remaining work
//! when everything that came after it has left.

use super::discipline::{Ctx, Discipline, Job, Setup};

#[derive(Debug, Default)]
pub(crate) struct LcfsPr {
    /// Jobs with their remaining work, seconds; the top one is served.
    stack: Vec<(Job, f64)>,
    /// When the top job (re)started.
    started: f64,
    generation: u32,
}

impl LcfsPr {
    fn reschedule(&mut self, ctx: &mut Ctx<'_>) {
        self.generation = self.generation.wrapping_add(1);
        if let Some(&(_, rest)) = self.stack.last() {
            ctx.wake_at(ctx.now + rest.max(0.0), self.generation);
        }
        ctx.set_busy(self.busy());
    }
}

impl Discipline for LcfsPr {
    fn new(_: &Setup<'_>) -> Self {
        Self::default()
    }

    fn arrive(&mut self, job: Job, ctx: &mut Ctx<'_>) {
        if let Some(top) = self.stack.last_mut() {
            top.1 -= ctx.now - self.started;
        }
        self.stack.push((job, job.service));
        self.started = ctx.now;
        self.reschedule(ctx);
    }

    fn complete(&mut self, generation: u32, ctx: &mut Ctx<'_>) -> Option<Job> {
        if generation != self.generation {
            return None;
        }
        let (job, _) = self.stack.pop().expect("a job in service");
        self.started = ctx.now;
        self.reschedule(ctx);
        Some(job)
    }

    fn busy(&self) -> f64 {
        if self.stack.is_empty() { 0.0 } else { 1.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Harness, close, setup};
    use super::*;

    #[test]
    fn an_arrival_preempts_and_the_interrupted_job_resumes_its_rest() {
        let mut h = Harness::<LcfsPr>::new(&setup(1, &[0]));
        h.arrive(0.0, 0, 3.0);
        h.arrive(1.0, 0, 1.0);
        h.arrive(1.5, 0, 1.0);
        // 0–1 first job (2 s left); 1–1.5 second (0.5 left); 1.5–2.5 third;
        // 2.5–3 second; 3–5 first.
        let got: Vec<(f64, f64)> = h.run_until(100.0).iter().map(|d| (d.0, d.2)).collect();
        let want = [(2.5, 1.5), (3.0, 1.0), (5.0, 0.0)];
        for (g, w) in got.iter().zip(want) {
            assert!(close(g.0, w.0) && close(g.1, w.1), "{got:?}");
        }
        assert!(close(h.area(), 5.0));
    }
}
