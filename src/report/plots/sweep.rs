//! The sweep's plot: mean response time against the swept parameter.

use plotters::prelude::*;

use super::{
    ANALYTIC, Chart, Drawn, FONT, GREY, MEASURED, PlotError, SIMULATED, UTIL, draw, legend,
    line_key, top,
};

/// One line of a sweep plot in `colour`: its band (an open upper end
/// drawn to the top) where it has one, the line and its points.
fn sweep_line(
    c: &mut Chart<'_, '_>,
    colour: RGBColor,
    label: &str,
    pts: &[(f64, f64, Option<f64>, Option<f64>)],
    y_top: f64,
) -> Drawn {
    let band: Vec<(f64, f64, f64)> = pts
        .iter()
        .filter_map(|p| Some((p.0, p.2?, p.3.unwrap_or(y_top))))
        .collect();
    if band.len() > 1 {
        let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.1)).collect();
        poly.extend(band.iter().rev().map(|b| (b.0, b.2)));
        c.draw_series(std::iter::once(Polygon::new(
            poly,
            colour.mix(0.18).filled(),
        )))?;
    }
    c.draw_series(LineSeries::new(
        pts.iter().map(|p| (p.0, p.1)),
        colour.stroke_width(2),
    ))?
    .label(if band.len() > 1 {
        format!("{label} (band: 95 % of demand draws)")
    } else {
        label.to_string()
    })
    .legend(line_key(colour.stroke_width(2)));
    c.draw_series(
        pts.iter()
            .map(|p| Circle::new((p.0, p.1), 3, colour.filled())),
    )?;
    Ok(())
}

/// One line of a sweep plot: its label, and (x, mean, band low, band high)
/// per point with a mean.
pub type SweepLine = (String, Vec<(f64, f64, Option<f64>, Option<f64>)>);

/// Mean response time against the swept parameter: one line per value of
/// the other axes, each with its prediction band where there is one, the
/// objective as a dashed line and measured means as circles.
pub fn sweep_curve(
    x_name: &str,
    lines: &[SweepLine],
    slo_s: Option<f64>,
    measured: &[(f64, f64)],
) -> Result<Option<String>, PlotError> {
    let xs: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.1.iter().map(|p| p.0))
        .chain(measured.iter().map(|m| m.0))
        .collect();
    if xs.is_empty() {
        return Ok(None);
    }
    let (x0, x1) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let pad = if x1 > x0 { 0.03 * (x1 - x0) } else { 0.5 };
    let y_top = top(lines
        .iter()
        .flat_map(|l| l.1.iter().flat_map(|p| [Some(p.1), p.3]))
        .flatten()
        .chain(measured.iter().map(|m| m.1))
        .chain(slo_s));
    const PALETTE: [RGBColor; 5] = [SIMULATED, MEASURED, ANALYTIC, UTIL, GREY];
    draw("sweep", (760, 420), |root| {
        let mut c = ChartBuilder::on(root)
            .caption(format!("Mean response time against {x_name}"), (FONT, 15))
            .margin(8)
            .margin_right(20)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((x0 - pad)..(x1 + pad), 0.0..y_top)?;
        let tick = |v: &f64| crate::report::format::TEXT.value((v * 1e6).round() / 1e6);
        c.configure_mesh()
            .x_desc(x_name)
            .y_desc("mean response time [s]")
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .light_line_style(WHITE)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .draw()?;
        for (k, (label, pts)) in lines.iter().enumerate() {
            sweep_line(&mut c, PALETTE[k % PALETTE.len()], label, pts, y_top)?;
        }
        if let Some(s) = slo_s {
            let dashes =
                DashedLineSeries::new([(x0 - pad, s), (x1 + pad, s)], 6, 4, GREY.stroke_width(2));
            c.draw_series(dashes)?
                .label(format!("objective {s} s"))
                .legend(line_key(GREY.stroke_width(2)));
        }
        if !measured.is_empty() {
            c.draw_series(
                measured
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 6, BLACK.stroke_width(2))),
            )?
            .label("measured")
            .legend(|(x, y)| Circle::new((x + 7, y), 5, BLACK.stroke_width(2)));
        }
        legend(&mut c, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    })
    .map(Some)
}
