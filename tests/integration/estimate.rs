//! Estimators on generated ground truth (the accuracy targets),
//! LibReDE's noise-free recovery cases, and the `estimate` command.

use demandsim::estimate::{
    Config, Discipline, LoadChoice, LoadForm, Method, Observations, Row, estimate,
};
use demandsim::generate::{GenConfig, table};
use demandsim::model::{LoadOptions, Params, load};
use rand::{RngExt, SeedableRng};
use serde_json::Value;

use super::demandsim;

pub(crate) const ONE_CLASS: &str = "params: {rate: 1, demand: 0.1, servers: 1}
colors: [request]
places:
  CPU: {queue: fcfs, servers: servers, service: {request: {exponential: demand}}}
transitions:
  arrive: {delay: {exponential: 1 / rate}, out: {CPU: request}}
  leave: {in: {CPU: request}}
probes:
  response: {start: {transition: arrive}, end: {transition: leave}}
";

/// A generated trace of `yaml` with `params`: `time` seconds in 30 s
/// intervals, each utilization sample off by up to ±`noise` plus `extra`
/// (a foreign load); its interval table and ground truth.
pub(crate) fn trace(
    yaml: &str,
    params: Params,
    time: f64,
    seed: u64,
    noise: f64,
    extra: f64,
) -> (
    demandsim::trace::IntervalTable,
    demandsim::generate::GenReport,
) {
    let model = load(
        yaml,
        &LoadOptions {
            params,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    let cfg = GenConfig {
        probe: 0,
        interval: 30.0,
        requests: None,
        time: Some(time),
        seed: crate::seed(seed),
        token_limit: 1_000_000,
    };
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(crate::seed(seed));
    table(&model.net, &cfg, &mut |u| {
        u + extra + noise * (2.0 * rng.random::<f64>() - 1.0)
    })
    .unwrap()
}

/// Relative errors of all methods on a one-hour trace, 30 s samples.
fn errors(
    yaml: &str,
    set: &[(&str, String)],
    noise: f64,
    seed: u64,
    servers: u32,
) -> (Vec<(Method, Vec<f64>)>, Vec<f64>) {
    let mut o = Params::new();
    for (k, v) in set {
        o.set(*k, v.as_str());
    }
    let (t, truth) = trace(yaml, o, 3600.0, seed, noise, 0.0);
    let (obs, diag) = Observations::from_table(&t, "CPU", servers, false).unwrap();
    let report = estimate(
        &obs,
        diag,
        &Config {
            bootstrap: 0,
            ..Config::default()
        },
        "CPU",
        30.0,
    );
    let truths: Vec<f64> = obs
        .classes
        .iter()
        .map(|c| {
            truth
                .truth
                .iter()
                .find(|x| &x.color == c)
                .unwrap()
                .realised_demand_s
                .unwrap()
        })
        .collect();
    let per_method = Method::ALL
        .iter()
        .map(|m| {
            let est: Vec<f64> = obs
                .classes
                .iter()
                .map(|c| {
                    report
                        .estimates
                        .iter()
                        .find(|e| e.method == m.id() && &e.class == c)
                        .unwrap()
                        .demand_s
                })
                .collect();
            (
                *m,
                est.iter().zip(&truths).map(|(e, t)| (e - t) / t).collect(),
            )
        })
        .collect();
    (per_method, truths)
}

/// Seeds of the accuracy cells: three per cell, as the README's table.
const SEED_BASE: u64 = 40;

/// Every load's cell on three seeds: each seed's error (against the mean
/// of the service times the trace drew) within its method's `limit`, and
/// the three seeds' mean within 3 % (worst seen over 20 seed sets: 2.1 %,
/// kf-u and rr).
fn check(servers: u32, noise: f64, limits: &[(Method, f64)]) {
    for (k, u) in [0.1, 0.4, 0.7, 0.85].into_iter().enumerate() {
        let rate = u * servers as f64 / 0.1;
        let mut sums = vec![0.0; limits.len()];
        for s in 0..3 {
            let (errs, _) = errors(
                ONE_CLASS,
                &[("rate", rate.to_string()), ("servers", servers.to_string())],
                noise,
                SEED_BASE + k as u64 + 100 * s,
                servers,
            );
            for (&(m, limit), sum) in limits.iter().zip(&mut sums) {
                let e = errs.iter().find(|x| x.0 == m).unwrap().1[0];
                *sum += e / 3.0;
                assert!(
                    e.abs() <= limit,
                    "{} at U = {u}, {servers} server(s), noise {noise}, seed {s}: error {:.2} % > {:.0} %",
                    m.id(),
                    100.0 * e,
                    100.0 * limit
                );
            }
        }
        for (&(m, _), mean) in limits.iter().zip(&sums) {
            assert!(
                mean.abs() <= 0.03,
                "{} at U = {u}, {servers} server(s), noise {noise}: mean of 3 seeds {:.2} %",
                m.id(),
                100.0 * mean
            );
        }
    }
}

use Method::*;

/// Bounds that hold on every seed: the largest errors over 20 sets of
/// three seeds per cell (240 traces per case), against the service times
/// actually drawn, were sdl 0.6 %, ur 0.9 %, rort, rortu, rr and kf-ru
/// 2.5-2.7 %, kf-u 3.7 % on one server (4.4 % with noisy utilization, where
/// every method reached 3.0-3.2 %); the bounds add about a third.
const EXACT: [(Method, f64); 7] = [
    (Sdl, 0.01),
    (Ur, 0.015),
    (Rort, 0.04),
    (Rortu, 0.04),
    (Rr, 0.04),
    (KfRu, 0.04),
    (KfU, 0.05),
];

#[test]
fn one_class_one_server_within_its_bounds_on_every_seed() {
    check(1, 0.0, &EXACT);
}

#[test]
fn one_class_four_servers_within_its_bounds_on_every_seed() {
    check(4, 0.0, &EXACT);
}

#[test]
fn noisy_utilization_within_5_and_6_percent() {
    let all = [
        (Sdl, 0.05),
        (Ur, 0.05),
        (Rort, 0.05),
        (Rortu, 0.05),
        (Rr, 0.05),
        (KfRu, 0.05),
        (KfU, 0.06),
    ];
    check(1, 0.03, &all);
    check(4, 0.03, &all);
}

#[test]
fn rta_is_biased_by_the_waiting_time_as_documented() {
    // At 50 % on one server R = D/(1 − U) = 2D.
    let (errs, _) = errors(ONE_CLASS, &[("rate", "5".into())], 0.0, 9, 1);
    let e = errs.iter().find(|x| x.0 == Rta).unwrap().1[0];
    assert!((e - 1.0).abs() < 0.1, "{e}");
}

/// Two classes whose arrival rates swap every ~5 minutes, so the mix
/// varies and the classes' demands can be told apart; their demands differ
/// (FCFS would need equal means for product form, the estimators do not).
const TWO_CLASSES_UNEQUAL: &str = "colors: [a, b, phase]
places:
  CPU: {queue: fcfs, service: {a: {exponential: 0.05}, b: {exponential: 0.02}}}
  One: {initial: {phase: 1}}
  Two: {}
transitions:
  a_hi: {delay: {exponential: 0.125}, in: {One: phase}, out: {One: phase, CPU: a}}
  b_lo: {delay: {exponential: 0.5}, in: {One: phase}, out: {One: phase, CPU: b}}
  a_lo: {delay: {exponential: 0.5}, in: {Two: phase}, out: {Two: phase, CPU: a}}
  b_hi: {delay: {exponential: 0.125}, in: {Two: phase}, out: {Two: phase, CPU: b}}
  to_two: {delay: {exponential: 300}, in: {One: phase}, out: {Two: phase}}
  to_one: {delay: {exponential: 300}, in: {Two: phase}, out: {One: phase}}
  leave: {modes: [{in: {CPU: a}}, {in: {CPU: b}}]}
probes:
  response:
    colors: [a, b]
    start: [{transition: a_hi}, {transition: a_lo}, {transition: b_hi}, {transition: b_lo}]
    end: {transition: leave}
";

#[test]
fn two_classes_with_a_varying_mix_within_10_percent() {
    let yaml = TWO_CLASSES_UNEQUAL;
    let (errs, truths) = errors(yaml, &[], 0.0, 3, 1);
    // The realised means of the drawn service times, near the nominal ones
    // (the classes come in the order the trace first shows them, which
    // the seed decides).
    let (big, small) = (truths[0].max(truths[1]), truths[0].min(truths[1]));
    assert!(
        (big / 0.05 - 1.0).abs() < 0.03 && (small / 0.02 - 1.0).abs() < 0.03,
        "{truths:?}"
    );
    for m in [Ur, KfU, Rortu] {
        let e = &errs.iter().find(|x| x.0 == m).unwrap().1;
        for (c, v) in e.iter().enumerate() {
            assert!(v.abs() <= 0.10, "{} class {c}: {:.1} %", m.id(), 100.0 * v);
        }
    }
}

#[test]
fn the_discipline_flag_decides_the_per_class_split() {
    // Two classes on a processor-sharing server whose mix switches: read
    // as PS, sdl and rort split the demand right; read as FCFS (the
    // default), they give the smaller class a wait it did not have.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ps.yaml");
    std::fs::write(
        &model,
        TWO_CLASSES_UNEQUAL.replace("queue: fcfs", "queue: ps"),
    )
    .unwrap();
    let out = dir.path().join("g");
    let run = demandsim(
        &[
            "generate",
            model.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--time",
            "7200",
            "--seed",
            &crate::seed_arg(3),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let go = |discipline: &str| {
        let req = out.join("requests.csv");
        let util = out.join("utilization.csv");
        let run = demandsim(
            &[
                "estimate",
                "--requests",
                req.to_str().unwrap(),
                "--utilization",
                util.to_str().unwrap(),
                "--methods",
                "sdl,rort,rr",
                "--bootstrap",
                "0",
                "--discipline",
                discipline,
                "--format",
                "json",
            ],
            b"",
        );
        (
            run.code,
            run.stderr,
            serde_json::from_str::<Value>(&run.stdout).ok(),
        )
    };
    let demand = |v: &Value, m: &str, c: &str| {
        v["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["method"] == m && e["class"] == c)
            .and_then(|e| e["demand_s"].as_f64())
            .unwrap()
    };
    let (code, err, ps) = go("ps");
    assert_eq!(code, 0, "{err}");
    let ps = ps.unwrap();
    assert_eq!(ps["discipline"], "ps");
    assert!(
        ps["discipline_fit"]["better"].is_null(),
        "{}",
        ps["discipline_fit"]
    );
    let (_, _, fcfs) = go("fcfs");
    let fcfs = fcfs.unwrap();
    // The data say so: PS fits clearly better, and the methods that split
    // by the discipline are kept out of the recommendation.
    assert_eq!(
        fcfs["discipline_fit"]["better"], "ps",
        "{}",
        fcfs["discipline_fit"]
    );
    assert!(fcfs["recommended"].is_null(), "{}", fcfs["recommended"]);
    for e in fcfs["estimates"].as_array().unwrap() {
        let why = e["distrusted"].as_str().unwrap_or_default();
        assert!(why.contains("--discipline ps"), "{e}");
    }
    for m in ["sdl", "rort", "rr"] {
        let b = demand(&ps, m, "b");
        assert!((b - 0.02).abs() < 0.02 * 0.03, "{m} as PS: {b}");
    }
    // Read as FCFS, the wait both classes share is taken off b's
    // response: its demand comes out well below the truth.
    for m in ["sdl", "rort"] {
        let b = demand(&fcfs, m, "b");
        assert!(b < 0.02 * 0.9, "{m} as FCFS: {b}");
    }
    let (code, err, _) = go("lifo");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("fcfs") && err.contains("ps"), "{err}");
}

/// LibReDE's noise-free generator: random U in [lo, up] and mix; X from U,
/// R = D/(1 − U) (one server), and the matching time-average population.
/// Every class slowed by the same factor: processor sharing.
fn librede(demands: &[f64], n: usize, seed: u64) -> Observations {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(crate::seed(seed));
    let k = demands.len();
    let rows = (0..n)
        .map(|_| {
            let u: f64 = 0.1 + 0.8 * rng.random::<f64>();
            let mix: Vec<f64> = (0..k).map(|_| 0.1 + rng.random::<f64>()).collect();
            let weighted: f64 = mix.iter().zip(demands).map(|(m, d)| m * d).sum();
            let x: Vec<f64> = mix.iter().map(|m| m * u / weighted).collect();
            let u_true: f64 = x.iter().zip(demands).map(|(x, d)| x * d).sum();
            // 1,000 completions per class, so the interval is as long as
            // that takes: noise-free data with a consistent count.
            let length = 1000.0 / x.iter().cloned().fold(f64::INFINITY, f64::min);
            Row {
                length,
                throughput: x.clone(),
                response: demands.iter().map(|d| Some(d / (1.0 - u_true))).collect(),
                completions: vec![1000; k],
                utilization: u_true,
                in_system: x
                    .iter()
                    .zip(demands)
                    .map(|(x, d)| x * d / (1.0 - u_true))
                    .collect(),
                arrived: Vec::new(),
            }
        })
        .collect();
    let mut obs = Observations::new((0..k).map(|i| format!("WC{i}")).collect(), 1, rows);
    obs.discipline = Discipline::Ps;
    obs
}

#[test]
fn librede_noise_free_cases_are_recovered() {
    let est = |obs: &Observations, m: Method| {
        m.estimator(false)
            .estimate(obs, &(0..obs.rows.len()).collect::<Vec<_>>())
            .unwrap()
    };
    let close = |got: &[f64], want: &[f64], what: &str| {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 0.001, "{what}: {got:?} vs {want:?}");
        }
    };
    // SimpleApproximationTest: five classes, one of them idle.
    let d = [0.25, 0.1, 0.3, 0.4, 0.0];
    let obs = librede(&[0.25, 0.1, 0.3, 0.4, 0.05], 100, 1);
    let mut obs0 = obs.clone();
    for row in &mut obs0.rows {
        row.throughput[4] = 0.0;
        row.completions[4] = 0;
        row.response[4] = None;
        let u: f64 = row.throughput.iter().zip(&d).map(|(x, d)| x * d).sum();
        row.utilization = u;
        for c in 0..4 {
            row.response[c] = Some(d[c] / (1.0 - u));
        }
    }
    let sdl = Method::Sdl
        .estimator(false)
        .estimate(&obs0, &(0..100).collect::<Vec<_>>());
    assert!(sdl.is_err(), "an idle class is reported, not given 0");
    // LeastSquaresRegressionTest: 1 class and 5 classes (one idle here too:
    // non-negative least squares returns its 0).
    close(&est(&librede(&[0.05], 10, 2), Ur), &[0.05], "ur 1 class");
    close(
        &est(&librede(&[0.03, 0.04, 0.05, 0.06, 0.07], 10, 3), Ur),
        &[0.03, 0.04, 0.05, 0.06, 0.07],
        "ur 5 classes",
    );
    close(
        &est(&obs, Sdl),
        &[0.25, 0.1, 0.3, 0.4, 0.05],
        "sdl 5 classes",
    );
    // Menascé and Liu, one class.
    close(&est(&librede(&[0.05], 10, 4), Rort), &[0.05], "rort");
    close(&est(&librede(&[0.05], 5, 5), Rortu), &[0.05], "rortu");
    close(&est(&librede(&[0.05], 10, 6), KfU), &[0.05], "kf-u");
}

#[test]
fn estimate_json_has_the_documented_fields_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("g");
    let model = format!("{}/models/qpn1-open.yaml", env!("CARGO_MANIFEST_DIR"));
    let run = demandsim(
        &[
            "generate",
            &model,
            "--out",
            out_dir.to_str().unwrap(),
            "--time",
            "3600",
            "--seed",
            "4",
            "--set",
            "servers=8",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let go = |threads: &str| {
        let run = demandsim(
            &[
                "estimate",
                "--requests",
                out_dir.join("requests.csv").to_str().unwrap(),
                "--utilization",
                out_dir.join("utilization.csv").to_str().unwrap(),
                "--servers",
                "8",
                "--seed",
                "11",
                "--threads",
                threads,
                "--combine",
                "rort,rortu",
                "--format",
                "json",
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str::<Value>(&run.stdout).unwrap()
    };
    let v = go("1");
    assert_eq!(v, go("2"));
    // Types, not presence: a `null` must not pass.
    assert!(
        v["intervals"].as_u64().is_some_and(|n| n > 100),
        "{}",
        v["intervals"]
    );
    assert!(v["recommended"].is_string(), "{}", v["recommended"]);
    assert_eq!(
        (
            v["resource"].as_str(),
            v["servers"].as_u64(),
            v["interval_s"].as_f64()
        ),
        (Some("CO1"), Some(8), Some(30.0))
    );
    assert_eq!(v["discipline"], "fcfs");
    let est = v["estimates"].as_array().unwrap();
    assert_eq!(est.len(), 9, "eight methods and the combination");
    for e in est {
        assert!(e["method"].is_string() && e["class"] == "request", "{e}");
        for k in [
            "demand_s",
            "ci_low_s",
            "ci_high_s",
            "rel_rt_error",
            "rel_util_error",
        ] {
            assert!(
                e[k].as_f64().is_some_and(|x| x > 0.0),
                "estimates[].{k}: {e}"
            );
        }
        assert_eq!(e["identifiable"], true, "{e}");
        if e["method"] != "rta" {
            let (lo, d, hi) = (
                e["ci_low_s"].as_f64().unwrap(),
                e["demand_s"].as_f64().unwrap(),
                e["ci_high_s"].as_f64().unwrap(),
            );
            assert!(lo <= d && d <= hi, "{e}");
            assert!((d - 0.997588333).abs() < 0.05, "{e}");
        }
    }
    let run = demandsim(
        &[
            "estimate",
            "--requests",
            "-",
            "--utilization",
            out_dir.join("utilization.csv").to_str().unwrap(),
            "--methods",
            "sdl,foo",
        ],
        b"",
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--methods foo: unknown method"),
        "{}",
        run.stderr
    );
}

/// Two classes arriving at constant rates (no phases): within one run the
/// mix barely varies. Demands 0.05 and 0.02 s unless set.
pub(crate) const TWO_CONSTANT: &str =
    "params: {rate_a: 4, rate_b: 4, demand_a: 0.05, demand_b: 0.02}
colors: [a, b]
places:
  CPU: {queue: fcfs, service: {a: {exponential: demand_a}, b: {exponential: demand_b}}}
transitions:
  arrive_a: {delay: {exponential: 1 / rate_a}, out: {CPU: a}}
  arrive_b: {delay: {exponential: 1 / rate_b}, out: {CPU: b}}
  leave: {modes: [{in: {CPU: a}}, {in: {CPU: b}}]}
probes:
  response:
    colors: [a, b]
    start: [{transition: arrive_a}, {transition: arrive_b}]
    end: {transition: leave}
";

/// One generated run of [`TWO_CONSTANT`] at the given rates, with
/// utilization samples off by up to ±`noise` (sampling jitter): its
/// interval table.
fn constant_mix_run(
    rate_a: f64,
    rate_b: f64,
    noise: f64,
    seed: u64,
) -> demandsim::trace::IntervalTable {
    constant_mix_truth(rate_a, rate_b, noise, seed).0
}

/// [`constant_mix_run`] and the demands realised in it (a, b), seconds.
fn constant_mix_truth(
    rate_a: f64,
    rate_b: f64,
    noise: f64,
    seed: u64,
) -> (demandsim::trace::IntervalTable, [f64; 2]) {
    let params = Params::new().with("rate_a", rate_a).with("rate_b", rate_b);
    let (t, report) = trace(TWO_CONSTANT, params, 1800.0, seed, noise, 0.0);
    let realised = |c: &str| {
        report
            .truth
            .iter()
            .find(|x| x.color == c)
            .and_then(|x| x.realised_demand_s)
            .unwrap()
    };
    (t, [realised("a"), realised("b")])
}

#[test]
fn three_runs_with_different_mixes_separate_the_classes_within_5_percent() {
    // Each run alone has a constant mix; together the mixes 8:2, 5:5 and
    // 2:12 (requests/s) make the per-class demands 0.05 and 0.02 s
    // identifiable. U = 0.44, 0.35, 0.34.
    let runs = [
        constant_mix_run(8.0, 2.0, 0.02, 1),
        constant_mix_run(5.0, 5.0, 0.02, 2),
        constant_mix_run(2.0, 12.0, 0.02, 3),
    ];
    let named: Vec<(&str, &demandsim::trace::IntervalTable)> =
        ["r1", "r2", "r3"].into_iter().zip(&runs).collect();
    let (obs, diag) = Observations::from_runs(&named, &["CPU"], 1, false).unwrap();
    // Every run keeps its own intervals: nothing aggregated across runs.
    let per_run: Vec<usize> = runs
        .iter()
        .map(|t| {
            Observations::from_table(t, "CPU", 1, false)
                .unwrap()
                .0
                .rows
                .len()
        })
        .collect();
    assert_eq!(obs.rows.len(), per_run.iter().sum::<usize>());
    assert_eq!(obs.runs.len(), 3);
    assert_eq!(obs.runs[1].rows.len(), per_run[1]);
    let report = estimate(
        &obs,
        diag,
        &Config {
            methods: vec![Ur, Rr, Rortu],
            bootstrap: 0,
            ..Config::default()
        },
        "CPU",
        30.0,
    );
    for e in &report.estimates {
        let truth = if e.class == "a" { 0.05 } else { 0.02 };
        let err = (e.demand_s - truth) / truth;
        assert!(
            err.abs() <= 0.05,
            "{} {}: {:.1} %",
            e.method,
            e.class,
            100.0 * err
        );
    }
    let ident = report.identifiability.as_ref().unwrap();
    assert!(ident.all(), "{ident:?}");
    assert!(report.recommended.is_some() && report.advice.is_none());
    // The report describes each run: its intervals, load and mix.
    let r = &report.runs;
    assert_eq!(
        r.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
        ["r1", "r2", "r3"]
    );
    assert!(
        (r[0].class_mix["a"] - 0.8).abs() < 0.03,
        "{:?}",
        r[0].class_mix
    );
    assert!(
        (r[2].class_mix["b"] - 12.0 / 14.0).abs() < 0.03,
        "{:?}",
        r[2].class_mix
    );
    assert!((r[0].mean_utilization - 0.44).abs() < 0.03);
}

#[test]
fn several_runs_on_the_command_line_and_draws_that_are_the_bootstrap() {
    let dir = tempfile::tempdir().unwrap();
    let model = format!("{}/models/qpn1-open.yaml", env!("CARGO_MANIFEST_DIR"));
    let gen_run = |name: &str, rate: &str, seed: u64| {
        let out = dir.path().join(name);
        let run = demandsim(
            &[
                "generate",
                &model,
                "--out",
                out.to_str().unwrap(),
                "--time",
                "1800",
                "--seed",
                &crate::seed_arg(seed),
                "--set",
                "servers=8",
                "--set",
                &format!("arrival_rate={rate}"),
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        out
    };
    let (low, high) = (gen_run("low", "3", 1), gen_run("high", "6", 2));
    let path = |d: &std::path::Path, f: &str| d.join(f).to_str().unwrap().to_string();
    let args = [
        "estimate".to_string(),
        "--requests".into(),
        path(&low, "requests.csv"),
        "--utilization".into(),
        path(&low, "utilization.csv"),
        "--requests".into(),
        path(&high, "requests.csv"),
        "--utilization".into(),
        path(&high, "utilization.csv"),
        "--servers".into(),
        "8".into(),
        "--seed".into(),
        crate::seed_arg(5),
        "--bootstrap".into(),
        "100".into(),
        "--draws".into(),
        "100".into(),
        "--draws-method".into(),
        "ur".into(),
        "--format".into(),
        "json".into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = demandsim(&args, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let u: Vec<f64> = runs
        .iter()
        .map(|r| r["mean_utilization"].as_f64().unwrap())
        .collect();
    // 3 and 6 requests/s of ~1 s on 8 servers.
    assert!(
        (u[0] - 0.375).abs() < 0.05 && (u[1] - 0.75).abs() < 0.05,
        "{u:?}"
    );
    let intervals: u64 = runs.iter().map(|r| r["intervals"].as_u64().unwrap()).sum();
    assert_eq!(intervals, doc["intervals"].as_u64().unwrap());
    // The draws are the bootstrap fits behind ur's interval: their 2.5 %
    // and 97.5 % quantiles are its ends.
    assert_eq!(doc["draws_method"], "ur");
    let mut d: Vec<f64> = doc["draws"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["request"].as_f64().unwrap())
        .collect();
    assert_eq!(d.len(), 100);
    d.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = p * (d.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        d[lo] + (d[hi] - d[lo]) * (pos - lo as f64)
    };
    let ur = doc["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["method"] == "ur")
        .unwrap();
    assert!((q(0.025) - ur["ci_low_s"].as_f64().unwrap()).abs() < 1e-15);
    assert!((q(0.975) - ur["ci_high_s"].as_f64().unwrap()).abs() < 1e-15);
    // Mismatched pairs are a usage error.
    let run = demandsim(&args[..5], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = demandsim(&args[..7], b"");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("2 --requests but 1 --utilization"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_constant_mix_flags_the_classes_and_reports_the_mix_weighted_mean() {
    // One run, 4 + 4 requests/s of 0.05 and 0.02 s with the same ±0.02
    // sampling jitter: the mix never varies, so no method can split the
    // demand; the mix-weighted mean is 0.035 s.
    let (t, realised) = constant_mix_truth(4.0, 4.0, 0.02, 7);
    let (obs, diag) = Observations::from_table(&t, "CPU", 1, false).unwrap();
    let report = estimate(
        &obs,
        diag,
        &Config {
            bootstrap: 200,
            seed: crate::seed(3),
            ..Config::default()
        },
        "CPU",
        30.0,
    );
    let ident = report.identifiability.as_ref().unwrap();
    assert_eq!(ident.identifiable, vec![false, false], "{ident:?}");
    assert!(report.advice.as_deref().unwrap().contains("another mix"));
    // The truth of this trace: the demands its requests really drew,
    // weighted by their completions.
    let share_a = ident.weights[0];
    let truth = share_a * realised[0] + (1.0 - share_a) * realised[1];
    let recommended = report.recommended.as_deref().unwrap();
    for e in &report.estimates {
        if e.class == "(mix)" {
            let err = (e.demand_s - truth) / truth;
            assert!(e.identifiable);
            // Every method but rta (R itself, biased) lands within 10 %;
            // the recommended one within 3 %, with an interval that holds
            // the truth within 1.7 times its reach on that side (a 99.9 %
            // bound for a 95 % interval: the plain 95 % one missed on one
            // of seed sets 1–20, as it should; the coverage rate itself is
            // checked over 200 seeds below).
            if e.method != "rta" {
                assert!(err.abs() <= 0.10, "{}: {:.1} %", e.method, 100.0 * err);
            }
            if e.method == recommended {
                assert!(err.abs() <= 0.03, "{}: {:.1} %", e.method, 100.0 * err);
                let (lo, hi) = (e.ci_low_s.unwrap(), e.ci_high_s.unwrap());
                let d = e.demand_s;
                assert!(
                    lo < d && d < hi && d - 1.7 * (d - lo) <= truth && truth <= d + 1.7 * (hi - d),
                    "{}: {d} in {lo}..{hi} vs {truth}",
                    e.method
                );
            }
        } else {
            // Never a narrow interval around an arbitrary split.
            assert!(!e.identifiable && e.ci_low_s.is_none(), "{e:?}");
        }
    }
}

/// One coverage scenario: (label, model, parameter settings, servers,
/// the resource's discipline).
type Scenario = (
    &'static str,
    String,
    Vec<(&'static str, f64)>,
    u32,
    Discipline,
);

/// One row of the coverage table: how often a method's interval held one
/// class's true demand, and its mean relative error.
struct Coverage {
    key: String,
    covered: usize,
    runs: usize,
    error_sum: f64,
    error_squares: f64,
}

impl Coverage {
    fn share(&self) -> f64 {
        self.covered as f64 / self.runs as f64
    }

    fn bias(&self) -> f64 {
        self.error_sum / self.runs as f64
    }

    /// The relative error's standard deviation over the runs.
    fn spread(&self) -> f64 {
        (self.error_squares / self.runs as f64 - self.bias().powi(2)).sqrt()
    }
}

/// How often each method's 95 % interval holds the true demand (the
/// service distribution's mean), over `seeds` fresh traces per scenario.
/// Prints the table.
fn coverage(scenarios: &[Scenario], seeds: u64) -> Vec<Coverage> {
    let mut hits: Vec<Coverage> = Vec::new();
    for (label, yaml, set, servers, discipline) in scenarios {
        let mut params = Params::new();
        for (k, v) in set {
            params.set(*k, *v);
        }
        for seed in 0..seeds {
            let (t, truth) = trace(yaml, params.clone(), 3600.0, 1000 + seed, 0.0, 0.0);
            let (mut obs, diag) = Observations::from_table(&t, "CPU", *servers, false).unwrap();
            obs.discipline = *discipline;
            let report = estimate(
                &obs,
                diag,
                &Config {
                    seed: crate::seed(seed),
                    bootstrap: 200,
                    ..Config::default()
                },
                "CPU",
                30.0,
            );
            // Read with the discipline that generated it, the data never
            // ask for the other one.
            if let Some(f) = &report.discipline_fit {
                assert!(f.better.is_none(), "{label} seed {seed}: {f:?}");
            }
            for e in report.estimates.iter().filter(|e| e.class != "(mix)") {
                // The system's demand: the service distribution's mean,
                // what a prediction at another load needs.
                let real = truth
                    .truth
                    .iter()
                    .find(|x| x.color == e.class)
                    .unwrap()
                    .true_demand_s;
                let key = format!("{label} {} {}", e.class, e.method);
                let covered = e
                    .ci_low_s
                    .zip(e.ci_high_s)
                    .is_some_and(|(lo, hi)| lo <= real && real <= hi);
                let i = match hits.iter().position(|h| h.key == key) {
                    Some(i) => i,
                    None => {
                        hits.push(Coverage {
                            key,
                            covered: 0,
                            runs: 0,
                            error_sum: 0.0,
                            error_squares: 0.0,
                        });
                        hits.len() - 1
                    }
                };
                hits[i].covered += covered as usize;
                hits[i].runs += 1;
                let error = (e.demand_s - real) / real;
                hits[i].error_sum += error;
                hits[i].error_squares += error * error;
            }
        }
    }
    for h in &hits {
        eprintln!(
            "{:36} {:3} / {:3} = {:5.1} %   mean error {:+.2} % (sd {:.2} %)",
            h.key,
            h.covered,
            h.runs,
            100.0 * h.share(),
            100.0 * h.bias(),
            100.0 * h.spread()
        );
    }
    hits
}

/// One class on one server at U 0.5.
fn one_server() -> Scenario {
    (
        "1 class, 1 server, U 0.5",
        ONE_CLASS.into(),
        vec![("rate", 5.0), ("demand", 0.1)],
        1,
        Discipline::Fcfs,
    )
}

/// Two classes whose mix switches, on a processor-sharing server.
fn two_classes_ps() -> Scenario {
    let ps = TWO_CLASSES_UNEQUAL.replace("queue: fcfs", "queue: ps");
    ("2 classes, PS", ps, vec![], 1, Discipline::Ps)
}

/// The fast tier's check of the intervals (the 200-seed tables below are
/// the slow tier's): 50 seeds of one class on one server and of two
/// classes on a processor-sharing server, each method's interval holding
/// the truth in at least 38 (every method but rta's, which is biased by
/// design). An interval that holds it in 92 % of seeds (the worst cell
/// over 200 seeds, README) misses 13 or more of 50 with probability 1e-4.
/// Intervals half as wide as they are fail here: tried, 20 of the 21 cells
/// held the truth in 30–37 of 50 seeds (one in 39).
#[test]
fn intervals_cover_the_truth_in_at_least_three_quarters_of_50_seeds() {
    for h in coverage(&[one_server(), two_classes_ps()], 50) {
        if !h.key.ends_with(" rta") {
            assert!(h.share() >= 0.75, "{}: {}/{}", h.key, h.covered, h.runs);
        }
    }
}

#[test]
#[ignore = "slow tier (scripts/slow-tests.sh): 400 traces; the fast tier checks 50 seeds"]
fn ninety_five_percent_intervals_cover_the_truth_in_at_least_90_percent_of_seeds() {
    let scenarios: Vec<Scenario> = vec![
        one_server(),
        (
            "1 class, 4 servers, U 0.6",
            ONE_CLASS.into(),
            vec![("rate", 24.0), ("demand", 0.1), ("servers", 4.0)],
            4,
            Discipline::Fcfs,
        ),
    ];
    // Measured over these 200 seeds (README): 92–96.5 % for every method
    // but rta. The bound leaves room for the sampling spread of 200 seeds
    // (±3.5 misses) around the 90 % asked, not for a worse interval
    // (rortu's, 85.5–92 % before its bias was found: see
    // `response_fits_are_not_biased_by_an_intervals_own_requests`).
    for h in coverage(&scenarios, 200) {
        if !h.key.ends_with(" rta") {
            assert!(h.share() >= 0.87, "{}: {}/{}", h.key, h.covered, h.runs);
        }
    }
}

/// Two classes whose mix switches every five minutes or so, on an FCFS
/// and on a processor-sharing server, each estimated with its discipline.
/// Measured over these 200 seeds (README): 90.5–96 % for every method but
/// rta, except two on FCFS. `sdl` and `rort` read each interval as one
/// steady state; when the mix switches inside an interval the classes did
/// not wait alike there, and on FCFS that costs them about 2 % on the
/// smaller demand (its interval then holds the truth in 75–83 % of seeds;
/// on PS, where the split does not depend on the wait, they cover). Their
/// bias is held to 3 % instead.
#[test]
#[ignore = "slow tier (scripts/slow-tests.sh): 400 traces; the fast tier checks 50 seeds"]
fn two_class_intervals_cover_the_truth_in_at_least_90_percent_of_seeds() {
    let scenarios: Vec<Scenario> = vec![
        (
            "2 classes, FCFS",
            TWO_CLASSES_UNEQUAL.into(),
            vec![],
            1,
            Discipline::Fcfs,
        ),
        two_classes_ps(),
    ];
    for h in coverage(&scenarios, 200) {
        let steady_state = h.key.starts_with("2 classes, FCFS")
            && (h.key.ends_with(" sdl") || h.key.ends_with(" rort"));
        if h.key.ends_with(" rta") {
            continue;
        } else if steady_state {
            assert!(h.bias().abs() <= 0.03, "{}: {:.3}", h.key, h.bias());
        } else {
            assert!(h.share() >= 0.87, "{}: {}/{}", h.key, h.covered, h.runs);
        }
    }
}

/// The response-time fits on the queue each request found (`rr`, `rortu`)
/// must not be biased by an interval's own requests: one that stays long
/// makes those arriving after it in the same interval find more, so an
/// interval's mean response and mean queue move together beyond the
/// equation, and a squared-error fit comes out high by about 10 s / the
/// interval length (rortu: +1.0 % at 10 s, +0.44 % at 30 s over 1,000
/// traces; its 95 % interval then covered 85.5–92 % of seeds). Their second
/// fit weighs each residual by the class's mean over its predicted mean.
/// 400 one-hour traces at U 0.5 on one server in 10 s intervals, against
/// the mean of the service times each drew: mean error within 0.5 %
/// (measured: rr −0.16 %, rortu −0.13 %, sd per trace 0.51 % and 0.24 %,
/// so the means' standard errors are 0.03 % and 0.01 %; without the
/// reweighting +2.2 % and +1.0 %).
#[test]
fn response_fits_are_not_biased_by_an_intervals_own_requests() {
    let mut params = Params::new();
    params.set("rate", 5.0);
    params.set("demand", 0.1);
    let model = load(
        ONE_CLASS,
        &LoadOptions {
            params,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    let runs = 400;
    let (mut sum, mut squares) = ([0.0; 2], [0.0; 2]);
    for k in 0..runs {
        let cfg = GenConfig {
            probe: 0,
            interval: 10.0,
            requests: None,
            time: Some(3600.0),
            seed: crate::seed(7000 + k),
            token_limit: 1_000_000,
        };
        let (t, truth) = table(&model.net, &cfg, &mut |u| u).unwrap();
        let (obs, diag) = Observations::from_table(&t, "CPU", 1, false).unwrap();
        let config = Config {
            methods: vec![Method::Rr, Method::Rortu],
            bootstrap: 0,
            ..Config::default()
        };
        let report = estimate(&obs, diag, &config, "CPU", 10.0);
        let real = truth.truth[0].realised_demand_s.unwrap();
        for (j, m) in ["rr", "rortu"].iter().enumerate() {
            let e = report.estimates.iter().find(|e| e.method == *m).unwrap();
            let error = (e.demand_s - real) / real;
            sum[j] += error;
            squares[j] += error * error;
        }
    }
    for (j, m) in ["rr", "rortu"].iter().enumerate() {
        let bias = sum[j] / runs as f64;
        let sd = (squares[j] / runs as f64 - bias * bias).sqrt();
        eprintln!(
            "{m}: mean error {:+.3} % (sd {:.2} %)",
            100.0 * bias,
            100.0 * sd
        );
        assert!(bias.abs() <= 0.005, "{m}: {bias}");
    }
}

/// One class whose arrival rate switches between 2 and 8 requests/s every
/// five minutes or so (demand 0.08 s: U 0.16 and 0.64).
const ONE_CLASS_PHASED: &str = "colors: [request, phase]
places:
  CPU: {queue: fcfs, service: {request: {exponential: 0.08}}}
  Low: {initial: {phase: 1}}
  High: {}
transitions:
  slow: {delay: {exponential: 0.5}, in: {Low: phase}, out: {Low: phase, CPU: request}}
  fast: {delay: {exponential: 0.125}, in: {High: phase}, out: {High: phase, CPU: request}}
  up: {delay: {exponential: 300}, in: {Low: phase}, out: {High: phase}}
  down: {delay: {exponential: 300}, in: {High: phase}, out: {Low: phase}}
  leave: {in: {CPU: request}}
probes:
  response:
    colors: [request]
    start: [{transition: slow}, {transition: fast}]
    end: {transition: leave}
";

/// A one-hour trace of [`ONE_CLASS_PHASED`] whose utilization also
/// carries `extra` of a foreign process.
fn with_background(extra: f64, seed: u64) -> Observations {
    let (t, _) = trace(ONE_CLASS_PHASED, Params::new(), 3600.0, seed, 0.0, extra);
    Observations::from_table(&t, "CPU", 1, false).unwrap().0
}

#[test]
fn background_load_is_detected_and_the_methods_it_fools_are_not_recommended() {
    let obs = with_background(0.15, 21);
    let diag = demandsim::estimate::Diagnostics::default();
    let cfg = Config {
        bootstrap: 0,
        ..Config::default()
    };
    let r = estimate(&obs, diag.clone(), &cfg, "CPU", 30.0);
    let b = r.background.as_ref().expect("detected");
    // The intercept is known to its standard error (load varies little at
    // a constant rate, so intercept and slope lean on each other).
    assert!(
        (b.utilization - 0.15).abs() < 2.5 * b.standard_error,
        "{b:?}"
    );
    for e in &r.estimates {
        let fooled = matches!(e.method.as_str(), "sdl" | "ur" | "kf-u");
        // The methods blind to it are distrusted for it; others only if
        // their own fit is absurd (kf-ru, which also reads U, can be).
        let for_background = e
            .distrusted
            .as_deref()
            .is_some_and(|w| w.contains("background"));
        assert_eq!(for_background, fooled, "{e:?}");
        if fooled {
            // They count the foreign 0.15 as demand: over 10 % high.
            assert!(e.demand_s > 1.1 * 0.08, "{e:?}");
        }
    }
    let rec = r.recommended.as_deref().unwrap();
    assert!(!matches!(rec, "sdl" | "ur" | "kf-u"), "{rec}");
    let verdict = r.verdicts.iter().find(|v| v.method == "ur").unwrap();
    assert!(verdict.reason.contains("background"), "{verdict:?}");
    // With the intercept, ur accounts for it and is trusted again.
    let r = estimate(
        &obs,
        diag,
        &Config {
            intercept: true,
            ..cfg
        },
        "CPU",
        30.0,
    );
    let ur = r.estimates.iter().find(|e| e.method == "ur").unwrap();
    assert!(ur.distrusted.is_none(), "{ur:?}");
    assert!((ur.demand_s - 0.08).abs() < 0.004, "{ur:?}");
}

#[test]
fn no_background_is_reported_where_there_is_none() {
    // Ten clean traces with a varying load, and a long one at a steady
    // load where the intercept cannot be told from the demand.
    let steady = {
        let params = Params::new().with("rate", 7.9).with("demand", 0.1);
        let (t, _) = trace(ONE_CLASS, params, 100_000.0, 1, 0.0, 0.0);
        Observations::from_table(&t, "CPU", 1, false).unwrap().0
    };
    for (seed, obs) in (0..10)
        .map(|s| (s, with_background(0.0, s)))
        .chain([(99, steady)])
    {
        let r = estimate(
            &obs,
            Default::default(),
            &Config {
                bootstrap: 0,
                ..Config::default()
            },
            "CPU",
            30.0,
        );
        assert!(r.background.is_none(), "seed {seed}: {:?}", r.background);
        assert_ne!(r.recommended.as_deref(), Some("rta"));
    }
}

#[test]
fn a_demand_that_falls_with_load_is_recovered_from_six_runs() {
    // D(U) = 0.1 s × (1 − 0.1·(U − 0.2)/0.6): 10 % less at U = 0.8 than at
    // 0.2 (caches warming, batching). Six runs from U 0.2 to 0.8.
    let demand = |u: f64| 0.1 * (1.0 - 0.1 * (u - 0.2) / 0.6);
    let tables: Vec<demandsim::trace::IntervalTable> = [0.2, 0.32, 0.44, 0.56, 0.68, 0.8]
        .iter()
        .enumerate()
        .map(|(k, &u)| {
            let d = demand(u);
            let params = Params::new().with("rate", u / d).with("demand", d);
            trace(ONE_CLASS, params, 3600.0, 40 + k as u64, 0.0, 0.0).0
        })
        .collect();
    let names = ["u20", "u32", "u44", "u56", "u68", "u80"];
    let runs: Vec<(&str, &demandsim::trace::IntervalTable)> =
        names.into_iter().zip(&tables).collect();
    let (obs, diag) = Observations::from_runs(&runs, &["CPU"], 1, false).unwrap();
    let cfg = Config {
        bootstrap: 0,
        methods: vec![Ur],
        ..Config::default()
    };
    // Without the fit: the runs' demands are said to disagree.
    let plain = estimate(&obs, diag.clone(), &cfg, "CPU", 30.0);
    assert_eq!(plain.drifting, vec!["request".to_string()]);
    assert_eq!(plain.per_run.len(), 6);
    // With it: β recovered within its interval, and clearly below 0.
    let fitted = estimate(
        &obs,
        diag,
        &Config {
            load_dependence: Some(LoadChoice::Only(LoadForm::LinearU)),
            ..cfg
        },
        "CPU",
        30.0,
    );
    let m = fitted.load_dependence.as_ref().unwrap();
    let l = &m.classes[0];
    assert_eq!(l.form, LoadForm::LinearU);
    let (level, beta) = (&l.parameters[0], &l.parameters[1]);
    let truth = (-0.1 * 0.1 / 0.6) / demand(m.mean_utilization);
    assert!(beta.ci.0 <= truth && truth <= beta.ci.1, "{l:?} vs {truth}");
    assert!(beta.ci.1 < 0.0, "{l:?}");
    assert!(
        (level.value - demand(m.mean_utilization)).abs() < 0.003,
        "{l:?}"
    );
}

#[test]
fn runs_with_one_demand_are_not_said_to_drift() {
    let tables: Vec<demandsim::trace::IntervalTable> = [2.0, 5.0, 8.0]
        .iter()
        .enumerate()
        .map(|(k, &rate)| {
            let params = Params::new().with("rate", rate).with("demand", 0.1);
            trace(ONE_CLASS, params, 3600.0, 70 + k as u64, 0.0, 0.0).0
        })
        .collect();
    let runs: Vec<(&str, &demandsim::trace::IntervalTable)> =
        ["a", "b", "c"].into_iter().zip(&tables).collect();
    let (obs, diag) = Observations::from_runs(&runs, &["CPU"], 1, false).unwrap();
    let cfg = Config {
        bootstrap: 0,
        methods: vec![Ur],
        load_dependence: Some(LoadChoice::Only(LoadForm::LinearU)),
        ..Config::default()
    };
    let r = estimate(&obs, diag.clone(), &cfg, "CPU", 30.0);
    let l = &r.load_dependence.as_ref().unwrap().classes[0];
    let beta = &l.parameters[1];
    assert!(beta.ci.0 <= 0.0 && 0.0 <= beta.ci.1, "{l:?}");
    let r = estimate(
        &obs,
        diag,
        &Config {
            load_dependence: None,
            ..cfg
        },
        "CPU",
        30.0,
    );
    assert!(r.drifting.is_empty(), "{:?}", r.per_run);
}

/// Three one-hour runs of `demand(u)` at utilization 0.2, 0.5 and 0.8,
/// estimated together by the response-time methods.
fn three_loads(demand: impl Fn(f64) -> f64, seed: u64) -> demandsim::estimate::Report {
    let tables: Vec<demandsim::trace::IntervalTable> = [0.2, 0.5, 0.8]
        .iter()
        .enumerate()
        .map(|(k, &u)| {
            let d = demand(u);
            let params = Params::new().with("rate", u / d).with("demand", d);
            trace(ONE_CLASS, params, 3600.0, seed + k as u64, 0.0, 0.0).0
        })
        .collect();
    let runs: Vec<(&str, &demandsim::trace::IntervalTable)> =
        ["u20", "u50", "u80"].into_iter().zip(&tables).collect();
    let (obs, diag) = Observations::from_runs(&runs, &["CPU"], 1, false).unwrap();
    let cfg = Config {
        bootstrap: 0,
        methods: vec![Rr, KfRu, Rort, Rortu, Ur],
        ..Config::default()
    };
    estimate(&obs, diag, &cfg, "CPU", 30.0)
}

#[test]
fn a_response_time_equation_that_misses_across_load_is_distrusted() {
    // The demand rises 40 % from U 0.2 to 0.8 (a lock held longer under
    // load): one demand in the M/M/1 equation over-predicts the light run
    // and under-predicts the heavy one, by about +30 % and −40 %.
    let r = three_loads(|u| 0.1 * (1.0 + 0.4 * (u - 0.2) / 0.6), 90);
    for e in &r.estimates {
        let why = e.distrusted.as_deref().unwrap_or_default();
        let flagged = why.contains("across load");
        match e.method.as_str() {
            "ur" => assert!(!flagged, "ur fits no response time: {why}"),
            _ => assert!(flagged, "{}: {why:?}", e.method),
        }
    }
    assert_ne!(r.recommended.as_deref(), Some("rr"));
    assert_ne!(r.recommended.as_deref(), Some("rort"));
}

#[test]
fn a_response_time_equation_that_holds_across_load_is_not_distrusted() {
    for seed in [95, 96] {
        let r = three_loads(|_| 0.1, seed);
        for e in &r.estimates {
            assert!(e.distrusted.is_none(), "seed {seed}: {e:?}");
        }
    }
}
