//! The plan's plot: every run's measured mean beside its prediction from a
//! fit on the others, with the prediction band; one row per run (names
//! on the axis, read across), ordered by load.

use plotters::prelude::*;

use super::{Chart, Drawn, FONT, GREY, MEASURED, PlotError, SIMULATED, draw, legend, robust_top};
use crate::validate::RunRow;

/// Pixels per run.
const ROW: u32 = 30;

/// Each run's band, measured and predicted mean, on row `i`.
fn points(c: &mut Chart<'_, '_>, rows: &[&RunRow], x_top: f64) -> Drawn {
    let ms = |x: Option<f64>| x.map(|v| 1e3 * v);
    let clip = |v: f64| v.min(x_top);
    c.draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
        let (lo, hi) = (ms(r.band_low_s)?, ms(r.band_high_s)?);
        let y = i as f64;
        Some(PathElement::new(
            vec![(clip(lo), y), (clip(hi), y)],
            GREY.stroke_width(2),
        ))
    }))?
    .label("prediction band")
    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], GREY.stroke_width(2)));
    c.draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
        Some(Circle::new(
            (clip(ms(r.measured_mean_s)?), i as f64),
            5,
            MEASURED.filled(),
        ))
    }))?
    .label("measured")
    .legend(|(x, y)| Circle::new((x + 9, y), 5, MEASURED.filled()));
    c.draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
        Some(Cross::new(
            (clip(ms(r.predicted_mean_s)?), i as f64),
            6,
            SIMULATED.stroke_width(2),
        ))
    }))?
    .label("predicted from the other runs")
    .legend(|(x, y)| Cross::new((x + 9, y), 6, SIMULATED.stroke_width(2)));
    Ok(())
}

/// The held-out runs, or `None` without one that was predicted.
pub fn held_out(rows: &[RunRow]) -> Result<Option<String>, PlotError> {
    let mut rows: Vec<&RunRow> = rows
        .iter()
        .filter(|r| r.measured_mean_s.is_some() && r.predicted_mean_s.is_some())
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    rows.sort_by(|a, b| {
        a.utilization
            .unwrap_or(0.0)
            .total_cmp(&b.utilization.unwrap_or(0.0))
    });
    let ms = |x: Option<f64>| x.map(|v| 1e3 * v);
    let values = rows.iter().flat_map(|r| {
        [
            ms(r.measured_mean_s),
            ms(r.predicted_mean_s),
            ms(r.band_high_s),
        ]
        .into_iter()
        .flatten()
    });
    let x_top = robust_top(values);
    let n = rows.len();
    let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let height = 90 + ROW * n as u32;
    let svg = draw("held-out runs", (1000, height), |root| {
        let mut c = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(170)
            .build_cartesian_2d(0.0..x_top, -0.5..(n as f64 - 0.5))?;
        c.configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                    names[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc("mean response time [ms]")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()?;
        points(&mut c, &rows, x_top)?;
        legend(&mut c, SeriesLabelPosition::LowerRight)?;
        Ok(())
    })?;
    Ok(Some(svg))
}
