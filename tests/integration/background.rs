//! Background work as a modelled load (`estimate --background`), on
//! generated traces whose truth is known: two request classes share one
//! processor-sharing CPU with a background process that takes 20 % of it,
//! (a) at a constant rate, (b) one job per request of class `a`. The
//! requests' own CPU (resource `requests`) is what per-process CPU
//! accounting gives: each interval's completions times their demands; the
//! total (`CPU`) is the simulated busy time, background included.

use demandsim::estimate::{BackgroundFit, Band, Config, Method, Observations, estimate};
use demandsim::generate::{GenConfig, table};
use demandsim::model::{LoadOptions, Params, load};
use demandsim::trace::IntervalTable;

use super::demandsim;

/// Requests of `a` (0.05 s) and `b` (0.03 s) at 4·scale and 6·scale per
/// second; background jobs of `bg_demand` s at `bg_rate` per second, and
/// one per request of `a` when `per_a` is 1.
const SHARED_CPU: &str = "params: {scale: 1, bg_rate: 0, bg_demand: 0.01, per_a: 0}
colors: [a, b, bg]
places:
  CPU:
    queue: ps
    service: {a: {exponential: 0.05}, b: {exponential: 0.03}, bg: {exponential: bg_demand}}
transitions:
  arrive:
    delay: {exponential: 1 / (10 * scale + bg_rate)}
    modes:
      - {name: a, weight: 4 * scale, out: {CPU: a}}
      - {name: b, weight: 6 * scale, out: {CPU: b}}
      - {name: bg, weight: bg_rate, out: {CPU: bg}}
  leave_a:
    modes:
      - {weight: 1 - per_a, in: {CPU: a}}
      - {weight: per_a, in: {CPU: a}, out: {CPU: bg}}
  leave_b: {in: {CPU: b}}
  leave_bg: {in: {CPU: bg}}
probes:
  response: {colors: [a, b], start: {place: CPU, when: enter}, end: {place: CPU, when: exit}}
";

/// The requests' demands.
const DEMAND: [(&str, f64); 2] = [("a", 0.05), ("b", 0.03)];

/// One hour of [`SHARED_CPU`] at `scale` with `params`, 30 s intervals,
/// with the requests' own CPU as resource `requests`.
fn run(scale: f64, params: &[(&str, f64)], seed: u64) -> IntervalTable {
    let mut p = Params::new().with("scale", scale);
    for (k, v) in params {
        p = p.with(*k, *v);
    }
    let opts = LoadOptions {
        params: p,
        ..LoadOptions::default()
    };
    let model = load(SHARED_CPU, &opts).unwrap();
    let cfg = GenConfig {
        probe: 0,
        interval: 30.0,
        requests: None,
        time: Some(3600.0),
        seed: crate::seed(seed),
        token_limit: 1_000_000,
    };
    let (mut t, _) = table(&model.net, &cfg, &mut |u| u).unwrap();
    t.resources.push("requests".into());
    let demand: Vec<f64> = t
        .classes
        .iter()
        .map(|c| DEMAND.iter().find(|d| d.0 == c).unwrap().1)
        .collect();
    for iv in &mut t.intervals {
        let busy: f64 = iv
            .classes
            .iter()
            .zip(&demand)
            .map(|(c, d)| c.completions as f64 * d)
            .sum();
        iv.utilization.push(Some(busy / (iv.end - iv.start)));
    }
    t
}

/// Three runs at 40, 70 and 100 % of the base load, fitted together with
/// the background read as `CPU` − `requests`.
fn fitted(params: &[(&str, f64)], seed: u64) -> (Observations, BackgroundFit, [f64; 2]) {
    let tables: Vec<(String, IntervalTable)> = [0.4, 0.7, 1.0]
        .iter()
        .enumerate()
        .map(|(k, &s)| (format!("x{s}"), run(s, params, seed + k as u64)))
        .collect();
    let runs: Vec<(&str, &IntervalTable)> = tables.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let (mut obs, diag) =
        Observations::with_total(&runs, &["requests"], Some("CPU"), 1, false).unwrap();
    obs.discipline = demandsim::estimate::Discipline::Ps;
    let cfg = Config {
        methods: vec![Method::from_id("ur").unwrap()],
        background: true,
        bootstrap: 200,
        ..Config::default()
    };
    let report = estimate(&obs, diag, &cfg, "requests", 30.0);
    let demand = DEMAND.map(|(c, _)| {
        let e = report.estimates.iter().find(|e| e.class == c).unwrap();
        e.demand_s
    });
    (
        obs,
        report.background_work.expect("a background fit"),
        demand,
    )
}

/// The per-class throughputs at `scale` in the observations' class order.
fn at(obs: &Observations, scale: f64) -> Vec<f64> {
    let base = |c: &str| if c == "a" { 4.0 } else { 6.0 };
    obs.classes.iter().map(|c| base(c) * scale).collect()
}

/// Whether `band` holds `truth`.
fn holds(band: &Band, truth: f64) -> bool {
    band.low.unwrap() <= truth && truth <= band.high.unwrap()
}

/// The requests' mean response time (completion-weighted over the two
/// classes) at `scale` on the M/M/1-PS CPU, D/(1 − U_req − U_bg), with
/// demands `d` (a, b) and the background `u_bg`.
fn mean_response(scale: f64, d: [f64; 2], u_bg: f64) -> f64 {
    let x = [4.0 * scale, 6.0 * scale];
    let work: f64 = x.iter().zip(&d).map(|(x, d)| x * d).sum();
    work / (1.0 - work - u_bg) / (x[0] + x[1])
}

/// The true demands.
const TRUE: [f64; 2] = [DEMAND[0].1, DEMAND[1].1];

/// At 130 % of the base load, beyond the runs: the fitted background holds
/// the true `u_bg` in its interval, and with the requests' demands `d` as
/// estimated predicts their mean response time within 3 %.
fn predicts_130_percent(obs: &Observations, fit: &BackgroundFit, d: [f64; 2], u_bg: f64) {
    let fitted = fit.utilization_at(&at(obs, 1.3));
    assert!(holds(&fitted, u_bg), "{fitted:?}");
    let truth = mean_response(1.3, TRUE, u_bg);
    let predicted = mean_response(1.3, d, fitted.value);
    eprintln!(
        "b0 {:?}, w {:?}; U_bg at 1.3: {fitted:?}; R {predicted:.5} against {truth:.5} ({:+.2} %)",
        fit.constant,
        fit.per_request,
        100.0 * (predicted - truth) / truth
    );
    assert!(
        (predicted - truth).abs() < 0.03 * truth,
        "{predicted} {truth}"
    );
}

#[test]
fn a_constant_background_is_recovered_and_predicts_a_new_load_within_3_percent() {
    // 20 jobs/s of 10 ms: 0.2 of the CPU whatever the load.
    let (obs, fit, d) = fitted(&[("bg_rate", 20.0)], 310);
    assert!(holds(&fit.constant, 0.2), "{:?}", fit.constant);
    for w in &fit.per_request {
        assert!(holds(&w.cpu_s, 0.0), "{w:?}");
    }
    for r in &fit.runs {
        let measured = r.measured.unwrap();
        assert!((measured - 0.2).abs() < 0.01, "{r:?}");
        assert!((r.fitted.value - measured).abs() < 0.01, "{r:?}");
    }
    // At 130 % of the base load (U 0.694 in all), with the requests' own
    // demands as estimated (ur on `requests`).
    predicts_130_percent(&obs, &fit, d, 0.2);
}

#[test]
fn a_background_proportional_to_one_class_is_recovered_and_predicts_a_new_load_within_3_percent() {
    // One 50 ms job per request of a: 0.05·X_a, 0.2 of the CPU at the
    // base load.
    let (obs, fit, d) = fitted(&[("per_a", 1.0), ("bg_demand", 0.05)], 320);
    let of = |c: &str| {
        let w = fit.per_request.iter().find(|w| w.class == c).unwrap();
        w.cpu_s
    };
    assert!(holds(&of("a"), 0.05), "{:?}", of("a"));
    assert!(holds(&of("b"), 0.0), "{:?}", of("b"));
    assert!(holds(&fit.constant, 0.0), "{:?}", fit.constant);
    predicts_130_percent(&obs, &fit, d, 0.26);
}

#[test]
fn the_testbed_models_background_class_slows_the_requests_as_processor_sharing_does() {
    // Enough API workers never to bind: the CPU is M/M/1-PS with the
    // requests (U 0.319) and the background (0.2), so every class's
    // residence there is D/(1 − 0.519), within the simulation's CI.
    let run = demandsim(
        &[
            "-q",
            "simulate",
            "models/testbed.yaml",
            "--set",
            "workers=1000",
            "--set",
            "background_u=0.2",
            "--set",
            "rate_rate=30",
            "--requests",
            "100000",
            "--seed",
            &crate::seed_arg(3),
            "--format",
            "json",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let p = &out["params"];
    let classes = [
        "login",
        "companies",
        "rate",
        "holdings",
        "buy",
        "sell",
        "offers",
        "transactions",
        "history",
    ];
    let u_req: f64 = classes
        .iter()
        .map(|c| {
            p[format!("rate_{c}")].as_f64().unwrap() * p[format!("demand_{c}")].as_f64().unwrap()
        })
        .sum();
    assert!((u_req - 0.319).abs() < 1e-9, "{u_req}");
    let u = u_req + 0.2;
    let mut seen = 0;
    for place in out["places"].as_array().unwrap() {
        if place["place"] != "CPU" {
            continue;
        }
        let c = place["color"].as_str().unwrap();
        let d = match c {
            "background" => p["background_demand"].as_f64().unwrap(),
            c => p[format!("demand_{c}")].as_f64().unwrap(),
        };
        let (r, half) = (
            place["mean_residence_s"].as_f64().unwrap(),
            place["ci_half_width_s"].as_f64().unwrap(),
        );
        assert!(
            (r - d / (1.0 - u)).abs() <= half,
            "{c}: {r} ± {half} against {}",
            d / (1.0 - u)
        );
        assert!(
            (place["utilization"].as_f64().unwrap() - u).abs() < 0.02,
            "{place}"
        );
        seen += 1;
    }
    assert_eq!(seen, 10);
}

#[test]
fn estimate_background_reports_the_law_and_refuses_what_it_cannot_read() {
    let run = |r: &str| {
        [
            "--requests".to_string(),
            format!("traces/real/{r}/requests.csv.gz"),
            "--utilization".to_string(),
            format!("traces/real/{r}/utilization.csv.gz"),
        ]
    };
    let mut args: Vec<String> = ["-q", "estimate", "--resource", "request-path"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(run("mixed-n21"));
    args.extend(run("mixed-n57"));
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.extend(extra);
        demandsim(&a, b"")
    };
    let base = ["--methods", "ur", "--bootstrap", "40", "--seed", "1"];
    let out = with(&[&base[..], &["--background", "services", "--format", "json"]].concat());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let j: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let b = &j["background_work"];
    assert_eq!(b["source"], "measured");
    assert_eq!(b["total"], "services");
    assert!(b["constant"]["low"].as_f64().is_some(), "{b}");
    assert_eq!(b["per_request"].as_array().unwrap().len(), 9);
    // Each run's measured background is the mean of services − request-path.
    for r in b["runs"].as_array().unwrap() {
        let (m, f) = (
            r["measured"].as_f64().unwrap(),
            r["fitted"]["value"].as_f64().unwrap(),
        );
        assert!(m > 0.03 && (f - m).abs() < 0.02, "{r}");
        assert!(r["share_of_total"].as_f64().unwrap() > 0.1, "{r}");
    }
    // The demands stay the requests' own: the same as without it.
    let plain = with(&[&base[..], &["--format", "json"]].concat());
    let p: serde_json::Value = serde_json::from_str(&plain.stdout).unwrap();
    assert_eq!(p["estimates"], j["estimates"]);
    assert!(p.get("background_work").is_none());
    // CSV rows and the table's note.
    let csv = with(&[&base[..], &["--background", "services", "--format", "csv"]].concat());
    assert!(
        csv.stdout.contains("\n(background),(constant),"),
        "{}",
        csv.stdout
    );
    let table = with(&[&base[..], &["--background", "services"]].concat());
    assert!(
        table
            .stdout
            .contains("Background work (services − request-path"),
        "{}",
        table.stdout
    );
    // Without a total, the intercept stands in, and says so.
    let stand_in = with(&[&base[..], &["--background", "--format", "json"]].concat());
    let s: serde_json::Value = serde_json::from_str(&stand_in.stdout).unwrap();
    assert_eq!(s["background_work"]["source"], "intercept");
    // An unknown total is named with the ones present; the resource itself
    // is refused.
    let bad = with(&[&base[..], &["--background", "celery"]].concat());
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("`celery`") && bad.stderr.contains("services"),
        "{}",
        bad.stderr
    );
    let same = with(&[&base[..], &["--background", "request-path"]].concat());
    assert_eq!(same.code, 2, "{}", same.stderr);
    assert!(
        same.stderr.contains("is the --resource itself"),
        "{}",
        same.stderr
    );
}

#[test]
fn a_study_puts_the_fitted_background_into_the_model_and_compares_the_total() {
    // The real protocol's wiring on two of the testbed's runs: the
    // background law fitted from mixed-n21 and mixed-n57 (request path
    // against the core's total), bound into models/testbed-users.yaml at
    // mixed-n39's throughputs. Oracles: mixed-n39's run.json, whose
    // CPU-accounted total is 0.347 of the core and request path 0.271
    // (background 0.076).
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().unwrap();
    let run = |r: &str| {
        format!(
            "{{name: {r}, requests: {root}/traces/real/{r}/requests.csv.gz, utilization: {root}/traces/real/{r}/utilization.csv.gz}}"
        )
    };
    let yaml = format!(
        "defaults:
  model: {root}/models/testbed-users.yaml
  resources: [request-path]
  class_column: user_class
  estimate: {{methods: [sdl], discipline: ps, bootstrap: 20, background: services}}
  estimate_from: [{}, {}]
  params:
    workers: 2
    rate_{{c}}: {{measured: throughput, class: \"{{c}}\"}}
    demand_{{c}}: {{estimate: sdl, class: \"{{c}}\"}}
    background_u: {{background: utilization}}
  run: {{requests: 20000, warmup: auto}}
experiments: [{}]
",
        run("mixed-n21"),
        run("mixed-n57"),
        run("mixed-n39")
    );
    let path = dir.path().join("study.yaml");
    std::fs::write(&path, yaml).unwrap();
    let j = super::study::study_results(&path, &dir.path().join("report"), &[]);
    let e = &j["experiments"][0];
    let bg = e["params"]["background_u"].as_f64().unwrap();
    assert!((bg - 0.076).abs() < 0.02, "fitted background {bg}");
    let measured = e["traces"]["mean_utilization"].as_f64().unwrap();
    assert!(
        (measured - 0.347).abs() < 0.01,
        "the total is shown: {measured}"
    );
    let simulated = e["simulated_utilization"].as_f64().unwrap();
    assert!(
        (simulated - measured).abs() < 0.05,
        "{simulated} {measured}"
    );
}
