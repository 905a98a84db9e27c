//! Queue disciplines, one file each, behind [`Discipline`], declared once
//! in the `disciplines!` table below: the table generates [`Scheduling`]
//! (the names model files use, the server rule, priorities, the
//! product-form class, the QPME strategy) and the engine's dispatch over
//! the live queues.
//!
//! Adding a discipline: write its file (a type implementing
//! [`Discipline`], with unit tests), then add its `mod` line and its row
//! to the table. Nothing outside this folder names a discipline: the
//! model builder, the engine, the solver and the QPME exporter and
//! importer ask [`Scheduling`]'s methods, which read the row.
//!
//! A discipline holds the jobs of one queueing place. It learns of time
//! only through the calls it gets, schedules its own next completion
//! through a [`Ctx`], and reports each change of its busy servers there.
//! It knows nothing of tokens' places, colours' meaning or statistics.

mod cfs;
mod discipline;
mod fcfs;
mod is;
mod lcfs_pr;
mod ps;
mod slab;
#[cfg(test)]
mod testing;

pub use cfs::{CpuLimit, Throttling};
pub(crate) use discipline::{Ctx, Discipline, Job, Setup};

use cfs::{Cfs, Serve};

macro_rules! disciplines {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $module:ident::$ty:ident, [$first:literal $(, $name:literal)*],
            $capacity:ident, priorities: $priorities:literal, load_dependence: $ld:literal,
            $form:ident, qpme: $qpme:expr, cpu_limit: $cfs:literal;
    )*) => {
        $(pub(crate) use $module::$ty;)*

        /// The disciplines, as model files name them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Scheduling {
            $($(#[$doc])* $variant,)*
        }

        impl Scheduling {
            /// Every discipline, in the table's order.
            pub const ALL: &'static [Scheduling] = &[$(Self::$variant,)*];

            /// Its row of the table.
            fn row(self) -> &'static Row {
                match self {
                    $(Self::$variant => &Row {
                        names: &[$first $(, $name)*],
                        capacity: Capacity::$capacity,
                        priorities: $priorities,
                        load_dependence: $ld,
                        product_form: ProductForm::$form,
                        qpme: $qpme,
                        cpu_limit: $cfs,
                        one_server: concat!($first, " supports one server"),
                        no_load_dependence: concat!("a ", $first, " queue takes no load_dependence"),
                        no_cpu_limit: concat!("a ", $first, " queue takes no cpu_limit"),
                    },)*
                }
            }
        }

        /// The live queue of a place: static dispatch over the disciplines
        /// (a `match`, no boxing, in the engine's hot path).
        #[derive(Debug)]
        pub(crate) enum QueueState {
            $($variant($ty),)*
        }

        impl QueueState {
            /// An empty queue of `scheduling`.
            pub fn new(scheduling: Scheduling, setup: &Setup<'_>) -> Self {
                match scheduling {
                    $(Scheduling::$variant => Self::$variant(<$ty as Discipline>::new(setup)),)*
                }
            }
        }

        impl Serve for QueueState {
            #[inline]
            fn arrive(&mut self, job: Job, ctx: &mut Ctx<'_>) {
                match self {
                    $(Self::$variant(d) => Discipline::arrive(d, job, ctx),)*
                }
            }

            #[inline]
            fn complete(&mut self, tag: u32, ctx: &mut Ctx<'_>) -> Option<Job> {
                match self {
                    $(Self::$variant(d) => Discipline::complete(d, tag, ctx),)*
                }
            }

            #[inline]
            fn busy(&self) -> f64 {
                match self {
                    $(Self::$variant(d) => Discipline::busy(d),)*
                }
            }
        }
    };
}

// One row per discipline: variant = file::type, [its names in model files,
// the first written out], its capacity (servers rule), whether colours may
// have priorities, whether it takes a load-dependent rate (`Setup::rate`),
// when it is product-form, its QPME strategy (`None`: QPME cannot express
// it), whether it takes a CPU limit (`cfs.rs`).
disciplines! {
    /// Infinite server: every token in service at once.
    Is = is::Is, ["is", "IS"], Unlimited, priorities: false, load_dependence: false,
        AnyService, qpme: Some("IS"), cpu_limit: false;
    /// First come first served with `servers` servers (non-preemptive
    /// priorities by colour when set).
    Fcfs = fcfs::Fcfs, ["fcfs", "FCFS", "fifo"], Servers, priorities: true, load_dependence: false,
        ExponentialEqualMeans, qpme: Some("FCFS"), cpu_limit: true;
    /// Processor sharing with `servers` servers: n tokens each served at
    /// rate min(1, servers/n), or alpha(n)/n with a load-dependent rate.
    Ps = ps::Ps, ["ps", "PS"], Servers, priorities: false, load_dependence: true,
        AnyService, qpme: Some("PS"), cpu_limit: true;
    /// Last come first served, preemptive resume, one server.
    LcfsPr = lcfs_pr::LcfsPr, ["lcfs-pr", "LCFS-PR", "lcfspr"], OneServer, priorities: false, load_dependence: false,
        AnyService, qpme: None, cpu_limit: true;
}

/// A discipline's constants: one row of the table.
struct Row {
    names: &'static [&'static str],
    capacity: Capacity,
    priorities: bool,
    load_dependence: bool,
    product_form: ProductForm,
    qpme: Option<&'static str>,
    /// Whether it takes a CPU limit.
    cpu_limit: bool,
    /// The message for more than one server, naming the discipline.
    one_server: &'static str,
    /// The message for a load-dependent rate it does not take.
    no_load_dependence: &'static str,
    /// The message for a CPU limit it does not take.
    no_cpu_limit: &'static str,
}

/// How many servers a discipline has: what utilization is a fraction of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// No servers to set: every token is in service at once (no
    /// utilization).
    Unlimited,
    /// As many as the queue sets, at least one.
    Servers,
    /// Exactly one server.
    OneServer,
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

impl Scheduling {
    /// Its name in model files.
    pub fn name(self) -> &'static str {
        self.row().names[0]
    }

    /// The discipline a model file names (any of its spellings).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.row().names.contains(&name))
    }

    /// "is, fcfs, ps or lcfs-pr", for messages.
    pub fn names() -> String {
        let n: Vec<&str> = Self::ALL.iter().map(|s| s.name()).collect();
        or_list(&n)
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

    /// Its servers rule.
    pub fn capacity_rule(self) -> Capacity {
        self.row().capacity
    }

    /// Servers whose busy time makes up utilization, for a queue set to
    /// `servers`; `None` when servers are unlimited.
    pub fn capacity(self, servers: u32) -> Option<f64> {
        match self.capacity_rule() {
            Capacity::Unlimited => None,
            Capacity::Servers => Some(f64::from(servers)),
            Capacity::OneServer => Some(1.0),
        }
    }

    /// Whether `servers` can be set (not for IS).
    pub fn has_servers(self) -> bool {
        self.capacity_rule() != Capacity::Unlimited
    }

    /// Why `servers` servers are not allowed, if they are not.
    ///
    /// # Errors
    /// The rule broken, in words.
    pub fn check_servers(self, servers: u64) -> Result<(), &'static str> {
        match (self.capacity_rule(), servers) {
            (Capacity::Unlimited, _) => Err("the queue has no servers to set"),
            (_, 0) => Err("servers must be at least 1"),
            (Capacity::OneServer, 2..) => Err(self.row().one_server),
            _ => Ok(()),
        }
    }

    /// Whether colours may have priorities.
    pub fn has_priorities(self) -> bool {
        self.row().priorities
    }

    /// Whether it takes a load-dependent rate: alpha(n) times one
    /// server's rate in all with n jobs present, shared equally.
    pub fn has_load_dependence(self) -> bool {
        self.row().load_dependence
    }

    /// Why the load-dependent rate `alpha` (alpha(1), alpha(2), …, the
    /// last for every n beyond; empty: none) is not allowed, if it is not.
    ///
    /// # Errors
    /// The rule broken, in words.
    pub fn check_load_dependence(self, alpha: &[f64]) -> Result<(), &'static str> {
        if alpha.is_empty() {
            Ok(())
        } else if !self.has_load_dependence() {
            Err(self.row().no_load_dependence)
        } else if alpha.iter().any(|a| !(a.is_finite() && *a > 0.0)) {
            Err("every load_dependence value must be positive and finite")
        } else {
            Ok(())
        }
    }

    /// "ps": the disciplines that take a load-dependent rate, for messages.
    pub fn load_dependent_names() -> String {
        let n: Vec<&str> = Self::ALL
            .iter()
            .filter(|s| s.has_load_dependence())
            .map(|s| s.name())
            .collect();
        or_list(&n)
    }

    /// Whether it takes a CPU limit (`cpu_limit:`, CFS bandwidth control).
    pub fn has_cpu_limit(self) -> bool {
        self.row().cpu_limit
    }

    /// Why `limit` is not allowed on a queue of it with load-dependent
    /// rate `alpha` (empty: none), if it is not.
    ///
    /// # Errors
    /// The rule broken, in words.
    pub fn check_cpu_limit(self, limit: &CpuLimit, alpha: &[f64]) -> Result<(), &'static str> {
        if !self.has_cpu_limit() {
            Err(self.row().no_cpu_limit)
        } else if !alpha.is_empty() {
            Err("a queue with a load_dependence takes no cpu_limit")
        } else {
            limit.check()
        }
    }

    /// "fcfs, ps or lcfs-pr": the disciplines that take a CPU limit, for
    /// messages.
    pub fn cpu_limit_names() -> String {
        let n: Vec<&str> = Self::ALL
            .iter()
            .filter(|s| s.has_cpu_limit())
            .map(|s| s.name())
            .collect();
        or_list(&n)
    }

    /// When a station with it is product-form.
    pub fn product_form(self) -> ProductForm {
        self.row().product_form
    }

    /// Its strategy in QPME files; `None` when QPME cannot express it.
    pub fn qpme(self) -> Option<&'static str> {
        self.row().qpme
    }

    /// The discipline of a QPME strategy.
    pub fn from_qpme(strategy: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.qpme() == Some(strategy))
    }

    /// "IS, FCFS or PS": the QPME strategies there are, for messages.
    pub fn qpme_names() -> String {
        let n: Vec<&str> = Self::ALL.iter().filter_map(|s| s.qpme()).collect();
        or_list(&n)
    }
}

/// A live queue: its discipline's state, inside the bandwidth control of
/// its CPU limit when it has one (checked once per event).
#[derive(Debug)]
pub(crate) struct LiveQueue {
    state: QueueState,
    cfs: Option<Box<Cfs>>,
}

impl LiveQueue {
    /// An empty queue of `scheduling`, limited by `limit` if set.
    pub fn new(scheduling: Scheduling, setup: &Setup<'_>, limit: Option<CpuLimit>) -> Self {
        Self {
            state: QueueState::new(scheduling, setup),
            cfs: limit.map(|l| Box::new(Cfs::new(l))),
        }
    }

    /// A job arrives (its service time already drawn).
    #[inline]
    pub fn arrive(&mut self, job: Job, ctx: &mut Ctx<'_>) {
        match &mut self.cfs {
            None => self.state.arrive(job, ctx),
            Some(cfs) => cfs.arrive(&mut self.state, job, ctx),
        }
    }

    /// The wake-up `tag` is due: the job that finishes, or `None` when the
    /// wake-up is stale.
    #[inline]
    pub fn complete(&mut self, tag: u32, ctx: &mut Ctx<'_>) -> Option<Job> {
        match &mut self.cfs {
            None => self.state.complete(tag, ctx),
            Some(cfs) => cfs.complete(&mut self.state, tag, ctx),
        }
    }

    /// Forgets the throttling counters (end of warm-up).
    pub fn reset(&mut self, now: f64) {
        if let Some(cfs) = &mut self.cfs {
            cfs.reset(now, self.state.busy());
        }
    }

    /// The throttling counters up to `now`; `None` without a CPU limit.
    pub fn throttling(&self, now: f64) -> Option<Throttling> {
        self.cfs.as_ref().map(|c| c.throttling(now))
    }
}

/// "a, b or c".
fn or_list(n: &[&str]) -> String {
    match n {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_discipline_is_found_by_each_of_its_names_and_no_name_is_shared() {
        let mut seen = Vec::new();
        for &s in Scheduling::ALL {
            for name in s.row().names {
                assert_eq!(Scheduling::from_name(name), Some(s), "{name}");
                assert!(!seen.contains(name), "{name} names two disciplines");
                seen.push(name);
            }
        }
        assert_eq!(Scheduling::from_name("fastest"), None);
        assert!(Scheduling::names().starts_with("is, fcfs, ps"));
        assert!(!Scheduling::names_after_fcfs().contains("fcfs"));
    }

    #[test]
    fn lists_in_messages_end_with_or() {
        assert_eq!(or_list(&["is", "fcfs", "ps"]), "is, fcfs or ps");
        assert_eq!(or_list(&["is"]), "is");
    }

    #[test]
    fn the_server_rules_and_capacities_follow_each_row() {
        use Scheduling::*;
        assert_eq!(Is.capacity(4), None);
        assert!(!Is.has_servers() && Is.check_servers(1).is_err());
        for s in [Fcfs, Ps] {
            assert_eq!(s.capacity(4), Some(4.0));
            assert_eq!(s.check_servers(0), Err("servers must be at least 1"));
            assert_eq!(s.check_servers(64), Ok(()));
        }
        assert_eq!(LcfsPr.capacity(4), Some(1.0));
        assert_eq!(LcfsPr.check_servers(1), Ok(()));
        assert_eq!(LcfsPr.check_servers(0), Err("servers must be at least 1"));
        assert_eq!(LcfsPr.check_servers(2), Err("lcfs-pr supports one server"));
        for &s in Scheduling::ALL {
            assert_eq!(s.has_servers(), s.capacity(1).is_some(), "{s:?}");
        }
    }

    #[test]
    fn only_ps_takes_a_load_dependent_rate_and_only_positive_finite_values() {
        use Scheduling::*;
        assert_eq!(Scheduling::load_dependent_names(), "ps");
        assert_eq!(Ps.check_load_dependence(&[1.0, 1.8]), Ok(()));
        assert_eq!(Fcfs.check_load_dependence(&[]), Ok(()));
        assert_eq!(
            Fcfs.check_load_dependence(&[1.0]),
            Err("a fcfs queue takes no load_dependence")
        );
        for bad in [0.0, -1.0, f64::INFINITY, f64::NAN] {
            assert!(Ps.check_load_dependence(&[1.0, bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_discipline_with_servers_takes_a_cpu_limit_and_is_none() {
        use Scheduling::*;
        let half = CpuLimit {
            quota: 0.05,
            period: 0.1,
        };
        assert_eq!(Scheduling::cpu_limit_names(), "fcfs, ps or lcfs-pr");
        for s in [Fcfs, Ps, LcfsPr] {
            assert_eq!(s.check_cpu_limit(&half, &[]), Ok(()), "{s:?}");
        }
        assert_eq!(
            Is.check_cpu_limit(&half, &[]),
            Err("a is queue takes no cpu_limit")
        );
        assert!(Ps.check_cpu_limit(&half, &[1.0, 2.0]).is_err());
        let never = CpuLimit {
            quota: 0.0,
            period: 0.1,
        };
        assert!(Fcfs.check_cpu_limit(&never, &[]).is_err());
    }

    #[test]
    fn qpme_strategies_name_one_discipline_each_and_lcfs_pr_has_none() {
        for &s in Scheduling::ALL {
            if let Some(q) = s.qpme() {
                assert_eq!(Scheduling::from_qpme(q), Some(s));
            }
        }
        assert!(Scheduling::qpme_names().starts_with("IS, FCFS"));
        assert_eq!(Scheduling::LcfsPr.qpme(), None);
        assert_eq!(Scheduling::from_qpme("PRIO"), None);
        assert_eq!(
            Scheduling::Fcfs.product_form(),
            ProductForm::ExponentialEqualMeans
        );
        assert!(Scheduling::Fcfs.has_priorities() && !Scheduling::Ps.has_priorities());
    }

    /// Adding a discipline is its file and its row here: no code outside
    /// this folder may name one (a `match` there would be a second place
    /// to edit, or with `_ =>` a silent default).
    #[test]
    fn no_code_outside_the_table_names_a_discipline() {
        // The exact M/M/c response-time quantile is FCFS's own formula: a
        // new discipline is rightly outside it.
        let allowed = [("src/capacity.rs", "Fcfs")];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("src")];
        let mut found = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                if path.ends_with("qpn/queue") {
                    continue;
                }
                for e in std::fs::read_dir(&path).unwrap() {
                    files.push(e.unwrap().path());
                }
                continue;
            }
            // Unit tests, in a file of their own or after `#[cfg(test)]`,
            // may build nets with a given discipline.
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            for &s in Scheduling::ALL {
                let variant = format!("{s:?}");
                let named = code.match_indices("Scheduling::").any(|(i, _)| {
                    let rest = &code[i + "Scheduling::".len()..];
                    rest.starts_with(&variant)
                        && !rest[variant.len()..].starts_with(|c: char| c.is_alphanumeric())
                });
                if named && !allowed.contains(&(rel.as_str(), variant.as_str())) {
                    found.push(format!("{rel}: Scheduling::{variant}"));
                }
            }
            if code.contains("Scheduling::*") || code.contains("Scheduling::{") {
                found.push(format!("{rel}: imports the variants"));
            }
        }
        assert!(found.is_empty(), "{found:?}");
    }
}
