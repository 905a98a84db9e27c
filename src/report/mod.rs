//! Reports of a study: the Table-10-style summary, the plots as SVG, and
//! one self-contained HTML page (inline SVG and CSS, no script, no
//! network).
//!
//! Everything here returns text; the caller writes files.

mod bands;
pub mod format;
mod glance;
mod plan;
pub mod plots;
#[cfg(feature = "png")]
pub mod png;

use std::fmt::Write as _;

use crate::estimate::Report;
use crate::markup::escape as esc;
use crate::study::{ExperimentResult, StudyResult};
use crate::validate::Validation;
use format::{HTML, Notation};
use glance::{glance_html, held_out};
pub use plan::plan_html;
pub use plots::PlotError;

/// A JSON document as demandsim writes its results: pretty, every
/// object's keys sorted by name at every level (so that a document does
/// not depend on the order of a struct's fields), and a final newline.
///
/// # Errors
/// A value JSON cannot hold (a map whose keys are not strings).
pub fn json(value: &impl serde::Serialize) -> serde_json::Result<Vec<u8>> {
    // Through `Value`, whose objects are sorted maps.
    let mut out = serde_json::to_vec_pretty(&serde_json::to_value(value)?)?;
    out.push(b'\n');
    Ok(out)
}

/// One figure: a file stem and its SVG text.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File name without extension (`sim-vs-measured`, `ET1-cdf`, …).
    pub stem: String,
    /// Caption for the report.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
    /// The experiment it belongs to (`None`: the whole study).
    pub experiment: Option<String>,
}

/// Every plot of the study: the study-wide ones first, then per experiment.
///
/// # Errors
/// [`PlotError`] when plotters fails (it should not with finite data).
pub fn figures(s: &StudyResult) -> Result<Vec<Figure>, PlotError> {
    let mut out = Vec::new();
    let mut add = |stem: String, caption: &str, svg: Option<String>, exp: Option<&str>| {
        if let Some(svg) = svg {
            out.push(Figure {
                stem,
                caption: caption.into(),
                svg,
                experiment: exp.map(str::to_string),
            });
        }
    };
    let parts = panels(s);
    for (k, part) in parts.iter().enumerate() {
        let (stem, of) = match parts.len() {
            1 => (String::new(), String::new()),
            n => (format!("-{}", k + 1), format!(" ({} of {n})", k + 1)),
        };
        add(
            format!("sim-vs-measured{stem}"),
            &format!(
                "Mean response time per experiment{of}: measured, simulated with its 95 % confidence interval, and the analytic solution where the model has one."
            ),
            plots::simulated_vs_measured(part)?,
            None,
        );
        add(
            format!("response-boxes{stem}"),
            &format!("Response-time distributions per experiment{of}, measured and simulated."),
            plots::response_boxes(part)?,
            None,
        );
        add(
            format!("utilization-boxes{stem}"),
            &format!("Measured CPU utilization per interval, per experiment{of}."),
            plots::utilization_boxes(part)?,
            None,
        );
    }
    for e in &s.experiments {
        let stem = file_stem(&e.name);
        add(
            format!("{stem}-over-time"),
            "Measured response time and utilization per interval.",
            plots::over_time(e)?,
            Some(&e.name),
        );
        add(
            format!("{stem}-demands"),
            "Estimated demand per method with its bootstrap confidence interval.",
            plots::demands(e)?,
            Some(&e.name),
        );
        add(
            format!("{stem}-cdf"),
            "Cumulative distribution of the response times.",
            plots::cdfs(e)?,
            Some(&e.name),
        );
    }
    Ok(out)
}

/// Most experiments in one study-wide plot: more make its labels overlap
/// or its text too small on a laptop's screen.
const PER_PANEL: usize = 8;

/// The study cut into panels of at most [`PER_PANEL`] experiments, as
/// even as can be (small multiples instead of one plot too wide to read).
fn panels(s: &StudyResult) -> Vec<StudyResult> {
    let n = s.experiments.len();
    let k = n.div_ceil(PER_PANEL).max(1);
    let size = n.div_ceil(k).max(1);
    let chunks: Vec<&[ExperimentResult]> = match n {
        0 => vec![&[]],
        _ => s.experiments.chunks(size).collect(),
    };
    chunks
        .into_iter()
        .map(|c| StudyResult {
            name: s.name.clone(),
            description: s.description.clone(),
            data: s.data,
            seed: s.seed,
            experiments: c.to_vec(),
            failures: Vec::new(),
        })
        .collect()
}

/// A file-name-safe form of an experiment name.
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The experiment's parameter values, in one small paragraph.
fn params_html(out: &mut String, e: &ExperimentResult) {
    let params: Vec<String> = e
        .params
        .iter()
        .map(|(k, v)| format!("{k} = {}", param_value(*v)))
        .collect();
    let _ = writeln!(
        out,
        "<p class=\"small\">Parameters: {}.</p>",
        esc(&params.join(", "))
    );
}

/// A parameter's value: a whole number as one (`containers = 1`, not
/// `1.000`), else four significant digits.
fn param_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        sig(Some(v))
    }
}

/// Four significant digits, `–` for none (the report's notation).
pub fn sig(v: Option<f64>) -> String {
    HTML.num(v)
}

/// A signed percentage with one decimal.
pub fn pct(v: Option<f64>) -> String {
    HTML.pct(v)
}

/// A fraction (utilization, relative error) as a percentage with one
/// decimal.
fn frac_pct(v: Option<f64>) -> String {
    HTML.frac_pct(v)
}

/// A relative error as a percentage, capped: beyond 100 % the number says
/// nothing more than "off by more than 2×" (the reason is in the verdicts).
fn capped(n: Notation, v: Option<f64>) -> String {
    match v {
        Some(e) if e > 1.0 => "> 100 %".into(),
        v => n.frac_pct(v),
    }
}

/// The comparison table, one row per statistic (mean, percentiles):
/// measured, simulated with its CI, and the error with the study's sign,
/// for the terminal and the report in notation `n`.
pub fn comparison_rows(
    c: &crate::compare::Comparison,
    n: Notation,
) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "statistic",
        "measured [s]",
        "simulated [s]",
        "± CI [s]",
        "error",
    ];
    let rows = c
        .lines
        .iter()
        .map(|l| {
            vec![
                l.statistic.to_string(),
                n.num(Some(l.measured_s)),
                n.num(Some(l.simulated_s)),
                n.num(l.simulated_ci_half_width_s),
                n.pct(Some(l.error_pct)),
            ]
        })
        .collect();
    (header, rows)
}

/// The estimation table, one row per method and class: the same columns
/// for the terminal and the report, in notation `n`.
pub fn estimate_rows(r: &Report, n: Notation) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "method",
        "class",
        "demand [s]",
        "95 % CI [s]",
        "rel. R error",
        "rel. U error",
        "",
    ];
    let rows = r
        .estimates
        .iter()
        .map(|x| {
            let recommended = r.recommended.as_deref() == Some(x.method.as_str());
            vec![
                x.method.clone(),
                x.class.clone(),
                n.num(Some(x.demand_s)),
                n.range(x.ci_low_s, x.ci_high_s),
                capped(n, x.rel_rt_error),
                capped(n, x.rel_util_error),
                match (x.identifiable, x.distrusted.is_some(), recommended) {
                    (false, _, _) => "not identifiable",
                    (true, true, _) => "not trusted",
                    (true, false, true) => "recommended",
                    (true, false, false) => "",
                }
                .into(),
            ]
        })
        .collect();
    (header, rows)
}

/// The per-class table of a study (empty when no experiment has a
/// prediction per class): measured against predicted mean and p95, per
/// request class, then per user class (a behaviour workload's profiles).
pub fn class_rows(s: &StudyResult) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "experiment",
        "class",
        "requests",
        "measured R [s]",
        "predicted R [s]",
        "error",
        "measured p95 [s]",
        "predicted p95 [s]",
        "p95 error",
    ];
    let rows = s
        .experiments
        .iter()
        .flat_map(|e| {
            let requests = e.classes.iter().map(|c| (c, c.class.clone()));
            let users = e
                .user_classes
                .iter()
                .map(|c| (c, format!("{} (user class)", c.class)));
            requests.chain(users).map(|(c, class)| {
                vec![
                    e.name.clone(),
                    class,
                    c.requests.to_string(),
                    sig(c.measured_mean_s),
                    sig(c.predicted_mean_s),
                    pct(c.error_pct),
                    sig(c.measured_p95_s),
                    sig(c.predicted_p95_s),
                    pct(c.p95_error_pct),
                ]
            })
        })
        .collect();
    (header, rows)
}

/// The summary rows: one per experiment, the columns of the reference
/// study's Table 10 and more; columns empty in every row are left out.
/// With the study's validation (`v`), each prediction's band calibrated on
/// its held-out errors beside the estimation band.
pub fn summary_rows(
    s: &StudyResult,
    v: Option<&Validation>,
) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "experiment",
        "model",
        "demand [s] (95 % CI)",
        "true demand [s]",
        "demand error",
        "simulated R [s] (± CI)",
        "analytic R [s]",
        "estimation band [s]",
        "prediction band [s]",
        "measured R [s]",
        "error",
        "analytic error",
        "measured U",
        "simulated U",
        "workload",
        "measured X [1/s]",
        "predicted X [1/s]",
        "X error",
        "latency offset [s] (95 % CI)",
    ];
    let rows: Vec<Vec<String>> = s
        .experiments
        .iter()
        .map(|e| {
            let mut row = vec![
                e.name.clone(),
                e.model.clone(),
                match (e.demand_s, e.demand_ci_s) {
                    (Some(d), Some((a, b))) => {
                        format!("{} ({}–{})", sig(Some(d)), sig(Some(a)), sig(Some(b)))
                    }
                    (d, _) => sig(d),
                },
                sig(e.true_demand_s),
                pct(e.demand_error_pct),
                match (e.simulated_s, e.simulated.ci_half_width_s) {
                    (Some(m), Some(h)) => format!("{} ± {}", sig(Some(m)), sig(Some(h))),
                    (m, _) => sig(m),
                },
                sig(e.analytic_s),
                match e.prediction_band_s {
                    Some([lo, hi]) => {
                        format!("{}–{}", sig(lo), hi.map_or("∞".into(), |h| sig(Some(h))))
                    }
                    None => "–".into(),
                },
                bands::band_cell(v, e),
                sig(e.measured_s),
                pct(e.error_pct),
                pct(e.analytic_error_pct),
                frac_pct(e.traces.as_ref().and_then(|t| t.mean_utilization)),
                frac_pct(e.simulated_utilization),
            ];
            row.extend(workload_cells(s, e));
            row
        })
        .collect();
    let keep: Vec<bool> = (0..header.len())
        .map(|c| c < 2 || rows.is_empty() || rows.iter().any(|r| r[c] != "–"))
        .collect();
    fn kept<T>(v: Vec<T>, keep: &[bool]) -> Vec<T> {
        v.into_iter()
            .zip(keep)
            .filter_map(|(x, k)| k.then_some(x))
            .collect()
    }
    let rows = rows.into_iter().map(|r| kept(r, &keep)).collect();
    (kept(header, &keep), rows)
}

/// The workload reading (shown when some experiment of the study is
/// closed), the closed reading's throughputs, and the latency offset.
fn workload_cells(s: &StudyResult, e: &crate::study::ExperimentResult) -> [String; 5] {
    use crate::study::Reading;
    let any_closed = s
        .experiments
        .iter()
        .any(|x| matches!(x.reading, Reading::Closed { .. }));
    let (mx, px, xe) = match &e.reading {
        Reading::Closed {
            measured_throughput,
            predicted_throughput,
            throughput_error_pct,
            ..
        } => (
            sig(*measured_throughput),
            sig(*predicted_throughput),
            pct(*throughput_error_pct),
        ),
        Reading::Open => ("–".into(), "–".into(), "–".into()),
    };
    let offset = match &e.latency_offset {
        Some(o) => format!(
            "{} ({}–{})",
            sig(Some(o.offset_s)),
            sig(Some(o.ci_s.0)),
            sig(Some(o.ci_s.1))
        ),
        None => "–".into(),
    };
    let reading = if any_closed {
        e.reading.describe()
    } else {
        "–".into()
    };
    [reading, mx, px, xe, offset]
}

fn table_html(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    out.push_str("<div class=\"scroll\"><table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let _ = if i == 0 {
                write!(out, "<th scope=\"row\">{}</th>", esc(c))
            } else {
                write!(out, "<td>{}</td>", esc(c))
            };
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>\n");
}

fn figure_html(out: &mut String, f: &Figure) {
    let _ = writeln!(
        out,
        "<figure id=\"{}\">{}<figcaption>{}</figcaption></figure>",
        esc(&f.stem),
        f.svg,
        esc(&f.caption)
    );
}

fn experiment_html(
    out: &mut String,
    sid: &str,
    e: &ExperimentResult,
    v: Option<&Validation>,
    figs: &[Figure],
) {
    let stem = file_stem(&e.name);
    let _ = write!(
        out,
        "<details id=\"{}-{}\"><summary><b>{}</b>: error {}{}{}</summary>\n<p>Model <code>{}</code> ({}), seed {}, {} events simulated; analytic: {}.</p>\n",
        esc(sid),
        esc(&stem),
        esc(&e.name),
        esc(&pct(e.error_pct)),
        if held_out(e) {
            ", held out"
        } else {
            ", in-sample"
        },
        if e.warnings.is_empty() {
            ""
        } else {
            " — <span class=\"fail\">not to be trusted</span>"
        },
        esc(&e.model_file),
        esc(&e.model),
        e.seed,
        e.events,
        esc(e.analytic.describe())
    );
    params_html(out, e);
    bands::experiment_band_html(out, v, e);
    if let Some(t) = &e.traces {
        let _ = writeln!(
            out,
            "<p>Traces: {} requests over {} s ({} req/s), mean CPU utilization {}.</p>",
            t.requests,
            sig(Some(t.duration_s)),
            sig(Some(t.throughput)),
            frac_pct(t.mean_utilization)
        );
    }
    if let Some(r) = &e.estimation {
        let (header, rows) = estimate_rows(r, HTML);
        let _ = writeln!(
            out,
            "<h4>Estimation</h4><p class=\"small\">{} intervals of {} s, {}-fold cross-validation; {} saturated and {} empty intervals left out.</p>",
            r.intervals,
            sig(Some(r.interval_s)),
            r.folds,
            r.diagnostics.saturated,
            r.diagnostics.empty
        );
        table_html(out, &header, &rows);
        for f in &r.failures {
            let _ = writeln!(out, "<p class=\"warn\">{}</p>", esc(&f.to_string()));
        }
    }
    if let Some(c) = &e.comparison {
        let (header, rows) = comparison_rows(c, HTML);
        out.push_str("<h4>Comparison</h4>\n");
        table_html(out, &header, &rows);
        if let (Some(ks), Some(w)) = (c.ks, c.wasserstein_s) {
            let _ = writeln!(
                out,
                "<p class=\"small\">Kolmogorov–Smirnov distance {ks:.3}; Wasserstein distance {} s.</p>",
                sig(Some(w))
            );
        }
    }
    out.push_str("<div class=\"figs\">\n");
    for f in figs
        .iter()
        .filter(|f| f.experiment.as_deref() == Some(e.name.as_str()))
    {
        figure_html(out, f);
    }
    out.push_str("</div></details>\n");
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1200px;padding:1rem 1.5rem;color:#222;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;font-size:.88rem;font-variant-numeric:tabular-nums}th,td{padding:.25rem .55rem;border-bottom:1px solid #e3e3e3;text-align:right;white-space:nowrap}
thead th{background:#f3f3f3;position:sticky;top:0}tbody th{text-align:left}tr:hover td,tr:hover th{background:#fafaf0}
.scroll{overflow-x:auto;max-width:100%}.small{font-size:.88rem;color:#555}.warn{color:#a40}.fail{color:#b00}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.85rem;color:#555}
.figs{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}details{margin:.3rem 0}summary{cursor:pointer;padding:.15rem 0}details[open]>summary{margin-bottom:.4rem}nav a{margin-right:.6rem;white-space:nowrap}code{font-size:.9em}";
/// A self-contained page for a sweep: the headline first, the plot, then
/// the table of points.
pub fn sweep_html(
    title: &str,
    headline: &str,
    svg: Option<&str>,
    header: &[&str],
    rows: &[Vec<String>],
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} — demandsim sweep</title><style>{CSS}</style></head><body>\n<h1>{}</h1>\n<p>{}</p>\n",
        esc(title),
        esc(title),
        esc(headline),
    );
    if let Some(svg) = svg {
        let _ = writeln!(out, "<figure>{svg}</figure>");
    }
    table_html(&mut out, header, rows);
    let _ = writeln!(
        out,
        "<p class=\"small\">demandsim {}. Times in seconds. Bands: 2.5–97.5 % of the predicted mean over the estimated demand's bootstrap draws.</p></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// One study in the report: its results, its validation (when the study
/// asks for one), its figures.
#[derive(Debug, Clone)]
pub struct Section<'a> {
    /// The study's results.
    pub result: &'a StudyResult,
    /// Its validation: each prediction's prediction band.
    pub validation: Option<&'a Validation>,
    /// Its figures ([`figures`]).
    pub figures: Vec<Figure>,
}

/// The whole report as one HTML document: `title`, then each study with
/// its summary table, its figures and one section per experiment.
pub fn html(title: &str, studies: &[Section<'_>]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} — demandsim report</title><style>{CSS}</style></head><body>\n<h1>{}</h1>\n<p class=\"small\">demandsim {}. Error % = (measured − simulated) / measured × 100: positive means the model predicts faster responses than were measured; demand error = (true − estimated) / true × 100. Times in seconds; utilization as a fraction of all CPUs of a container.</p>\n",
        esc(title),
        esc(title),
        env!("CARGO_PKG_VERSION"),
    );
    glance_html(&mut out, studies);
    for s in studies {
        study_html(&mut out, s);
    }
    out.push_str("</body></html>\n");
    out
}

/// One study's section: its head and links, the summary, what is not to
/// be trusted, the per-class table, failures, its figures and each
/// experiment.
fn study_html(out: &mut String, section: &Section<'_>) {
    let (s, v, figs) = (section.result, section.validation, &section.figures);
    let sid = file_stem(&s.name);
    let _ = write!(
        out,
        "<h2 id=\"{}\">Study {}</h2>\n<p>{}</p>\n{}<p class=\"small\">Seed {}.</p>\n<nav>",
        esc(&sid),
        esc(&s.name),
        esc(&s.description),
        s.data
            .map(|d| format!(
                "<p class=\"data\"><b>Data:</b> {}.</p>\n",
                esc(d.describe())
            ))
            .unwrap_or_default(),
        s.seed
    );
    for e in &s.experiments {
        // One link per line: the newline is where a long list wraps.
        let _ = writeln!(
            out,
            "<a href=\"#{}-{}\">{}</a>",
            esc(&sid),
            esc(&file_stem(&e.name)),
            esc(&e.name)
        );
    }
    out.push_str("</nav>\n");
    let (header, rows) = summary_rows(s, v);
    table_html(out, &header, &rows);
    bands::bands_note_html(out, v);
    notes_html(out, s);
    out.push_str("<div class=\"figs\">\n");
    for f in figs.iter().filter(|f| f.experiment.is_none()) {
        figure_html(out, f);
    }
    out.push_str("</div>\n");
    out.push_str("<h3>Experiments</h3>\n");
    for e in &s.experiments {
        experiment_html(out, &sid, e, v, figs);
    }
}

/// The warnings, the per-class table and the failures of a study.
fn notes_html(out: &mut String, s: &StudyResult) {
    let warned: Vec<_> = s
        .experiments
        .iter()
        .filter(|e| !e.warnings.is_empty())
        .collect();
    if !warned.is_empty() {
        out.push_str("<h3 class=\"fail\">Predictions not to be trusted</h3><ul>");
        for e in warned {
            for w in &e.warnings {
                let _ = write!(out, "<li><b>{}</b>: {}</li>", esc(&e.name), esc(w));
            }
        }
        out.push_str("</ul>\n");
    }
    let (header, rows) = class_rows(s);
    if !rows.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary><b>Per request class</b> ({} rows)</summary>\n<p class=\"small\">Measured against predicted mean and 95th percentile per class (the model's colour of the class's name); error % with the study's sign.</p>",
            rows.len()
        );
        table_html(out, &header, &rows);
        out.push_str("</details>\n");
    }
    if !s.failures.is_empty() {
        out.push_str("<h3 class=\"fail\">Failed experiments</h3><ul>");
        for f in &s.failures {
            let _ = write!(
                out,
                "<li class=\"fail\"><b>{}</b>: {}</li>",
                esc(&f.name),
                esc(&f.error)
            );
        }
        out.push_str("</ul>\n");
    }
}
