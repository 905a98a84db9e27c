//! CFS bandwidth control (Docker's `--cpus`, Kubernetes CPU limits) around
//! any discipline: the servers of a queue together serve at most `quota`
//! seconds of work per `period`; once the budget is spent, all service
//! stops until the next period (periods aligned at 0, P, 2P, …), where the
//! budget is `quota` again (no carry-over). Jobs keep their progress.
//!
//! The discipline runs on a service clock that advances with time while
//! the queue is not throttled and stands still while it is: its wake-ups
//! are kept here, keyed by that clock, and only the earliest of them, the
//! budget running out (k busy servers spend k seconds of budget per
//! second) or the period's end, is scheduled in the engine. A discipline
//! knows nothing of it.

use super::discipline::{Ctx, Discipline, Job};
use crate::qpn::event::{Busy, Events, Target};

/// A CPU limit: `quota` seconds of service per `period` seconds, shared
/// by the queue's servers (`quota / period` CPUs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuLimit {
    /// Seconds of service per period.
    pub quota: f64,
    /// The period, seconds.
    pub period: f64,
}

impl CpuLimit {
    /// Docker's and Kubernetes' period, seconds.
    pub const DEFAULT_PERIOD: f64 = 0.1;

    /// The CPUs it allows: quota / period.
    pub fn cpus(&self) -> f64 {
        self.quota / self.period
    }

    /// Why the limit is not one, if it is not.
    ///
    /// # Errors
    /// The rule broken, in words.
    pub fn check(&self) -> Result<(), &'static str> {
        let ok = |x: f64| x.is_finite() && x > 0.0;
        if ok(self.quota) && ok(self.period) {
            Ok(())
        } else {
            Err("a cpu_limit's quota and period must be positive and finite")
        }
    }
}

/// A limited queue's counters since the statistics' last reset, as
/// cgroup's `cpu.stat` names them; a period counts at its end.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Throttling {
    /// Periods in which the queue served work (`nr_periods`).
    pub periods: u64,
    /// Periods in which it spent its budget with work left (`nr_throttled`).
    pub throttled_periods: u64,
    /// Time it spent throttled, seconds (`throttled_time`).
    pub throttled_s: f64,
}

/// What [`Cfs`] drives: a discipline, or the engine's dispatch over them.
pub(crate) trait Serve {
    fn arrive(&mut self, job: Job, ctx: &mut Ctx<'_>);
    fn complete(&mut self, tag: u32, ctx: &mut Ctx<'_>) -> Option<Job>;
    fn busy(&self) -> f64;
}

impl<D: Discipline> Serve for D {
    fn arrive(&mut self, job: Job, ctx: &mut Ctx<'_>) {
        Discipline::arrive(self, job, ctx);
    }
    fn complete(&mut self, tag: u32, ctx: &mut Ctx<'_>) -> Option<Job> {
        Discipline::complete(self, tag, ctx)
    }
    fn busy(&self) -> f64 {
        Discipline::busy(self)
    }
}

/// What holds exactly when the pending wake-up is due (so that rounding
/// cannot leave a job a hair short of done, or a budget a hair above 0).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Due {
    Nothing,
    /// The discipline's wake-up at this service-clock time.
    Service(f64),
    /// The budget runs out.
    Spent,
    /// The period ends.
    Boundary,
}

/// The bandwidth control of one queue.
#[derive(Debug)]
pub(crate) struct Cfs {
    limit: CpuLimit,
    /// The discipline's wake-ups, keyed by the service clock.
    inner: Events,
    /// The discipline's busy-server reports, on its own clock (unread:
    /// the engine's integral is set here, 0 while throttled).
    scratch: Busy,
    /// Service clock at `last`.
    clock: f64,
    last: f64,
    /// Budget left in the current period, seconds.
    budget: f64,
    period: u64,
    /// When the current period ends.
    end: f64,
    /// Since when the queue is throttled, if it is.
    throttled: Option<f64>,
    /// Whether the current period has served work.
    active: bool,
    generation: u32,
    due: Due,
    due_at: f64,
    stats: Throttling,
}

impl Cfs {
    pub fn new(limit: CpuLimit) -> Self {
        Self {
            limit,
            inner: Events::default(),
            scratch: Busy::default(),
            clock: 0.0,
            last: 0.0,
            budget: limit.quota,
            period: 0,
            end: limit.period,
            throttled: None,
            active: false,
            generation: 0,
            due: Due::Nothing,
            due_at: f64::INFINITY,
            stats: Throttling::default(),
        }
    }

    /// Ties within this much of a period go to the job finishing, then to
    /// the period ending, before the budget running out.
    fn tie(&self) -> f64 {
        1e-9 * self.limit.period
    }

    /// The discipline's context: its clock, its own event list.
    fn inner_ctx(&mut self, place: u32) -> Ctx<'_> {
        Ctx {
            now: self.clock,
            events: &mut self.inner,
            busy: &mut self.scratch,
            place,
        }
    }

    pub fn arrive<S: Serve>(&mut self, q: &mut S, job: Job, ctx: &mut Ctx<'_>) {
        self.advance(ctx.now, q.busy());
        q.arrive(job, &mut self.inner_ctx(ctx.place));
        self.settle(q.busy(), ctx);
    }

    pub fn complete<S: Serve>(&mut self, q: &mut S, tag: u32, ctx: &mut Ctx<'_>) -> Option<Job> {
        if tag != self.generation || self.due == Due::Nothing {
            return None;
        }
        self.advance(ctx.now, q.busy());
        match std::mem::replace(&mut self.due, Due::Nothing) {
            Due::Service(t) => self.clock = self.clock.max(t),
            Due::Spent => self.budget = 0.0,
            Due::Boundary | Due::Nothing => {}
        }
        let mut job = None;
        while job.is_none()
            && self.throttled.is_none()
            && self.inner.peek_key().is_some_and(|t| t <= self.clock)
        {
            if let Some((_, Target::Queue { tag, .. })) = self.inner.pop() {
                job = q.complete(tag, &mut self.inner_ctx(ctx.place));
            }
        }
        self.settle(q.busy(), ctx);
        job
    }

    /// Brings the clock and the budget to `now`, `busy` servers having
    /// served since the last call (no period ends in between while any
    /// is: that end is a wake-up).
    fn advance(&mut self, now: f64, busy: f64) {
        if self.throttled.is_none() {
            let dt = now - self.last;
            self.clock += dt;
            self.budget = (self.budget - busy * dt).max(0.0);
        }
        self.last = now;
        if now >= self.end {
            self.stats = self.closed(self.end);
            self.throttled = None;
            let p = self.limit.period;
            self.period = (self.period + 1).max((now / p).floor() as u64);
            self.end = (self.period + 1) as f64 * p;
            self.budget = self.limit.quota;
            self.active = false;
        }
    }

    /// The counters with the current period's throttled time up to `now`,
    /// and the period itself counted if it has ended by then (as the
    /// kernel counts a period at its end).
    fn closed(&self, now: f64) -> Throttling {
        let mut s = self.stats;
        let ended = now >= self.end;
        if let Some(since) = self.throttled {
            s.throttled_s += now.min(self.end) - since;
            s.throttled_periods += u64::from(ended);
        }
        s.periods += u64::from(ended && self.active);
        s
    }

    /// After a change: marks the period active, throttles when the budget
    /// is spent with work left, sets the busy servers the engine
    /// integrates (none while throttled) and schedules the next wake-up.
    fn settle(&mut self, busy: f64, ctx: &mut Ctx<'_>) {
        self.active |= busy > 0.0;
        if busy > 0.0 && self.throttled.is_none() && self.budget <= 0.0 {
            self.throttled = Some(ctx.now);
        }
        ctx.set_busy(if self.throttled.is_some() { 0.0 } else { busy });
        let (at, due) = self.next(busy, ctx.now);
        if at != self.due_at || self.due == Due::Nothing {
            self.generation = self.generation.wrapping_add(1);
            if at.is_finite() {
                ctx.wake_at(at, self.generation);
            }
        }
        (self.due_at, self.due) = (at, due);
    }

    /// The next wake-up: the discipline's, the budget running out or the
    /// period ending, whichever comes first.
    fn next(&self, busy: f64, now: f64) -> (f64, Due) {
        if self.throttled.is_some() {
            return (self.end, Due::Boundary);
        }
        let mut next = match self.inner.peek_key() {
            Some(t) => (now + (t - self.clock).max(0.0), Due::Service(t)),
            None => (f64::INFINITY, Due::Nothing),
        };
        if busy > 0.0 {
            if self.end < next.0 {
                next = (self.end, Due::Boundary);
            }
            let spent = now + self.budget / busy;
            if spent < next.0 - self.tie() {
                next = (spent, Due::Spent);
            }
        }
        next
    }

    /// Forgets the counters (end of warm-up), `busy` servers busy now:
    /// the period in progress counts when it ends, its throttled time from
    /// now on.
    pub fn reset(&mut self, now: f64, busy: f64) {
        self.advance(now, busy);
        self.stats = Throttling::default();
        if let Some(since) = &mut self.throttled {
            *since = now;
        }
    }

    /// The counters up to `now`: periods that have ended, throttled time
    /// up to `now`.
    pub fn throttling(&self, now: f64) -> Throttling {
        self.closed(now)
    }
}

#[cfg(test)]
mod tests;
