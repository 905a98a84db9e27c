//! Load forms and run-level identifiability on generated runs whose
//! truth is known: demands that fall linearly in U or as a + b/X are
//! recovered and their form chosen by leave-one-run-out error; one load
//! gives a constant and says what it needs; endpoint classes that move
//! together across runs are flagged at run level, and grouping them by
//! the user class that sent them recovers the user classes' demands.

use demandsim::estimate::{
    Config, LoadChoice, LoadForm, LoadModel, Method, Observations, Report, estimate,
};
use demandsim::model::Params;
use demandsim::trace::IntervalTable;
use serde_json::Value;

use super::estimate::{ONE_CLASS as ONE, TWO_CONSTANT as TWO, trace};
use super::{demandsim, seed_arg};

/// `tables` fitted together with `ur` and the load model `choice`.
fn fitted(tables: &[IntervalTable], choice: LoadChoice) -> Report {
    let names: Vec<String> = (0..tables.len()).map(|i| format!("run{i}")).collect();
    let runs: Vec<(&str, &IntervalTable)> = names.iter().map(String::as_str).zip(tables).collect();
    let (obs, diag) = Observations::from_runs(&runs, &["CPU"], 1, false).unwrap();
    let cfg = Config {
        methods: vec![Method::Ur],
        bootstrap: 0,
        load_dependence: Some(choice),
        ..Config::default()
    };
    estimate(&obs, diag, &cfg, "CPU", 30.0)
}

fn model(r: &Report) -> &LoadModel {
    r.load_dependence
        .as_ref()
        .unwrap_or_else(|| panic!("no load model: {:?}", r.failures))
}

/// The index of `class` in the model (classes come in the order the
/// traces first name them).
fn index(m: &LoadModel, class: &str) -> usize {
    m.classes.iter().position(|c| c.class == class).unwrap()
}

fn param(m: &LoadModel, class: usize, name: &str) -> (f64, (f64, f64)) {
    let p = m.classes[class]
        .parameters
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no {name}: {:?}", m.classes[class]));
    (p.value, p.ci)
}

#[test]
fn a_demand_falling_linearly_in_u_is_recovered_and_linear_u_chosen() {
    // Class a: D(U) = 0.05·(1 − 0.6·(U − 0.45)), 36 % less at U 0.8 than
    // at 0.2; class b: 0.02 s. Six runs of both at different mixes, and
    // one of b alone (it contributes to b only).
    let da = |u: f64| 0.05 * (1.0 - 0.6 * (u - 0.45));
    let runs = [
        (0.2, 2.0),
        (0.3, 4.0),
        (0.45, 3.0),
        (0.55, 8.0),
        (0.7, 6.0),
        (0.8, 14.0),
        (0.35, 0.0),
    ];
    let tables: Vec<IntervalTable> = runs
        .iter()
        .enumerate()
        .map(|(k, &(u, xa))| {
            let xb = (u - xa * da(u)) / 0.02;
            let params = Params::new()
                .with("rate_a", xa.max(1e-9))
                .with("rate_b", xb)
                .with("demand_a", da(u))
                .with("demand_b", 0.02);
            trace(TWO, params, 1800.0, 300 + k as u64, 0.0, 0.0).0
        })
        .collect();
    let r = fitted(&tables, LoadChoice::Auto);
    let m = model(&r);
    let (ia, ib) = (index(m, "a"), index(m, "b"));
    assert_eq!(m.classes[ia].form, LoadForm::LinearU, "{m:#?}");
    assert_eq!((m.classes[ia].runs, m.classes[ib].runs), (6, 7));
    let ubar = m.mean_utilization;
    let (level, ci) = param(m, ia, "D̄");
    assert!(
        (level - da(ubar)).abs() < 0.05 * da(ubar),
        "{level} vs {}",
        da(ubar)
    );
    assert!(
        ci.0 <= da(ubar) && da(ubar) <= ci.1,
        "{ci:?} vs {}",
        da(ubar)
    );
    let (beta, ci) = param(m, ia, "β");
    let truth = -0.6 * 0.05 / da(ubar);
    assert!(ci.0 <= truth && truth <= ci.1, "β {beta} {ci:?} vs {truth}");
    assert!(
        (m.classes[ib].demand_at_mean_s - 0.02).abs() < 0.05 * 0.02,
        "{m:#?}"
    );
    // The linear form beats the constant one out of sample.
    let errors = &m.classes[ia].loro_error;
    let (lin, con) = (errors[&LoadForm::LinearU], errors[&LoadForm::Constant]);
    assert!(lin.unwrap() < 0.5 * con.unwrap(), "{errors:?}");
    // At a new load (a: 10/s, b: 12/s) the fixed point solves its own
    // equation, and a's demand there is the truth's within 3 %.
    let mut lambda = [0.0; 2];
    (lambda[ia], lambda[ib]) = (10.0, 12.0);
    let at = m.at_load(&lambda).unwrap();
    let u = at.utilization;
    let busy = 10.0 * at.demands[ia].0 + 12.0 * at.demands[ib].0;
    assert!((u - busy).abs() < 1e-9, "{u} vs {busy}");
    let truth_u = (10.0 * 0.05 * (1.0 + 0.6 * 0.45) + 12.0 * 0.02) / (1.0 + 10.0 * 0.03);
    assert!((u - truth_u).abs() < 0.03 * truth_u, "{u} vs {truth_u}");
    let (d, ci) = at.demands[ia];
    assert!(
        (d - da(truth_u)).abs() < 0.03 * da(truth_u),
        "{d} vs {}",
        da(truth_u)
    );
    assert!(ci.0 < d && d < ci.1);
}

/// Six one-class runs at `rates` of demand `demand(rate)`.
fn one_class_runs(rates: &[f64], demand: impl Fn(f64) -> f64, seed: u64) -> Vec<IntervalTable> {
    rates
        .iter()
        .enumerate()
        .map(|(k, &x)| {
            let params = Params::new().with("rate", x).with("demand", demand(x));
            trace(ONE, params, 1800.0, seed + k as u64, 0.0, 0.0).0
        })
        .collect()
}

#[test]
fn a_demand_falling_as_a_plus_b_over_x_is_recovered_and_inverse_x_chosen() {
    // D(X) = 0.02 + 0.1/X: 0.04 s at 5 requests/s, 0.023 s at 32 (U 0.2 to
    // 0.74): a fixed cost shared by all requests.
    let d = |x: f64| 0.02 + 0.1 / x;
    let tables = one_class_runs(&[5.0, 8.0, 12.0, 18.0, 25.0, 32.0], d, 400);
    let r = fitted(&tables, LoadChoice::Auto);
    let m = model(&r);
    assert_eq!(m.classes[0].form, LoadForm::InverseX, "{m:#?}");
    let (a, ci) = param(m, 0, "a");
    assert!(
        (a - 0.02).abs() < 0.1 * 0.02 && ci.0 <= 0.02 && 0.02 <= ci.1,
        "a {a} {ci:?}"
    );
    let (b, ci) = param(m, 0, "b");
    assert!(
        (b - 0.1).abs() < 0.1 * 0.1 && ci.0 <= 0.1 && 0.1 <= ci.1,
        "b {b} {ci:?}"
    );
    let errors = &m.classes[0].loro_error;
    let inv = errors[&LoadForm::InverseX].unwrap();
    assert!(inv < errors[&LoadForm::LinearU].unwrap(), "{errors:?}");
    assert!(
        inv < 0.5 * errors[&LoadForm::Constant].unwrap(),
        "{errors:?}"
    );
    // At 40 requests/s: 0.0225 s, within 3 %.
    let at = m.at_load(&[40.0]).unwrap();
    assert!((at.demands[0].0 - d(40.0)).abs() < 0.03 * d(40.0), "{at:?}");
}

#[test]
fn runs_at_one_load_give_a_constant_and_say_what_they_need() {
    // Two runs at the same 5 requests/s: no form can be fitted, asked for
    // or not.
    let tables = one_class_runs(&[5.0, 5.0], |_| 0.06, 500);
    for choice in [LoadChoice::Auto, LoadChoice::Only(LoadForm::LinearU)] {
        let r = fitted(&tables, choice);
        let m = model(&r);
        assert_eq!(m.classes[0].form, LoadForm::Constant, "{m:#?}");
        assert_eq!((m.classes[0].runs, m.classes[0].loads), (2, 1));
        let note = m.notes.join("\n");
        assert!(
            note.contains("request: constant: 2 run(s) (U 0.30")
                && note.contains("give 1 distinct load(s)")
                && note.contains("two or more loads"),
            "{note}"
        );
        let (d, ci) = param(m, 0, "D");
        assert!(
            (d - 0.06).abs() < 0.03 * 0.06 && ci.0 < d && d < ci.1,
            "{d} {ci:?}"
        );
    }
}

/// Endpoints a1, a2 sent by user class A, b1, b2 by B, each pair at a
/// fixed 1:1 ratio: per request A costs (0.03 + 0.01)/2 = 0.02 s, B
/// (0.05 + 0.02)/2 = 0.035 s.
const ENDPOINTS: &str = "params: {ra: 1, rb: 1}
colors: [a1, a2, b1, b2]
places:
  CPU: {queue: fcfs, service: {a1: {exponential: 0.03}, a2: {exponential: 0.01}, b1: {exponential: 0.05}, b2: {exponential: 0.02}}}
transitions:
  arrive_a1: {delay: {exponential: 2 / ra}, out: {CPU: a1}}
  arrive_a2: {delay: {exponential: 2 / ra}, out: {CPU: a2}}
  arrive_b1: {delay: {exponential: 2 / rb}, out: {CPU: b1}}
  arrive_b2: {delay: {exponential: 2 / rb}, out: {CPU: b2}}
  leave: {modes: [{in: {CPU: a1}}, {in: {CPU: a2}}, {in: {CPU: b1}}, {in: {CPU: b2}}]}
probes:
  response:
    colors: [a1, a2, b1, b2]
    start: [{transition: arrive_a1}, {transition: arrive_a2}, {transition: arrive_b1}, {transition: arrive_b2}]
    end: {transition: leave}
";

/// Three generated runs of [`ENDPOINTS`] whose requests name their user
/// class (A or B), and the `estimate` arguments that read them.
fn endpoint_runs(dir: &std::path::Path) -> Vec<String> {
    let model = dir.join("endpoints.yaml");
    std::fs::write(&model, ENDPOINTS).unwrap();
    let mut args = Vec::new();
    for (k, (ra, rb)) in [(10.0, 4.0), (4.0, 10.0), (8.0, 8.0)].iter().enumerate() {
        let out = dir.join(format!("run{k}"));
        let run = demandsim(
            &[
                "-q",
                "generate",
                model.to_str().unwrap(),
                "--set",
                &format!("ra={ra}"),
                "--set",
                &format!("rb={rb}"),
                "--time",
                "1800",
                "--interval",
                "1",
                "--seed",
                &seed_arg(600 + k as u64),
                "--out",
                out.to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let path = out.join("requests.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let mut with = format!("{},user_class\n", lines.next().unwrap());
        for l in lines {
            let user = if l.split(',').nth(2).unwrap().starts_with('a') {
                "A"
            } else {
                "B"
            };
            with.push_str(&format!("{l},{user}\n"));
        }
        std::fs::write(&path, with).unwrap();
        args.extend([
            "--requests".to_string(),
            path.display().to_string(),
            "--utilization".to_string(),
            out.join("utilization.csv").display().to_string(),
        ]);
    }
    args
}

/// Whether every entry of the array `v` is `want`.
fn every(v: &Value, want: bool) -> bool {
    v.as_array().unwrap().iter().all(|b| b == want)
}

fn estimated(args: &[String], extra: &[&str]) -> (Value, String) {
    let mut all: Vec<&str> = vec![
        "-q",
        "estimate",
        "--methods",
        "ur",
        "--bootstrap",
        "0",
        "--seed",
        "1",
    ];
    all.extend(args.iter().map(String::as_str));
    all.extend(extra);
    let json = demandsim(&[all.as_slice(), &["--format", "json"]].concat(), b"");
    assert_eq!(json.code, 0, "{}", json.stderr);
    let text = demandsim(&all, b"");
    (serde_json::from_str(&json.stdout).unwrap(), text.stdout)
}

#[test]
fn endpoints_that_move_together_across_runs_are_flagged_and_their_user_classes_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let args = endpoint_runs(dir.path());
    let (doc, text) = estimated(&args, &[]);
    // Intervals: counting noise makes every endpoint look separable.
    assert!(
        every(&doc["identifiability"]["identifiable"], true),
        "{}",
        doc["identifiability"]
    );
    // Runs: each user class's endpoints move together.
    let runs = &doc["run_identifiability"];
    assert_eq!(runs["runs"], 3);
    assert!(every(&runs["identifiable"], false), "{runs}");
    let groups: Vec<Vec<&str>> = runs["collinear_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let mut v: Vec<&str> = g
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            v.sort();
            v
        })
        .collect();
    assert!(
        groups.contains(&vec!["a1", "a2"])
            && groups.contains(&vec!["b1", "b2"])
            && groups.len() == 2,
        "{groups:?}"
    );
    assert!(text.contains("move together across runs"), "{text}");
    assert!(text.contains("--group-by user_class"), "{text}");
    // Grouped by user class: both separated by the runs, each within 5 %.
    let (doc, text) = estimated(&args, &["--group-by", "user_class"]);
    let runs = &doc["run_identifiability"];
    assert!(every(&runs["identifiable"], true), "{runs}");
    assert!(
        runs["collinear_groups"].as_array().unwrap().is_empty(),
        "{runs}"
    );
    assert!(!text.contains("--group-by user_class"), "{text}");
    for e in doc["estimates"].as_array().unwrap() {
        let truth = if e["class"] == "A" { 0.02 } else { 0.035 };
        let d = e["demand_s"].as_f64().unwrap();
        assert!((d - truth).abs() < 0.05 * truth, "{e}");
    }
}
