//! `demandsim plan`: run directories generated from a model with known
//! demands, answered against the closed form; the choices it states; the
//! model it writes read back; bad runs refused with the exit codes the
//! README gives.

use std::path::Path;

use serde_json::Value;

use super::{demandsim, seed_arg};

/// Two classes on one processor-sharing CPU, Poisson arrivals: M/M/1-PS,
/// whose mean response time over all requests is D̄/(1 − λD̄), D̄ the
/// mix-weighted demand.
const MODEL: &str = r#"
name: two-class-ps
classes: [a, b]
params:
  rate_{c}: {a: 3, b: 7}
  demand_{c}: {a: 0.01, b: 0.02}
colors: ["{c}"]
places:
  CPU: {queue: ps, servers: 1, service: {"{c}": {exponential: "demand_{c}"}}}
transitions:
  arrive:
    delay: {exponential: "1 / sum(rate_{c})"}
    modes: [{each: c, name: "{c}", weight: "rate_{c}", out: {CPU: "{c}"}}]
  leave: {each: c, in: {CPU: "{c}"}}
probes:
  response: {colors: ["{c}"], start: {place: CPU, when: enter}, end: {place: CPU, when: exit}}
"#;

/// Runs `r1`…`r4` at 10, 20, 30, 40 requests/s (30 % class a), each with
/// `run_yaml`.
fn runs(dir: &Path, run_yaml: &str) -> Vec<String> {
    let model = dir.join("m.yaml");
    std::fs::write(&model, MODEL).unwrap();
    (1..=4)
        .map(|k| {
            let out = dir.join(format!("r{k}"));
            let r = demandsim(
                &[
                    "-q",
                    "generate",
                    model.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                    "--set",
                    &format!("rate_a={}", 3 * k),
                    "--set",
                    &format!("rate_b={}", 7 * k),
                    "--requests",
                    "20000",
                    "--interval",
                    "10",
                    "--seed",
                    &seed_arg(100 + k),
                ],
                b"",
            );
            assert_eq!(r.code, 0, "{}", r.stderr);
            std::fs::write(out.join("run.yaml"), run_yaml).unwrap();
            out.to_str().unwrap().to_string()
        })
        .collect()
}

fn plan(dir: &Path, runs: &[String], extra: &[&str]) -> super::Run {
    let out = dir.join("out");
    let mut args = vec!["-q", "plan"];
    args.extend(runs.iter().map(String::as_str));
    args.extend([
        "--out",
        out.to_str().unwrap(),
        "--seed",
        "7",
        "--requests",
        "20000",
    ]);
    args.extend(extra);
    demandsim(&args, b"")
}

/// `plan --find arrival_rate` for a mean of 40 ms at r2's mix, as JSON,
/// with the base run's measured share of class a and the closed form's
/// answer at it and the true demands: λ* = (1 − D̄/R)/D̄.
fn rate_for_40ms(dir: &Path, runs: &[String]) -> (Value, f64, f64) {
    let r = plan(
        dir,
        runs,
        &[
            "--slo",
            "mean<=40ms",
            "--find",
            "arrival_rate",
            "--mix-of",
            "r2",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p: Value = serde_json::from_str(&r.stdout).unwrap();
    let share_a = p["fit"]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == "a")
        .unwrap()["share"]
        .as_f64()
        .unwrap();
    let d = share_a * 0.01 + (1.0 - share_a) * 0.02;
    (p, share_a, (1.0 - d / 0.040) / d)
}

#[test]
fn plan_answers_the_largest_rate_of_generated_runs_as_the_closed_form_does() {
    let dir = tempfile::tempdir().unwrap();
    let runs = runs(dir.path(), "workload: {type: open}\n");
    let (p, share_a, exact) = rate_for_40ms(dir.path(), &runs);
    assert!((share_a - 0.3).abs() < 0.02, "{share_a}");
    let a = &p["answers"][0];
    let value = a["value"].as_f64().unwrap();
    assert!((value - exact).abs() < 0.03 * exact, "{value} vs {exact}");
    // Both bands are there and labelled; the estimation band holds the
    // answer it surrounds.
    let est: Vec<f64> = serde_json::from_value(a["estimation_band"].clone()).unwrap();
    assert!(est[0] <= value && value <= est[1], "{est:?} {value}");
    let pred: Vec<f64> = serde_json::from_value(a["prediction_band"].clone()).unwrap();
    assert!(pred[0] < pred[1], "{pred:?}");
    assert_eq!(
        a["prediction_band_note"],
        "prediction band, calibrated on 4 held-out runs (60 %)"
    );
    // Every run held out in turn, each within 5 % (the model is the truth).
    let rows = p["validation"]["runs"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for row in rows {
        let e = row["error"].as_f64().unwrap();
        assert!(e.abs() < 0.05, "{row}");
    }
    // The choices, each with its reason.
    let chosen = |what: &str| {
        p["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["what"] == what)
            .unwrap_or_else(|| panic!("no decision on {what}"))["chosen"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(chosen("workload"), "open");
    assert_eq!(chosen("resource"), "CPU");
    assert_eq!(chosen("classes"), "class: a, b");
    assert_eq!(chosen("servers"), "1");
    // The model it wrote reads back and solves to the same closed form.
    let model = dir.path().join("out/model.yaml");
    let s = demandsim(
        &[
            "-q",
            "solve",
            model.to_str().unwrap(),
            "--set",
            &format!("arrival_rate={exact}"),
            "--set",
            &format!("share_a={share_a}"),
            "--set",
            &format!("share_b={}", 1.0 - share_a),
            "--set",
            "demand_a=0.01",
            "--set",
            "demand_b=0.02",
            "--format",
            "json",
        ],
        b"",
    );
    assert_eq!(s.code, 0, "{}", s.stderr);
    let plan_json = std::fs::read_to_string(dir.path().join("out/plan.json")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&plan_json).unwrap(), p);
    // The page: the answer first, then the held-out runs.
    let page = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    let answer = page
        .find("largest arrival rate with mean ≤ 40 ms: ")
        .unwrap();
    assert!(answer < page.find("id=\"held-out\"").unwrap(), "{page}");
    assert!(page.contains("<svg"), "the held-out plot");
}

/// Rewrites run `dir`'s `requests.csv` as an interval-level
/// `intervals.csv` (per 10 s and class: completions and their mean
/// response time, stamped at the interval's end) and removes it: what a
/// load tester that keeps no per-request rows gives.
fn to_intervals(dir: &Path) {
    let text = std::fs::read_to_string(dir.join("requests.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (t, rt, class) = (col("timestamp"), col("response_time"), col("class"));
    let mut bins: std::collections::BTreeMap<(i64, String), (u64, f64)> = Default::default();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let r: f64 = f[rt].parse().unwrap();
        let end = f[t].parse::<f64>().unwrap() + r;
        let bin = bins
            .entry(((end / 10.0).floor() as i64, f[class].to_string()))
            .or_default();
        bin.0 += 1;
        bin.1 += r;
    }
    let mut out = String::from("timestamp,interval,class,completions,mean_response_time\n");
    let last = bins.keys().map(|(k, _)| *k).max().unwrap();
    for ((k, c), (n, sum)) in bins {
        out += &format!("{},10,{c},{n},{}\n", (k + 1) * 10, sum / n as f64);
    }
    // A load tester's history also holds what happened where the CPU was
    // not measured (here: logouts long after the run).
    out += &format!("{},10,logout,5,0.5\n", (last + 100) * 10);
    std::fs::write(dir.join("intervals.csv"), out).unwrap();
    std::fs::remove_file(dir.join("requests.csv")).unwrap();
}

#[test]
fn plan_reads_interval_level_runs_and_answers_a_mean_objective_as_the_closed_form_does() {
    let dir = tempfile::tempdir().unwrap();
    let runs = runs(dir.path(), "workload: {type: open}\n");
    for r in &runs {
        to_intervals(Path::new(r));
    }
    let (p, _, exact) = rate_for_40ms(dir.path(), &runs);
    let value = p["answers"][0]["value"].as_f64().unwrap();
    assert!((value - exact).abs() < 0.05 * exact, "{value} vs {exact}");
    // Every run held out in turn and compared on its mean, its rates
    // taken where the CPU was measured (not up to the logouts).
    let rows = p["validation"]["runs"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for row in rows {
        assert!(row["error"].as_f64().unwrap().abs() < 0.05, "{row}");
    }
    assert!(!p.to_string().contains("logout"), "{p}");
    // Logouts never seen while the CPU was measured are no column of the
    // estimate (they failed every method before).
    let e = demandsim(
        &[
            "estimate",
            "--requests",
            &format!("{}/intervals.csv", runs[0]),
            "--utilization",
            &format!("{}/utilization.csv", runs[0]),
            "--methods",
            "sdl",
            "--bootstrap",
            "0",
            "--format",
            "json",
        ],
        b"",
    );
    assert_eq!(e.code, 0, "{}", e.stderr);
    assert!(
        e.stderr
            .contains("no completion in any interval with utilization: logout"),
        "{}",
        e.stderr
    );
    // Interval-level rows have their classes and no other column to
    // group by: refused, naming the run.
    let r = plan(
        dir.path(),
        &runs,
        &["--slo", "mean<=40ms", "--class-column", "user_class"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("r1: the requests have no values in a `user_class` column"),
        "{}",
        r.stderr
    );
}

#[test]
fn plan_at_twice_the_load_finds_the_containers_and_says_when_no_load_meets_the_objective() {
    let dir = tempfile::tempdir().unwrap();
    let runs = runs(dir.path(), "workload: {type: open}\nresource: CPU\n");
    // r4 runs at 40 req/s (U 0.68); at 2x, 80 req/s need two containers
    // for a mean of 40 ms (two M/M/1-PS at 40 req/s: 54 ms), three (26.7
    // req/s each: 31 ms).
    let r = plan(
        dir.path(),
        &runs,
        &[
            "--slo",
            "mean<=40ms",
            "--find",
            "containers",
            "--at",
            "2x",
            "--mix-of",
            "r4",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(p["answers"][0]["value"], 3, "{}", p["answers"][0]);
    // No load meets 5 ms: the answer says so, with the best value tried.
    let r = plan(
        dir.path(),
        &runs,
        &["--slo", "mean<=5ms", "--find", "arrival_rate"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("largest arrival rate with mean ≤ 5 ms: none"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("no value in the range meets it"),
        "{}",
        r.stdout
    );
}

/// A bad input: run.yaml of r2 and r3, flags, exit code, what stderr says.
type Case<'a> = (&'a str, &'a str, &'a [&'a str], i32, &'a [&'a str]);

#[test]
fn plan_refuses_bad_runs_with_the_file_and_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let runs = runs(dir.path(), "workload: {type: open}\n");
    let open = "workload: {type: open}\n";
    let cases: [Case; 5] = [
        (
            open,
            open,
            &["--slo", "mean<=40ms", "--fit", "r1,r9"],
            2,
            &["--fit names `r9`", "r1, r2, r3, r4"],
        ),
        (
            open,
            open,
            &["--slo", "mean<=40"],
            2,
            &["--slo", "needs a unit"],
        ),
        (
            "workload: {type: open}\nresourse: CPU\n",
            open,
            &["--slo", "mean<=40ms"],
            1,
            &["r2/run.yaml", "resourse"],
        ),
        (
            "servers: 2\n",
            "servers: 1\n",
            &["--slo", "mean<=40ms"],
            1,
            &["disagree on their servers: r2 has 2, r3 1"],
        ),
        (
            "resource: CPU\n",
            "resource: disk\n",
            &["--slo", "mean<=40ms"],
            1,
            &["disagree on their resource"],
        ),
    ];
    for (r2, r3, extra, code, says) in cases {
        std::fs::write(Path::new(&runs[1]).join("run.yaml"), r2).unwrap();
        std::fs::write(Path::new(&runs[2]).join("run.yaml"), r3).unwrap();
        let mut args = vec!["--find", "arrival_rate"];
        args.extend(extra);
        let r = plan(dir.path(), &runs, &args);
        assert_eq!(r.code, code, "{extra:?}: {}", r.stderr);
        assert!(
            says.iter().all(|w| r.stderr.contains(w)),
            "{says:?}: {}",
            r.stderr
        );
    }
    // A run directory without utilization.
    std::fs::write(Path::new(&runs[1]).join("run.yaml"), open).unwrap();
    std::fs::write(Path::new(&runs[2]).join("run.yaml"), open).unwrap();
    std::fs::remove_file(Path::new(&runs[0]).join("utilization.csv")).unwrap();
    let r = plan(dir.path(), &runs, &["--slo", "mean<=40ms"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("r1: no utilization.csv"), "{}", r.stderr);
}
