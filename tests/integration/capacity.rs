//! `capacity`: answers against values computed here from the closed forms.

use serde_json::Value;

use super::{demandsim, seed_arg};

fn model(name: &str) -> String {
    format!("{}/models/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Erlang C by the Erlang-B recursion, written out again for the oracle.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let c = f64::from(c);
    c * b / (c - a * (1.0 - b))
}

/// M/M/c mean response time.
fn mmc(lambda: f64, d: f64, c: u32) -> f64 {
    let a = lambda * d;
    if a >= f64::from(c) {
        return f64::INFINITY;
    }
    d + erlang_c(c, a) * d / (f64::from(c) - a)
}

/// The largest x in (lo, hi) with f(x) ≤ target, f rising.
fn bisect(f: impl Fn(f64) -> f64, target: f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if f(mid) <= target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

fn capacity(args: &[&str]) -> Value {
    let m = model(args[0]);
    let seed = seed_arg(1);
    let mut a = vec!["capacity", m.as_str(), "--format", "json", "--seed", &seed];
    a.extend_from_slice(&args[1..]);
    let run = demandsim(&a, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn the_largest_load_meeting_a_mean_or_p95_target_on_open_mmc() {
    // M/M/2, D = 1 s: the arrival rate whose mean response time is 2 s.
    let v = capacity(&[
        "qpn1-open.yaml",
        "--find",
        "arrival_rate",
        "--slo",
        "mean<=2s",
        "--set",
        "servers=2",
        "--set",
        "demand=1",
        "--range",
        "0.1..1.99",
    ]);
    let want = bisect(|l| mmc(l, 1.0, 2), 2.0, 0.1, 1.99);
    let got = v["value"].as_f64().unwrap();
    assert!((got - want).abs() <= 1e-4 * 1.89, "{got} vs {want}");
    assert!(v["at"]["stat_s"].as_f64().unwrap() <= 2.0);
    let (lo, hi) = (
        v["interval"][0].as_f64().unwrap(),
        v["interval"][1].as_f64().unwrap(),
    );
    assert!(lo <= want && want <= hi, "{lo}..{hi} vs {want}");
    // M/M/1, D = 1 s: R is exponential with rate 1 − λ, so p95 ≤ 4 s
    // means λ ≤ 1 − ln 20 / 4.
    let v = capacity(&[
        "qpn1-open.yaml",
        "--find",
        "arrival_rate",
        "--slo",
        "p95<=4s",
        "--set",
        "servers=1",
        "--set",
        "demand=1",
        "--range",
        "0.01..0.99",
    ]);
    let want = 1.0 - 20f64.ln() / 4.0;
    let got = v["value"].as_f64().unwrap();
    assert!((got - want).abs() <= 1e-4, "{got} vs {want}");
    assert_eq!(v["probe"], "response");
}

#[test]
fn the_fewest_containers_for_a_load() {
    // qpn5-open: λ split equally over k containers of 12 servers.
    let v = capacity(&[
        "qpn5-open.yaml",
        "--find",
        "containers",
        "--integer",
        "--slo",
        "mean<=850ms",
        "--set",
        "arrival_rate=40",
        "--set",
        "demand=0.8",
        "--range",
        "1..10",
    ]);
    let want = (1..=10u32)
        .find(|&k| mmc(40.0 / f64::from(k), 0.8, 12) <= 0.85)
        .unwrap();
    assert_eq!(v["value"].as_f64().unwrap(), f64::from(want), "{v}");
    assert!(mmc(40.0 / f64::from(want - 1), 0.8, 12) > 0.85);
}

#[test]
fn an_slo_nothing_meets_or_everything_meets_is_said_in_words() {
    let none = capacity(&[
        "qpn1-open.yaml",
        "--find",
        "arrival_rate",
        "--slo",
        "mean<=0.5s",
        "--set",
        "demand=1",
        "--range",
        "0.1..5",
    ]);
    assert!(none["value"].is_null(), "{none}");
    assert!(
        none["verdict"].as_str().unwrap().contains("no value"),
        "{none}"
    );
    // The best tried is the lowest load: R = D there.
    assert!((none["at"]["value"].as_f64().unwrap() - 0.1).abs() < 1e-12);
    let all = capacity(&[
        "qpn1-open.yaml",
        "--find",
        "arrival_rate",
        "--slo",
        "mean<=5s",
        "--set",
        "demand=1",
        "--range",
        "0.1..5",
    ]);
    assert_eq!(all["value"].as_f64(), Some(5.0));
    assert!(
        all["verdict"].as_str().unwrap().contains("met everywhere"),
        "{all}"
    );
}

#[test]
fn a_simulated_search_lands_near_the_analytic_answer() {
    let v = capacity(&[
        "qpn1-open.yaml",
        "--find",
        "arrival_rate",
        "--slo",
        "mean<=2s",
        "--set",
        "servers=2",
        "--set",
        "demand=1",
        "--range",
        "0.1..1.99",
        "--simulate",
        "--requests",
        "40000",
    ]);
    let want = bisect(|l| mmc(l, 1.0, 2), 2.0, 0.1, 1.99);
    let got = v["value"].as_f64().unwrap();
    // The mean's slope there is about 2.7 s per request/s; a 40,000
    // request run's mean is within a few per cent.
    assert!((got - want).abs() < 0.05, "{got} vs {want}");
    assert!(
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["method"] == "simulation")
    );
    // Every step was decided with its CI clear of the 2 s target (after up
    // to 16× the requests), or says it was not.
    for s in v["steps"].as_array().unwrap() {
        let x = s["stat_s"].as_f64().unwrap();
        let h = s["ci_half_width_s"].as_f64().unwrap();
        let clear = (x - 2.0).abs() >= h;
        assert!(clear || s["uncertain"] == true, "{s}");
    }
}

#[test]
fn bad_capacity_questions_are_usage_errors() {
    let m = model("qpn1-open.yaml");
    for (args, says) in [
        (
            vec!["--find", "cpus", "--slo", "mean<=1s"],
            "no parameter `cpus`",
        ),
        (
            vec!["--find", "arrival_rate", "--slo", "p97<=1s"],
            "STAT<=LIMIT",
        ),
        (
            vec![
                "--find",
                "arrival_rate",
                "--slo",
                "mean<=1s",
                "--range",
                "5..1",
            ],
            "LO must be below HI",
        ),
    ] {
        let mut a = vec!["capacity", m.as_str(), "--seed", "1"];
        a.extend(args);
        let run = demandsim(&a, b"");
        assert_eq!(run.code, 2, "{a:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{a:?}: {}", run.stderr);
    }
}

#[test]
fn a_simulated_percentile_search_has_intervals_and_lands_near_the_closed_form() {
    // M/M/1, D = 1 s, p95 ≤ 4 s: λ ≤ 1 − ln 20 / 4 = 0.251.
    let v = capacity(&[
        "qpn1-open.yaml",
        "--find",
        "arrival_rate",
        "--slo",
        "p95<=4s",
        "--set",
        "servers=1",
        "--set",
        "demand=1",
        "--range",
        "0.01..0.9",
        "--simulate",
        "--requests",
        "50000",
    ]);
    let want = 1.0 - 20f64.ln() / 4.0;
    let got = v["value"].as_f64().unwrap();
    assert!((got - want).abs() < 0.05, "{got} vs {want}");
    for s in v["steps"].as_array().unwrap() {
        let Some(x) = s["stat_s"].as_f64() else {
            continue;
        };
        // Eight replications' p95s give each step its t interval.
        let h = s["ci_half_width_s"].as_f64().unwrap();
        assert!(h > 0.0, "{s}");
        assert!((x - 4.0).abs() >= h || s["uncertain"] == true, "{s}");
    }
}
