//! `simulate` and `generate` through the command line.

use serde_json::Value;

use super::{close, demandsim};

fn model(name: &str) -> String {
    format!("{}/models/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn simulate_json_has_the_documented_fields_and_prints_the_seed_it_draws() {
    let run = demandsim(
        &[
            "simulate",
            &model("qpn1-open.yaml"),
            "--requests",
            "20000",
            "--format",
            "json",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.starts_with("seed: "), "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    // Types, not presence: a `null` must not pass.
    for k in ["seed", "replications", "events"] {
        assert!(v[k].is_u64(), "{k}: {}", v[k]);
    }
    assert!(
        v["wall_s"].as_f64().is_some_and(|w| w >= 0.0),
        "{}",
        v["wall_s"]
    );
    let p = &v["probes"][0];
    assert!(p["name"].is_string() && p["color"].is_string(), "{p}");
    for k in [
        "mean_s",
        "ci_half_width_s",
        "p50_s",
        "p90_s",
        "p95_s",
        "p99_s",
    ] {
        assert!(
            p[k].as_f64().is_some_and(|x| x > 0.0),
            "probes[].{k}: {}",
            p[k]
        );
    }
    let q: Vec<f64> = ["p50_s", "p90_s", "p95_s", "p99_s"]
        .iter()
        .map(|k| p[k].as_f64().unwrap())
        .collect();
    assert!(
        q.windows(2).all(|w| w[0] <= w[1]),
        "percentiles in order: {q:?}"
    );
    assert_eq!(p["count"], 20000);
    let pl = &v["places"][0];
    assert!(pl["place"].is_string() && pl["color"].is_string(), "{pl}");
    for k in [
        "throughput",
        "mean_population",
        "mean_residence_s",
        "ci_half_width_s",
    ] {
        assert!(
            pl[k].as_f64().is_some_and(|x| x > 0.0),
            "places[].{k}: {}",
            pl[k]
        );
    }
    // The container's utilization: a fraction.
    assert!(
        pl["utilization"]
            .as_f64()
            .is_some_and(|u| u > 0.0 && u < 1.0),
        "{pl}"
    );
    let seed = run
        .stderr
        .trim_start_matches("seed: ")
        .lines()
        .next()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert_eq!(v["seed"], seed);
}

#[test]
fn same_seed_same_json_apart_from_wall_time() {
    let go = |threads: &str| {
        let run = demandsim(
            &[
                "simulate",
                &model("qpn5.yaml"),
                "--requests",
                "3000",
                "--replications",
                "3",
                "--seed",
                "7",
                "--threads",
                threads,
                "--format",
                "json",
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut v: Value = serde_json::from_str(&run.stdout).unwrap();
        v.as_object_mut().unwrap().remove("wall_s");
        v
    };
    assert_eq!(go("1"), go("2"));
}

#[test]
fn model_errors_name_file_line_and_column_and_set_errors_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "colors: [a]\nplaces:\n  Q: {queue: fcfs, service: {a: {exponential: 1}}}\ntransitions:\n  t: {in: {X: a}, out: {Q: a}}\n").unwrap();
    let run = demandsim(&["simulate", bad.to_str().unwrap()], b"");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("bad.yaml: line 5, column 12: unknown place `X` (places: Q)"),
        "{}",
        run.stderr
    );
    let run = demandsim(&["simulate", &model("qpn1.yaml"), "--set", "demnd=1"], b"");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no parameter `demnd`"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unstable_open_model_is_refused_with_numbers() {
    let run = demandsim(
        &["simulate", &model("qpn1-open.yaml"), "--set", "servers=4"],
        b"",
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("place CO1 is offered 6.2269 busy servers")
            && run.stderr.contains("4 server(s)"),
        "{}",
        run.stderr
    );
}

#[test]
fn generated_traces_carry_the_true_demand_and_exact_utilization() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gen");
    let run = demandsim(
        &[
            "generate",
            &model("qpn1-open.yaml"),
            "--out",
            out.to_str().unwrap(),
            "--requests",
            "40000",
            "--seed",
            &crate::seed_arg(3),
            "--set",
            "servers=8",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("truth.json")).unwrap()).unwrap();
    let t = &truth["truth"][0];
    assert_eq!(t["place"], "CO1");
    close(t["true_demand_s"].as_f64().unwrap(), 0.997588333);
    let realised = t["realised_demand_s"].as_f64().unwrap();
    assert!((realised - 0.997588333).abs() < 0.02, "{realised}");
    // Utilization law on the generated trace: U = X·S/c.
    let run = demandsim(
        &[
            "inspect",
            "--requests",
            out.join("requests.csv").to_str().unwrap(),
            "--utilization",
            out.join("utilization.csv").to_str().unwrap(),
            "--format",
            "json",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["interval_s"], 30.0);
    let u = v["summary"]["mean_utilization"]["CO1"].as_f64().unwrap();
    let x = v["summary"]["requests"].as_f64().unwrap() / truth["duration_s"].as_f64().unwrap();
    assert!(
        (u - x * realised / 8.0).abs() < 0.01,
        "U {u} vs X·S/c {}",
        x * realised / 8.0
    );
    assert!((u - t["mean_utilization"].as_f64().unwrap()).abs() < 1e-3);
}

#[test]
fn solve_json_has_method_probes_and_places() {
    let run = demandsim(&["solve", &model("qpn10.yaml"), "--format", "json"], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["method"], "exact MVA (load-dependent, multi-class)");
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("pool that never runs out")
    );
    let p = &v["probes"][0];
    assert_eq!(
        (p["name"].as_str(), p["color"].as_str()),
        (Some("response"), Some("request"))
    );
    let r = p["mean_s"].as_f64().unwrap();
    assert!(r > 0.3652765, "{r}");
    let places = v["places"].as_array().unwrap();
    assert_eq!(places.len(), 11, "CL and CO1..CO10");
    // Independent checks of the numbers: the 90 clients are all somewhere
    // (Σ populations = N), and the response-time law X·(R + Z) = N holds
    // with X and Z = 0.261 s read at the think place CL.
    let f = |pl: &Value, k: &str| pl[k].as_f64().unwrap_or_else(|| panic!("{k}: {pl}"));
    let total: f64 = places.iter().map(|pl| f(pl, "mean_population")).sum();
    assert!((total - 90.0).abs() < 1e-6, "{total}");
    let cl = &places[0];
    assert_eq!(cl["place"], "CL");
    assert!((f(cl, "mean_residence_s") - 0.261).abs() < 1e-12);
    let n = f(cl, "throughput") * (r + 0.261);
    assert!((n - 90.0).abs() < 1e-6, "X·(R + Z) = {n}");
    // A container: a station with a utilization, a fraction.
    let co = &places[1];
    assert!(co["place"].as_str().unwrap().starts_with("CO"), "{co}");
    assert!(
        co["utilization"]
            .as_f64()
            .is_some_and(|u| u > 0.0 && u < 1.0),
        "{co}"
    );
    let run = demandsim(
        &["solve", &model("qpn1.yaml"), "--set", "connections=10"],
        b"",
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("place CP is a pool that can bind (10 tokens for 90 requests); use simulate"),
        "{}",
        run.stderr
    );
}

#[test]
fn generate_writes_the_same_bytes_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let go = |sub: &str| {
        let out = dir.path().join(sub);
        let run = demandsim(
            &[
                "-q",
                "generate",
                &model("qpn5-open.yaml"),
                "--requests",
                "5000",
                "--gzip",
                "--seed",
                "99",
                "--out",
                out.to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        ["requests.csv.gz", "utilization.csv.gz", "truth.json"]
            .map(|f| std::fs::read(out.join(f)).unwrap())
    };
    let (a, b) = (go("a"), go("b"));
    for (x, y) in a.iter().zip(&b) {
        assert!(!x.is_empty() && x == y, "the files differ");
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_reports_the_run_so_far_and_exits_cleanly() {
    use std::process::{Command, Stdio};
    let child = Command::new(env!("CARGO_BIN_EXE_demandsim"))
        .args([
            "simulate",
            &model("qpn1-open.yaml"),
            "--requests",
            "100000000000",
            "--seed",
            "1",
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["interrupted"], true);
    let p = &v["probes"][0];
    assert!(p["count"].as_u64().unwrap() > 1000, "{p}");
    // What it has is sound: M/M/12 at 52 % load, R = 1.003 s.
    let r = p["mean_s"].as_f64().unwrap();
    assert!((r - 1.003).abs() < 0.1, "{r}");
}
