//! A calibration: the held-out relative errors of one statistic (the mean,
//! or the p95 where the runs have per-request traces) that a prediction
//! band is built from, with the level asked of the band. `sweep`,
//! `capacity` and the plan take one, made from a [`super::Validation`] in
//! memory (`Calibration::from_validation`) or read back from the JSON of
//! `demandsim validate --format json` ([`Calibration::from_json`]).
//!
//! Its errors are the calibration runs' (each predicted from a fit on the
//! other calibration runs), the errors `validate` builds its bands from
//! and measures their coverage with; the held-out runs' errors (predicted
//! by the fit on all of them) are what that coverage is measured on, and
//! are left out as `validate` leaves them out. This file knows nothing of
//! studies, so that `sweep` and `capacity` can take a calibration without
//! depending on what runs a validation.

use serde::{Deserialize, Serialize};

use super::band::{HeldOut, NoBand, PredictionBand, prediction_band};

/// A run's role in the validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Predicted from a fit on the other calibration runs; its error
    /// calibrates the others' bands.
    Calibration,
    /// Predicted by the study's own fit; its band is calibrated on every
    /// calibration run.
    HeldOut,
    /// Held out with its whole load level.
    LoadLevel,
}

/// The statistic a calibration's errors are of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    /// The mean response time.
    Mean,
    /// The 95th percentile.
    P95,
}

impl std::fmt::Display for Statistic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Mean => "mean",
            Self::P95 => "p95",
        })
    }
}

/// The held-out errors of one statistic, and the level asked of the band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// Which statistic the errors are of.
    pub statistic: Statistic,
    /// The calibration runs' errors, with the model's utilization at each
    /// run's load (for the widening beyond their loads).
    pub held_out: Vec<HeldOut>,
    /// The band's level (`None`: the smallest and largest error, the level
    /// (n − 1)/(n + 1)).
    pub level: Option<f64>,
    /// The validated study.
    pub study: String,
}

/// Why a calibration cannot be had.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    /// Not the JSON `validate` writes.
    #[error("not the JSON of `demandsim validate --format json`: {0}")]
    NotValidation(String),
    /// The validation has the mean's errors but not this statistic's.
    #[error(
        "the validation of `{study}` has no calibration run with a measured and a predicted {statistic} (it takes per-request traces): no {statistic} calibration"
    )]
    Missing {
        /// The study.
        study: String,
        /// The statistic asked for.
        statistic: Statistic,
    },
}

/// (measured − predicted) / measured, where both are known and the
/// measured value is positive.
pub fn relative_error(measured: Option<f64>, predicted: Option<f64>) -> Option<f64> {
    match (measured, predicted) {
        (Some(m), Some(p)) if m > 0.0 && p.is_finite() => Some((m - p) / m),
        _ => None,
    }
}

/// What a calibration reads of one predicted run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RunErrors {
    /// Its role.
    pub role: Role,
    /// The mean's relative error.
    pub mean: Option<f64>,
    /// The p95's.
    pub p95: Option<f64>,
    /// The load the widening reads: the model's utilization at the run's
    /// load, else the measured one.
    pub load: Option<f64>,
}

impl Calibration {
    /// The calibration runs' errors of `statistic`.
    ///
    /// # Errors
    /// [`CalibrationError::Missing`]: the p95 asked of runs that have a
    /// mean's error and no p95's.
    pub(crate) fn of_runs(
        study: &str,
        level: Option<f64>,
        runs: &[RunErrors],
        statistic: Statistic,
    ) -> Result<Self, CalibrationError> {
        let calibration = runs.iter().filter(|r| r.role == Role::Calibration);
        let error = |r: &RunErrors| match statistic {
            Statistic::Mean => r.mean,
            Statistic::P95 => r.p95,
        };
        let held_out: Vec<HeldOut> = calibration
            .clone()
            .filter_map(|r| {
                Some(HeldOut {
                    error: error(r)?,
                    utilization: r.load,
                })
            })
            .collect();
        if held_out.is_empty() && calibration.clone().any(|r| r.mean.is_some()) {
            return Err(CalibrationError::Missing {
                study: study.to_string(),
                statistic,
            });
        }
        Ok(Self {
            statistic,
            held_out,
            level,
            study: study.to_string(),
        })
    }

    /// The calibration of `statistic` from the JSON `demandsim validate
    /// --format json` writes.
    ///
    /// # Errors
    /// [`CalibrationError::NotValidation`] (with serde's line and column),
    /// [`CalibrationError::Missing`].
    pub fn from_json(
        reader: impl std::io::Read,
        statistic: Statistic,
    ) -> Result<Self, CalibrationError> {
        let file: ValidationFile = serde_json::from_reader(reader)
            .map_err(|e| CalibrationError::NotValidation(e.to_string()))?;
        let runs: Vec<RunErrors> = file
            .runs
            .iter()
            .map(|r| RunErrors {
                role: r.role,
                mean: r.error,
                p95: relative_error(r.measured_p95_s, r.predicted_p95_s),
                load: r.model_utilization.or(r.utilization),
            })
            .collect();
        Self::of_runs(&file.study, file.level, &runs, statistic)
    }

    /// Calibration runs.
    pub fn runs(&self) -> usize {
        self.held_out.len()
    }

    /// The band of the measured statistic around `predicted_s`, whose
    /// model's utilization is `target_u` ([`prediction_band`]).
    ///
    /// # Errors
    /// [`NoBand`].
    pub fn band(&self, predicted_s: f64, target_u: Option<f64>) -> Result<PredictionBand, NoBand> {
        prediction_band(&self.held_out, predicted_s, target_u, self.level)
    }
}

/// What a calibration reads of `validate`'s JSON.
#[derive(Debug, Deserialize)]
struct ValidationFile {
    study: String,
    /// Required, to tell validate's JSON from others with `runs`.
    #[allow(dead_code)]
    protocol: String,
    #[serde(default)]
    level: Option<f64>,
    runs: Vec<RowFile>,
}

/// One row of it.
#[derive(Debug, Deserialize)]
struct RowFile {
    role: Role,
    utilization: Option<f64>,
    model_utilization: Option<f64>,
    error: Option<f64>,
    measured_p95_s: Option<f64>,
    predicted_p95_s: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(rows: &str) -> String {
        format!(
            r#"{{"study": "s", "protocol": "p", "level": null, "coverage": 1.0, "runs": [{rows}]}}"#
        )
    }

    fn row(role: &str, u: f64, error: f64, p95: Option<(f64, f64)>) -> String {
        let (m, p) = p95.map_or(("null".into(), "null".into()), |(m, p)| {
            (m.to_string(), p.to_string())
        });
        format!(
            r#"{{"name": "r", "role": "{role}", "utilization": {u}, "model_utilization": null, "error": {error}, "measured_p95_s": {m}, "predicted_p95_s": {p}}}"#
        )
    }

    #[test]
    fn the_calibration_runs_errors_are_read_back_from_validate_json() {
        let rows = [
            row("calibration", 0.3, 0.1, Some((2.0, 1.5))),
            row("calibration", 0.5, -0.2, Some((4.0, 5.0))),
            row("held_out", 0.6, 0.4, Some((1.0, 0.5))),
            row("calibration", 0.4, 0.05, None),
        ];
        let text = json(&rows.join(","));
        let c = Calibration::from_json(text.as_bytes(), Statistic::Mean).unwrap();
        let errors: Vec<f64> = c.held_out.iter().map(|h| h.error).collect();
        assert_eq!(errors, [0.1, -0.2, 0.05]);
        assert_eq!(c.held_out[1].utilization, Some(0.5));
        assert_eq!((c.runs(), c.study.as_str(), c.level), (3, "s", None));
        let p = Calibration::from_json(text.as_bytes(), Statistic::P95).unwrap();
        let errors: Vec<f64> = p.held_out.iter().map(|h| h.error).collect();
        // (2 − 1.5)/2 and (4 − 5)/4; the third run has no p95.
        assert_eq!(errors, [0.25, -0.25]);
        let b = c.band(1.0, Some(0.4)).unwrap();
        assert!((b.low_s - 1.0 / 1.2).abs() < 1e-12 && (b.high_s - 1.0 / 0.9).abs() < 1e-12);
    }

    #[test]
    fn other_json_and_a_missing_p95_say_what_is_wrong() {
        let e = Calibration::from_json(&br#"{"points": []}"#[..], Statistic::Mean).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("not the JSON of `demandsim validate --format json`: missing field"),
            "{e}"
        );
        let text = json(&row("calibration", 0.3, 0.1, None));
        let e = Calibration::from_json(text.as_bytes(), Statistic::P95).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the validation of `s` has no calibration run with a measured and a predicted p95 (it takes per-request traces): no p95 calibration"
        );
        // Too few runs is no error here: the band says so.
        let c = Calibration::from_json(text.as_bytes(), Statistic::Mean).unwrap();
        assert_eq!(c.band(1.0, None), Err(NoBand::TooFew { runs: 1 }));
    }
}
