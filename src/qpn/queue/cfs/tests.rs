//! The bandwidth control around PS and FCFS against timelines worked by
//! hand.

use super::super::testing::setup;
use super::super::{Fcfs, Ps};
use super::*;
use crate::qpn::event::Token;

/// A discipline under a CPU limit, driven by hand.
struct Harness<D> {
    q: D,
    cfs: Cfs,
    events: Events,
    busy: Busy,
    now: f64,
    /// Completion times so far.
    done: Vec<f64>,
}

impl<D: Discipline> Harness<D> {
    fn new(servers: u32, quota: f64, period: f64) -> Self {
        Self {
            q: D::new(&setup(servers, &[0])),
            cfs: Cfs::new(CpuLimit { quota, period }),
            events: Events::default(),
            busy: Busy::default(),
            now: 0.0,
            done: Vec::new(),
        }
    }

    fn ctx(&mut self) -> (&mut D, &mut Cfs, Ctx<'_>) {
        let ctx = Ctx {
            now: self.now,
            events: &mut self.events,
            busy: &mut self.busy,
            place: 0,
        };
        (&mut self.q, &mut self.cfs, ctx)
    }

    /// A job needing `service` seconds arrives at `at`.
    fn arrive(&mut self, at: f64, service: f64) {
        self.run_until(at);
        self.now = at;
        let job = Job {
            color: 0,
            token: Token::fresh(at),
            service,
            place: 0,
        };
        let (q, cfs, mut ctx) = self.ctx();
        cfs.arrive(q, job, &mut ctx);
    }

    /// Every completion time up to `t`; the clock then stands at `t`.
    fn run_until(&mut self, t: f64) -> Vec<f64> {
        while self.events.peek_key().is_some_and(|k| k <= t) {
            let (time, Target::Queue { tag, .. }) = self.events.pop().unwrap() else {
                unreachable!()
            };
            self.now = time;
            let (q, cfs, mut ctx) = self.ctx();
            if cfs.complete(q, tag, &mut ctx).is_some() {
                self.done.push(time);
            }
        }
        self.now = self.now.max(t);
        self.done.clone()
    }

    fn stats(&self) -> Throttling {
        self.cfs.throttling(self.now)
    }
}

#[track_caller]
fn near(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-9, "{got:?}, want {want:?}");
    }
}

#[track_caller]
fn counted(s: Throttling, periods: u64, throttled: u64, throttled_s: f64) {
    assert_eq!(
        (s.periods, s.throttled_periods),
        (periods, throttled),
        "{s:?}"
    );
    assert!((s.throttled_s - throttled_s).abs() < 1e-9, "{s:?}");
}

/// 0.25 s of work at 0.05 s per 0.1 s: 0.05 s in each of the periods
/// starting at 0, 0.1, 0.2 and 0.3 (throttled 0.05 s in each), the last
/// 0.05 s from 0.4: done at 0.45 exactly as the fifth budget runs out,
/// which is no throttling (no work is left).
#[test]
fn one_job_runs_a_quota_per_period_and_finishes_as_the_last_budget_ends() {
    let mut ps = Harness::<Ps>::new(1, 0.05, 0.1);
    ps.arrive(0.0, 0.25);
    near(&ps.run_until(10.0), &[0.45]);
    counted(ps.stats(), 5, 4, 0.2);
    // The busy-server integral is the CPU time used: the work.
    assert!((ps.busy.area_at(10.0) - 0.25).abs() < 1e-9);
    let mut fcfs = Harness::<Fcfs>::new(1, 0.05, 0.1);
    fcfs.arrive(0.0, 0.23);
    // 0.2 s by 0.35, the last 0.03 s from 0.4.
    near(&fcfs.run_until(10.0), &[0.43]);
    counted(fcfs.stats(), 5, 4, 0.2);
}

/// Two jobs of 0.09 and 0.2 s on one PS server, 0.04 s per 0.1 s: each
/// gets 0.02 s per period; the short one needs 0.01 s more from 0.4, at
/// half speed: done at 0.42. The long one, 0.11 s left, alone: 0.02 s to
/// 0.44 (0.09 left), 0.04 s from 0.5 and from 0.6, 0.01 s from 0.7: done
/// at 0.71. Throttled 0.06 s in each of the periods 0 to 6.
#[test]
fn two_ps_jobs_share_the_budget_and_the_survivor_gets_it_whole() {
    let mut h = Harness::<Ps>::new(1, 0.04, 0.1);
    h.arrive(0.0, 0.09);
    h.arrive(0.0, 0.2);
    near(&h.run_until(10.0), &[0.42, 0.71]);
    counted(h.stats(), 8, 7, 0.42);
    assert!((h.busy.area_at(10.0) - 0.29).abs() < 1e-9);
}

/// Two FCFS servers busy spend the budget twice as fast: 1.5 CPUs (0.15 s
/// per 0.1 s) last 0.075 s, throttled 0.025 s; two jobs of 0.2 s get 0.075
/// s each per period and finish at 0.2 + 0.05.
#[test]
fn two_busy_servers_spend_the_budget_twice_as_fast() {
    let mut h = Harness::<Fcfs>::new(2, 0.15, 0.1);
    h.arrive(0.0, 0.2);
    h.arrive(0.0, 0.2);
    near(&h.run_until(10.0), &[0.25, 0.25]);
    counted(h.stats(), 3, 2, 0.05);
}

/// Periods without work are not counted, and a budget is whole again in
/// the period the next job arrives in (no carry-over either way).
#[test]
fn idle_periods_are_skipped_and_a_new_period_brings_the_whole_budget() {
    let mut h = Harness::<Fcfs>::new(1, 0.05, 0.1);
    h.arrive(0.0, 0.1);
    h.arrive(1.03, 0.01);
    near(&h.run_until(10.0), &[0.15, 1.04]);
    counted(h.stats(), 3, 1, 0.05);
    // An arrival while throttled waits for the period's end.
    let mut h = Harness::<Ps>::new(1, 0.05, 0.1);
    h.arrive(0.0, 0.05);
    h.arrive(0.05, 0.02);
    near(&h.run_until(10.0), &[0.05, 0.12]);
    counted(h.stats(), 2, 1, 0.05);
}

/// A quota of a whole period on one server never binds: the job runs
/// through.
#[test]
fn a_limit_at_the_servers_capacity_never_throttles() {
    let mut h = Harness::<Ps>::new(1, 0.1, 0.1);
    h.arrive(0.0, 0.25);
    near(&h.run_until(10.0), &[0.25]);
    counted(h.stats(), 3, 0, 0.0);
}

/// After a reset the counters start again: the period in progress is
/// counted, and throttled time from the reset on.
#[test]
fn a_reset_counts_from_its_time_on() {
    let mut h = Harness::<Ps>::new(1, 0.05, 0.1);
    h.arrive(0.0, 0.25);
    h.run_until(0.07);
    let busy = Discipline::busy(&h.q);
    h.cfs.reset(0.07, busy);
    near(&h.run_until(10.0), &[0.45]);
    counted(h.stats(), 5, 4, 0.03 + 3.0 * 0.05);
}

#[test]
fn a_limit_needs_a_positive_quota_and_period() {
    let cpus = |quota, period| CpuLimit { quota, period };
    assert_eq!(cpus(0.05, 0.1).check(), Ok(()));
    assert!((cpus(0.05, 0.1).cpus() - 0.5).abs() < 1e-12);
    for bad in [cpus(0.0, 0.1), cpus(0.1, -1.0), cpus(f64::NAN, 0.1)] {
        assert!(bad.check().is_err(), "{bad:?}");
    }
}
