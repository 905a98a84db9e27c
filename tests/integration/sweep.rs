//! `sweep` and `merge`: grids, bands against closed forms, shards.

use serde_json::Value;

use super::{demandsim, seed_arg};

fn model(name: &str) -> String {
    format!("{}/models/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn json(run: &super::Run) -> Value {
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

/// M/M/1 mean response time.
fn mm1(lambda: f64, d: f64) -> f64 {
    d / (1.0 - lambda * d)
}

#[test]
fn an_analytic_sweep_is_the_closed_form_and_unstable_points_say_so() {
    let m = model("qpn1-open.yaml");
    let v = json(&demandsim(
        &[
            "sweep",
            &m,
            "--set",
            "servers=1",
            "--set",
            "demand=0.1",
            "--grid",
            "arrival_rate=1..11:6",
            "--format",
            "json",
            "--seed",
            &seed_arg(1),
        ],
        b"",
    ));
    assert_eq!(v["grid"]["arrival_rate"].as_array().unwrap().len(), 6);
    let points = v["points"].as_array().unwrap();
    for (i, p) in points.iter().enumerate() {
        assert_eq!(p["index"], i);
        let lambda = p["params"]["arrival_rate"].as_f64().unwrap();
        assert!((lambda - (1.0 + 2.0 * i as f64)).abs() < 1e-12);
        if lambda < 10.0 {
            let r = p["probes"][0]["mean_s"].as_f64().unwrap();
            assert!((r - mm1(lambda, 0.1)).abs() < 1e-12 * r, "{p}");
            // M/M/1: R is exponential with rate 1/D − λ; p95 = ln 20 / (10 − λ).
            let p95 = p["probes"][0]["p95_s"].as_f64().unwrap();
            let want = 20f64.ln() / (10.0 - lambda);
            assert!((p95 - want).abs() < 1e-9 * want, "{p95} vs {want}");
            assert!(p["method"].as_str().unwrap().contains("product-form"));
        } else {
            // λ = 11/s on 0.1 s: no steady state, and no numbers.
            assert!(p["method"].as_str().unwrap().starts_with("unstable"), "{p}");
            assert!(p["probes"].as_array().unwrap().is_empty());
        }
    }
}

#[test]
fn a_band_from_known_demand_draws_is_the_closed_form_at_their_quantiles() {
    // 201 draws, so that the 2.5 % and 97.5 % quantiles are the 6th and
    // 196th smallest exactly (no interpolation).
    let dir = tempfile::tempdir().unwrap();
    let draws: Vec<f64> = (0..201)
        .map(|i| 0.08 + 0.04 * ((i * 37) % 201) as f64 / 200.0)
        .collect();
    let mut sorted = draws.clone();
    sorted.sort_by(f64::total_cmp);
    let est = serde_json::json!({
        "recommended": "ur",
        "estimates": [{"method": "ur", "class": "request", "demand_s": 0.1}],
        "draws_method": "ur",
        "draws": draws.iter().map(|d| serde_json::json!({"request": d})).collect::<Vec<_>>(),
    });
    let file = dir.path().join("est.json");
    std::fs::write(&file, est.to_string()).unwrap();
    let bind = format!("demand={}:request", file.display());
    let m = model("qpn1-open.yaml");
    let v = json(&demandsim(
        &[
            "sweep",
            &m,
            "--set",
            "servers=1",
            "--grid",
            "arrival_rate=1,4,7",
            "--bind",
            &bind,
            "--method",
            "analytic",
            "--format",
            "json",
            "--seed",
            &seed_arg(1),
        ],
        b"",
    ));
    for p in v["points"].as_array().unwrap() {
        let lambda = p["params"]["arrival_rate"].as_f64().unwrap();
        assert_eq!(p["params"]["demand"], 0.1);
        let q = &p["probes"][0];
        let (lo, hi) = (
            q["band_low_s"].as_f64().unwrap(),
            q["band_high_s"].as_f64().unwrap(),
        );
        let (want_lo, want_hi) = (mm1(lambda, sorted[5]), mm1(lambda, sorted[195]));
        assert!((lo - want_lo).abs() < 1e-12 * want_lo, "{lo} vs {want_lo}");
        assert!((hi - want_hi).abs() < 1e-12 * want_hi, "{hi} vs {want_hi}");
        let mean = q["mean_s"].as_f64().unwrap();
        assert!(lo < mean && mean < hi);
    }
    // A class the estimates lack is refused with its name.
    let bad = format!("demand={}:checkout", file.display());
    let run = demandsim(
        &[
            "sweep",
            &m,
            "--grid",
            "arrival_rate=1",
            "--bind",
            &bad,
            "--seed",
            &seed_arg(1),
        ],
        b"",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("class `checkout`"), "{}", run.stderr);
}

#[test]
fn shards_merge_into_the_bytes_of_the_whole_and_gaps_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let m = model("qpn1-open.yaml");
    let sweep = |extra: &[&str], out: &str| {
        let path = dir.path().join(out);
        let mut args = vec![
            "sweep",
            &m,
            "--grid",
            "arrival_rate=4,6,8",
            "--grid",
            "servers=8,12",
            "--method",
            "simulate",
            "--requests",
            "3000",
            "--seed",
            "9",
            "--format",
            "json",
            "-o",
            path.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let run = demandsim(&args, b"");
        assert_eq!(run.code, 0, "{}", run.stderr);
        path
    };
    let whole = std::fs::read(sweep(&[], "whole.json")).unwrap();
    let one = std::fs::read(sweep(&["--shard", "1/1"], "one.json")).unwrap();
    let strip = |b: &[u8]| {
        let mut v: Value = serde_json::from_slice(b).unwrap();
        v.as_object_mut().unwrap().remove("shard");
        v.as_object_mut().unwrap().remove("settings");
        v
    };
    assert_eq!(strip(&one), strip(&whole));
    let parts: Vec<_> = (1..=3)
        .map(|i| sweep(&["--shard", &format!("{i}/3")], &format!("p{i}.json")))
        .collect();
    let p: Vec<&str> = parts.iter().map(|p| p.to_str().unwrap()).collect();
    let merged = dir.path().join("merged.json");
    let run = demandsim(
        &["merge", p[2], p[0], p[1], "-o", merged.to_str().unwrap()],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    assert!(
        text(std::fs::read(&merged).unwrap()) == text(whole.clone()),
        "merged bytes differ"
    );
    // Shard 2 of 3 holds points 1 and 4: without it they are missing;
    // with it twice they are repeated.
    let run = demandsim(&["merge", p[0], p[2]], b"");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("points missing: 1, 4"),
        "{}",
        run.stderr
    );
    let run = demandsim(&["merge", p[0], p[1], p[1], p[2]], b"");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("more than once: 1, 4"),
        "{}",
        run.stderr
    );
    // A part run with other settings has other numbers: refused, naming
    // what differs (shard JSON recorded only the model name, seed and grid,
    // and merge combined them).
    for (extra, differ) in [
        (vec!["--set", "demand=0.9"], "--set differ"),
        (vec!["--replications", "2"], "--replications differ"),
        (vec!["--warmup", "none"], "--warmup differ"),
        (vec!["--scale-load", "1.5"], "--scale-load differ"),
    ] {
        let mut args = vec!["--shard", "2/3"];
        args.extend(extra);
        let other = sweep(&args, "other.json");
        let run = demandsim(&["merge", p[0], other.to_str().unwrap(), p[2]], b"");
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("was run with other settings than") && run.stderr.contains(differ),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn bad_grids_are_usage_errors_that_say_what_was_expected() {
    let m = model("qpn1-open.yaml");
    for (args, says) in [
        (vec![], "the grid is empty"),
        (vec!["--grid", "cpus=1,2"], "no parameter `cpus`"),
        (vec!["--grid", "arrival_rate=9..1:3"], "LO 9 is above HI 1"),
        (vec!["--grid", "arrival_rate=1,x"], "`x` is not a number"),
        (
            vec!["--grid", "servers=1", "--grid", "servers=2"],
            "swept twice",
        ),
        (vec!["--grid", "servers=1", "--shard", "4/3"], "I/N"),
    ] {
        let mut a = vec!["sweep", m.as_str(), "--seed", "1"];
        a.extend(args);
        let run = demandsim(&a, b"");
        assert_eq!(run.code, 2, "{a:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{a:?}: {}", run.stderr);
    }
}

#[test]
fn elasticities_of_mm1_are_the_closed_forms() {
    // M/M/1 at U = λD: R = D/(1 − λD), so d ln R/d ln D = 1/(1 − U) and
    // d ln R/d ln λ = U/(1 − U). Whole-number parameters are left out.
    let m = model("qpn1-open.yaml");
    let v = json(&demandsim(
        &[
            "sweep",
            &m,
            "--set",
            "servers=1",
            "--set",
            "demand=0.1",
            "--grid",
            "arrival_rate=2,5,8",
            "--sensitivity",
            "--format",
            "json",
            "--seed",
            &seed_arg(1),
        ],
        b"",
    ));
    for p in v["points"].as_array().unwrap() {
        let u = p["params"]["arrival_rate"].as_f64().unwrap() * 0.1;
        let e = &p["probes"][0]["elasticities"];
        assert!(
            (e["demand"].as_f64().unwrap() - 1.0 / (1.0 - u)).abs() < 1e-6,
            "{e}"
        );
        assert!(
            (e["arrival_rate"].as_f64().unwrap() - u / (1.0 - u)).abs() < 1e-6,
            "{e}"
        );
        assert!(
            e.get("servers").is_none() && e.get("containers").is_none(),
            "{e}"
        );
    }
}

#[test]
fn out_writes_the_plot_and_the_page_with_the_measured_points() {
    let dir = tempfile::tempdir().unwrap();
    let m = model("qpn1-open.yaml");
    let trace = format!(
        "{}/traces/example/requests.csv.gz@arrival_rate=6.242",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = dir.path().join("page");
    let run = demandsim(
        &[
            "-q",
            "sweep",
            &m,
            "--grid",
            "arrival_rate=2..9:8",
            "--slo",
            "mean<=3s",
            "--measured",
            &trace,
            "--out",
            out.to_str().unwrap(),
            "--seed",
            &seed_arg(1),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let svg = std::fs::read_to_string(out.join("sweep.svg")).unwrap();
    assert!(
        svg.contains("Mean response time against arrival_rate"),
        "no title"
    );
    assert!(svg.contains("objective 3 s") && svg.contains("measured"));
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("8 points over arrival_rate") && page.contains("<svg"));
    // The measured point must sit on the plot's x axis.
    let bad = trace.replace("arrival_rate", "servers");
    let run = demandsim(
        &[
            "sweep",
            &m,
            "--grid",
            "arrival_rate=2,4",
            "--measured",
            &bad,
            "--out",
            out.to_str().unwrap(),
            "--seed",
            &seed_arg(1),
        ],
        b"",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("x axis is `arrival_rate`"),
        "{}",
        run.stderr
    );
}
