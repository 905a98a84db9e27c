//! Step 4: simulation and analysis of the instantiated model, and the band
//! of the prediction over the estimated demands' intervals.

use super::params::Estimated;
use super::{Analytic, Experiment, ExperimentError};
use crate::behavior::to_qpn::ColourRole;
use crate::compare::Summary;
use crate::model::{Model, Params, Stability, Template};
use crate::qpn::{Control, RunConfig, StopRule, choose_probe, simulate};

/// The prediction at the ends of the estimated demands' intervals (each
/// demand's 2.5 % and 97.5 % bootstrap quantiles, all demands at their
/// low ends together and at their high ends together): the band of the
/// predicted mean, since the mean rises with every demand. Analytic where
/// the model is solved, else simulated with the prediction's seed (common
/// random numbers). An end without a steady state has no value; no band
/// when an estimated demand has no interval. A low end below zero is
/// taken as (nearly) zero.
pub(super) fn band(
    e: &Experiment,
    template: &Template,
    params: &Params,
    estimated: &[Estimated],
    seed: u64,
    p: &Prediction,
) -> Option<[Option<f64>; 2]> {
    let ends: Vec<(&str, (f64, f64))> = estimated
        .iter()
        .map(|(name, (_, ci))| ci.map(|ci| (name.as_str(), ci)))
        .collect::<Option<_>>()?;
    if ends.is_empty() {
        return None;
    }
    let at = |high: bool| -> Option<f64> {
        let mut q = params.clone();
        for (name, (lo, hi)) in &ends {
            // An interval that reaches below zero (a demand the runs
            // barely determine) ends at no demand at all.
            q.set(*name, if high { *hi } else { lo.max(f64::MIN_POSITIVE) });
        }
        let model = template.instantiate(&q, Stability::Reject).ok()?;
        if p.analytic_s.is_some() {
            return predict_analytic(&model, p);
        }
        let report = simulate(&model.net, &run_config(e, seed), Control::default()).ok()?;
        overall(
            &colors_of(&report, &p.probe, None)
                .iter()
                .collect::<Vec<_>>(),
        )
        .0
        .mean_s
    };
    Some([at(false), at(true)])
}

/// The analytic overall mean of the probe, weighted like the prediction's
/// colours (by their simulated counts).
pub(super) fn predict_analytic(model: &Model, p: &Prediction) -> Option<f64> {
    let a = crate::solve::analyse(&model.net).ok()?;
    let colors: Vec<ColorPrediction> = p
        .colors
        .iter()
        .map(|c| ColorPrediction {
            color: c.color.clone(),
            simulated: c.simulated.clone(),
            analytic_s: a.probe_mean(&p.probe, &c.color),
        })
        .collect();
    overall(&colors.iter().collect::<Vec<_>>()).1
}

/// What the model predicts for one colour of the experiment's probe.
pub(super) struct ColorPrediction {
    pub(super) color: String,
    pub(super) simulated: Summary,
    pub(super) analytic_s: Option<f64>,
}

/// What the model predicts for the experiment's probe.
pub(super) struct Prediction {
    /// The probe's name.
    pub(super) probe: String,
    /// Per colour.
    pub(super) colors: Vec<ColorPrediction>,
    /// All colours together.
    pub(super) simulated: Summary,
    pub(super) analytic_s: Option<f64>,
    pub(super) analytic: Analytic,
    /// Mean simulated utilization of the queueing places.
    pub(super) utilization: Option<f64>,
    pub(super) events: u64,
    /// Probe passages per second (simulated, all colours).
    pub(super) throughput: Option<f64>,
    /// What each colour stands for, for a generated behaviour model
    /// (empty: each colour is the request class of its name).
    pub(super) roles: Vec<ColourRole>,
}

impl Prediction {
    /// The colours `select` picks, together (their summaries' mixture, the
    /// analytic mean weighted by their counts); `None` when it picks none.
    pub(super) fn predicted(
        &self,
        select: impl Fn(&str) -> bool,
    ) -> Option<(Summary, Option<f64>)> {
        let picked: Vec<&ColorPrediction> =
            self.colors.iter().filter(|c| select(&c.color)).collect();
        (!picked.is_empty()).then(|| overall(&picked))
    }
}

/// How the experiment's model is simulated.
pub(super) fn run_config(e: &Experiment, seed: u64) -> RunConfig {
    RunConfig {
        stop: StopRule::Requests(e.run.requests),
        warmup: e.run.warmup,
        replications: e.run.replications,
        seed,
        ..RunConfig::default()
    }
}

/// Simulates the model, and solves it analytically where it can. Every
/// colour of the chosen probe is kept; the overall figures are their
/// mixture (one colour: its own).
pub(super) fn predict(
    e: &Experiment,
    model: &Model,
    seed: u64,
) -> Result<Prediction, ExperimentError> {
    let report = simulate(&model.net, &run_config(e, seed), Control::default())
        .map_err(ExperimentError::Simulation)?;
    let names: Vec<&str> = report.probes.iter().map(|p| p.name.as_str()).collect();
    let probe = report.probes[choose_probe(&names, e.probe.as_deref())?]
        .name
        .clone();
    let solved = crate::solve::analyse(&model.net);
    let colors = colors_of(&report, &probe, solved.as_ref().ok());
    let (simulated, analytic_s) = overall(&colors.iter().collect::<Vec<_>>());
    let analytic = match solved {
        Ok(a) => Analytic::Solved { method: a.method },
        Err(err) => Analytic::NotSolved {
            reason: err.to_string(),
        },
    };
    let utils: Vec<f64> = report.places.iter().filter_map(|p| p.utilization).collect();
    let passages: u64 = colors.iter().map(|c| c.simulated.count).sum();
    let time = report.measured_time_s * report.replications as f64;
    Ok(Prediction {
        probe,
        colors,
        simulated,
        analytic_s,
        analytic,
        utilization: (!utils.is_empty()).then(|| utils.iter().sum::<f64>() / utils.len() as f64),
        events: report.events,
        throughput: (time > 0.0).then(|| passages as f64 / time),
        roles: Vec::new(),
    })
}

/// Every colour of `probe` in a simulation report, with its analytic mean
/// where the model is solved.
pub(super) fn colors_of(
    report: &crate::qpn::SimReport,
    probe: &str,
    solved: Option<&crate::solve::Analysis>,
) -> Vec<ColorPrediction> {
    report
        .probes
        .iter()
        .filter(|r| r.name == probe)
        .map(|r| ColorPrediction {
            color: r.color.clone(),
            simulated: Summary::from(r),
            analytic_s: solved.and_then(|a| a.probe_mean(&r.name, &r.color)),
        })
        .collect()
}

/// The overall simulated summary and analytic mean of a probe's colours,
/// weighted by the simulated counts.
pub(super) fn overall(colors: &[&ColorPrediction]) -> (Summary, Option<f64>) {
    let parts: Vec<&Summary> = colors.iter().map(|c| &c.simulated).collect();
    // The chosen probe has at least one colour (it was found among them).
    let simulated = crate::compare::mixture(&parts).unwrap_or_else(|| colors[0].simulated.clone());
    let analytic_s = match colors {
        [one] => one.analytic_s,
        _ => {
            let n: u64 = colors.iter().map(|c| c.simulated.count).sum();
            colors
                .iter()
                .filter(|c| c.simulated.count > 0)
                .map(|c| {
                    c.analytic_s
                        .map(|a| a * c.simulated.count as f64 / n as f64)
                })
                .sum::<Option<f64>>()
        }
    };
    (simulated, analytic_s)
}
