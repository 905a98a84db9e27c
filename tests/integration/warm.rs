//! `simulate --initial-from`: an M/M/1 (λ = 0.5/s, μ = 1/s) started with
//! the requests a trace left in the system drains as its Markov chain
//! says, and the number placed is the trace's.

use std::fmt::Write as _;

use super::{demandsim, seed_arg};

/// Requests in system at the trace's end.
const OPEN: usize = 8;

/// A trace of 20 finished requests, then `OPEN` started by the last start
/// (t = 100) and finishing after it, of class `request`.
fn trace(dir: &std::path::Path) -> String {
    let mut csv = String::from("timestamp,response_time,class\n");
    for i in 0..20 {
        writeln!(csv, "{},0.5,request", i as f64 * 2.0).unwrap();
    }
    for i in 0..OPEN {
        writeln!(csv, "{},{},request", 96.0 + 0.5 * i as f64, 5.0 + i as f64).unwrap();
    }
    let path = dir.join("requests.csv");
    std::fs::write(&path, csv).unwrap();
    path.display().to_string()
}

/// E[N] averaged over [0, t] for an M/M/1 started with `n0` in system,
/// from its Markov chain (truncated at 400, Runge–Kutta in steps of
/// 0.005 s).
fn mean_population(n0: usize, lambda: f64, mu: f64, t: f64) -> f64 {
    const K: usize = 400;
    let deriv = |p: &[f64]| -> Vec<f64> {
        (0..K)
            .map(|n| {
                let out = if n + 1 < K { lambda } else { 0.0 } + if n > 0 { mu } else { 0.0 };
                let from_below = if n > 0 { lambda * p[n - 1] } else { 0.0 };
                let from_above = if n + 1 < K { mu * p[n + 1] } else { 0.0 };
                from_below + from_above - out * p[n]
            })
            .collect()
    };
    let mean = |p: &[f64]| p.iter().enumerate().map(|(n, x)| n as f64 * x).sum::<f64>();
    let mut p = vec![0.0; K];
    p[n0] = 1.0;
    let h = 0.005;
    let steps = (t / h).round() as usize;
    let mut integral = 0.0;
    for _ in 0..steps {
        let before = mean(&p);
        let add = |p: &[f64], k: &[f64], s: f64| -> Vec<f64> {
            p.iter().zip(k).map(|(a, b)| a + s * b).collect()
        };
        let k1 = deriv(&p);
        let k2 = deriv(&add(&p, &k1, h / 2.0));
        let k3 = deriv(&add(&p, &k2, h / 2.0));
        let k4 = deriv(&add(&p, &k3, h));
        for n in 0..K {
            p[n] += h / 6.0 * (k1[n] + 2.0 * k2[n] + 2.0 * k3[n] + k4[n]);
        }
        integral += 0.5 * (before + mean(&p)) * h;
    }
    integral / t
}

/// `simulate` of the M/M/1 for `time` s with `replications`: stderr and
/// the queue's time-average population.
fn simulate(args: &[&str], time: &str, replications: &str, seed: u64) -> (String, f64) {
    let model = format!("{}/models/qpn1-open.yaml", env!("CARGO_MANIFEST_DIR"));
    let mut all = vec![
        "simulate",
        &model,
        "--set",
        "servers=1",
        "--set",
        "demand=1",
        "--set",
        "arrival_rate=0.5",
        "--time",
        time,
        "--replications",
        replications,
        "--format",
        "json",
    ];
    let seed = seed_arg(seed);
    all.extend(["--seed", &seed]);
    all.extend_from_slice(args);
    let run = demandsim(&all, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let place = doc["places"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["place"] == "CO1")
        .unwrap();
    (run.stderr, place["mean_population"].as_f64().unwrap())
}

#[test]
fn an_mm1_started_from_a_traces_number_in_system_drains_as_its_markov_chain_says() {
    let dir = tempfile::tempdir().unwrap();
    let trace = trace(dir.path());
    let (stderr, warm) = simulate(&["--initial-from", &trace], "20", "1000", 38);
    assert!(
        stderr.contains(&format!("initial: {OPEN} request(s) in system at 99.50 s"))
            && stderr.contains(&format!("; {OPEN} of request in CO1")),
        "{stderr}"
    );
    // Over the first 20 s (the mean time to empty is 8 / (1 − 0.5) = 16 s)
    // the chain's mean is far above the long-run mean of 1.
    let exact = mean_population(OPEN, 0.5, 1.0, 20.0);
    assert!(exact > 3.0 && exact < 7.0, "{exact}");
    // 1,000 replications: a standard error of about 2 % (seeds differ by 4 %).
    assert!(
        (warm - exact).abs() < 0.1 * exact,
        "simulated {warm}, chain {exact}"
    );
    // Started empty, the same run is near the chain's from 0, not from 8.
    let (_, cold) = simulate(&["--warmup", "none"], "20", "1000", 39);
    let exact_cold = mean_population(0, 0.5, 1.0, 20.0);
    assert!(
        (cold - exact_cold).abs() < 0.1 * exact_cold,
        "simulated {cold}, chain {exact_cold}"
    );
}

#[test]
fn initial_from_a_class_the_model_lacks_names_it_and_the_colours() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    std::fs::write(&path, "timestamp,response_time,class\n1,5,search\n").unwrap();
    let p = path.display().to_string();
    let run = demandsim(
        &[
            "simulate",
            &format!("{}/models/qpn1-open.yaml", env!("CARGO_MANIFEST_DIR")),
            "--initial-from",
            &p,
            "--time",
            "1",
        ],
        b"",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("class `search` is not a colour of the model (it has request)"),
        "{}",
        run.stderr
    );
}
