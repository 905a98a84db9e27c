//! The report's first screen: one row per study, how close its held-out
//! predictions came and what it flags.

use std::fmt::Write as _;

use super::{Section, file_stem};
use crate::markup::escape as esc;
use crate::study::{DataKind, ExperimentResult, StudyResult};

/// The first screen: one row per study saying how well it predicted the
/// runs it did not fit and what is not to be trusted, each linking to its
/// section (the table of contents).
pub(super) fn glance_html(out: &mut String, studies: &[Section<'_>]) {
    let header = [
        "study",
        "data",
        "experiments",
        "held out",
        "median |error|",
        "max |error|",
        "within 20 %",
        "prediction bands covered",
        "not to be trusted",
        "failed",
    ];
    out.push_str("<h2 id=\"at-a-glance\">At a glance</h2>\n<p class=\"small\">Per study: the experiments whose prediction did not use their own traces (held out), the absolute error of their mean response time, how often the prediction bands (calibrated on the study's own held-out runs, when it asks for validation) covered the measured mean, and how many the study flags as not to be trusted. Each study's section follows; details open on a click.</p>\n<div class=\"scroll\"><table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for section in studies {
        let s = section.result;
        let g = Glance::of(s);
        let cells = [
            s.data
                .map_or("–", |d| match d {
                    DataKind::Measured => "measured",
                    DataKind::Published => "published",
                    DataKind::Generated => "generated",
                })
                .to_string(),
            s.experiments.len().to_string(),
            g.held_out.to_string(),
            g.median.map_or("–".into(), |m| format!("{m:.1} %")),
            g.max.map_or("–".into(), |m| format!("{m:.1} %")),
            format!("{} of {}", g.within, g.errors),
            super::bands::glance_cell(section.validation),
            g.flagged.to_string(),
            s.failures.len().to_string(),
        ];
        let _ = write!(
            out,
            "<tr><th scope=\"row\"><a href=\"#{}\">{}</a></th>",
            esc(&file_stem(&s.name)),
            esc(&s.name)
        );
        for c in cells {
            let _ = write!(out, "<td>{}</td>", esc(&c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>\n");
}

/// A study in a few numbers: its held-out experiments' absolute errors
/// (every experiment's when none was fitted on its own traces).
struct Glance {
    held_out: usize,
    errors: usize,
    median: Option<f64>,
    max: Option<f64>,
    within: usize,
    flagged: usize,
}

impl Glance {
    fn of(s: &StudyResult) -> Self {
        let held: Vec<&ExperimentResult> = s.experiments.iter().filter(|e| held_out(e)).collect();
        let mut errors: Vec<f64> = held
            .iter()
            .filter_map(|e| e.error_pct.map(f64::abs))
            .collect();
        errors.sort_by(f64::total_cmp);
        let median = match errors.len() {
            0 => None,
            n if n % 2 == 1 => Some(errors[n / 2]),
            n => Some((errors[n / 2 - 1] + errors[n / 2]) / 2.0),
        };
        Self {
            held_out: held.len(),
            errors: errors.len(),
            median,
            max: errors.last().copied(),
            within: errors.iter().filter(|e| **e <= 20.0).count(),
            flagged: s
                .experiments
                .iter()
                .filter(|e| !e.warnings.is_empty())
                .count(),
        }
    }
}

/// Whether the experiment's prediction did not use its own traces: its
/// demands came from other runs, or were not estimated at all.
pub(super) fn held_out(e: &ExperimentResult) -> bool {
    e.estimation
        .as_ref()
        .is_none_or(|r| !r.runs.iter().any(|run| run.name == e.name))
}
