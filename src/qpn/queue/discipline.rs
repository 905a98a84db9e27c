//! What a discipline is: the [`Discipline`] trait, the jobs it holds, the
//! [`Ctx`] through which it schedules its wake-ups and reports its busy
//! servers, and the [`Setup`] it is built from.

use crate::qpn::event::{Busy, Events, Target, Token};

/// What a queue is built from: its servers, each colour's priority
/// (higher first) and its load-dependent rate (alpha(1), alpha(2), …, the
/// last for every n beyond; empty for none; only where the discipline's
/// row takes one).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setup<'a> {
    pub servers: u32,
    pub priority: &'a [i32],
    pub rate: &'a [f64],
}

/// A token in a queue, with its colour and the service time drawn for it
/// on arrival, seconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Job {
    pub color: usize,
    pub token: Token,
    pub service: f64,
    /// The place whose token it is (the engine's; a discipline carries it
    /// unread, so a queue several places share returns each job to its
    /// own place).
    pub place: u32,
}

/// What a discipline may do to the simulation: ask to be woken, report
/// its busy servers.
pub(crate) struct Ctx<'a> {
    pub now: f64,
    pub events: &'a mut Events,
    pub busy: &'a mut Busy,
    pub place: u32,
}

impl Ctx<'_> {
    /// Calls [`Discipline::complete`] with `tag` at `time`.
    #[inline]
    pub fn wake_at(&mut self, time: f64, tag: u32) {
        self.events.push(
            time,
            Target::Queue {
                place: self.place,
                tag,
            },
        );
    }

    /// `busy` servers are busy from now on.
    #[inline]
    pub fn set_busy(&mut self, busy: f64) {
        self.busy.set(self.now, busy);
    }
}

/// What a queue discipline provides.
pub(crate) trait Discipline {
    /// An empty queue.
    fn new(setup: &Setup<'_>) -> Self;
    /// A job arrives (its service time already drawn).
    fn arrive(&mut self, job: Job, ctx: &mut Ctx<'_>);
    /// The wake-up `tag` asked for is due: the job that finishes, or
    /// `None` when the wake-up is stale.
    fn complete(&mut self, tag: u32, ctx: &mut Ctx<'_>) -> Option<Job>;
    /// Servers busy now (jobs in service, for IS).
    fn busy(&self) -> f64;
}
