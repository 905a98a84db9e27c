//! Drives one discipline by hand: arrivals at given times, then
//! completions in event order.

use super::discipline::{Ctx, Discipline, Job, Setup};
use crate::qpn::event::{Busy, Events, Target, Token};

/// `servers` servers; colours' priorities as given.
pub fn setup(servers: u32, priority: &[i32]) -> Setup<'_> {
    Setup {
        servers,
        priority,
        rate: &[],
    }
}

pub struct Harness<D> {
    pub d: D,
    pub events: Events,
    pub busy: Busy,
    pub now: f64,
}

impl<D: Discipline> Harness<D> {
    pub fn new(setup: &Setup<'_>) -> Self {
        Self {
            d: D::new(setup),
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
