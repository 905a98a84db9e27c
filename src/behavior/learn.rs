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
}

impl Learner {
    /// A learner; with `keep_sessions` every session's own transitions are
    /// kept for clustering (memory grows with the sessions).
    pub fn new(keep_sessions: bool) -> Self {
        Self {
            keep_sessions,
            ..Self::default()
        }
    }

    /// Adds one request.
    ///
    /// # Errors
    /// A request that starts before its session's previous one, or a
    /// session id that two users share.
    pub fn push(&mut self, s: Step) -> Result<(), BehaviorError> {
        self.states = self.states.max(s.state + 1);
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
        for (_, o) in open {
            let first = o.first;
            let duration = o.last_end - o.first_start;
            let c = groups.entry(o.group).or_default();
            c.session(o.requests, duration);
            let Some(mut own) = o.own else {
                c.pairs.entry((entry, first)).or_default().count += 1;
                c.pairs.entry((o.last, exit)).or_default().count += 1;
                continue;
            };
            own.entry((entry, first)).or_default().count += 1;
            own.entry((o.last, exit)).or_default().count += 1;
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
