//! `demandsim study`, `compare` and `reproduce`, checked against the
//! Erlang-C closed form and traces generated with a known demand.

use std::path::Path;

use super::{demandsim, seed, seed_arg};

/// M/M/c mean response time (Erlang C), written out here as the oracle.
fn mmc(lambda: f64, d: f64, c: u32) -> f64 {
    let a = lambda * d;
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / k as f64;
        }
        sum += term;
    }
    let last = term * a / c as f64 * c as f64 / (c as f64 - a);
    let erlang_c = last / (sum + last);
    d + erlang_c * d / (c as f64 - a)
}

pub(super) fn model(name: &str) -> String {
    format!("{}/models/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Generates 20,000 requests of an M/M/2 at 75 % load (λ = 1.5/s,
/// D = 1 s, R = 2.2857 s) into `out`.
fn generate_mm2(out: &Path, seed: u64, gzip: bool) {
    let m = model("qpn1-open.yaml");
    let seed = seed_arg(seed);
    let mut args = vec![
        "-q",
        "generate",
        &m,
        "--set",
        "arrival_rate=1.5",
        "--set",
        "demand=1.0",
        "--set",
        "servers=2",
        "--requests",
        "20000",
        "--seed",
        &seed,
        "--out",
        out.to_str().unwrap(),
    ];
    if gzip {
        args.push("--gzip");
    }
    let run = demandsim(&args, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A trace of an M/M/2 at 75 % load (λ = 1.5/s, D = 1 s), and a study over
/// it: one experiment from traces, one from published numbers, one broken.
fn tiny_study(dir: &Path) -> String {
    let g = dir.join("g");
    generate_mm2(&g, 7, true);
    let m = model("qpn1-open.yaml");
    let seed = seed(11);
    let study = format!(
        "name: tiny
description: an M/M/2 three ways
seed: {seed}
defaults:
  servers: 2
  run: {{requests: 200000}}
experiments:
  - name: from-traces
    model: {m}
    containers: 1
    requests: g/requests.csv.gz
    utilization: g/utilization.csv.gz
    truth: g/truth.json
    estimate: {{methods: [sdl, ur, rort, rortu], combine: [rort, rortu], bootstrap: 30}}
    params:
      arrival_rate: {{measured: throughput}}
      demand: {{estimate: combined}}
  - name: published
    model: {m}
    measured_mean_s: 2.0
    params: {{arrival_rate: 1.5, demand: 1.0}}
  - name: broken
    model: {m}
    containers: 1
    requests: missing.csv
    utilization: g/utilization.csv.gz
    estimate: {{methods: [sdl]}}
    params: {{demand: {{estimate: sdl}}}}
"
    );
    let path = dir.join("study.yaml");
    std::fs::write(&path, study).unwrap();
    path.to_str().unwrap().to_string()
}

pub(super) fn exp<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no experiment {name} in {doc}"))
}

#[test]
fn a_tiny_study_gives_the_closed_form_numbers_and_survives_a_broken_experiment() {
    let dir = tempfile::tempdir().unwrap();
    let study = tiny_study(dir.path());
    let out = dir.path().join("out");
    let run = demandsim(
        &[
            "study",
            &study,
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
        ],
        b"",
    );
    // The broken experiment fails the run, names itself and its file, and
    // the others finish.
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("broken") && run.stderr.contains("missing.csv"),
        "{}",
        run.stderr
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["seed"], seed(11));
    assert_eq!(doc["experiments"].as_array().unwrap().len(), 2);
    assert_eq!(doc["failures"][0]["name"], "broken");
    let exact = mmc(1.5, 1.0, 2); // 2.2857 s
    assert!((exact - 2.285_714_285_714).abs() < 1e-9);

    // From traces: the demand is recovered, the model at the measured
    // throughput reproduces the measured response time.
    let t = exp(&doc, "from-traces");
    let d = t["demand_s"].as_f64().unwrap();
    assert!((d - 1.0).abs() < 0.05, "demand {d}");
    let (lo, hi) = (
        t["demand_ci_s"][0].as_f64().unwrap(),
        t["demand_ci_s"][1].as_f64().unwrap(),
    );
    assert!(lo < d && d < hi, "{t}");
    assert_eq!(t["true_demand_s"].as_f64().unwrap(), 1.0);
    let de = t["demand_error_pct"].as_f64().unwrap();
    assert!((de - (1.0 - d) * 100.0).abs() < 1e-9, "{t}");
    let meas = t["measured_s"].as_f64().unwrap();
    let sim = t["simulated_s"].as_f64().unwrap();
    assert!(
        (meas - exact).abs() / exact < 0.08,
        "measured {meas} vs {exact}"
    );
    // The model runs at the measured throughput with the estimated demand:
    // at 75 % load R amplifies a demand error about fourfold, so the oracle
    // is Erlang C at those parameters (from results.json), not at the truth.
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let params = &results["experiments"][0]["params"];
    let (x, dd) = (
        params["arrival_rate"].as_f64().unwrap(),
        params["demand"].as_f64().unwrap(),
    );
    assert!((dd - d).abs() < 1e-12 && (x - 1.5).abs() < 0.05, "{params}");
    let oracle = mmc(x, dd, 2);
    assert!((t["analytic_s"].as_f64().unwrap() - oracle).abs() < 1e-9 * oracle);
    let hw = t["simulated_ci_half_width_s"].as_f64().unwrap();
    assert!(
        (sim - oracle).abs() < 3.0 * hw + 0.02 * oracle,
        "simulated {sim} ± {hw} vs {oracle}"
    );
    let e = t["error_pct"].as_f64().unwrap();
    assert!((e - (meas - sim) / meas * 100.0).abs() < 1e-9, "{t}");
    assert!(e.abs() < 25.0, "{t}");
    let u = t["measured_utilization"].as_f64().unwrap();
    assert!((u - 0.75).abs() < 0.04, "{u}");
    assert!(t["ks"].as_f64().unwrap() < 0.08, "{t}");

    // Published numbers: the analytic answer is the Erlang-C formula, and
    // the error uses the study's sign.
    let p = exp(&doc, "published");
    let an = p["analytic_s"].as_f64().unwrap();
    assert!((an - exact).abs() < 1e-9 * exact, "{an} vs {exact}");
    let sim = p["simulated_s"].as_f64().unwrap();
    let hw = p["simulated_ci_half_width_s"].as_f64().unwrap();
    assert!(
        (sim - exact).abs() < 3.0 * hw + 0.02 * exact,
        "{sim} ± {hw}"
    );
    let e = p["error_pct"].as_f64().unwrap();
    assert!((e - (2.0 - sim) / 2.0 * 100.0).abs() < 1e-9);
    assert!((p["analytic_error_pct"].as_f64().unwrap() - (2.0 - exact) / 2.0 * 100.0).abs() < 1e-9);

    // The report: one self-contained page, the full results, the plots.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.matches("<svg").count() >= 6, "plots inline");
    for needle in ["src=\"http", "href=\"http", "<script", "<link"] {
        assert!(!html.contains(needle), "{needle} in the report");
    }
    assert!(html.contains("from-traces") && html.contains("missing.csv"));
    assert_eq!(results["experiments"].as_array().unwrap().len(), 2);
    assert!(
        results["experiments"][0]["traces"]["series"]
            .as_array()
            .unwrap()
            .len()
            > 100
    );
    for f in [
        "sim-vs-measured.svg",
        "response-boxes.svg",
        "utilization-boxes.svg",
        "from-traces-over-time.svg",
        "from-traces-demands.svg",
        "from-traces-cdf.svg",
        "published-cdf.svg",
    ] {
        let svg = std::fs::read_to_string(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(
            svg.contains("<svg") && (svg.contains("[s]") || svg.contains("[fraction]")),
            "{f}"
        );
    }
    // No temporary files left behind.
    assert!(std::fs::read_dir(&out).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".demandsim")
    }));
}

#[test]
fn a_study_is_the_same_with_one_thread_or_two() {
    let dir = tempfile::tempdir().unwrap();
    let study = tiny_study(dir.path());
    let go = |threads: &str, out: &str| {
        let out = dir.path().join(out);
        let run = demandsim(
            &[
                "-q",
                "study",
                &study,
                "--threads",
                threads,
                "--format",
                "json",
                "--out",
                out.to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(run.code, 1, "{}", run.stderr);
        (
            run.stdout,
            std::fs::read(out.join("results.json")).unwrap(),
            std::fs::read(out.join("report.html")).unwrap(),
        )
    };
    let a = go("1", "a");
    let b = go("2", "b");
    assert!(a.0 == b.0, "stdout JSON differs");
    assert!(a.1 == b.1, "results.json differs");
    assert!(a.2 == b.2, "report.html differs");
}

#[test]
fn study_files_with_mistakes_are_refused_with_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let m = model("qpn1-open.yaml");
    let cases = [
        (
            format!("name: x\nexperiments:\n  - name: a\n    model: {m}\n    sever: 2\n"),
            "sever",
        ),
        (
            format!(
                "experiments:\n  - name: a\n    model: {m}\n    requests: r.csv\n    utilization: u.csv\n    estimate: {{methods: [sdl, nope]}}\n"
            ),
            "unknown method `nope`",
        ),
        (
            format!(
                "experiments:\n  - name: a\n    model: {m}\n    requests: r.csv\n    utilization: u.csv\n    params: {{demand: {{estimate: combined}}}}\n"
            ),
            "combine",
        ),
        (
            format!(
                "experiments:\n  - name: a\n    model: {m}\n    params: {{arrival_rate: {{measured: throughput}}}}\n"
            ),
            "measured values need `requests` traces",
        ),
        (
            format!(
                "experiments:\n  - name: a\n    model: {m}\n    requests: r.csv\n    params: {{z: {{measured: think_time, class: buy}}}}\n"
            ),
            "a think time is measured over all classes (drop `class`)",
        ),
        (
            format!("data: simulated\nexperiments:\n  - name: a\n    model: {m}\n"),
            "simulated",
        ),
        ("experiments: []\n".to_string(), "no experiments"),
        (
            format!("experiments:\n  - name: a\n    model: {m}\n  - name: a\n    model: {m}\n"),
            "listed twice",
        ),
    ];
    for (i, (yaml, expected)) in cases.iter().enumerate() {
        let p = dir.path().join(format!("s{i}.yaml"));
        std::fs::write(&p, yaml).unwrap();
        let run = demandsim(&["study", p.to_str().unwrap()], b"");
        assert_eq!(run.code, 1, "{yaml}\n{}", run.stderr);
        assert!(
            run.stderr.contains(expected) && run.stderr.contains(&format!("s{i}.yaml")),
            "{yaml}\nexpected `{expected}` in: {}",
            run.stderr
        );
    }
    // An unknown model parameter fails that experiment, with the name.
    let p = dir.path().join("p.yaml");
    std::fs::write(
        &p,
        format!("experiments:\n  - name: a\n    model: {m}\n    params: {{nosuch: 1}}\n    run: {{requests: 1000}}\n"),
    )
    .unwrap();
    let run = demandsim(&["study", p.to_str().unwrap()], b"");
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("nosuch"), "{}", run.stderr);
}

#[test]
fn compare_uses_the_study_sign_and_gates_on_max_error() {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("g");
    // Measured: an M/M/2 at 75 % (R = 2.2857 s).
    generate_mm2(&g, 3, false);
    let req = g.join("requests.csv");
    // Simulated: the same queue with 3 servers (R = 1.1739 s): the model
    // is optimistic, so the error is positive, about +49 %.
    let sim = dir.path().join("sim.json");
    let run = demandsim(
        &[
            "simulate",
            &model("qpn1-open.yaml"),
            "--set",
            "arrival_rate=1.5",
            "--set",
            "demand=1.0",
            "--set",
            "servers=3",
            "--seed",
            "5",
            "--format",
            "json",
            "-o",
            sim.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = demandsim(
        &[
            "compare",
            "--requests",
            req.to_str().unwrap(),
            "--simulated",
            sim.to_str().unwrap(),
            "--format",
            "json",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let mean = &v["comparison"]["lines"][0];
    assert_eq!(mean["statistic"], "mean");
    let expected = (mmc(1.5, 1.0, 2) - mmc(1.5, 1.0, 3)) / mmc(1.5, 1.0, 2) * 100.0;
    let e = mean["error_pct"].as_f64().unwrap();
    assert!((e - expected).abs() < 6.0, "{e} vs {expected}");
    assert_eq!(v["comparison"]["lines"].as_array().unwrap().len(), 5);
    let ks = v["comparison"]["ks"].as_f64().unwrap();
    assert!(ks > 0.1 && ks < 0.5, "{ks}");
    // The gate: exit 3 above the limit, 0 below.
    let gate = |limit: &str| {
        demandsim(
            &[
                "compare",
                "--requests",
                req.to_str().unwrap(),
                "--simulated",
                sim.to_str().unwrap(),
                "--max-error",
                limit,
            ],
            b"",
        )
    };
    let run = gate("10");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("above --max-error 10"),
        "{}",
        run.stderr
    );
    assert_eq!(gate("1000").code, 0);
    assert_eq!(gate("-1").code, 2);
    // Not a simulation result: a data error naming the file.
    let run = demandsim(
        &[
            "compare",
            "--requests",
            req.to_str().unwrap(),
            "--simulated",
            g.join("truth.json").to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("truth.json") && run.stderr.contains("simulate --format json"));
}

/// Erlang C by Erlang B's recursion.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b / (1.0 - a / c as f64 * (1.0 - b))
}

#[test]
fn reproduce_runs_the_shipped_study_and_the_replicas_recover_the_demands() {
    let dir = tempfile::tempdir().unwrap();
    let run = demandsim(
        &[
            "-q",
            "reproduce",
            "--format",
            "json",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let studies = v["studies"].as_array().unwrap();
    let reference = &studies[0];
    assert_eq!(reference["experiments"].as_array().unwrap().len(), 24);
    // The host reading of ET8: five containers on 4 shared CPUs are one
    // M/M/4-PS station at 3.152/s of 0.397753 s.
    let host = exp(reference, "ET8-host");
    let (a, d) = (3.152 * 0.397753, 0.397753);
    let want = d * (a + erlang_c(4, a) * (a / 4.0) / (1.0 - a / 4.0)) / a;
    let (r, hw) = (
        host["simulated_s"].as_f64().unwrap(),
        host["simulated_ci_half_width_s"].as_f64().unwrap(),
    );
    assert!(
        (r - want).abs() <= 2.0 * hw,
        "ET8-host {r} ± {hw}, M/M/4-PS {want}"
    );
    // method.md: closed, 90 clients, think 0.166 s, demand 0.998 s on 12
    // servers saturates (about 7.3 s); open is an M/M/12 at about 52 % load.
    let closed = exp(reference, "ET1-closed");
    let r = closed["simulated_s"].as_f64().unwrap();
    assert!((r - 7.3).abs() < 0.2, "{r}");
    let open = exp(reference, "ET1-open");
    let an = open["analytic_s"].as_f64().unwrap();
    assert!((an - mmc(6.242, 0.997588333, 12)).abs() < 1e-9, "{an}");
    assert!((open["measured_s"].as_f64().unwrap() - 0.904).abs() < 1e-12);
    // README: the open reading within -11.5 % ... +72.6 % of the published
    // means, the host reading +11.3 ... +72.2 % (the study's seed fixes
    // them; a point of slack for a change of random path).
    let range = |suffix: &str| {
        let errs = reference["experiments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["name"].as_str().unwrap().ends_with(suffix));
        errs.map(|e| e["error_pct"].as_f64().unwrap())
            .fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)))
    };
    let near = |(lo, hi): (f64, f64), (want_lo, want_hi): (f64, f64)| {
        (lo - want_lo).abs() < 1.0 && (hi - want_hi).abs() < 1.0
    };
    assert!(near(range("-open"), (-11.5, 72.6)), "{:?}", range("-open"));
    assert!(near(range("-host"), (11.3, 72.2)), "{:?}", range("-host"));
    let replica = &studies[1];
    for e in replica["experiments"].as_array().unwrap() {
        let de = e["demand_error_pct"].as_f64().unwrap();
        // README: demands within 0.7 %, simulated means within 0.4 %.
        assert!(de.abs() < 0.7, "{e}");
        assert!(e["error_pct"].as_f64().unwrap().abs() < 0.4, "{e}");
        // Generated from the model itself: its utilization is the measured one.
        assert!(e["warnings"].as_array().unwrap().is_empty(), "{e}");
    }
    assert!(dir.path().join("report.html").exists());
    // The third study is the testbed's real measurements, said as such,
    // compared per class, with the runs whose utilization the model misses
    // flagged (not one of them is a generated trace).
    let real = &studies[2];
    assert_eq!(real["study"], "real");
    let report = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(report.contains("<b>Data:</b> real measurements of a running system."));
    assert!(report.contains("<b>Data:</b> published numbers"));
    assert!(report.contains("<b>Data:</b> traces generated by demandsim"));
    let experiments = real["experiments"].as_array().unwrap();
    assert_eq!(experiments.len(), 14);
    for e in experiments {
        // Compared per user class (the read-only runs have one).
        let classes = e["classes"].as_array().unwrap();
        assert!(!classes.is_empty(), "{e}");
        let u_sim = e["simulated_utilization"].as_f64().unwrap();
        let u = e["measured_utilization"].as_f64().unwrap();
        let warnings = e["warnings"].to_string();
        let flagged = warnings.contains("the model's utilization is");
        assert_eq!(flagged, (u_sim - u).abs() > (0.1 * u).max(0.02), "{e}");
        // The one-worker runs are flagged for their configuration.
        let one_worker = e["name"].as_str().unwrap().contains("1worker");
        assert_eq!(warnings.contains("API worker"), one_worker, "{e}");
    }
}

#[test]
fn an_experiment_estimates_from_its_low_load_runs_and_predicts_another_load() {
    let dir = tempfile::tempdir().unwrap();
    let m = model("qpn1-open.yaml");
    // Two runs of the M/M/2 (D = 1 s) at λ 0.5 and 0.9/s (U 0.25, 0.45),
    // and the trace to predict at λ 1.5/s (U 0.75).
    for (name, rate, seed) in [("low1", "0.5", 3), ("low2", "0.9", 4), ("high", "1.5", 5)] {
        let out = dir.path().join(name);
        let run = demandsim(
            &[
                "-q",
                "generate",
                &m,
                "--set",
                &format!("arrival_rate={rate}"),
                "--set",
                "demand=1.0",
                "--set",
                "servers=2",
                "--requests",
                "8000",
                "--seed",
                &seed_arg(seed),
                "--out",
                out.to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let seed = seed(5);
    let study = format!(
        "name: what-if
seed: {seed}
experiments:
  - name: predict-high
    model: {m}
    servers: 2
    containers: 1
    requests: high/requests.csv
    utilization: high/utilization.csv
    estimate_from:
      - {{name: low1, requests: low1/requests.csv, utilization: low1/utilization.csv}}
      - {{name: low2, requests: low2/requests.csv, utilization: low2/utilization.csv}}
    estimate: {{methods: [ur, rr], bootstrap: 30}}
    params:
      arrival_rate: {{measured: throughput}}
      demand: {{estimate: ur}}
    run: {{requests: 100000}}
"
    );
    let path = dir.path().join("study.yaml");
    std::fs::write(&path, study).unwrap();
    let out = dir.path().join("report");
    let run = demandsim(
        &[
            "-q",
            "study",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let e = exp(&doc, "predict-high");
    // The estimate comes from the two low-load runs only...
    let runs = e["estimation"]["runs"].as_array().unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["low1", "low2"]);
    let u: Vec<f64> = runs
        .iter()
        .map(|r| r["mean_utilization"].as_f64().unwrap())
        .collect();
    assert!(u.iter().all(|&u| u < 0.5), "{u:?}");
    let d = e["demand_s"].as_f64().unwrap();
    assert!((d - 1.0).abs() < 0.03, "{d}");
    // ...and the prediction at λ 1.5 is Erlang C's with that demand,
    // against the measured high-load trace.
    let x = e["params"]["arrival_rate"].as_f64().unwrap();
    assert!((x - 1.5).abs() < 0.06, "{x}");
    let exact = mmc(x, d, 2);
    assert!((e["analytic_s"].as_f64().unwrap() - exact).abs() < 1e-9 * exact);
    // The prediction's band: Erlang C at the ends of the demand's interval.
    let ci = e["demand_ci_s"].as_array().unwrap();
    let band = e["prediction_band_s"].as_array().unwrap();
    for (end, b) in ci.iter().zip(band) {
        let want = mmc(x, end.as_f64().unwrap(), 2);
        assert!((b.as_f64().unwrap() - want).abs() < 1e-9 * want, "{band:?}");
    }
    assert!(band[0].as_f64().unwrap() < exact && exact < band[1].as_f64().unwrap());
    let sim = e["simulated_s"].as_f64().unwrap();
    assert!((sim - exact).abs() < 0.05 * exact, "{sim} vs {exact}");
    // The measured value is the high-load trace's own mean (8,000
    // requests at ρ 0.75: it strays from Erlang C's 2.286 s by 7 % sd over
    // seeds, so Erlang C is no oracle for it).
    let trace = std::fs::read_to_string(dir.path().join("high/requests.csv")).unwrap();
    let rt: Vec<f64> = crate::rows(&trace)
        .iter()
        .map(|r| r[1].parse().unwrap())
        .collect();
    let mean = rt.iter().sum::<f64>() / rt.len() as f64;
    crate::close(e["measured_s"].as_f64().unwrap(), mean);
}

#[test]
fn a_load_dependent_demand_is_passed_at_the_predicted_load() {
    // D(U) = 1 s × (1 − 0.2·(U − 0.2)/0.6) on two servers: 20 % less at
    // U 0.8 than at 0.2. Three runs at U 0.2–0.5 to estimate from, and the
    // run to predict at U 0.8.
    let dir = tempfile::tempdir().unwrap();
    let m = model("qpn1-open.yaml");
    let demand = |u: f64| 1.0 - 0.2 * (u - 0.2) / 0.6;
    for (name, u, seed) in [
        ("a", 0.2, 3),
        ("b", 0.35, 4),
        ("c", 0.5, 5),
        ("high", 0.8, 6),
    ] {
        let out = dir.path().join(name);
        let d = demand(u);
        let run = demandsim(
            &[
                "-q",
                "generate",
                &m,
                "--set",
                &format!("arrival_rate={}", 2.0 * u / d),
                "--set",
                &format!("demand={d}"),
                "--set",
                "servers=2",
                "--requests",
                "20000",
                "--seed",
                &seed_arg(seed),
                "--out",
                out.to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let seed = seed(5);
    let study = |load: &str| {
        format!(
            "name: load
seed: {seed}
experiments:
  - name: high
    model: {m}
    servers: 2
    requests: high/requests.csv
    utilization: high/utilization.csv
    estimate_from:
      - {{name: a, requests: a/requests.csv, utilization: a/utilization.csv}}
      - {{name: b, requests: b/requests.csv, utilization: b/utilization.csv}}
      - {{name: c, requests: c/requests.csv, utilization: c/utilization.csv}}
    estimate: {{methods: [ur], bootstrap: 30, load_dependence: {load}}}
    params:
      arrival_rate: {{measured: throughput}}
      demand: {{estimate: ur}}
    run: {{requests: 20000}}
"
        )
    };
    let run_study = |load: &str| {
        let path = dir.path().join(format!("study-{load}.yaml"));
        std::fs::write(&path, study(load)).unwrap();
        let out = dir.path().join(format!("report-{load}"));
        let run = demandsim(
            &[
                "-q",
                "study",
                path.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap())
                .unwrap();
        exp(&doc, "high").clone()
    };
    // Without the fit: the demand around the runs' mean load, ~0.95 s,
    // 19 % above the 0.8 s the high run draws.
    let plain = run_study("false");
    let d = plain["demand_s"].as_f64().unwrap();
    assert!(d > 0.9, "{d}");
    assert!(plain.get("demand_at_load").is_none());
    // With it: the fixed point of U = λ·D(U)/2 at the high run's load, and
    // the demand there, within 4 % of the truth.
    let fitted = run_study("linear_u");
    let a = &fitted["demand_at_load"];
    let u = a["utilization"].as_f64().unwrap();
    assert!((u - 0.8).abs() < 0.04, "{a}");
    let class = &a["classes"][0];
    assert_eq!(class["form"], "linear_u", "{a}");
    let beta = &fitted["estimation"]["load_dependence"]["classes"][0]["parameters"][1];
    assert_eq!(beta["name"], "β");
    assert!(beta["value"].as_f64().unwrap() < 0.0, "{beta}");
    let d = fitted["demand_s"].as_f64().unwrap();
    assert!((d - 0.8).abs() < 0.04 * 0.8, "{d}");
    // The demand passed is the form's at the fixed point's load.
    assert_eq!(class["demand_s"].as_f64().unwrap(), d);
    // The interval is the form's there.
    let ci = fitted["demand_ci_s"].as_array().unwrap();
    assert!(
        ci[0].as_f64().unwrap() <= d && d <= ci[1].as_f64().unwrap(),
        "{ci:?}"
    );
}

#[test]
fn study_shards_merge_into_the_bytes_of_the_whole_study() {
    let dir = tempfile::tempdir().unwrap();
    let m = model("qpn1-open.yaml");
    let exp = |name: &str, rate: f64| {
        format!(
            "  - name: {name}\n    model: {m}\n    measured_mean_s: 1.0\n    params: {{arrival_rate: {rate}, demand: 1.0, servers: 2}}\n    run: {{requests: 4000}}\n"
        )
    };
    let study = format!(
        "name: shards\nseed: 3\nexperiments:\n{}{}{}",
        exp("a", 0.5),
        exp("b", 1.0),
        exp("c", 1.5)
    );
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, study).unwrap();
    let p = path.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut a = vec!["-q", "study", p, "--format", "json"];
        a.extend_from_slice(extra);
        let r = demandsim(&a, b"");
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let whole = run(&[]);
    let parts: Vec<std::path::PathBuf> = (1..=2)
        .map(|i| {
            let f = dir.path().join(format!("p{i}.json"));
            std::fs::write(&f, run(&["--shard", &format!("{i}/2")])).unwrap();
            f
        })
        .collect();
    let names: Vec<&str> = parts.iter().map(|f| f.to_str().unwrap()).collect();
    let merged = demandsim(&["merge", names[1], names[0]], b"");
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    assert!(
        merged.stdout == whole,
        "merged study differs:\n{}\n---\n{whole}",
        merged.stdout
    );
    // A part of an edited study file is another run: refused.
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("arrival_rate: 1.5,", "arrival_rate: 1.25,"),
    )
    .unwrap();
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, run(&["--shard", "2/2"])).unwrap();
    let mixed = demandsim(&["merge", names[0], edited.to_str().unwrap()], b"");
    assert_eq!(mixed.code, 1);
    assert!(
        mixed.stderr.contains("the study file must match"),
        "{}",
        mixed.stderr
    );
    // Shard 1/2 holds experiments 0 and 2; without shard 2, experiment 1 is
    // missing.
    let half = demandsim(&["merge", names[0]], b"");
    assert_eq!(half.code, 1);
    assert!(
        half.stderr
            .contains("study `shards`: experiments missing: 1 (of shard 2/2)"),
        "{}",
        half.stderr
    );
    // A shard's report would be partial: refused.
    let out = dir.path().join("r");
    let r = demandsim(
        &["study", p, "--shard", "1/2", "--out", out.to_str().unwrap()],
        b"",
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// A study of `experiments` (YAML list items) over one generated trace
/// (qpn1-open, 2 servers, λ 1.5/s, D 1 s) in `dir`; its results.json.
fn run_measured_study(dir: &std::path::Path, experiments: &str, seed: &str) -> serde_json::Value {
    if !dir.join("g/requests.csv").exists() {
        let run = demandsim(
            &[
                "-q",
                "generate",
                &model("qpn1-open.yaml"),
                "--set",
                "arrival_rate=1.5",
                "--set",
                "demand=1",
                "--set",
                "servers=2",
                "--requests",
                "6000",
                "--seed",
                &seed_arg(8),
                "--out",
                dir.join("g").to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let path = dir.join(format!("s-{seed}.yaml"));
    std::fs::write(&path, format!("name: m\nexperiments:\n{experiments}")).unwrap();
    let out = dir.join(format!("r-{seed}-{}", experiments.len()));
    study_results(&path, &out, &["--seed", seed])
}

/// Runs the study file `path` with `--out out` and `args`; its
/// results.json.
pub(super) fn study_results(path: &Path, out: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["-q", "study", path.to_str().unwrap()];
    all.extend(args);
    all.extend(["--out", out.to_str().unwrap()]);
    let run = demandsim(&all, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap()
}

#[test]
fn measured_parameters_are_the_traces_throughput_interarrival_response_and_think_time() {
    let dir = tempfile::tempdir().unwrap();
    // A model whose parameters take each measured quantity: `gap` the
    // interarrival time, `demand` the mean response time, and a closed
    // model's `think_time` from Z = N/X − R with its 10 clients.
    let open = dir.path().join("gap.yaml");
    std::fs::write(
        &open,
        "params: {gap: 1.0, demand: 1.0}\ncolors: [r]\nplaces:\n  Q: {queue: fcfs, servers: 4, service: {r: {exponential: demand}}}\ntransitions:\n  a: {delay: {exponential: gap}, out: {Q: r}}\n  d: {in: {Q: r}}\nprobes:\n  response: {start: {transition: a}, end: {transition: d}}\n",
    )
    .unwrap();
    let closed = model("qpn1.yaml");
    let traces = "requests: g/requests.csv\n    utilization: g/utilization.csv";
    let exps = format!(
        "  - name: x\n    model: {}\n    {traces}\n    params: {{gap: {{measured: interarrival}}, demand: {{measured: response_time}}}}\n    run: {{requests: 2000}}\n  - name: z\n    model: {closed}\n    {traces}\n    params: {{clients: 10, think_time: {{measured: think_time}}, demand: 0.5}}\n    run: {{requests: 2000}}\n",
        open.display()
    );
    let v = run_measured_study(dir.path(), &exps, "1");
    let e = &v["experiments"];
    let (x, z) = (&e[0], &e[1]);
    let thr = x["traces"]["throughput"].as_f64().unwrap();
    let r = x["measured_s"].as_f64().unwrap();
    assert!((thr - 1.5).abs() < 0.1, "{thr}");
    assert!((x["params"]["gap"].as_f64().unwrap() - 1.0 / thr).abs() < 1e-12);
    assert!((x["params"]["demand"].as_f64().unwrap() - r).abs() < 1e-12);
    let want = 10.0 / thr - r;
    assert!(
        (z["params"]["think_time"].as_f64().unwrap() - want).abs() < 1e-12,
        "{z}"
    );
}

#[test]
fn another_seed_moves_the_numbers_and_other_experiments_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let m = model("qpn1-open.yaml");
    let exp = |name: &str, rate: &str| {
        format!(
            "  - name: {name}\n    model: {m}\n    requests: g/requests.csv\n    utilization: g/utilization.csv\n    estimate: {{methods: [ur], bootstrap: 20}}\n    params: {{arrival_rate: {rate}, demand: {{estimate: ur}}, servers: 2}}\n    run: {{requests: 3000}}\n"
        )
    };
    let sim =
        |v: &serde_json::Value, i: usize| v["experiments"][i]["simulated_s"].as_f64().unwrap();
    let base = run_measured_study(dir.path(), &(exp("a", "1.5") + &exp("b", "1.2")), "1");
    let again = run_measured_study(dir.path(), &(exp("a", "1.5") + &exp("b", "1.2")), "1");
    assert_eq!(sim(&base, 1), sim(&again, 1));
    let other_seed = run_measured_study(dir.path(), &(exp("a", "1.5") + &exp("b", "1.2")), "2");
    assert_ne!(sim(&base, 1), sim(&other_seed, 1));
    // Experiment b keeps its numbers whatever experiment a asks.
    let other_a = run_measured_study(dir.path(), &(exp("a", "0.7") + &exp("b", "1.2")), "1");
    assert_ne!(sim(&base, 0), sim(&other_a, 0));
    assert_eq!(sim(&base, 1), sim(&other_a, 1));
    let eb = |v: &serde_json::Value| v["experiments"][1]["demand_s"].as_f64().unwrap();
    assert_eq!(eb(&base), eb(&other_a));
}

#[test]
fn the_host_cpus_variant_reports_et7_unstable_beside_the_others() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/reference/host-cpus.yaml");
    let run = demandsim(
        &["-q", "study", path.to_str().unwrap(), "--format", "json"],
        b"",
    );
    // README: ET7 (6.366/s x 0.850 s on 4 CPUs, 135 % load) fails, said in
    // words, and the other eight experiments are reported; exit 1.
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let failures = v["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["name"], "ET7-open-4cpu");
    let why = failures[0]["error"].as_str().unwrap();
    assert!(
        why.contains("unstable") && why.contains("utilization 135.3 %"),
        "{why}"
    );
    let done = v["experiments"].as_array().unwrap();
    assert_eq!(done.len(), 8);
    assert!(
        done.iter()
            .all(|e| e["simulated_s"].as_f64().unwrap() > 0.0)
    );
}
