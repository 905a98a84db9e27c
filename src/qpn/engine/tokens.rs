//! Tokens in and out of places and queues: a token entering a place or
//! its queue, a job finishing service, a transition taking a token, and
//! which transitions each move may enable.

use super::state::Simulation;
use crate::qpn::event::Token;
use crate::qpn::queue::{self, Job, LiveQueue};

impl Simulation<'_> {
    pub(super) fn pop_change(&mut self, p: usize, c: usize, up: bool) {
        let now = self.now;
        let s = &mut self.stats[p * self.nc + c];
        s.area += s.pop as f64 * (now - s.last);
        s.last = now;
        if up {
            s.pop += 1;
        } else {
            s.pop -= 1;
        }
    }

    /// A token enters place `p` (its queue, for a queueing place).
    pub(super) fn put(&mut self, p: usize, c: usize, mut token: Token) {
        token.entered = self.now;
        self.place_hooks(p, true, c, &mut token);
        self.stats[p * self.nc + c].arrivals += 1;
        self.pop_change(p, c, true);
        if self.places[p].queue.is_some() {
            self.in_queues += 1;
            self.in_queue[p] += 1;
            self.arrive(p, c, token);
        } else {
            self.deposit(p, c, token);
        }
    }

    /// A token becomes available in place `p` (or its depository).
    pub(super) fn deposit(&mut self, p: usize, c: usize, mut token: Token) {
        token.entered = self.now;
        self.available += 1;
        self.places[p].tokens[c].push_back(token);
        self.offer(p, c);
        self.mark_dependents(p);
    }

    pub(super) fn mark_dependents(&mut self, p: usize) {
        for i in 0..self.imm_of_place[p].len() {
            let t = self.imm_of_place[p][i];
            if !self.in_cand[t as usize] {
                self.in_cand[t as usize] = true;
                self.cand.push(t);
            }
        }
        for i in 0..self.timed_of_place[p].len() {
            let t = self.timed_of_place[p][i] as usize;
            self.mark_timed(t);
        }
    }

    pub(super) fn mark_timed(&mut self, t: usize) {
        if !self.in_timed_dirty[t] {
            self.in_timed_dirty[t] = true;
            self.timed_dirty.push(t as u32);
        }
    }

    /// Takes the oldest available token of colour `c` from place `p`.
    pub(super) fn take(&mut self, p: usize, c: usize) -> Token {
        let mut token = self.places[p].tokens[c]
            .pop_front()
            .expect("an enabled input");
        self.available -= 1;
        self.offer(p, c);
        let nc = self.nc;
        let s = &mut self.stats[p * nc + c];
        let r = self.now - token.entered;
        if self.places[p].queue.is_none() {
            s.residence.push(r);
            s.residence_bm.push(r);
            s.departures += 1;
            self.pop_change(p, c, false);
        } else {
            s.depository.push(r);
        }
        self.place_hooks(p, false, c, &mut token);
        if self.places[p].fifo {
            // A new oldest token may make another colour available.
            self.mark_dependents(p);
        }
        token
    }

    /// Tells the mode index what place `p` offers after its tokens of
    /// colour `c` changed: all of them; in a FIFO place, the oldest token's
    /// colour offers its tokens and every other colour none (a tie in age
    /// goes to the lower colour).
    #[inline]
    fn offer(&mut self, p: usize, c: usize) {
        let pl = &self.places[p];
        if !pl.fifo {
            self.index.set(p, c, pl.tokens[c].len());
            return;
        }
        let mut oldest: Option<(f64, usize)> = None;
        for (k, q) in pl.tokens.iter().enumerate() {
            if let Some(t) = q.front()
                && oldest.is_none_or(|(e, _)| t.entered < e)
            {
                oldest = Some((t.entered, k));
            }
        }
        for k in 0..self.nc {
            let n = match oldest {
                Some((_, o)) if o == k => self.places[p].tokens[k].len(),
                _ => 0,
            };
            self.index.set(p, k, n);
        }
    }

    /// Runs `f` on queue `slot` with its scheduling context.
    #[inline]
    pub(super) fn with_slot<T>(
        &mut self,
        slot: u32,
        f: impl FnOnce(&mut LiveQueue, &mut queue::Ctx<'_>) -> T,
    ) -> T {
        let mut ctx = queue::Ctx {
            now: self.now,
            events: &mut self.pending,
            busy: &mut self.busy[slot as usize],
            place: slot,
        };
        f(&mut self.queues[slot as usize], &mut ctx)
    }

    /// A token enters the queue of `p`: its service time is drawn now.
    pub(super) fn arrive(&mut self, p: usize, c: usize, token: Token) {
        let dist = self.net.places[p].queue.as_ref().unwrap().service[c]
            .as_ref()
            .expect("validated: service defined");
        let service = dist.sample(&mut self.rng);
        let job = Job {
            color: c,
            token,
            service,
            place: p as u32,
        };
        let slot = self.places[p].queue.expect("a queueing place");
        self.with_slot(slot, |q, ctx| q.arrive(job, ctx));
    }

    /// A job finishes service: residence statistics, then the depository.
    pub(super) fn complete(&mut self, p: usize, job: Job) {
        let c = job.color;
        let r = self.now - job.token.entered;
        let s = &mut self.stats[p * self.nc + c];
        s.residence.push(r);
        s.residence_bm.push(r);
        s.service.push(job.service);
        s.departures += 1;
        self.pop_change(p, c, false);
        self.in_queues -= 1;
        self.in_queue[p] -= 1;
        self.deposit(p, c, job.token);
    }
}
