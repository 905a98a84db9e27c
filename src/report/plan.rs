//! The plan's page: the answer first, how far to trust it, then what it
//! rests on (the held-out runs, the fitted demands, every choice made).

use std::fmt::Write as _;

use super::{CSS, PlotError, esc, plots, table_html};
use crate::plan::Plan;

fn ms(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), |v| format!("{:.1}", 1e3 * v))
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), |e| format!("{:+.0} %", 100.0 * e))
}

/// The page.
///
/// # Errors
/// [`PlotError`] when the plot cannot be drawn.
pub fn plan_html(p: &Plan) -> Result<String, PlotError> {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Capacity plan — demandsim</title><style>{CSS}</style></head><body>\n<h1>Capacity plan</h1>\n"
    );
    for a in &p.answers {
        let lines = a.lines();
        let _ = write!(
            out,
            "<p style=\"font-size:1.35rem\"><b>{}</b></p><ul>",
            esc(&lines[0])
        );
        for l in &lines[1..] {
            let _ = write!(out, "<li>{}</li>", esc(l));
        }
        out.push_str("</ul>\n");
    }
    let v = &p.validation;
    let trust = match (v.coverage, v.nominal) {
        (Some(c), Some(n)) => format!(
            "Each of the {} runs was predicted from a fit on the others: their prediction bands covered {:.0} % of the measured means, against {:.0} % stated; the median |error| was {}.",
            v.runs.len(),
            100.0 * c,
            100.0 * n,
            v.summary
                .median_abs_error
                .map_or("—".into(), |e| format!("{:.0} %", 100.0 * e))
        ),
        _ => "Too few runs were predicted from the others for a prediction band.".into(),
    };
    let _ = writeln!(
        out,
        "<p>{}</p>\n<nav><a href=\"#held-out\">Held-out runs</a><a href=\"#demands\">Demands</a><a href=\"#decisions\">Decisions</a></nav>",
        esc(&trust)
    );
    held_out(&mut out, p)?;
    demands(&mut out, p);
    let _ = write!(out, "<h2 id=\"decisions\">Decisions</h2>");
    let rows: Vec<Vec<String>> = p
        .decisions
        .iter()
        .map(|d| vec![d.what.clone(), d.chosen.clone(), d.why.clone()])
        .collect();
    table_html(&mut out, &["what", "chosen", "why"], &rows);
    let _ = writeln!(
        out,
        "<p class=\"small\">demandsim {}, seed {}. The model: <code>{}</code>. Error = (measured − predicted) / measured.</p></body></html>",
        env!("CARGO_PKG_VERSION"),
        p.seed,
        esc(&p.model_file)
    );
    Ok(out)
}

fn held_out(out: &mut String, p: &Plan) -> Result<(), PlotError> {
    let _ = write!(out, "<h2 id=\"held-out\">Held-out runs</h2>");
    if let Some(svg) = plots::held_out(&p.validation.runs)? {
        let _ = write!(
            out,
            "<figure>{svg}<figcaption>Each run's measured mean response time and its prediction from a fit on the other runs, with the prediction band; runs ordered by load.</figcaption></figure>"
        );
    }
    let rows: Vec<Vec<String>> = p
        .validation
        .runs
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.utilization.map_or("—".into(), |u| format!("{u:.2}")),
                ms(r.measured_mean_s),
                ms(r.predicted_mean_s),
                pct(r.error),
                format!("{} – {}", ms(r.band_low_s), ms(r.band_high_s)),
                ms(r.measured_p95_s),
                ms(r.predicted_p95_s),
            ]
        })
        .collect();
    out.push_str("<details><summary>The table</summary>");
    table_html(
        out,
        &[
            "run",
            "U",
            "measured ms",
            "predicted ms",
            "error",
            "prediction band ms",
            "measured p95 ms",
            "predicted p95 ms",
        ],
        &rows,
    );
    out.push_str("</details>\n");
    Ok(())
}

fn demands(out: &mut String, p: &Plan) {
    let f = &p.fit;
    let _ = write!(
        out,
        "<h2 id=\"demands\">Demands</h2><p>CPU seconds per request of each class at {}'s load ({}), fitted on {} runs; non-CPU time per request {:.2} ms{}.</p>",
        esc(&f.base),
        esc(&f.method),
        f.runs.len(),
        1e3 * f.latency_offset_s,
        f.background_utilization
            .map(|u| format!("; background work {u:.2} of the CPUs"))
            .unwrap_or_default()
    );
    let rows: Vec<Vec<String>> = f
        .classes
        .iter()
        .map(|c| {
            vec![
                c.class.clone(),
                format!("{:.2}", 1e3 * c.demand_s),
                c.ci_s.map_or("—".into(), |(lo, hi)| {
                    format!("{:.2} – {:.2}", 1e3 * lo, 1e3 * hi)
                }),
                format!("{:.1} %", 100.0 * c.share),
            ]
        })
        .collect();
    table_html(
        out,
        &[
            "class",
            "demand ms",
            "95 % interval ms",
            "share of requests",
        ],
        &rows,
    );
}
