//! Whole sessions for classification: each session's request types and
//! think times in order, who made it, and which session each request
//! belongs to (to label the requests afterwards). Unlike [`super::Learner`]
//! this holds every request's type, one session index per request: a
//! classifier needs the sequence, not only the counts.
//!
//! Traces with users but no sessions are cut into sessions at idle gaps
//! ([`GapSplitter`]), the web-analytics rule that `import access-log
//! --session-timeout` uses too.

use std::collections::HashMap;

use super::{BehaviorError, Step};

/// One session as observed in the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Its id in the trace (the reader's session id, or the splitter's).
    pub id: u32,
    /// Its user class in the trace, when it has one (the first request's).
    pub truth: Option<u32>,
    /// Request types (the trace's class ids), in order.
    pub states: Vec<usize>,
    /// Think time before each request after the first (next start −
    /// previous end, or start − start when they overlapped), seconds.
    pub thinks: Vec<f64>,
    /// First start, seconds.
    pub first_start: f64,
    /// Last end, seconds.
    pub last_end: f64,
    user: Option<u32>,
    last_start: f64,
}

/// Collects [`Observed`] sessions from requests in trace order.
#[derive(Debug, Default)]
pub struct Collector {
    index: HashMap<u32, usize>,
    sessions: Vec<Observed>,
    /// Per request pushed, its session's index.
    of_request: Vec<u32>,
}

impl Collector {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one request (`group` is its user class, if any).
    ///
    /// # Errors
    /// A request that starts before its session's previous one, or a
    /// session id two users share (the learner's rules).
    pub fn push(&mut self, s: Step) -> Result<(), BehaviorError> {
        let next = self.sessions.len();
        let i = *self.index.entry(s.session).or_insert(next);
        self.of_request.push(i as u32);
        if i == next {
            self.sessions.push(Observed {
                id: s.session,
                truth: s.group,
                states: vec![s.state],
                thinks: Vec::new(),
                first_start: s.start,
                last_end: s.end,
                user: s.user,
                last_start: s.start,
            });
            return Ok(());
        }
        let o = &mut self.sessions[i];
        if s.start < o.last_start {
            return Err(BehaviorError::OutOfOrder {
                line: s.line,
                start: s.start,
                previous: o.last_start,
            });
        }
        if let (Some(a), Some(b)) = (o.user, s.user)
            && a != b
        {
            return Err(BehaviorError::SharedSession { line: s.line });
        }
        let think = match s.start - o.last_end {
            t if t >= 0.0 => t,
            _ => s.start - o.last_start,
        };
        o.thinks.push(think);
        o.states.push(s.state);
        o.last_start = s.start;
        o.last_end = o.last_end.max(s.end);
        Ok(())
    }

    /// The sessions in order of first appearance, and per request pushed
    /// its session's index into them.
    pub fn finish(self) -> (Vec<Observed>, Vec<u32>) {
        (self.sessions, self.of_request)
    }
}

/// Cuts each user's requests into sessions where the user pauses longer
/// than a gap: a request starting more than `gap` seconds after the end
/// of the user's previous request opens a new session.
#[derive(Debug)]
pub struct GapSplitter {
    gap: f64,
    /// Per user: its last request's end and its current session's id.
    users: HashMap<u32, (f64, u32)>,
    /// Per session id: (user, its number among the user's sessions, 0..).
    names: Vec<(u32, u32)>,
    counts: HashMap<u32, u32>,
}

impl GapSplitter {
    /// A splitter at `gap` seconds.
    pub fn new(gap: f64) -> Self {
        Self {
            gap,
            users: HashMap::new(),
            names: Vec::new(),
            counts: HashMap::new(),
        }
    }

    /// The session id of `user`'s request from `start` to `end`.
    pub fn session(&mut self, user: u32, start: f64, end: f64) -> u32 {
        let new_id = self.names.len() as u32;
        let (last_end, id) = self
            .users
            .entry(user)
            .or_insert((f64::NEG_INFINITY, u32::MAX));
        if *id == u32::MAX || start - *last_end > self.gap {
            *id = new_id;
            let n = self.counts.entry(user).or_insert(0);
            self.names.push((user, *n));
            *n += 1;
        }
        *last_end = last_end.max(end);
        *id
    }

    /// Session `id`'s user and its number among the user's sessions.
    pub fn name(&self, id: u32) -> (u32, u32) {
        self.names[id as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_longer_than_the_gap_opens_a_new_session() {
        let mut g = GapSplitter::new(10.0);
        // User 7: 0–1, 5–6 (pause 4), 20–21 (pause 14): two sessions.
        let a = g.session(7, 0.0, 1.0);
        let b = g.session(7, 5.0, 6.0);
        let other = g.session(8, 5.5, 6.0);
        let c = g.session(7, 20.0, 21.0);
        assert_eq!(a, b);
        assert_ne!(b, c);
        assert_ne!(a, other);
        assert_eq!(g.name(c), (7, 1));
        assert_eq!(g.name(other), (8, 0));
    }
}
