//! Sessions → transition counts, in one pass over the requests.
//!
//! Each open session keeps its last request (type, start, end), its user
//! and group, and, when profiles are to be clustered, its own transition
//! sums; everything else goes straight into its group's counts. Sessions
//! are closed (their last request → exit) at the end of the input, in the
//! order they first appeared, so the sums do not depend on a hash order.

use std::collections::{BTreeMap, HashMap};

use super::BehaviorError;
use super::chain::Counts;
use super::think::ThinkSums;

/// One request as the learner sees it (ids are the trace reader's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Session id.
    pub session: u32,
    /// User id, when the trace has one.
    pub user: Option<u32>,
    /// Group id (the user class), when grouping by it.
    pub group: Option<u32>,
    /// Request type (the workload class id).
    pub state: usize,
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// The line it came from, for messages.
    pub line: u64,
}

/// A session still open.
#[derive(Debug)]
struct Open {
    user: Option<u32>,
    group: Option<u32>,
    first: usize,
    last: usize,
    last_start: f64,
    last_end: f64,
    first_start: f64,
    requests: u64,
    /// Its own transitions, kept only for clustering.
    own: Option<BTreeMap<(usize, usize), ThinkSums>>,
}

/// A closed session's transitions, for clustering.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionCounts {
    /// Its group.
    pub group: Option<u32>,
    /// Its transitions.
    pub pairs: BTreeMap<(usize, usize), ThinkSums>,
    /// Requests.
    pub requests: u64,
    /// First start to last end, seconds.
    pub duration: f64,
}

/// The one-pass learner.
#[derive(Debug, Default)]
pub struct Learner {
    /// Request types seen (states 0..states).
    states: usize,
    open: HashMap<u32, Open>,
    /// Per group (None: no grouping), over all sessions.
    groups: BTreeMap<Option<u32>, Counts>,
    keep_sessions: bool,
    /// With censoring: the window, seconds (`None`: three mean think
    /// times, [`CENSOR_THINKS`]).
    censor: Option<Option<f64>>,
    /// The trace's first start and last end.
    span: (f64, f64),
    /// Σ think, count: the mean think time for the default window.
    thinks: (f64, u64),
}

/// The default censoring window in mean think times: a session whose first
/// request comes sooner after the trace's start (or whose last request
/// ends sooner before its end) may well have had one outside it.
pub const CENSOR_THINKS: f64 = 3.0;

impl Learner {
    /// A learner; with `keep_sessions` every session's own transitions are
    /// kept for clustering (memory grows with the sessions).
    pub fn new(keep_sessions: bool) -> Self {
        Self {
            keep_sessions,
            span: (f64::INFINITY, f64::NEG_INFINITY),
            ..Self::default()
        }
    }

    /// Sessions cut by the trace's start (end) do not enter (exit): a
    /// session whose first request starts within `window` seconds of the
    /// trace's first start has no entry transition counted, one whose last
    /// request ends within it of the trace's last end no exit (`None`:
    /// [`CENSOR_THINKS`] mean think times). The requests are kept, so the
    /// chain's visits no longer equal the log's request shares exactly.
    pub fn censoring(mut self, window: Option<f64>) -> Self {
        self.censor = Some(window);
        self
    }

    /// Adds one request.
    ///
    /// # Errors
    /// A request that starts before its session's previous one, or a
    /// session id that two users share.
    pub fn push(&mut self, s: Step) -> Result<(), BehaviorError> {
        self.states = self.states.max(s.state + 1);
        self.span = (self.span.0.min(s.start), self.span.1.max(s.end));
        let keep = self.keep_sessions;
        let Some(open) = self.open.get_mut(&s.session) else {
            self.open.insert(
                s.session,
                Open {
                    user: s.user,
                    group: s.group,
                    first: s.state,
                    last: s.state,
                    last_start: s.start,
                    last_end: s.end,
                    first_start: s.start,
                    requests: 1,
                    own: keep.then(BTreeMap::new),
                },
            );
            return Ok(());
        };
        if s.start < open.last_start {
            return Err(BehaviorError::OutOfOrder {
                line: s.line,
                start: s.start,
                previous: open.last_start,
            });
        }
        if let (Some(a), Some(b)) = (open.user, s.user)
            && a != b
        {
            return Err(BehaviorError::SharedSession { line: s.line });
        }
        // WESSBAS's rule: next start − previous end, or start − start when
        // the requests overlapped.
        let think = match s.start - open.last_end {
            t if t >= 0.0 => t,
            _ => s.start - open.last_start,
        };
        // A kept session's transitions reach its group when it closes
        // (`finish`), once per distinct transition, not once per request.
        let pairs = match &mut open.own {
            Some(own) => own,
            None => &mut self.groups.entry(open.group).or_default().pairs,
        };
        pairs.entry((open.last, s.state)).or_default().push(think);
        self.thinks = (self.thinks.0 + think, self.thinks.1 + 1);
        open.last = s.state;
        open.last_start = s.start;
        open.last_end = open.last_end.max(s.end);
        open.requests += 1;
        Ok(())
    }

    /// Closes every session: counts per group, and each session's own
    /// counts when kept (in order of first appearance).
    pub fn finish(self, states: usize) -> (BTreeMap<Option<u32>, Counts>, Vec<SessionCounts>) {
        let n = states.max(self.states);
        let (entry, exit) = (n, n + 1);
        let mut groups = self.groups;
        let mut open: Vec<(u32, Open)> = self.open.into_iter().collect();
        open.sort_by_key(|(id, _)| *id);
        let mut sessions = Vec::new();
        let window = self
            .censor
            .map(|w| w.unwrap_or(CENSOR_THINKS * self.thinks.0 / self.thinks.1.max(1) as f64));
        let (begin, end) = self.span;
        for (_, o) in open {
            let first = o.first;
            let duration = o.last_end - o.first_start;
            let (enters, exits) = match window {
                Some(w) => (o.first_start >= begin + w, o.last_end <= end - w),
                None => (true, true),
            };
            let c = groups.entry(o.group).or_default();
            c.session(o.requests, duration);
            let target = match o.own {
                Some(_) => None,
                None => Some(&mut c.pairs),
            };
            let mut own = o.own.unwrap_or_default();
            let pairs = target.unwrap_or(&mut own);
            if enters {
                pairs.entry((entry, first)).or_default().count += 1;
            }
            if exits {
                pairs.entry((o.last, exit)).or_default().count += 1;
            }
            if !self.keep_sessions {
                continue;
            }
            for (pair, t) in &own {
                c.pairs.entry(*pair).or_default().merge(t);
            }
            sessions.push(SessionCounts {
                group: o.group,
                pairs: own,
                requests: o.requests,
                duration,
            });
        }
        (groups, sessions)
    }
}
