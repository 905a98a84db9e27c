//! `Watch` on generated traces with known truth, on a simulated clock: an
//! M/M/1 queue whose demand may step, its requests logged as they
//! complete and its exact busy time sampled every second.

use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::*;
use crate::trace::RequestRow;

/// Epoch seconds the generated traces start at.
const T0: f64 = 1_700_000_000.0;

/// An M/M/1 FCFS queue at `rate` requests/s whose mean demand is
/// `demand(t)` for a request arriving at `t` seconds after [`T0`].
struct Mm1<F: Fn(f64) -> f64> {
    rng: Xoshiro256PlusPlus,
    rate: f64,
    demand: F,
    next_arrival: f64,
    free_at: f64,
    /// (start, response time) of requests not yet complete at the clock.
    pending: std::collections::VecDeque<(f64, f64)>,
    /// Busy seconds per second, from the first not yet sampled.
    busy: std::collections::VecDeque<f64>,
    sampled: usize,
}

impl<F: Fn(f64) -> f64> Mm1<F> {
    fn new(rate: f64, demand: F, seed: u64) -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let first = Exp::new(rate).unwrap().sample(&mut rng);
        Self {
            rng,
            rate,
            demand,
            next_arrival: first,
            free_at: 0.0,
            pending: Default::default(),
            busy: Default::default(),
            sampled: 0,
        }
    }

    fn add_busy(&mut self, from: f64, to: f64) {
        let mut t = from;
        while t < to {
            let second = t.floor();
            let end = to.min(second + 1.0);
            let at = second as usize - self.sampled;
            if self.busy.len() <= at {
                self.busy.resize(at + 1, 0.0);
            }
            self.busy[at] += end - t;
            t = end;
        }
    }

    /// Runs to second `s + 1` and hands the watch what was written by
    /// then: the requests completed, the utilization of second `s`.
    fn second(&mut self, s: usize, w: &mut Watch) {
        let until = (s + 1) as f64;
        while self.next_arrival <= until {
            let a = self.next_arrival;
            let service = Exp::new(1.0 / (self.demand)(a))
                .unwrap()
                .sample(&mut self.rng);
            let begin = a.max(self.free_at);
            self.free_at = begin + service;
            self.add_busy(begin, self.free_at);
            self.pending.push_back((a, self.free_at - a));
            self.next_arrival += Exp::new(self.rate).unwrap().sample(&mut self.rng);
        }
        while let Some(&(a, r)) = self.pending.front().filter(|(a, r)| a + r <= until) {
            self.pending.pop_front();
            let row = RequestRow {
                start: T0 + a,
                response_time: r,
                class: "a",
                success: true,
                ..RequestRow::default()
            };
            w.push_request(&row).unwrap();
        }
        let busy = self.busy.pop_front().unwrap_or(0.0);
        self.sampled += 1;
        w.push_utilization(&UtilSample {
            timestamp: T0 + until,
            utilization: busy,
            resource: "cpu".into(),
            interval: Some(1.0),
        });
    }
}

/// The updates of `seconds` of a trace at 50 requests/s whose demand is
/// 5 ms, then 10 ms from `step` on, each with the simulated clock (seconds
/// after [`T0`]) when it was printed.
fn follow(seconds: usize, step: f64, seed: u64, cfg: Config) -> Vec<(f64, Update)> {
    let mut watch = Watch::new(cfg).unwrap();
    let mut queue = Mm1::new(50.0, |t| if t < step { 0.005 } else { 0.010 }, seed);
    let mut out = Vec::new();
    for s in 0..seconds {
        queue.second(s, &mut watch);
        let now = (s + 1) as f64;
        out.extend(watch.tick(T0 + now).into_iter().map(|u| (now, u)));
    }
    out
}

/// The updates of one method.
fn of(updates: &[(f64, Update)], method: Method) -> Vec<&(f64, Update)> {
    updates
        .iter()
        .filter(|(_, u)| u.method == method.id())
        .collect()
}

#[test]
fn a_step_from_5_to_10_ms_is_tracked_and_alarmed_within_15_s_and_never_before() {
    let step = 600.0;
    let updates = follow(900, step, crate::test_seed(38), Config::default());
    let methods = live_methods();
    assert_eq!(methods.len(), 2, "the Kalman filter and the regression");
    for m in methods {
        let lines = of(&updates, m);
        assert!(lines.len() > 150, "{}: {} updates", m.id(), lines.len());
        let before = lines.iter().filter(|(now, _)| *now < step);
        for (now, u) in before {
            assert!(
                !u.alarm,
                "{} at {now} s, before the step: {:?}",
                m.id(),
                u.reason
            );
        }
        let first = lines.iter().find(|(_, u)| u.alarm).expect("an alarm");
        assert!(
            first.0 > step && first.0 <= step + 15.0,
            "{}: alarm at {} s, the step at {step} s",
            m.id(),
            first.0
        );
        // Both levels tracked: the last update before the step, and one
        // whose window lies wholly after it.
        let at = |t: f64| &lines.iter().rev().find(|(now, _)| *now <= t).unwrap().1;
        for (u, truth) in [(at(step), 0.005), (at(step + 120.0), 0.010)] {
            let close = (u.demand_s - truth).abs() <= 0.15 * truth;
            let within = u
                .low_s
                .zip(u.high_s)
                .is_some_and(|(l, h)| l <= truth && truth <= h);
            assert!(close || within, "{}: {u:?} against {truth}", m.id());
            assert!(
                (u.demand_s - truth).abs() <= 0.15 * truth,
                "{}: {u:?}",
                m.id()
            );
        }
    }
}

#[test]
fn a_steady_demand_raises_no_alarm_over_two_hours() {
    let cfg = Config {
        bootstrap: 20,
        ..Config::default()
    };
    let updates = follow(7200, f64::INFINITY, crate::test_seed(39), cfg);
    assert!(updates.len() > 2 * 1400, "{} lines", updates.len());
    let alarms: Vec<_> = updates.iter().filter(|(_, u)| u.alarm).collect();
    assert!(alarms.is_empty(), "false alarms: {alarms:?}");
}

#[test]
fn lines_of_a_finished_file_give_the_same_updates_as_records() {
    // The same trace as canonical CSV pieces through `read_requests`.
    let mut w = Watch::new(Config::default()).unwrap();
    let (mut rf, mut uf) = (LineFeed::new(), LineFeed::new());
    let (mut rr, mut ur) = (canonical_requests(), canonical_utilization());
    w.read_requests(&mut rf, &mut rr, "r", b"timestamp,response_time,class\n")
        .unwrap();
    w.read_utilization(&mut uf, &mut ur, "u", b"timestamp,utilization,interval\n")
        .unwrap();
    for s in 0..40 {
        let t = T0 + s as f64;
        // Class a: 10 requests of 20 ms each second, class b: 5 of 40 ms
        // at even seconds only; utilization = 10·0.02 + 5·0.04 (even).
        let mut lines = String::new();
        let nb = if s % 2 == 0 { 5 } else { 0 };
        for i in 0..10 {
            lines += &format!("{},0.02,a\n", t + 0.05 * i as f64);
        }
        for i in 0..nb {
            lines += &format!("{},0.04,b\n", t + 0.1 * i as f64);
        }
        w.read_requests(&mut rf, &mut rr, "r", lines.as_bytes())
            .unwrap();
        let u = 0.2 + 0.04 * nb as f64;
        w.read_utilization(
            &mut uf,
            &mut ur,
            "u",
            format!("{},{u},1\n", t + 1.0).as_bytes(),
        )
        .unwrap();
    }
    let updates = w.update();
    assert_eq!(updates.len(), 4, "{updates:?}");
    for u in &updates {
        let truth = if u.class == "a" { 0.02 } else { 0.04 };
        assert!((u.demand_s - truth).abs() < 0.02 * truth, "{u:?}");
        assert!(!u.alarm);
    }
    let e = w
        .read_requests(&mut rf, &mut rr, "r", b"5,oops,a\n")
        .unwrap_err();
    assert!(
        e.to_string().starts_with("line 502, field `response_time`"),
        "{e}"
    );
}

#[test]
fn settings_out_of_range_and_a_class_too_many_are_refused() {
    let bad = Config {
        window_s: 5.0,
        ..Config::default()
    };
    let e = Watch::new(bad).unwrap_err();
    assert_eq!(
        e.to_string(),
        "window must be 10 to 1,000,000 intervals long, not 5"
    );
    let mut w = Watch::new(Config::default()).unwrap();
    for c in 0..MAX_CLASSES {
        let class = format!("c{c}");
        let row = RequestRow {
            class: &class,
            success: true,
            ..RequestRow::default()
        };
        w.push_request(&row).unwrap();
    }
    let row = RequestRow {
        class: "one-more",
        success: true,
        ..RequestRow::default()
    };
    let e = w.push_request(&row).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("more than 64 classes (the 65th is `one-more`)"),
        "{e}"
    );
}

/// Alarms raised (a line with the alarm after one without) per method.
fn onsets(updates: &[(f64, Update)], method: Method) -> Vec<f64> {
    let lines = of(updates, method);
    let mut raised = false;
    let mut at = Vec::new();
    for (now, u) in lines {
        if u.alarm && !raised {
            at.push(*now);
        }
        raised = u.alarm;
    }
    at
}

/// The drift test's false-alarm rate (24 h without a step, 10 seeds) and
/// detection delay (a step from 5 to 10 ms at 600 s, 40 seeds), per
/// method; the numbers `docs/commands.md#watch` states. About 5 minutes
/// in a debug build: `cargo test --lib watch::tests::drift_rates --
/// --ignored --nocapture`.
#[test]
#[ignore = "slow tier: the drift test's measured rates"]
fn drift_rates() {
    let cfg = || Config {
        bootstrap: 0,
        ..Config::default()
    };
    for m in live_methods() {
        let (mut false_alarms, mut hours) = (0, 0.0);
        for seed in 0..10 {
            let updates = follow(86_400, f64::INFINITY, 1000 + seed, cfg());
            false_alarms += onsets(&updates, m).len();
            hours += 24.0;
        }
        let (mut delays, mut early, mut missed) = (Vec::new(), 0, 0);
        for seed in 0..40 {
            let updates = follow(900, 600.0, 2000 + seed, cfg());
            let at = onsets(&updates, m);
            early += at.iter().filter(|t| **t < 600.0).count();
            match at.iter().find(|t| **t >= 600.0) {
                Some(t) => delays.push(t - 600.0),
                None => missed += 1,
            }
        }
        delays.sort_by(f64::total_cmp);
        println!(
            "{}: {false_alarms} false alarms in {hours} h; step 5 -> 10 ms: delay min {} s, median {} s, max {} s, {missed} missed, {early} before the step",
            m.id(),
            delays[0],
            delays[delays.len() / 2],
            delays[delays.len() - 1]
        );
    }
}
