//! The prediction band: split-conformal on the relative errors of held-out
//! runs, widened by the load amplification when the target lies beyond
//! the calibration runs' loads.
//!
//! Each held-out run gives a relative error r = (measured − predicted) /
//! measured, i.e. measured = predicted / (1 − r). With n such errors
//! exchangeable with the target's, the target's error lies between the
//! k-th smallest and the k-th largest of them with probability at least
//! (n + 1 − 2k) / (n + 1) (k = 1: between the smallest and the largest,
//! (n − 1)/(n + 1)). The band claims that level and never more: with n
//! runs it cannot claim more than (n − 1)/(n + 1), and with fewer than
//! three there is no band.
//!
//! Beyond the calibration loads, errors grow with the queue's
//! amplification 1/(1 − U): the band's ends are widened by the ratio
//! a = (1 − U_cal)/(1 − U_target) of the target's amplification to the
//! largest calibration run's, on the log scale (measured/predicted =
//! (1/(1 − r))^a), which keeps both ends positive and finite and equals
//! scaling r by a to first order.

use serde::Serialize;

/// The fewest held-out runs that give a band.
pub const MIN_RUNS: usize = 3;

/// A response time band whose upper end reaches beyond an hour (widened
/// far beyond the calibration loads, near saturation) has no upper end
/// worth a number: tables and the report say "unbounded".
pub const UNBOUNDED_S: f64 = 3600.0;

/// One held-out run's error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HeldOut {
    /// (measured − predicted) / measured.
    pub error: f64,
    /// The run's utilization (fraction), when known.
    pub utilization: Option<f64>,
}

/// A prediction band for one predicted mean.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictionBand {
    /// Low end, seconds.
    pub low_s: f64,
    /// High end, seconds.
    pub high_s: f64,
    /// The level it claims: (n + 1 − 2k)/(n + 1).
    pub nominal: f64,
    /// Held-out runs it is calibrated on (n).
    pub calibration_runs: usize,
    /// The relative errors at its ends before widening (the k-th smallest
    /// and largest).
    pub errors: (f64, f64),
    /// The amplification ratio it was widened by (1: the target is within
    /// the calibration runs' loads).
    pub widened_by: f64,
}

impl PredictionBand {
    /// Its label in reports.
    pub fn label(&self) -> String {
        format!(
            "prediction band, calibrated on {} held-out runs ({:.0} %)",
            self.calibration_runs,
            100.0 * self.nominal
        )
    }

    /// Whether `measured_s` lies in it.
    pub fn covers(&self, measured_s: f64) -> bool {
        self.low_s <= measured_s && measured_s <= self.high_s
    }
}

/// Why there is no band.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoBand {
    /// Fewer than [`MIN_RUNS`] held-out errors.
    #[error(
        "no prediction band: {runs} held-out run(s); it takes {MIN_RUNS} or more runs with traces, each predicted from a fit on the others (add runs at other loads to the estimation runs)"
    )]
    TooFew {
        /// Held-out errors available.
        runs: usize,
    },
    /// The target saturates the queue (U ≥ 1) or its prediction is not a
    /// positive number.
    #[error("no prediction band: the target's prediction has no steady state")]
    NoSteadyState,
    /// An error that is not a number below 1.
    #[error("no prediction band: a held-out error ({0}) is not a number below 1")]
    BadError(f64),
}

/// The band of the measured mean around `predicted_s`, from the held-out
/// errors, at the largest k whose level is at least `level` (None: k = 1,
/// the smallest and largest error); `target_u` is the target's
/// utilization, for the widening beyond the calibration loads.
///
/// # Errors
/// [`NoBand`]: fewer than three errors, a target at U ≥ 1, an error that
/// is not a finite number below 1.
pub fn prediction_band(
    held_out: &[HeldOut],
    predicted_s: f64,
    target_u: Option<f64>,
    level: Option<f64>,
) -> Result<PredictionBand, NoBand> {
    let n = held_out.len();
    if n < MIN_RUNS {
        return Err(NoBand::TooFew { runs: n });
    }
    if !(predicted_s.is_finite() && predicted_s > 0.0) || target_u.is_some_and(|u| u >= 1.0) {
        return Err(NoBand::NoSteadyState);
    }
    let mut errors: Vec<f64> = held_out.iter().map(|h| h.error).collect();
    if let Some(&bad) = errors.iter().find(|e| !(e.is_finite() && **e < 1.0)) {
        return Err(NoBand::BadError(bad));
    }
    errors.sort_by(f64::total_cmp);
    let k = order(n, level);
    let (lo, hi) = (errors[k - 1], errors[n - k]);
    let widened_by = amplification_ratio(held_out, target_u);
    Ok(PredictionBand {
        low_s: corrected(predicted_s, lo, widened_by),
        high_s: corrected(predicted_s, hi, widened_by),
        nominal: nominal(n, k),
        calibration_runs: n,
        errors: (lo, hi),
        widened_by,
    })
}

/// The prediction corrected by a held-out error `r` widened by `a`:
/// predicted · (1 − r)^(−a) (a = 1: the measured value a run with error r
/// would have had).
pub fn corrected(predicted: f64, r: f64, a: f64) -> f64 {
    predicted * (1.0 - r).powf(-a)
}

/// The level of the band between the k-th smallest and k-th largest of n
/// errors.
pub fn nominal(n: usize, k: usize) -> f64 {
    (n + 1).saturating_sub(2 * k) as f64 / (n + 1) as f64
}

/// The largest k (at least 1) whose level is at least `level`; 1 without
/// a level (or when even k = 1 falls short: the band then claims its own,
/// lower, level).
fn order(n: usize, level: Option<f64>) -> usize {
    let Some(level) = level else { return 1 };
    (1..=n / 2)
        .take_while(|&k| nominal(n, k) >= level - 1e-12)
        .last()
        .unwrap_or(1)
}

/// (1 − U_cal)/(1 − U_target) when the target's utilization exceeds the
/// largest calibration run's, else 1.
pub fn amplification_ratio(held_out: &[HeldOut], target_u: Option<f64>) -> f64 {
    let cal = held_out
        .iter()
        .filter_map(|h| h.utilization)
        .fold(f64::NEG_INFINITY, f64::max);
    match target_u {
        Some(t) if cal.is_finite() && t > cal && t < 1.0 => (1.0 - cal) / (1.0 - t),
        _ => 1.0,
    }
}

/// The hull of the estimation band and the prediction band.
pub fn combined(estimation: Option<(f64, f64)>, prediction: &PredictionBand) -> (f64, f64) {
    match estimation {
        Some((lo, hi)) => (lo.min(prediction.low_s), hi.max(prediction.high_s)),
        None => (prediction.low_s, prediction.high_s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(errors: &[f64], u: f64) -> Vec<HeldOut> {
        errors
            .iter()
            .map(|&error| HeldOut {
                error,
                utilization: Some(u),
            })
            .collect()
    }

    #[test]
    fn the_band_spans_the_smallest_and_largest_error_at_level_n_minus_1_over_n_plus_1() {
        let h = runs(&[0.1, -0.2, 0.05, 0.0], 0.5);
        let b = prediction_band(&h, 2.0, Some(0.5), None).unwrap();
        // measured = predicted / (1 − r): r −0.2 → 2/1.2, r 0.1 → 2/0.9.
        assert!((b.low_s - 2.0 / 1.2).abs() < 1e-12, "{b:?}");
        assert!((b.high_s - 2.0 / 0.9).abs() < 1e-12, "{b:?}");
        assert!((b.nominal - 3.0 / 5.0).abs() < 1e-12);
        assert_eq!(b.widened_by, 1.0);
        assert!(b.covers(2.0) && !b.covers(2.3));
        assert_eq!(
            b.label(),
            "prediction band, calibrated on 4 held-out runs (60 %)"
        );
    }

    #[test]
    fn a_level_picks_inner_order_statistics_and_never_claims_more_than_n_allows() {
        let errors: Vec<f64> = (0..19).map(|i| f64::from(i) / 100.0 - 0.09).collect();
        let h = runs(&errors, 0.3);
        // n 19: k 1 → 18/20, k 2 → 16/20 = 0.8.
        let b = prediction_band(&h, 1.0, None, Some(0.8)).unwrap();
        assert!((b.nominal - 0.8).abs() < 1e-12);
        assert!((b.errors.0 - -0.08).abs() < 1e-12 && (b.errors.1 - 0.08).abs() < 1e-12);
        // 0.99 is more than 19 runs can claim: the extreme errors, at 90 %.
        let b = prediction_band(&h, 1.0, None, Some(0.99)).unwrap();
        assert!((b.nominal - 0.9).abs() < 1e-12, "{b:?}");
    }

    #[test]
    fn fewer_than_three_runs_give_no_band_and_say_what_would() {
        let e = prediction_band(&runs(&[0.1, 0.2], 0.4), 1.0, None, None).unwrap_err();
        assert_eq!(e, NoBand::TooFew { runs: 2 });
        assert!(e.to_string().contains("3 or more runs"), "{e}");
    }

    #[test]
    fn beyond_the_calibration_loads_the_ends_widen_by_the_amplification_ratio() {
        let h = runs(&[0.1, -0.1, 0.0], 0.5);
        // U 0.75 against 0.5: amplification 4 against 2, a = 2.
        let b = prediction_band(&h, 1.0, Some(0.75), None).unwrap();
        assert!((b.widened_by - 2.0).abs() < 1e-12);
        assert!((b.high_s - 1.0 / 0.81).abs() < 1e-12, "{b:?}");
        assert!((b.low_s - 1.0 / 1.21).abs() < 1e-12, "{b:?}");
        // Below the calibration loads: not widened.
        let b = prediction_band(&h, 1.0, Some(0.2), None).unwrap();
        assert_eq!(b.widened_by, 1.0);
        assert!(prediction_band(&h, 1.0, Some(1.0), None).is_err());
        let c = combined(Some((0.5, 1.05)), &b);
        assert!((c.0 - 0.5).abs() < 1e-12 && (c.1 - 1.0 / 0.9).abs() < 1e-12);
    }
}
