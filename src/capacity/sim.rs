//! A capacity question's statistic by simulation ([`simulated`]), from
//! [`REPLICATIONS`] independent replications run in parallel (seeds from
//! the query's, so the same seed gives the same answer whatever the
//! number of threads): a mean over all their passages, a percentile as
//! the mean of each replication's exact order statistic, each with a t
//! interval across the replications.
//!
//! The quantile sketch of a simulation report keeps 1 % buckets: a p95
//! near 3 s moved in steps of about 0.015 s, the replications' mean in
//! 0.2 % steps, so on M/M/12 with `p95<=3` (where the p95 rises by 0.013 s
//! per request/s) the answers across seeds spread over 6.70–7.32 req/s
//! against 6.76 exact, and identical replications reported a CI of 0,
//! which skipped the reruns. Sorting a replication's passages costs a few
//! milliseconds against the simulation's hundreds.

use rayon::prelude::*;

use super::{CapacityError, Evaluation, Query, Stat};
use crate::qpn::{
    Control, RunConfig, RunError, Simulation, StopRule, ValidNet, Watch, replication_rng, warm_up,
};

/// The most simulated requests of one evaluation (and of its reruns): a
/// search keeps every passage's time to rank it, 8 bytes each (80 MB
/// here; 10^12 asked for aborted on the allocation).
pub const MAX_REQUESTS: u64 = 10_000_000;

/// Replications behind a simulated percentile, a fraction of the requests
/// each: even, so that two cores finish together (five ran 2 + 2 + 1).
pub(crate) const REPLICATIONS: usize = 8;

/// The objective's statistic at `value` by simulation of `net` (the model
/// there), over every colour of probe `probe` (see [`super::pooled`]).
///
/// # Errors
/// A simulation that fails (deadlock, instability, a bad warm-up).
pub(crate) fn simulated(
    net: &ValidNet,
    probe: &str,
    q: &Query,
    value: f64,
) -> Result<Evaluation, CapacityError> {
    let model_error = |why: String| CapacityError::Model {
        param: q.param.clone(),
        value,
        why,
    };
    let evaluation = |stat_s, ci_half_width_s, mean_s, utilization| Evaluation {
        value,
        stat_s,
        ci_half_width_s,
        mean_s,
        method: "simulation".into(),
        uncertain: false,
        utilization,
    };
    let index = net.probes.iter().position(|p| p.name == probe);
    let index = index.ok_or_else(|| CapacityError::UnknownProbe(probe.to_string()))?;
    let color = q
        .color
        .as_ref()
        .and_then(|c| net.colors.iter().position(|n| n == c));
    let each = (q.requests / REPLICATIONS as u64).max(1);
    let (samples, us): (Vec<Vec<f64>>, Vec<Option<f64>>) = (0..REPLICATIONS)
        .into_par_iter()
        .map(|k| passages(net, &run_config(q, k, each), k, index, color))
        .collect::<Result<Vec<_>, RunError>>()
        .map_err(|e| model_error(e.to_string()))?
        .into_iter()
        .unzip();
    let count: usize = samples.iter().map(Vec::len).sum();
    let mean_s = (count > 0).then(|| samples.iter().flatten().sum::<f64>() / count as f64);
    let (stat_s, ci) = match q.slo.stat {
        Stat::P(pct) => across(&samples, f64::from(pct) / 100.0).unzip(),
        _ => mean_across(&samples).unzip(),
    };
    let us: Option<Vec<f64>> = us.into_iter().collect();
    Ok(evaluation(stat_s, ci, mean_s, us.and_then(|u| mean(&u))))
}

/// The mean of every passage of the replications' `samples` and its 95 %
/// half-width, the t interval across the replications' own means (as
/// independent as their seeds); `None` when some replication has no
/// passage. The mean, like a percentile, comes from [`REPLICATIONS`]
/// runs in parallel: one long run held one core while the other idled.
fn mean_across(samples: &[Vec<f64>]) -> Option<(f64, f64)> {
    if samples.iter().any(Vec::is_empty) {
        return None;
    }
    let count: usize = samples.iter().map(Vec::len).sum();
    let pooled = samples.iter().flatten().sum::<f64>() / count as f64;
    let means: Vec<f64> = samples
        .iter()
        .map(|v| v.iter().sum::<f64>() / v.len() as f64)
        .collect();
    let n = means.len() as f64;
    let centre = means.iter().sum::<f64>() / n;
    let var = means.iter().map(|m| (m - centre).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let t = crate::stats::student_t_quantile(0.95, (n - 1.0).max(1.0));
    Some((pooled, t * (var / n).sqrt()))
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// The mean utilization of the queueing places with servers over the
/// measured part of a replication (as the simulation report has it).
fn places_utilization(net: &ValidNet, sim: &Simulation<'_>) -> Option<f64> {
    let duration = sim.now() - sim.measure_start();
    let us: Vec<f64> = net
        .places
        .iter()
        .enumerate()
        .filter_map(|(p, place)| {
            let servers = place.queue.as_ref()?.capacity()?;
            Some(sim.busy_area(p) / (duration * servers))
        })
        .collect();
    mean(&us).filter(|_| duration > 0.0)
}

/// Replication `k`'s run: `requests` of them, the query's warm-up, seed
/// `k` of the query's.
fn run_config(q: &Query, k: usize, requests: u64) -> RunConfig {
    RunConfig {
        stop: StopRule::Requests(requests),
        warmup: q.warmup,
        seed: crate::stats::point_seed(q.seed, k),
        ..RunConfig::default()
    }
}

/// The response times of probe `probe` (of colour `color`, else all its
/// colours), sorted, over one
/// replication (`replication`, for messages) run as `run` says (its
/// warm-up, then its requests), as
/// [`simulate`] runs a replication; and the queueing places' mean
/// utilization over them.
fn passages(
    net: &ValidNet,
    run: &RunConfig,
    replication: usize,
    probe: usize,
    color: Option<usize>,
) -> Result<(Vec<f64>, Option<f64>), RunError> {
    run.check(net)?;
    let failed = |error| RunError::Sim { replication, error };
    let mut sim = Simulation::new(net, replication_rng(run.seed, 0));
    sim.set_token_limit(run.token_limit);
    sim.start().map_err(failed)?;
    warm_up(&mut sim, run, &Control::default()).map_err(failed)?;
    sim.reset_stats();
    sim.record_probes(true);
    let StopRule::Requests(n) = run.stop else {
        unreachable!("capacity runs stop on requests")
    };
    let mut times = Vec::with_capacity(n.min(1 << 16) as usize);
    let mut keep = |sim: &mut Simulation<'_>| {
        let ours = sim.records.drain(..);
        let ours = ours.filter(|r| r.probe == probe && color.is_none_or(|c| r.color == c));
        times.extend(ours.map(|r| r.end - r.start));
    };
    // The run's limits, as `simulate` keeps them: its event limit, and a
    // probe whose passages stopped coming.
    let mut watch = Watch::new(run);
    let mut steps = 0u64;
    while sim.main_completions() < n {
        sim.step().map_err(failed)?;
        steps += 1;
        if steps.is_multiple_of(4096) {
            watch.check(&sim, sim.net(), true).map_err(failed)?;
        }
        if sim.records.len() >= 4096 {
            keep(&mut sim);
        }
    }
    keep(&mut sim);
    times.sort_unstable_by(f64::total_cmp);
    Ok((times, places_utilization(net, &sim)))
}

/// The mean of the replications' `p` quantiles (each exact on its sorted
/// `samples`) and its 95 % half-width: the t interval across the
/// replications, never narrower than the order statistics' own spread
/// (the distribution-free interval of each quantile, combined as for
/// independent replications; correlation only widens it); `None` when
/// some replication has no passage.
fn across(samples: &[Vec<f64>], p: f64) -> Option<(f64, f64)> {
    if samples.iter().any(Vec::is_empty) {
        return None;
    }
    let z = crate::stats::student_t_quantile(0.95, f64::INFINITY);
    let stats: Vec<f64> = samples
        .iter()
        .map(|v| crate::stats::quantile_sorted(v, p))
        .collect();
    let n = stats.len() as f64;
    let mean = stats.iter().sum::<f64>() / n;
    let var = stats.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let t = crate::stats::student_t_quantile(0.95, (n - 1.0).max(1.0));
    let order_var: f64 = samples
        .iter()
        .map(|v| (order_half_width(v, p, z) / z).powi(2))
        .sum::<f64>()
        / (n * n);
    Some((mean, (t * (var / n).sqrt()).max(z * order_var.sqrt())))
}

/// Half the distribution-free `z` interval of the `p` quantile of sorted
/// `v`: the order statistics n·p ± z·√(n·p·(1 − p)) apart.
fn order_half_width(v: &[f64], p: f64, z: f64) -> f64 {
    let n = v.len() as f64;
    let spread = z * (n * p * (1.0 - p)).sqrt();
    let at = |x: f64| v[(x.clamp(0.0, n - 1.0)) as usize];
    0.5 * (at((n * p + spread).ceil()) - at((n * p - spread).floor()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::{Slo, evaluate, mmc_quantile};
    use crate::model::{LoadOptions, ParamValue, Params, Template};

    /// M/M/`servers` with D = 1 s (qpn1-open), its p95 asked of the
    /// simulation with `requests` and seed `seed`.
    /// The evaluation at λ = 1.2 on a pool of `threads` threads.
    fn on_threads(threads: usize, template: &Template, q: &Query) -> Evaluation {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| evaluate(template, q, 1.2).unwrap())
    }

    fn mmc_query(servers: f64, requests: u64, seed: u64) -> (Template, Query) {
        let text = include_str!("../../models/qpn1-open.yaml");
        let template = Template::parse(text, LoadOptions::default().read_file).unwrap();
        let mut base = Params::new();
        base.set("servers", ParamValue::Number(servers));
        base.set("demand", ParamValue::Number(1.0));
        let q = Query {
            param: "arrival_rate".into(),
            slo: Slo::parse("p95<=4s").unwrap(),
            probe: None,
            range: (0.1, 0.9),
            integer: false,
            simulate_only: true,
            requests,
            seed,
            warmup: crate::qpn::Warmup::Auto,
            base,
            binds: Vec::new(),
            calibration: None,
            offset_s: 0.0,
            color: None,
        };
        (template, q)
    }

    #[test]
    fn a_simulated_percentile_is_the_same_whatever_the_thread_count() {
        let (template, q) = mmc_query(2.0, 16_000, crate::test_seed(3));
        let on = |threads: usize| on_threads(threads, &template, &q);
        let one = on(1);
        assert!(
            one.stat_s.is_some() && one.ci_half_width_s.is_some(),
            "{one:?}"
        );
        assert_eq!(one, on(2));
        assert_eq!(one, on(5));
    }

    #[test]
    fn a_simulated_mean_pools_the_passages_with_a_t_interval_across_replications() {
        // Replications (1, 3), (2, 2), (3, 5): 16 s over 6 passages; their
        // means 2, 2 and 4 (mean 8/3, variance 4/3), t(0.975, 2) = 4.3027.
        let samples = [vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 5.0]];
        let (mean, hw) = mean_across(&samples).unwrap();
        assert!((mean - 16.0 / 6.0).abs() < 1e-12, "{mean}");
        assert!(
            (hw - 4.302_653 * (4.0 / 9.0f64).sqrt()).abs() < 1e-5,
            "{hw}"
        );
        // A replication without a passage: no statistic.
        assert_eq!(mean_across(&[vec![1.0], Vec::new()]), None);
        // On M/M/2 (D = 1 s, λ = 1.2) the simulated mean holds Erlang C's
        // W = 1 + C(2, 1.2)/0.8 = 1.5625 s in its interval, whatever the
        // number of threads.
        let (template, mut q) = mmc_query(2.0, 80_000, crate::test_seed(5));
        q.slo = Slo::parse("mean<=3s").unwrap();
        let on = |threads: usize| on_threads(threads, &template, &q);
        let one = on(1);
        assert_eq!(one, on(2));
        let (got, h) = (one.stat_s.unwrap(), one.ci_half_width_s.unwrap());
        let want = 1.0 + crate::numeric::erlang_c(2, 1.2) / 0.8;
        assert!((want - 1.5625).abs() < 1e-12);
        assert!(h > 0.0 && h < 0.05 * want, "{one:?}");
        assert!((got - want).abs() < 1.5 * h, "{got} vs {want} ± {h}");
    }

    #[test]
    fn a_simulated_percentile_holds_the_exact_one_in_its_interval() {
        // M/M/2, D = 1 s, λ = 1.2: the p95 from Erlang C. The exact order
        // statistics put 200,000 requests' estimate within about 2 %, and
        // its interval (nearly) always holds the truth: four seeds here,
        // each within 1.5 half-widths.
        let want = mmc_quantile(1.2, 1.0, 2, 0.95).unwrap();
        for k in 0..4 {
            let (template, q) = mmc_query(2.0, 200_000, crate::test_seed(11 + k));
            let e = evaluate(&template, &q, 1.2).unwrap();
            let (got, h) = (e.stat_s.unwrap(), e.ci_half_width_s.unwrap());
            assert!(h > 0.0 && h < 0.04 * want, "{e:?}");
            assert!((got - want).abs() < 1.5 * h, "{got} ± {h} vs {want}");
        }
    }

    #[test]
    fn a_quantile_interval_is_never_narrower_than_its_order_statistics() {
        // Eight identical replications of 0, 1, …, 999: the quantiles
        // agree exactly, but each is only known to its order statistics'
        // spread, 950 ± 1.96·√(1000·0.95·0.05) ≈ ±13.5 ranks, so the
        // half-width is that over √8, not 0.
        let v: Vec<f64> = (0..1000).map(f64::from).collect();
        let (m, hw) = across(&vec![v.clone(); 8], 0.95).unwrap();
        assert!((m - 949.05).abs() < 1e-9, "{m}");
        let one = order_half_width(&v, 0.95, 1.959_964);
        assert!((one - 14.0).abs() < 1e-9, "{one}");
        assert!((hw - one / 8f64.sqrt()).abs() < 1e-6, "{hw}");
        // Replications that disagree more than that: the t interval.
        let shifted: Vec<Vec<f64>> = (0..8)
            .map(|k| v.iter().map(|x| x + 100.0 * f64::from(k)).collect())
            .collect();
        let (m, hw) = across(&shifted, 0.95).unwrap();
        assert!((m - 1299.05).abs() < 1e-9, "{m}");
        // sd of 0, 100, …, 700 is 244.95; t(0.975, 7) = 2.3646.
        assert!(
            (hw - 2.364_624 * 244.949 / 8f64.sqrt()).abs() < 0.01,
            "{hw}"
        );
        assert_eq!(across(&[v, Vec::new()], 0.5), None);
    }
}
