//! Queue disciplines, one file each, behind [`Discipline`]; [`Scheduling`]
//! is the registry that names them in model files and builds them.
//!
//! Adding a discipline: write its file (a type implementing
//! [`Discipline`], with unit tests), then add one variant to
//! [`Scheduling`] and one arm to each `match` in this file.
//!
//! A discipline holds the jobs of one queueing place. It learns of time
//! only through the calls it gets, schedules its own next completion
//! through a [`Ctx`], and reports each change of its busy servers there.
//! It knows nothing of tokens' places, colours' meaning or statistics.

mod fcfs;
mod is;
mod lcfs_pr;
mod ps;
mod slab;

use super::event::{Busy, Events, Target, Token};
use super::net::Queue;

pub(crate) use fcfs::Fcfs;
pub(crate) use is::Is;
pub(crate) use lcfs_pr::LcfsPr;
pub(crate) use ps::Ps;

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

/// Which service-time laws keep a station product-form (BCMP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductForm {
    /// Any service-time distribution, any per-colour means.
    AnyService,
    /// Exponential service with the same mean for every colour, and no
    /// priorities.
    ExponentialEqualMeans,
}

/// What a queue discipline provides.
pub(crate) trait Discipline {
    /// Its names in model files; the first is the one written out.
    const NAMES: &'static [&'static str];
    /// When a station with it is product-form.
    const PRODUCT_FORM: ProductForm;
    /// Why `servers` servers are not allowed, if they are not.
    fn check_servers(servers: u64) -> Result<(), &'static str>;
    /// An empty queue.
    fn new(queue: &Queue) -> Self;
    /// A job arrives (its service time already drawn).
    fn arrive(&mut self, job: Job, ctx: &mut Ctx<'_>);
    /// The wake-up `tag` asked for is due: the job that finishes, or
    /// `None` when the wake-up is stale.
    fn complete(&mut self, tag: u32, ctx: &mut Ctx<'_>) -> Option<Job>;
    /// Servers busy now (jobs in service, for IS).
    fn busy(&self) -> f64;
}

/// The disciplines, as model files name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduling {
    /// Infinite server: every token in service at once.
    Is,
    /// First come first served with `servers` servers (non-preemptive
    /// priorities by colour when set).
    Fcfs,
    /// Processor sharing with `servers` servers: n tokens each served at
    /// rate min(1, servers/n).
    Ps,
    /// Last come first served, preemptive resume, one server.
    LcfsPr,
}

impl Scheduling {
    /// Every discipline.
    pub const ALL: [Scheduling; 4] = [Self::Is, Self::Fcfs, Self::Ps, Self::LcfsPr];

    fn names_of(self) -> &'static [&'static str] {
        match self {
            Self::Is => Is::NAMES,
            Self::Fcfs => Fcfs::NAMES,
            Self::Ps => Ps::NAMES,
            Self::LcfsPr => LcfsPr::NAMES,
        }
    }

    /// Its name in model files.
    pub fn name(self) -> &'static str {
        self.names_of()[0]
    }

    /// The discipline a model file names (any of its spellings).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.names_of().contains(&name))
    }

    /// "is, fcfs, ps or lcfs-pr", for messages.
    pub fn names() -> String {
        let n: Vec<&str> = Self::ALL.iter().map(|s| s.name()).collect();
        format!("{} or {}", n[..n.len() - 1].join(", "), n[n.len() - 1])
    }

    /// The names other than fcfs, for a hint that suggests fcfs first.
    pub fn names_after_fcfs() -> String {
        let n: Vec<&str> = Self::ALL
            .iter()
            .filter(|s| **s != Self::Fcfs)
            .map(|s| s.name())
            .collect();
        n.join(", ")
    }

    /// When a station with it is product-form.
    pub fn product_form(self) -> ProductForm {
        match self {
            Self::Is => Is::PRODUCT_FORM,
            Self::Fcfs => Fcfs::PRODUCT_FORM,
            Self::Ps => Ps::PRODUCT_FORM,
            Self::LcfsPr => LcfsPr::PRODUCT_FORM,
        }
    }

    /// Whether `servers` can be set (not for IS).
    pub fn has_servers(self) -> bool {
        self != Self::Is
    }

    /// Whether colours may have priorities.
    pub fn has_priorities(self) -> bool {
        self == Self::Fcfs
    }

    /// Why `servers` servers are not allowed, if they are not.
    ///
    /// # Errors
    /// The rule broken, in words.
    pub fn check_servers(self, servers: u64) -> Result<(), &'static str> {
        match self {
            Self::Is => Is::check_servers(servers),
            Self::Fcfs => Fcfs::check_servers(servers),
            Self::Ps => Ps::check_servers(servers),
            Self::LcfsPr => LcfsPr::check_servers(servers),
        }
    }
}

/// At least one server: the rule of every discipline with servers.
fn at_least_one(servers: u64) -> Result<(), &'static str> {
    if servers == 0 {
        Err("servers must be at least 1")
    } else {
        Ok(())
    }
}

/// The live queue of a place: static dispatch over the disciplines.
#[derive(Debug)]
pub(crate) enum QueueState {
    Is(Is),
    Fcfs(Fcfs),
    Ps(Ps),
    LcfsPr(LcfsPr),
}

impl QueueState {
    pub fn new(q: &Queue) -> Self {
        match q.scheduling {
            Scheduling::Is => Self::Is(Is::new(q)),
            Scheduling::Fcfs => Self::Fcfs(Fcfs::new(q)),
            Scheduling::Ps => Self::Ps(Ps::new(q)),
            Scheduling::LcfsPr => Self::LcfsPr(LcfsPr::new(q)),
        }
    }

    #[inline]
    pub fn arrive(&mut self, job: Job, ctx: &mut Ctx<'_>) {
        match self {
            Self::Is(d) => d.arrive(job, ctx),
            Self::Fcfs(d) => d.arrive(job, ctx),
            Self::Ps(d) => d.arrive(job, ctx),
            Self::LcfsPr(d) => d.arrive(job, ctx),
        }
    }

    #[inline]
    pub fn complete(&mut self, tag: u32, ctx: &mut Ctx<'_>) -> Option<Job> {
        match self {
            Self::Is(d) => d.complete(tag, ctx),
            Self::Fcfs(d) => d.complete(tag, ctx),
            Self::Ps(d) => d.complete(tag, ctx),
            Self::LcfsPr(d) => d.complete(tag, ctx),
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Drives one discipline by hand: arrivals at given times, then
    //! completions in event order.

    use super::*;
    use crate::qpn::Dist;

    pub fn queue(scheduling: Scheduling, servers: u32, colors: usize) -> Queue {
        Queue {
            scheduling,
            servers,
            service: vec![Some(Dist::exponential(1.0).unwrap()); colors],
            priority: vec![0; colors],
            shared: None,
        }
    }

    pub struct Harness<D> {
        pub d: D,
        pub events: Events,
        pub busy: Busy,
        pub now: f64,
    }

    impl<D: Discipline> Harness<D> {
        pub fn new(q: &Queue) -> Self {
            Self {
                d: D::new(q),
                events: Events::default(),
                busy: Busy::default(),
                now: 0.0,
            }
        }

        fn ctx(&mut self) -> (&mut D, Ctx<'_>) {
            let ctx = Ctx {
                now: self.now,
                events: &mut self.events,
                busy: &mut self.busy,
                place: 0,
            };
            (&mut self.d, ctx)
        }

        /// A job of `color` needing `service` seconds arrives at `at`.
        pub fn arrive(&mut self, at: f64, color: usize, service: f64) {
            self.run_until(at);
            self.now = at;
            let mut token = Token::fresh(at);
            token.probe[0] = color as f64;
            let (d, mut ctx) = self.ctx();
            d.arrive(
                Job {
                    color,
                    token,
                    service,
                    place: 0,
                },
                &mut ctx,
            );
        }

        /// Completions up to `t`, as (time, colour, arrival time).
        pub fn run_until(&mut self, t: f64) -> Vec<(f64, usize, f64)> {
            let mut done = Vec::new();
            while self.events.peek_key().is_some_and(|k| k <= t) {
                let (time, target) = self.events.pop().unwrap();
                let Target::Queue { tag, .. } = target else {
                    unreachable!()
                };
                self.now = time;
                let (d, mut ctx) = self.ctx();
                if let Some(j) = d.complete(tag, &mut ctx) {
                    done.push((time, j.color, j.token.entered));
                }
            }
            done
        }

        /// Busy-server area up to now.
        pub fn area(&self) -> f64 {
            self.busy.area_at(self.now)
        }
    }

    pub fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }
}
