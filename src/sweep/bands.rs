//! A sweep point's bands: the estimation band (the bound demands' joint
//! draws, each solved like the point) and the prediction band (held-out
//! errors, [`Calibration::band`]).

use super::{Calibration, Config, ProbePrediction, Statistic, solve_at};
use crate::load_scale;
use crate::model::Template;

/// Each probe's prediction bands: its mean's and p95's corrected by the
/// calibration's errors at the band's ends, widened by the amplification
/// at the model's utilization `u` ([`Calibration::band`]); an end that is
/// not a finite number is `None`, as is a band the calibration cannot
/// give (too few runs: the caller says why).
pub(super) fn prediction_bands(
    calibrations: &[Calibration],
    u: Option<f64>,
    probes: &mut [ProbePrediction],
) {
    let ends = |statistic: Statistic, stat: Option<f64>| {
        let c = calibrations.iter().find(|c| c.statistic == statistic)?;
        let b = c.band(stat?, u).ok()?;
        let finite = |x: f64| Some(x).filter(|x| x.is_finite());
        Some((finite(b.low_s), finite(b.high_s)))
    };
    for p in probes {
        (p.prediction_low_s, p.prediction_high_s) =
            ends(Statistic::Mean, p.mean_s).unwrap_or_default();
        (p.p95_prediction_low_s, p.p95_prediction_high_s) =
            ends(Statistic::P95, p.p95_s).unwrap_or_default();
    }
}

/// The 2.5 %–97.5 % band of each probe's mean over the binds' joint
/// draws (draw k sets every bound parameter to its k-th draw), every draw
/// solved like the point (simulated draws share the point's seed: common
/// random numbers). A draw with no steady state counts as an infinite
/// mean, so that a band reaching it has no upper end (`None`).
pub(super) fn band(
    template: &Template,
    settings: &[(&str, f64)],
    cfg: &Config,
    seed: u64,
    probes: &mut [ProbePrediction],
) {
    let n = cfg.binds[0].draws.len();
    let mut per_probe: Vec<Vec<f64>> = vec![Vec::with_capacity(n); probes.len()];
    for k in 0..n {
        let mut at: Vec<(&str, f64)> = settings.to_vec();
        for b in &cfg.binds {
            at.retain(|(name, _)| *name != b.param);
            at.push((&b.param, b.draws[k]));
        }
        let solved = load_scale::apply(template, &cfg.base, &at)
            .ok()
            .and_then(|p| solve_at(template, &p, cfg, seed).ok());
        for (j, probe) in probes.iter().enumerate() {
            let mean = solved
                .as_ref()
                .and_then(|(_, ps, _)| {
                    ps.iter()
                        .find(|q| q.name == probe.name && q.color == probe.color)
                })
                .and_then(|q| q.mean_s)
                .unwrap_or(f64::INFINITY);
            per_probe[j].push(mean);
        }
    }
    for (probe, mut v) in probes.iter_mut().zip(per_probe) {
        v.sort_by(f64::total_cmp);
        let q = |p: f64| Some(crate::stats::quantile_sorted(&v, p)).filter(|x| x.is_finite());
        probe.band_low_s = q(0.025);
        probe.band_high_s = q(0.975);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Axis, Grid, Method, run};
    use super::*;
    use crate::model::{LoadOptions, Params};
    use crate::validate::band::HeldOut;

    fn calibration(statistic: Statistic, errors: &[f64]) -> Calibration {
        Calibration {
            statistic,
            held_out: errors
                .iter()
                .map(|&error| HeldOut {
                    error,
                    utilization: Some(0.5),
                })
                .collect(),
            level: None,
            study: "s".into(),
        }
    }

    #[test]
    fn a_points_prediction_band_is_its_statistic_corrected_by_the_end_errors() {
        // M/M/1, D = 10 ms: R = D/(1 − λD), p95 = ln 20/(1/D − λ).
        let text = include_str!("../../models/qpn1-open.yaml");
        let template = Template::parse(text, LoadOptions::default().read_file).unwrap();
        let mut base = Params::new();
        for (k, v) in [("servers", 1.0), ("containers", 1.0), ("demand", 0.01)] {
            base.set(k, v);
        }
        let grid = Grid::new(vec![Axis::parse("arrival_rate=30,70").unwrap()], &template).unwrap();
        let cfg = Config {
            method: Method::Analytic,
            requests: 1000,
            replications: 1,
            warmup: crate::qpn::Warmup::Auto,
            seed: 1,
            base,
            binds: Vec::new(),
            load_scale: None,
            shard: None,
            sensitivity: false,
            calibrations: vec![
                calibration(Statistic::Mean, &[0.2, -0.1, 0.05]),
                calibration(Statistic::P95, &[0.0, 0.3, 0.1, -0.2]),
            ],
        };
        let points = run(&template, &grid, &cfg, &|| {});
        // λ 30: U 0.3, within the calibration loads (0.5): a = 1; λ 70:
        // U 0.7, a = 0.5/0.3.
        for (p, (lambda, a)) in points.iter().zip([(30.0, 1.0), (70.0, 5.0 / 3.0)]) {
            assert!((p.utilization.unwrap() - lambda * 0.01).abs() < 1e-12);
            let q = &p.probes[0];
            let r = 0.01 / (1.0 - lambda * 0.01);
            let p95 = 20f64.ln() / (100.0 - lambda);
            let close = |got: Option<f64>, want: f64| {
                assert!(
                    (got.unwrap() - want).abs() < 1e-12 * want,
                    "{got:?} vs {want}"
                );
            };
            close(q.mean_s, r);
            close(q.prediction_low_s, r * 1.1f64.powf(-a));
            close(q.prediction_high_s, r * 0.8f64.powf(-a));
            close(q.p95_s, p95);
            close(q.p95_prediction_low_s, p95 * 1.2f64.powf(-a));
            close(q.p95_prediction_high_s, p95 * 0.7f64.powf(-a));
        }
    }
}
