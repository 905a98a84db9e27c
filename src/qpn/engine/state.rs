//! A replication's state: the places' tokens, the queues, the event list,
//! what is enabled, and the statistics.

use std::collections::VecDeque;

use rand_xoshiro::Xoshiro256PlusPlus;

use super::modes::ModeIndex;
use super::stats::{PlaceColorStats, ProbeRecord, ProbeStats};
use crate::qpn::event::{Busy, Events, Token};
use crate::qpn::net::Net;
use crate::qpn::queue::LiveQueue;

#[derive(Debug)]
pub(super) struct PlaceState {
    /// Tokens of the place, or of the depository of a queueing place.
    pub(super) tokens: Vec<VecDeque<Token>>,
    pub(super) fifo: bool,
    /// Its queue's slot in `Simulation::queues` (its own or a shared one).
    pub(super) queue: Option<u32>,
}

/// Every mode's arcs in one array, so that a firing reads one short
/// stretch of it: the mode of global index `g` (see `ModeIndex::global`)
/// takes by `list[span[g][0]..span[g][1]]` and puts by
/// `list[span[g][1]..span[g][2]]`.
#[derive(Debug, Clone, Default)]
pub(super) struct Arcs {
    pub(super) list: Vec<FireArc>,
    pub(super) span: Vec<[u32; 3]>,
}

/// An arc of a mode, as its firing reads it.
#[derive(Debug, Clone, Copy)]
pub(super) struct FireArc {
    pub(super) place: u32,
    pub(super) color: u32,
    pub(super) count: u32,
    /// For an output arc: the index in `Simulation::consumed` of the token
    /// whose identity the produced token keeps, or `FireArc::FRESH`.
    pub(super) carry: u32,
}

impl FireArc {
    /// An output arc that produces a new token.
    pub(super) const FRESH: u32 = u32::MAX;
}

/// Why a run cannot go on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// No event is pending and no transition can fire.
    #[error(
        "the net is dead at t = {t} s: no transition can fire and no service is pending (a closed model that deadlocks)",
        t = crate::words::readable(*time)
    )]
    Deadlock {
        /// Simulated time, seconds.
        time: f64,
    },
    /// Immediate transitions keep firing without time advancing.
    #[error(
        "immediate transitions fired {0} times at t = {t} s without time advancing: a cycle of immediate transitions?",
        t = crate::words::readable(*_1)
    )]
    ImmediateLoop(u64, f64),
    /// Events keep happening without time advancing: a cycle of timed
    /// transitions with zero delay, or of queues with zero service.
    #[error(
        "{events} events at t = {t} s without time advancing (the last at {at}): a cycle of zero-time delays or services?",
        t = crate::words::readable(*time)
    )]
    ZeroTimeLoop {
        /// Events at the same time.
        events: u64,
        /// Simulated time, seconds.
        time: f64,
        /// The transition or queue of the last of them.
        at: String,
    },
    /// An event was scheduled at an infinite time (a delay or service
    /// time so large that the clock overflows).
    #[error(
        "{at} is due at an infinite time (from t = {t} s): a delay or service time too large for the clock (near 1e308 s)",
        t = crate::words::readable(*time)
    )]
    InfiniteTime {
        /// The transition or queue.
        at: String,
        /// Simulated time when it was met, seconds.
        time: f64,
    },
    /// The run reached its event limit before its stop rule held.
    #[error(
        "stopped after {events} events, the limit for this run (at t = {t} s, {passages} passages measured): raise it with --max-events, or ask for fewer passages or less time",
        t = crate::words::readable(*time)
    )]
    EventLimit {
        /// Events processed.
        events: u64,
        /// Simulated time, seconds.
        time: f64,
        /// Passages of the first probe since the warm-up.
        passages: u64,
    },
    /// A probe the stop rule counts has had no passage for a long time.
    #[error(
        "probe {probe} has had no passage in {events} events (t = {t} s): do tokens reach its start and then its end?",
        t = crate::words::readable(*time)
    )]
    NoPassage {
        /// The probe (and colour, when one of several is missing).
        probe: String,
        /// Events since its last passage.
        events: u64,
        /// Simulated time, seconds.
        time: f64,
    },
    /// A place (its queue or its tokens waiting to be taken) grows
    /// without bound.
    #[error(
        "place {place} holds {tokens} tokens at t = {t} s (about {rate} more each simulated second): the model is unstable (offered load at or above capacity, a transition that makes more tokens than it takes, or tokens that no transition takes)",
        rate = crate::report::format::TEXT.num(Some(*per_second)),
        t = crate::words::readable(*time)
    )]
    Unstable {
        /// Place name.
        place: String,
        /// Tokens in it.
        tokens: u64,
        /// Its growth since the start: tokens beyond its initial marking
        /// per simulated second.
        per_second: f64,
        /// Simulated time, seconds.
        time: f64,
    },
}

/// Largest number of tokens in the net, in queues and in places (beyond
/// the initial marking), before a run is declared unstable: about 60 MB
/// of tokens.
pub const DEFAULT_TOKEN_LIMIT: u64 = 1_000_000;

/// Events at one simulated time after which the run stops as a zero-time
/// loop.
pub const ZERO_TIME_LIMIT: u64 = 10_000_000;

/// One replication in progress.
pub struct Simulation<'n> {
    pub(super) net: &'n Net,
    pub(super) rng: Xoshiro256PlusPlus,
    pub(super) now: f64,
    pub(super) pending: Events,
    pub(super) places: Vec<PlaceState>,
    /// The queues: each queueing place's own, then the shared ones.
    pub(super) queues: Vec<LiveQueue>,
    pub(super) imm_of_place: Vec<Vec<u32>>,
    pub(super) timed_of_place: Vec<Vec<u32>>,
    pub(super) timed: Vec<(bool, u32)>,
    pub(super) cand: Vec<u32>,
    pub(super) in_cand: Vec<bool>,
    pub(super) timed_dirty: Vec<u32>,
    pub(super) in_timed_dirty: Vec<bool>,
    pub(super) enabled: Vec<(u32, f64)>,
    /// Each transition's enabled modes, kept as tokens move.
    pub(super) index: ModeIndex,
    pub(super) consumed: Vec<Token>,
    /// Every mode's arcs, laid out for firing.
    pub(super) arcs: Arcs,
    pub(super) enter_hooks: Vec<Vec<(usize, bool)>>,
    pub(super) exit_hooks: Vec<Vec<(usize, bool)>>,
    pub(super) trans_hooks: Vec<Vec<(usize, bool)>>,
    pub(super) probe_color: Vec<Vec<bool>>,
    pub(super) nc: usize,
    pub(super) stats: Vec<PlaceColorStats>,
    pub(super) busy: Vec<Busy>,
    pub(super) probes: Vec<ProbeStats>,
    pub(super) measure_start: f64,
    pub(super) main_completions: u64,
    pub(super) events: u64,
    /// Events popped at the current time since time last advanced.
    pub(super) same_time: u64,
    pub(super) in_queues: u64,
    /// Tokens available in places and depositories (with `in_queues`,
    /// every token of the net: what the token limit counts).
    pub(super) available: u64,
    /// Tokens in each place's queue (for join-the-shortest-queue).
    pub(super) in_queue: Vec<u64>,
    /// The mode each transition fired last (for round robin; empty when
    /// no transition goes round robin).
    pub(super) last_mode: Vec<usize>,
    pub(super) token_limit: u64,
    /// Completed probe passages since the last drain, when recording.
    pub records: Vec<ProbeRecord>,
    pub(super) recording: bool,
}
