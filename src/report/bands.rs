//! The prediction band beside each of a study's predictions: calibrated
//! on the held-out errors of the study's own validation (its `validate:`
//! section), labelled for what it is, next to the estimation band.

use std::fmt::Write as _;

use super::{esc, sig};
use crate::study::ExperimentResult;
use crate::validate::{NoBand, PredictionBand, Statistic, Validation};

/// The mean's prediction band of experiment `e`'s prediction, or why
/// there is none; `None` without a validation or a prediction.
pub(super) fn mean_band(
    v: Option<&Validation>,
    e: &ExperimentResult,
) -> Option<Result<PredictionBand, NoBand>> {
    let predicted = e.simulated_s?;
    let load = e
        .simulated_utilization
        .or(e.traces.as_ref().and_then(|t| t.mean_utilization));
    v?.band_for(&e.name, predicted, load, Statistic::Mean)
}

/// The summary table's cell: the band's ends, or "–".
pub(super) fn band_cell(v: Option<&Validation>, e: &ExperimentResult) -> String {
    match mean_band(v, e) {
        Some(Ok(b)) if b.high_s > crate::validate::band::UNBOUNDED_S => {
            format!("{}–unbounded", sig(Some(b.low_s)))
        }
        Some(Ok(b)) => format!("{}–{}", sig(Some(b.low_s)), sig(Some(b.high_s))),
        _ => "–".into(),
    }
}

/// The sentence under a study's summary table: what the two bands are,
/// what the prediction band is calibrated on and how often it covered.
pub(super) fn bands_note_html(out: &mut String, v: Option<&Validation>) {
    let Some(v) = v else {
        out.push_str("<p class=\"small\">Estimation band: the prediction at the ends of the demands' 95 % intervals (the estimate's noise only, not the model's error). No prediction band: the study has no <code>validate:</code> section.</p>\n");
        return;
    };
    let calibration = v
        .runs
        .iter()
        .filter(|r| r.role == crate::validate::Role::Calibration && r.error.is_some())
        .count();
    let _ = write!(
        out,
        "<p class=\"small\">Estimation band: the prediction at the ends of the demands' 95 % intervals (the estimate's noise only). Prediction band: calibrated on {calibration} held-out runs of this study ({}), each predicted from a fit on the others, widened beyond their loads; ",
        esc(&v.protocol)
    );
    match (v.coverage, v.nominal) {
        (Some(c), Some(n)) => {
            let _ = write!(
                out,
                "it covered the measured mean in {} of {} runs ({:.0} %) against {:.0} % stated.",
                v.covered,
                v.with_band,
                100.0 * c,
                100.0 * n
            );
        }
        _ => out.push_str("no run had a band to check."),
    }
    for n in &v.notes {
        let _ = write!(out, " {}.", esc(n.trim_end_matches('.')));
    }
    out.push_str("</p>\n");
}

/// An experiment's band in its details: both bands, and whether the
/// measured mean lies in the prediction band.
pub(super) fn experiment_band_html(out: &mut String, v: Option<&Validation>, e: &ExperimentResult) {
    let est = e.prediction_band_s.map(|[lo, hi]| {
        format!(
            "estimation band {}–{} s",
            sig(lo),
            hi.map_or("∞".into(), |h| sig(Some(h)))
        )
    });
    let pred = match mean_band(v, e) {
        Some(Ok(b)) => Some(format!(
            "{} {}–{} s{}",
            b.label(),
            sig(Some(b.low_s)),
            sig(Some(b.high_s)),
            match e.measured_s {
                Some(m) if b.covers(m) => ", the measured mean inside it",
                Some(_) => ", the measured mean outside it",
                None => "",
            }
        )),
        Some(Err(why)) => Some(format!("no prediction band: {why}")),
        None => None,
    };
    let parts: Vec<String> = [est, pred].into_iter().flatten().collect();
    if !parts.is_empty() {
        let _ = writeln!(
            out,
            "<p>Predicted mean {} s: {}.</p>",
            sig(e.simulated_s),
            esc(&parts.join("; "))
        );
    }
}

/// The first screen's cell: held-out runs the bands covered, or "–".
pub(super) fn glance_cell(v: Option<&Validation>) -> String {
    match v {
        Some(v) if v.with_band > 0 => format!(
            "{} of {} ({:.0} % stated)",
            v.covered,
            v.with_band,
            100.0 * v.nominal.unwrap_or(0.0)
        ),
        _ => "–".into(),
    }
}
