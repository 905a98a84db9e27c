//! The prediction band of a capacity answer: the question solved at the
//! ends of the band of the whole method's error, from a calibration's
//! held-out errors ([`crate::validate::band`]).
//!
//! At a value v the band's ends of the statistic are stat(v)·(1 −
//! r)^(−a(v)), r the k-th smallest and k-th largest held-out error (the
//! calibration's level) and a(v) the amplification ratio at the model's
//! utilization at v ([`Evaluation::utilization`]: the analytic solver's
//! where it solves the model, else the simulation's), 1 within the
//! calibration runs' loads. The answer at each end is the value where that
//! end of the statistic meets the objective.
//!
//! An end with r ≥ 0 lies above the statistic and rises with it: the
//! search is the plain one. An end with r < 0 lies below it, and beyond
//! the calibration loads its factor falls as fast as the amplification
//! grows, so near saturation it can fall back under the objective. The
//! measured statistic rises with the load, so it lies above that end at
//! every smaller load too: the answer is the first value past the
//! model's own answer where the end fails, found by 16 steps from the
//! model's answer towards the range's end, then bisection in the step
//! where it first fails (the later dip back under the objective is no
//! answer).

use serde::Serialize;

use super::{
    Answer, CapacityError, Evaluation, Query, Scale, Stat, bisect, clear_of_target, solve_scaled,
    tolerance,
};
use crate::model::Template;
use crate::validate::band::{amplification_ratio, corrected};
use crate::validate::calibration::{Calibration, Statistic};

/// Steps from the model's answer towards the range's end, for an end
/// below the statistic.
const STEPS: usize = 16;

/// What a capacity answer's prediction band is calibrated on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictionBasis {
    /// The statistic whose held-out errors it takes.
    pub statistic: Statistic,
    /// Held-out runs (n).
    pub calibration_runs: usize,
    /// The level it claims: (n + 1 − 2k)/(n + 1).
    pub nominal: f64,
    /// The held-out errors at its ends (the k-th smallest and largest).
    pub errors: (f64, f64),
    /// The validated study.
    pub study: String,
}

impl PredictionBasis {
    /// Its label: `prediction band, calibrated on 5 held-out runs (67 %)`.
    pub fn label(&self) -> String {
        format!(
            "prediction band, calibrated on {} held-out runs ({:.0} %)",
            self.calibration_runs,
            100.0 * self.nominal
        )
    }
}

/// The calibration statistic of an objective's: the mean's, the p95's;
/// `None` for the other percentiles, which no calibration has.
pub fn calibrated_statistic(stat: Stat) -> Option<Statistic> {
    match stat {
        Stat::Mean => Some(Statistic::Mean),
        Stat::P(95) => Some(Statistic::P95),
        Stat::P(_) => None,
    }
}

/// Refuses a calibration of another statistic than the objective's.
///
/// # Errors
/// [`CapacityError::Calibration`].
pub(super) fn check(q: &Query) -> Result<(), CapacityError> {
    match &q.calibration {
        Some(c) if calibrated_statistic(q.slo.stat) != Some(c.statistic) => {
            Err(CapacityError::Calibration {
                calibration: c.statistic.to_string(),
                slo: q.slo.stat.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// Fills `answer`'s prediction band (or the reason there is none).
///
/// # Errors
/// A model that cannot be evaluated.
pub(super) fn fill(
    template: &Template,
    q: &Query,
    c: &Calibration,
    answer: &mut Answer,
) -> Result<(), CapacityError> {
    // The band of a prediction of 1 at the calibration loads: its errors
    // and level.
    let unit = match c.band(1.0, None) {
        Ok(b) => b,
        Err(why) => {
            answer.no_prediction_band = Some(why.to_string());
            return Ok(());
        }
    };
    let (lo, hi) = unit.errors;
    // The high error is the pessimistic end: the smaller load, the more
    // servers.
    let (pessimistic, optimistic) = (
        at_end(template, q, c, answer, hi)?,
        at_end(template, q, c, answer, lo)?,
    );
    answer.prediction_band = Some(if answer.rising {
        [pessimistic, optimistic]
    } else {
        [optimistic, pessimistic]
    });
    answer.prediction_basis = Some(PredictionBasis {
        statistic: c.statistic,
        calibration_runs: unit.calibration_runs,
        nominal: unit.nominal,
        errors: unit.errors,
        study: c.study.clone(),
    });
    Ok(())
}

/// The answer where the statistic corrected by error `r` (widened by the
/// amplification at each value) meets the objective.
fn at_end(
    template: &Template,
    q: &Query,
    c: &Calibration,
    answer: &Answer,
    r: f64,
) -> Result<Option<f64>, CapacityError> {
    let scale = |e: &Evaluation| corrected(1.0, r, amplification_ratio(&c.held_out, e.utilization));
    if r >= 0.0 {
        return Ok(solve_scaled(template, q, &scale)?.value);
    }
    first_failure(template, q, answer, &scale)
}

/// For an end below the statistic: the last value that meets the
/// objective before the first that fails, from the model's answer (or,
/// without one, the range's good end) towards the range's other end.
fn first_failure(
    template: &Template,
    q: &Query,
    answer: &Answer,
    scale: Scale,
) -> Result<Option<f64>, CapacityError> {
    let (lo, hi) = q.range;
    let (good_end, bad_end) = if answer.rising { (lo, hi) } else { (hi, lo) };
    let start = answer.value.unwrap_or(good_end);
    let meets = |e: &Evaluation| e.stat_s.is_some_and(|s| s <= q.slo.limit_s);
    let mut good = clear_of_target(template, q, start, scale)?;
    if !meets(&good) {
        return Ok(None);
    }
    let mut values: Vec<f64> = (1..=STEPS)
        .map(|k| start + (bad_end - start) * k as f64 / STEPS as f64)
        .map(|v| if q.integer { v.round() } else { v })
        .collect();
    values.dedup();
    for v in values.into_iter().filter(|&v| v != start) {
        let e = clear_of_target(template, q, v, scale)?;
        if !meets(&e) {
            let mut eval = |x: f64| clear_of_target(template, q, x, scale);
            let (found, _) = bisect(&mut eval, q, (good, v), answer.rising, tolerance(q))?;
            return Ok(Some(found.value));
        }
        good = e;
    }
    Ok(Some(good.value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::{Slo, evaluate, search};
    use crate::model::{LoadOptions, Params};
    use crate::validate::band::HeldOut;

    /// The model's demand; the true system's is `K` times it.
    const D: f64 = 0.01;
    /// The objective: mean ≤ 50 ms.
    const S: f64 = 0.05;

    /// M/M/1 with demand `D` (qpn1-open, one container of one server):
    /// R(λ) = D/(1 − λD), its utilization λD.
    fn mm1(calibration: Option<Calibration>, slo: &str) -> (Template, Query) {
        let text = include_str!("../../models/qpn1-open.yaml");
        let template = Template::parse(text, LoadOptions::default().read_file).unwrap();
        let mut base = Params::new();
        base.set("servers", 1.0);
        base.set("containers", 1.0);
        base.set("demand", D);
        let q = Query {
            param: "arrival_rate".into(),
            slo: Slo::parse(slo).unwrap(),
            probe: None,
            range: (1.0, 99.0),
            integer: false,
            simulate_only: false,
            requests: 20_000,
            seed: crate::test_seed(5),
            warmup: crate::qpn::Warmup::Auto,
            base,
            binds: Vec::new(),
            calibration,
            offset_s: 0.0,
            color: None,
        };
        (template, q)
    }

    /// The held-out errors of the mean of a system whose demand is `k`·D,
    /// predicted by the model at arrival rates `rates`: r = 1 − R_model /
    /// R_true, at the model's utilization λD.
    fn calibration(k: f64, rates: &[f64]) -> Calibration {
        let held_out = rates
            .iter()
            .map(|&l| HeldOut {
                error: 1.0 - (D / (1.0 - l * D)) / (k * D / (1.0 - l * k * D)),
                utilization: Some(l * D),
            })
            .collect();
        Calibration {
            statistic: Statistic::Mean,
            held_out,
            level: None,
            study: "mm1".into(),
        }
    }

    /// The arrival rate at which D x (1 − r)^(−a(x)) = S, x = 1/(1 − λD),
    /// a = 1 up to the calibration's utilization `u_cal`, (1 − u_cal)·x
    /// beyond: by bisection on the closed form over rates rising from
    /// `lo` to `hi`, where it crosses S once.
    fn closed_form(r: f64, u_cal: f64, lo: f64, hi: f64) -> f64 {
        let end = |l: f64| {
            let x = 1.0 / (1.0 - l * D);
            let a = if l * D > u_cal {
                (1.0 - u_cal) * x
            } else {
                1.0
            };
            D * x * (1.0 - r).powf(-a)
        };
        let (mut lo, mut hi) = (lo, hi);
        assert!(end(lo) < S && end(hi) > S);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if end(mid) <= S { lo = mid } else { hi = mid }
        }
        lo
    }

    fn band(q: &Query, t: &Template) -> (Answer, f64, f64) {
        let a = search(t, q).unwrap();
        let [lo, hi] = a.prediction_band.unwrap();
        (a, lo.unwrap(), hi.unwrap())
    }

    /// The search's tolerance on (1, 99).
    const TOL: f64 = 1e-4 * 98.0;

    #[test]
    fn within_the_calibration_loads_the_band_ends_are_the_closed_form_answers() {
        // True demand 5 % above the model's; runs up to U 0.85, beyond
        // both ends' answers (a = 1): D/((1 − λD)(1 − r)) = S gives
        // λ = (1 − D/(S(1 − r)))/D.
        let c = calibration(1.05, &[20.0, 40.0, 60.0, 85.0]);
        let mut e: Vec<f64> = c.held_out.iter().map(|h| h.error).collect();
        e.sort_by(f64::total_cmp);
        let (t, q) = mm1(Some(c), "mean<=50ms");
        let (a, lo, hi) = band(&q, &t);
        let want = |r: f64| (1.0 - D / (S * (1.0 - r))) / D;
        assert!((a.value.unwrap() - 80.0).abs() < TOL, "{a:?}");
        assert!((lo - want(e[3])).abs() < TOL, "{lo} vs {}", want(e[3]));
        assert!((hi - want(e[0])).abs() < TOL, "{hi} vs {}", want(e[0]));
        // 70.7–78.7 req/s, and the true system's answer, (1 − KD/S)/(KD)
        // = 75.2, in it.
        assert!(
            (lo - 70.7).abs() < 0.1 && (hi - 78.7).abs() < 0.1,
            "{lo} {hi}"
        );
        let truth = (1.0 - 1.05 * D / S) / (1.05 * D);
        assert!(lo < truth && truth < hi);
        let basis = a.prediction_basis.unwrap();
        assert_eq!(basis.calibration_runs, 4);
        assert!((basis.nominal - 0.6).abs() < 1e-12);
        assert_eq!(
            basis.label(),
            "prediction band, calibrated on 4 held-out runs (60 %)"
        );
    }

    #[test]
    fn beyond_the_calibration_loads_the_ends_widen_by_the_amplification() {
        // Runs up to U 0.6; both answers lie beyond, at a = 0.4/(1 − λD).
        let c = calibration(1.05, &[20.0, 40.0, 60.0]);
        let (r_lo, r_hi) = (c.held_out[0].error, c.held_out[2].error);
        let (t, q) = mm1(Some(c), "mean<=50ms");
        let (_, lo, hi) = band(&q, &t);
        let (want_lo, want_hi) = (
            closed_form(r_hi, 0.6, 60.0, 90.0),
            closed_form(r_lo, 0.6, 60.0, 90.0),
        );
        assert!((lo - want_lo).abs() < TOL, "{lo} vs {want_lo}");
        assert!((hi - want_hi).abs() < TOL, "{hi} vs {want_hi}");
        assert!(
            (lo - 75.42).abs() < 0.02 && (hi - 77.68).abs() < 0.02,
            "{lo} {hi}"
        );
        // Not widened, the pessimistic end would be 77.3: the widening
        // moves it towards the truth (75.2, which three runs' 50 % band
        // just misses: the true error grows faster than 1/(1 − U) as the
        // true system nears its own saturation first).
        assert!(lo < (1.0 - D / (S * (1.0 - r_hi))) / D - 1.0);
    }

    #[test]
    fn an_end_below_the_model_is_its_first_crossing_not_the_dip_near_saturation() {
        // True demand 5 % below: negative errors. Beyond U 0.6 the low end
        // D x (1 − r)^(−0.4x) rises to a peak near U 0.95 and falls under
        // the objective again (at 99 req/s it is 7 ms): the answer is the
        // first crossing.
        let c = calibration(0.95, &[20.0, 40.0, 60.0]);
        let (r_lo, r_hi) = (c.held_out[2].error, c.held_out[0].error);
        assert!(r_lo < r_hi && r_hi < 0.0);
        let (t, q) = mm1(Some(c), "mean<=50ms");
        let (_, lo, hi) = band(&q, &t);
        let (want_lo, want_hi) = (
            closed_form(r_hi, 0.6, 60.0, 90.0),
            closed_form(r_lo, 0.6, 60.0, 90.0),
        );
        assert!((lo - want_lo).abs() < TOL, "{lo} vs {want_lo}");
        assert!((hi - want_hi).abs() < TOL, "{hi} vs {want_hi}");
        let truth = (1.0 - 0.95 * D / S) / (0.95 * D);
        assert!(lo < truth && truth < hi, "{lo} {truth} {hi}");
    }

    #[test]
    fn too_few_runs_give_no_band_and_another_statistic_is_refused() {
        let (t, q) = mm1(Some(calibration(1.05, &[20.0, 40.0])), "mean<=50ms");
        let a = search(&t, &q).unwrap();
        assert_eq!(a.prediction_band, None);
        assert!(
            a.no_prediction_band
                .as_deref()
                .unwrap()
                .starts_with("no prediction band: 2 held-out run(s); it takes 3 or more"),
            "{a:?}"
        );
        let (t, q) = mm1(Some(calibration(1.05, &[20.0, 40.0, 60.0])), "p95<=50ms");
        let e = search(&t, &q).unwrap_err().to_string();
        assert_eq!(
            e,
            "the calibration is of the mean's errors, the objective of the p95: a prediction band takes held-out errors of the objective's statistic (mean or p95)"
        );
        assert_eq!(calibrated_statistic(Stat::P(99)), None);
    }

    #[test]
    fn the_model_utilization_is_the_analytic_one_or_the_simulated_one() {
        let (t, mut q) = mm1(None, "mean<=50ms");
        let e = evaluate(&t, &q, 50.0).unwrap();
        assert!((e.utilization.unwrap() - 0.5).abs() < 1e-12, "{e:?}");
        q.simulate_only = true;
        for slo in ["mean<=50ms", "p95<=50ms"] {
            q.slo = Slo::parse(slo).unwrap();
            let e = evaluate(&t, &q, 50.0).unwrap();
            // 20,000 requests at U 0.5: the busy fraction within 0.02.
            let u = e.utilization.unwrap();
            assert!((u - 0.5).abs() < 0.02, "{slo}: {u}");
        }
    }
}
