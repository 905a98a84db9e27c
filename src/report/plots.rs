//! The study's plots as SVG text (plotters' SVG backend). Every axis says
//! what it shows and in which unit.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::stats::grid_p;
use crate::study::{ExperimentResult, StudyResult};

mod plan;
mod sweep;
pub use plan::held_out;
pub use sweep::{SweepLine, sweep_curve};

/// A plot could not be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("plot `{plot}`: {message}")]
pub struct PlotError {
    /// Which plot.
    pub plot: String,
    /// What went wrong.
    pub message: String,
}

const MEASURED: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const SIMULATED: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const ANALYTIC: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
const UTIL: RGBColor = RGBColor(0xff, 0x7f, 0x0e);
const GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);
const FONT: &str = "sans-serif";

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Xy = Cartesian2d<RangedCoordf64, RangedCoordf64>;
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Xy>;
type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

fn draw(
    plot: &str,
    size: (u32, u32),
    body: impl FnOnce(&Area<'_>) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<String, PlotError> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        let err = |e: &dyn std::fmt::Display| PlotError {
            plot: plot.into(),
            message: e.to_string(),
        };
        root.fill(&WHITE).map_err(|e| err(&e))?;
        body(&root).map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(buf)
}

/// Values this many times the median of a plot's values are outliers
/// that would flatten the rest (a saturated run's 27 s beside 10 ms).
const OUTLIER: f64 = 5.0;

/// An axis top no outlier flattens: [`top`] of the values within
/// [`OUTLIER`] × their median; the values above it are drawn at the top
/// and marked with [`mark_clipped`].
fn robust_top(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    v.sort_by(f64::total_cmp);
    let Some(&median) = v.get(v.len() / 2) else {
        return 1.0;
    };
    top(v.into_iter().filter(|x| *x <= OUTLIER * median))
}

/// Each experiment's largest value above the axis' `y_top`, written at the
/// top of its column ("↑ 27.1").
fn mark_clipped(c: &mut Chart<'_, '_>, largest: &[Option<f64>], y_top: f64) -> Drawn {
    let style = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    c.draw_series(largest.iter().enumerate().filter_map(|(i, v)| {
        let v = (*v).filter(|v| *v > y_top)?;
        Some(Text::new(
            format!("↑ {}", crate::report::sig(Some(v))),
            (i as f64, y_top),
            style.clone(),
        ))
    }))?;
    Ok(())
}

/// A "nice" upper bound for an axis: 10 % above the largest value.
fn top(values: impl IntoIterator<Item = f64>) -> f64 {
    let m = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    if m > 0.0 { m * 1.1 } else { 1.0 }
}

/// The legend's sample of a line series drawn with `style`.
fn line_key(style: impl Into<ShapeStyle>) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    let style = style.into();
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style)
}

fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Xy>,
    position: SeriesLabelPosition,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(GREY)
        .label_font((FONT, 12))
        .draw()
}

/// Writes category names under a chart whose x axis runs over indices.
fn category_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Xy>,
    names: &[String],
    y: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let style = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    // The chart's coordinates are the backend's; `root` may be a panel.
    let (bx, by) = root.get_base_pixel();
    for (i, n) in names.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64, y));
        root.draw(&Text::new(n.clone(), (px - bx, py - by + 6), style.clone()))?;
    }
    Ok(())
}

/// Measured response time and utilization per interval over the run.
pub fn over_time(e: &ExperimentResult) -> Result<Option<String>, PlotError> {
    let Some(t) = &e.traces else {
        return Ok(None);
    };
    if t.series.is_empty() {
        return Ok(None);
    }
    let x_max = t.series.last().map_or(1.0, |p| p.t_s).max(1e-9);
    let r: Vec<(f64, f64)> = t
        .series
        .iter()
        .filter_map(|p| p.response_s.map(|v| (p.t_s, v)))
        .collect();
    let u: Vec<(f64, f64)> = t
        .series
        .iter()
        .filter_map(|p| p.utilization.map(|v| (p.t_s, v)))
        .collect();
    let r_top = top(r.iter().map(|p| p.1).chain(e.simulated_s));
    draw(&format!("{} over time", e.name), (1120, 460), |root| {
        let (a, b) = root.split_horizontally(560);
        let mut c = ChartBuilder::on(&a)
            .caption(
                format!("{}: response time per interval", e.name),
                (FONT, 15),
            )
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..x_max, 0f64..r_top)?;
        c.configure_mesh()
            .x_desc("time since start [s]")
            .y_desc("mean R [s]")
            .light_line_style(WHITE)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .draw()?;
        c.draw_series(LineSeries::new(r, MEASURED.stroke_width(1)))?
            .label("measured, per interval")
            .legend(line_key(MEASURED));
        if let Some(s) = e.simulated_s {
            c.draw_series(LineSeries::new(
                vec![(0.0, s), (x_max, s)],
                SIMULATED.stroke_width(2),
            ))?
            .label("simulated mean")
            .legend(line_key(SIMULATED));
        }
        legend(&mut c, SeriesLabelPosition::UpperRight)?;
        let mut c = ChartBuilder::on(&b)
            .caption(
                format!("{}: CPU utilization per interval", e.name),
                (FONT, 15),
            )
            .margin(8)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..x_max, 0f64..1.0)?;
        c.configure_mesh()
            .x_desc("time since start [s]")
            .y_desc("utilization [fraction]")
            .light_line_style(WHITE)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .draw()?;
        c.draw_series(LineSeries::new(u, UTIL.stroke_width(1)))?
            .label("measured (mean over containers)")
            .legend(line_key(UTIL));
        legend(&mut c, SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
    .map(Some)
}

/// Five numbers of a box: p5, p25, p50, p75, p95.
fn five(q: &[f64]) -> Option<[f64; 5]> {
    (q.len() == crate::stats::QUANTILE_GRID).then(|| [q[4], q[24], q[49], q[74], q[94]])
}

fn exact_five(v: &mut [f64]) -> Option<[f64; 5]> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    Some([at(0.05), at(0.25), at(0.5), at(0.75), at(0.95)])
}

fn draw_box<DB: DrawingBackend>(
    c: &mut ChartContext<'_, DB, Xy>,
    x: f64,
    half: f64,
    b: [f64; 5],
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let s = color.stroke_width(1);
    c.draw_series([
        PathElement::new(vec![(x, b[0]), (x, b[1])], s),
        PathElement::new(vec![(x, b[3]), (x, b[4])], s),
        PathElement::new(vec![(x - half / 2.0, b[0]), (x + half / 2.0, b[0])], s),
        PathElement::new(vec![(x - half / 2.0, b[4]), (x + half / 2.0, b[4])], s),
        PathElement::new(
            vec![(x - half, b[2]), (x + half, b[2])],
            color.stroke_width(2),
        ),
    ])?;
    c.draw_series([Rectangle::new([(x - half, b[1]), (x + half, b[3])], s)])?;
    c.draw_series([Rectangle::new(
        [(x - half, b[1]), (x + half, b[3])],
        color.mix(0.2).filled(),
    )])?;
    Ok(())
}

/// A chart with one column per category (`n` of them, named by
/// [`category_labels`]) over `y` on the vertical axis.
fn category_chart<'a, 'b>(
    root: &'a Area<'b>,
    caption: &str,
    n: usize,
    y: std::ops::Range<f64>,
    (x_desc, y_desc): (&str, &str),
) -> Result<Chart<'a, 'b>, DrawingAreaErrorKind<std::io::Error>> {
    let mut c = ChartBuilder::on(root)
        .caption(caption, (FONT, 15))
        .margin(8)
        .margin_right(20)
        .x_label_area_size(34)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.6f64..(n as f64 - 0.4), y)?;
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .light_line_style(WHITE)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 13))
        .draw()?;
    Ok(c)
}

/// A study-wide plot's width for `n` experiments: at most what a laptop's
/// page shows at full size (the report cuts studies into panels of a few
/// experiments, so labels stay apart).
fn width_for(n: usize) -> u32 {
    (200 + 110 * n as u32).clamp(640, 1100)
}

/// Box plots (p5, p25, median, p75, p95) of measured and simulated response
/// times per experiment.
pub fn response_boxes(s: &StudyResult) -> Result<Option<String>, PlotError> {
    type Row<'a> = (&'a ExperimentResult, Option<[f64; 5]>, Option<[f64; 5]>);
    let rows: Vec<Row<'_>> = s
        .experiments
        .iter()
        .map(|e| {
            (
                e,
                e.measured.as_ref().and_then(|m| five(&m.quantiles_s)),
                five(&e.simulated.quantiles_s),
            )
        })
        .collect();
    if rows.iter().all(|r| r.1.is_none() && r.2.is_none()) {
        return Ok(None);
    }
    let y_top = robust_top(
        rows.iter()
            .flat_map(|r| r.1.iter().chain(r.2.iter()).map(|b| b[4])),
    );
    let largest: Vec<Option<f64>> = rows
        .iter()
        .map(|r| r.1.iter().chain(r.2.iter()).map(|b| b[4]).reduce(f64::max))
        .collect();
    let clip = |b: [f64; 5]| b.map(|v| v.min(y_top));
    let names: Vec<String> = rows.iter().map(|r| r.0.name.clone()).collect();
    draw(
        "response-time box plots",
        (width_for(names.len()), 380),
        |root| {
            let mut c = category_chart(
                root,
                "Response time per experiment (box: p25–p75, line: median, whiskers: p5–p95)",
                names.len(),
                0.0..y_top,
                ("experiment", "response time [s]"),
            )?;
            for (i, (_, m, sim)) in rows.iter().enumerate() {
                let x = i as f64;
                match (m, sim) {
                    (Some(m), Some(sm)) => {
                        draw_box(&mut c, x - 0.17, 0.14, clip(*m), MEASURED)?;
                        draw_box(&mut c, x + 0.17, 0.14, clip(*sm), SIMULATED)?;
                    }
                    (Some(m), None) => draw_box(&mut c, x, 0.2, clip(*m), MEASURED)?,
                    (None, Some(sm)) => draw_box(&mut c, x, 0.2, clip(*sm), SIMULATED)?,
                    (None, None) => {}
                }
            }
            mark_clipped(&mut c, &largest, y_top)?;
            for (label, color) in [("measured", MEASURED), ("simulated", SIMULATED)] {
                c.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                    .label(label)
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.mix(0.5).filled())
                    });
            }
            legend(&mut c, SeriesLabelPosition::UpperRight)?;
            category_labels(root, &c, &names, 0.0)?;
            Ok(())
        },
    )
    .map(Some)
}

/// Box plots of the measured per-interval utilization per experiment.
pub fn utilization_boxes(s: &StudyResult) -> Result<Option<String>, PlotError> {
    let rows: Vec<(String, [f64; 5])> = s
        .experiments
        .iter()
        .filter_map(|e| {
            let mut v: Vec<f64> = e
                .traces
                .as_ref()?
                .series
                .iter()
                .filter_map(|p| p.utilization)
                .collect();
            Some((e.name.clone(), exact_five(&mut v)?))
        })
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    draw(
        "utilization box plots",
        (width_for(names.len()), 360),
        |root| {
            let mut c = category_chart(
                root,
                "Measured CPU utilization per interval (box: p25–p75, whiskers: p5–p95)",
                names.len(),
                0.0..1.0,
                ("experiment", "utilization [fraction]"),
            )?;
            for (i, (_, b)) in rows.iter().enumerate() {
                draw_box(&mut c, i as f64, 0.2, *b, UTIL)?;
            }
            category_labels(root, &c, &names, 0.0)?;
            Ok(())
        },
    )
    .map(Some)
}

/// Mean response time per experiment: measured, simulated (95 % CI bars)
/// and analytic.
pub fn simulated_vs_measured(s: &StudyResult) -> Result<Option<String>, PlotError> {
    if s.experiments.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = s.experiments.iter().map(|e| e.name.clone()).collect();
    let values = |e: &ExperimentResult| {
        [
            e.measured_s,
            e.simulated_s
                .map(|m| m + e.simulated.ci_half_width_s.unwrap_or(0.0)),
            e.analytic_s,
        ]
        .into_iter()
        .flatten()
    };
    let y_top = robust_top(s.experiments.iter().flat_map(values));
    let largest: Vec<Option<f64>> = s
        .experiments
        .iter()
        .map(|e| values(e).reduce(f64::max))
        .collect();
    let clip = |v: f64| v.min(y_top);
    draw(
        "simulated vs measured",
        (width_for(names.len()), 380),
        |root| {
            let mut c = category_chart(
                root,
                "Mean response time: measured, simulated (95 % CI) and analytic",
                names.len(),
                0.0..y_top,
                ("experiment", "mean response time [s]"),
            )?;
            let meas: Vec<(f64, f64)> = s
                .experiments
                .iter()
                .enumerate()
                .filter_map(|(i, e)| e.measured_s.map(|m| (i as f64 - 0.15, clip(m))))
                .collect();
            c.draw_series(meas.iter().map(|&p| Circle::new(p, 5, MEASURED.filled())))?
                .label("measured")
                .legend(|(x, y)| Circle::new((x + 7, y), 5, MEASURED.filled()));
            c.draw_series(s.experiments.iter().enumerate().filter_map(|(i, e)| {
                let m = e.simulated_s?;
                let h = e.simulated.ci_half_width_s.unwrap_or(0.0);
                Some(ErrorBar::new_vertical(
                    i as f64 + 0.05,
                    clip(m - h),
                    clip(m),
                    clip(m + h),
                    SIMULATED.filled().stroke_width(2),
                    10,
                ))
            }))?
            .label("simulated ± 95 % CI")
            .legend(|(x, y)| Circle::new((x + 7, y), 4, SIMULATED.filled()));
            c.draw_series(s.experiments.iter().enumerate().filter_map(|(i, e)| {
                Some(TriangleMarker::new(
                    (i as f64 + 0.25, clip(e.analytic_s?)),
                    6,
                    ANALYTIC.filled(),
                ))
            }))?
            .label("analytic")
            .legend(|(x, y)| TriangleMarker::new((x + 7, y), 5, ANALYTIC.filled()));
            band_bars(&mut c, s, y_top)?;
            mark_clipped(&mut c, &largest, y_top)?;
            let position = legend_corner(s, y_top);
            legend(&mut c, position)?;
            category_labels(root, &c, &names, 0.0)?;
            Ok(())
        },
    )
    .map(Some)
}

/// The band from each demand's interval, where it was estimated (an open
/// upper end drawn to the top), beside the experiment's other marks.
fn band_bars(c: &mut Chart<'_, '_>, s: &StudyResult, y_top: f64) -> Drawn {
    let bands: Vec<(f64, f64, f64)> = s
        .experiments
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let [lo, hi] = e.prediction_band_s?;
            let hi = hi.unwrap_or(y_top).min(y_top);
            Some((i as f64 + 0.35, lo?.min(hi), hi))
        })
        .collect();
    if !bands.is_empty() {
        c.draw_series(
            bands
                .iter()
                .map(|&(x, lo, hi)| ErrorBar::new_vertical(x, lo, lo, hi, GREY.stroke_width(2), 8)),
        )?
        .label("band from the demand's 95 % interval")
        .legend(line_key(GREY.stroke_width(2)));
    }
    Ok(())
}

/// The right-hand corner the last four experiments' points leave freer,
/// for the legend.
fn legend_corner(s: &StudyResult, y_top: f64) -> SeriesLabelPosition {
    let corner = |lo: f64, hi: f64| {
        s.experiments
            .iter()
            .rev()
            .take(4)
            .flat_map(|e| [e.measured_s, e.simulated_s, e.analytic_s])
            .flatten()
            .filter(|v| (lo * y_top..=hi * y_top).contains(v))
            .count()
    };
    if corner(0.0, 0.35) < corner(0.65, 1.0) {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    }
}

/// The estimated demands with their 95 % bootstrap intervals: one panel
/// per class (small multiples, the methods named on each axis), so that
/// nine classes of eight methods stay legible; the true demand where known.
pub fn demands(e: &ExperimentResult) -> Result<Option<String>, PlotError> {
    let Some(r) = &e.estimation else {
        return Ok(None);
    };
    if r.estimates.is_empty() {
        return Ok(None);
    }
    let mut classes: Vec<&str> = Vec::new();
    for x in &r.estimates {
        if !classes.contains(&x.class.as_str()) {
            classes.push(&x.class);
        }
    }
    let cols = classes.len().min(3);
    let rows = classes.len().div_ceil(cols);
    let (w, h) = (if cols == 1 { 560 } else { 1100 }, 300 * rows as u32 + 40);
    draw(&format!("{} demands", e.name), (w, h), |root| {
        let (title, body) = root.split_vertically(40);
        title.titled(
            &format!(
                "{}: estimated demand per class and method (95 % bootstrap CI)",
                e.name
            ),
            (FONT, 16),
        )?;
        for (area, class) in body.split_evenly((rows, cols)).iter().zip(&classes) {
            let rows: Vec<&crate::estimate::Estimate> =
                r.estimates.iter().filter(|x| x.class == *class).collect();
            // The true demand is one number: the one class's.
            let truth = e.true_demand_s.filter(|_| classes.len() == 1);
            demand_panel(area, class, &rows, truth)?;
        }
        Ok(())
    })
    .map(Some)
}

/// One class's estimates by method.
fn demand_panel(
    area: &Area<'_>,
    class: &str,
    rows: &[&crate::estimate::Estimate],
    truth: Option<f64>,
) -> Result<(), Box<dyn std::error::Error>> {
    let names: Vec<String> = rows
        .iter()
        .map(|x| {
            if x.method.starts_with("combined") {
                "combined".to_string()
            } else {
                x.method.clone()
            }
        })
        .collect();
    // Zoomed on the estimates (the axis says where it starts): from 0 the
    // CIs of a good estimation would be invisible.
    let ends = rows
        .iter()
        .flat_map(|x| {
            [
                x.ci_low_s.unwrap_or(x.demand_s),
                x.ci_high_s.unwrap_or(x.demand_s),
            ]
        })
        .chain(truth)
        .filter(|v| v.is_finite());
    let (lo, hi) = ends.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let pad = ((hi - lo) * 0.25).max(hi.abs() * 0.02).max(1e-12);
    let (y_lo, y_top) = ((lo - pad).max(0.0), hi + pad);
    let mut c = category_chart(
        area,
        class,
        names.len(),
        y_lo..y_top,
        ("method", "demand [s]"),
    )?;
    c.draw_series(rows.iter().enumerate().map(|(i, x)| {
        ErrorBar::new_vertical(
            i as f64,
            x.ci_low_s.unwrap_or(x.demand_s),
            x.demand_s,
            x.ci_high_s.unwrap_or(x.demand_s),
            MEASURED.filled().stroke_width(2),
            10,
        )
    }))?;
    if let Some(t) = truth {
        c.draw_series(LineSeries::new(
            vec![(-0.6, t), (names.len() as f64 - 0.4, t)],
            ANALYTIC.stroke_width(2),
        ))?
        .label("true demand")
        .legend(line_key(ANALYTIC.stroke_width(2)));
        legend(&mut c, SeriesLabelPosition::UpperRight)?;
    }
    category_labels(area, &c, &names, y_lo)?;
    Ok(())
}

/// The CDFs of the simulated and the measured response times.
pub fn cdfs(e: &ExperimentResult) -> Result<Option<String>, PlotError> {
    let sim = &e.simulated.quantiles_s;
    let meas: &[f64] = e.measured.as_ref().map_or(&[], |m| &m.quantiles_s);
    if sim.is_empty() && meas.is_empty() {
        return Ok(None);
    }
    let x_top = top(sim.iter().chain(meas).copied());
    let line = |q: &[f64]| -> Vec<(f64, f64)> {
        let mut v = vec![(0.0, 0.0)];
        v.extend(q.iter().enumerate().map(|(i, &x)| (x, grid_p(i))));
        v
    };
    draw(&format!("{} CDF", e.name), (560, 340), |root| {
        let mut c = ChartBuilder::on(root)
            .caption(
                format!("{}: distribution of response times", e.name),
                (FONT, 15),
            )
            .margin(8)
            .margin_right(20)
            .x_label_area_size(34)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..x_top, 0f64..1.0)?;
        c.configure_mesh()
            .x_desc("response time [s]")
            .y_desc("P(R ≤ x)")
            .light_line_style(WHITE)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .draw()?;
        if !meas.is_empty() {
            c.draw_series(LineSeries::new(line(meas), MEASURED.stroke_width(2)))?
                .label("measured")
                .legend(line_key(MEASURED.stroke_width(2)));
        }
        if !sim.is_empty() {
            c.draw_series(LineSeries::new(line(sim), SIMULATED.stroke_width(2)))?
                .label("simulated")
                .legend(line_key(SIMULATED.stroke_width(2)));
        }
        if let Some(m) = e
            .measured
            .as_ref()
            .and_then(|m| m.mean_s)
            .filter(|_| meas.is_empty())
        {
            c.draw_series(LineSeries::new(
                vec![(m, 0.0), (m, 1.0)],
                MEASURED.stroke_width(2),
            ))?
            .label("measured mean (published)")
            .legend(line_key(MEASURED.stroke_width(2)));
        }
        legend(&mut c, SeriesLabelPosition::LowerRight)?;
        Ok(())
    })
    .map(Some)
}
