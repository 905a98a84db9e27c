//! Prediction bands in `capacity` and `sweep` (`--calibration
//! VALIDATE.json`): on M/M/1, whose mean D/(1 − λD) and p95 ln 20/(1/D −
//! λ) give every band's end in closed form, from a validate JSON written
//! here with known held-out errors; and read back from `validate`'s own
//! JSON of a generated study.

use serde_json::{Value, json};

use super::coverage::{Kind, one, write_study};
use super::demandsim;
use demandsim::validate::{Calibration, Statistic};

/// The model's demand.
const D: f64 = 0.01;

/// Held-out runs at the model's utilization `U`, with the mean's errors
/// `MEAN` and the p95's `P95`: the most loaded run (0.95) lies beyond every
/// answer below, so no end is widened (a = 1).
const U: [f64; 4] = [0.3, 0.5, 0.7, 0.95];
const MEAN: [f64; 4] = [0.05, -0.1, 0.12, 0.02];
const P95: [f64; 4] = [0.1, -0.05, 0.2, 0.0];

/// `validate --format json` of those runs (the first `n` as calibration
/// runs), plus a held-out run whose error no band may read.
fn validate_json(n: usize) -> Value {
    let mut runs: Vec<Value> = (0..n)
        .map(|i| {
            // measured p95 1 s: predicted = 1 − error.
            json!({"name": format!("r{i}"), "role": "calibration", "utilization": U[i],
                   "model_utilization": U[i], "error": MEAN[i], "measured_p95_s": 1.0,
                   "predicted_p95_s": 1.0 - P95[i]})
        })
        .collect();
    runs.push(json!({"name": "h", "role": "held_out", "utilization": 0.4,
                     "model_utilization": 0.4, "error": 0.9}));
    json!({"study": "mm1", "seed": 1, "protocol": "p", "hold_out": "experiments",
           "runs": runs, "coverage": null, "nominal": null})
}

struct Files {
    dir: tempfile::TempDir,
    model: String,
}

impl Files {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            model: format!("{}/models/qpn1-open.yaml", env!("CARGO_MANIFEST_DIR")),
        }
    }

    /// Writes `text` to `name` in the directory, returning its path.
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    }
}

/// `capacity` of M/M/1 (D = 10 ms) for the arrival rate, over 1..99.
fn capacity(f: &Files, slo: &str, extra: &[&str]) -> super::Run {
    let mut a = vec![
        "capacity",
        &f.model,
        "--set",
        "servers=1",
        "--set",
        "demand=0.01",
        "--find",
        "arrival_rate",
        "--slo",
        slo,
        "--range",
        "1..99",
        "--seed",
        "1",
    ];
    a.extend_from_slice(extra);
    demandsim(&a, b"")
}

fn json_of(run: &super::Run) -> Value {
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

fn ends(errors: &[f64]) -> (f64, f64) {
    let lo = errors.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = errors.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

/// The search's tolerance on 1..99.
const TOL: f64 = 1e-4 * 98.0;

#[test]
fn a_capacity_answer_is_solved_at_the_prediction_bands_ends() {
    let f = Files::new();
    let cal = f.write("validate.json", &validate_json(4).to_string());
    // Mean ≤ 50 ms: R/(1 − r) = S at λ = (1 − D/(S(1 − r)))/D; the high
    // error is the smaller load.
    let v = json_of(&capacity(
        &f,
        "mean<=50ms",
        &["--calibration", &cal, "--format", "json"],
    ));
    let (lo, hi) = ends(&MEAN);
    let at = |r: f64| (1.0 - D / (0.05 * (1.0 - r))) / D;
    let band = &v["prediction_band"];
    assert!((band[0].as_f64().unwrap() - at(hi)).abs() < TOL, "{v}");
    assert!((band[1].as_f64().unwrap() - at(lo)).abs() < TOL, "{v}");
    assert_eq!(v["prediction_basis"]["calibration_runs"], 4);
    assert_eq!(v["prediction_basis"]["statistic"], "mean");
    // p95 ≤ 300 ms: ln 20/((1/D − λ)(1 − r)) = S at λ = 1/D − ln 20/(S(1 − r)).
    let v = json_of(&capacity(
        &f,
        "p95<=300ms",
        &["--calibration", &cal, "--format", "json"],
    ));
    let (lo, hi) = ends(&P95);
    let at = |r: f64| 1.0 / D - 20f64.ln() / (0.3 * (1.0 - r));
    let band = &v["prediction_band"];
    assert!((band[0].as_f64().unwrap() - at(hi)).abs() < TOL, "{v}");
    assert!((band[1].as_f64().unwrap() - at(lo)).abs() < TOL, "{v}");
    assert_eq!(v["prediction_basis"]["statistic"], "p95");
    // The answer line names each band for what it is: 77.27–81.82 req/s
    // (rounded towards the side that meets the objective), 4 runs, 3/5.
    let run = capacity(&f, "mean<=50ms", &["--calibration", &cal]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first = run.stdout.lines().next().unwrap();
    assert_eq!(
        first,
        "largest arrival_rate with mean ≤ 50 ms: 79.9 req/s (prediction band 77.2 – 81.8 req/s, calibrated on 4 held-out runs, 60 %)",
    );
}

#[test]
fn a_sweep_point_carries_its_statistics_corrected_by_the_end_errors() {
    let f = Files::new();
    let cal = f.write("validate.json", &validate_json(4).to_string());
    let sweep = |format: &str| {
        demandsim(
            &[
                "sweep",
                &f.model,
                "--set",
                "servers=1",
                "--set",
                "demand=0.01",
                "--grid",
                "arrival_rate=30,70",
                "--calibration",
                &cal,
                "--seed",
                "1",
                "--format",
                format,
            ],
            b"",
        )
    };
    let v = json_of(&sweep("json"));
    let (m_lo, m_hi) = ends(&MEAN);
    let (p_lo, p_hi) = ends(&P95);
    for (p, lambda) in v["points"].as_array().unwrap().iter().zip([30.0, 70.0]) {
        let q = &p["probes"][0];
        let r = D / (1.0 - lambda * D);
        let p95 = 20f64.ln() / (1.0 / D - lambda);
        for (key, want) in [
            ("mean_s", r),
            ("prediction_low_s", r / (1.0 - m_lo)),
            ("prediction_high_s", r / (1.0 - m_hi)),
            ("p95_s", p95),
            ("p95_prediction_low_s", p95 / (1.0 - p_lo)),
            ("p95_prediction_high_s", p95 / (1.0 - p_hi)),
        ] {
            super::close(q[key].as_f64().unwrap(), want);
        }
    }
    assert_eq!(
        v["prediction_bands"][0]["label"],
        "prediction band, calibrated on 4 held-out runs (60 %)"
    );
    let csv = sweep("csv");
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    assert!(csv.stdout.lines().next().unwrap().ends_with(
        "band_low_s,band_high_s,prediction_low_s,prediction_high_s,p95_prediction_low_s,p95_prediction_high_s"
    ));
    let table = sweep("table");
    assert!(
        table.stdout.contains("estimation band [s]")
            && table.stdout.contains("prediction band [s]")
            && table
                .stdout
                .contains("mean prediction band, calibrated on 4 held-out runs (60 %) of `mm1`"),
        "{}",
        table.stdout
    );
}

#[test]
fn too_few_runs_say_why_and_bad_calibrations_are_refused() {
    let f = Files::new();
    let two = f.write("two.json", &validate_json(2).to_string());
    let run = capacity(&f, "mean<=50ms", &["--calibration", &two]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("no prediction band: 2 held-out run(s); it takes 3 or more runs"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout
            .lines()
            .next()
            .unwrap()
            .contains("prediction band")
    );
    // Another command's JSON: exit 1, naming the file.
    let other = f.write("sweep.json", r#"{"model": "m", "points": []}"#);
    for run in [
        capacity(&f, "mean<=50ms", &["--calibration", &other]),
        demandsim(
            &[
                "sweep",
                &f.model,
                "--grid",
                "arrival_rate=1",
                "--calibration",
                &other,
            ],
            b"",
        ),
    ] {
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "{other}: not the JSON of `demandsim validate --format json`"
            )),
            "{}",
            run.stderr
        );
    }
    // A percentile no calibration has: a usage error.
    let four = f.write("four.json", &validate_json(4).to_string());
    let run = capacity(&f, "p99<=300ms", &["--calibration", &four]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("mean and the p95 only"),
        "{}",
        run.stderr
    );
}

/// The arrival rate where D x (1 − r)^(−a) first reaches 50 ms, x = 1/(1 −
/// λD), a = max(1, (1 − U_cal)·x) beyond the most loaded calibration run
/// (U_cal): 0.01 steps up from 1, then bisection.
fn first_crossing(r: f64, u_cal: f64) -> f64 {
    let end = |l: f64| {
        let x = 1.0 / (1.0 - l * D);
        D * x * (1.0 - r).powf(-(1.0f64).max((1.0 - u_cal) * x))
    };
    let mut l = 1.0;
    while end(l + 0.01) <= 0.05 {
        l += 0.01;
    }
    let (mut lo, mut hi) = (l, l + 0.01);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if end(mid) <= 0.05 { lo = mid } else { hi = mid }
    }
    lo
}

#[test]
fn validates_own_json_calibrates_capacity_as_the_validation_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let seed = super::seed(7);
    let study = write_study(dir.path(), Kind::Drift, seed, 5);
    let out = dir.path().join("validate.json");
    let (s, o) = (study.to_str().unwrap(), out.to_str().unwrap());
    let run = demandsim(&["-q", "validate", s, "--format", "json", "-o", o], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    // validate reports the p95 where the traces are per request.
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    for r in doc["runs"].as_array().unwrap() {
        let (m, p) = (
            r["measured_p95_s"].as_f64().unwrap(),
            r["predicted_p95_s"].as_f64().unwrap(),
        );
        assert!(
            (r["p95_error"].as_f64().unwrap() - (m - p) / m).abs() < 1e-12,
            "{r}"
        );
        // A calibration run's band on the 4 others, a held-out run's on
        // all 5.
        let n = if r["role"] == "calibration" { 4 } else { 5 };
        assert_eq!(r["p95_prediction_band"]["calibration_runs"], n, "{r}");
    }
    let judged = doc["p95_with_band"].as_u64().unwrap() as f64;
    let share = doc["p95_covered"].as_u64().unwrap() as f64 / judged;
    assert_eq!((judged, doc["p95_coverage"].as_f64()), (9.0, Some(share)));
    // The file's calibration is the validation's in memory.
    let v = one(Kind::Drift, seed);
    for statistic in [Statistic::Mean, Statistic::P95] {
        let read = Calibration::from_json(std::fs::File::open(&out).unwrap(), statistic).unwrap();
        assert_eq!(read, Calibration::from_validation(&v, statistic).unwrap());
        assert_eq!(read.runs(), 5);
    }
    // capacity at the study's model reads it: its basis is the extreme
    // calibration errors.
    let cal = Calibration::from_validation(&v, Statistic::Mean).unwrap();
    let errors: Vec<f64> = cal.held_out.iter().map(|h| h.error).collect();
    let f = Files::new();
    let a = json_of(&capacity(
        &f,
        "mean<=50ms",
        &["--calibration", o, "--format", "json"],
    ));
    let basis = &a["prediction_basis"];
    assert_eq!(basis["calibration_runs"], 5);
    assert_eq!(basis["errors"][0].as_f64().unwrap(), ends(&errors).0);
    assert_eq!(basis["errors"][1].as_f64().unwrap(), ends(&errors).1);
    // Each end where its corrected mean first reaches 50 ms.
    let u_cal = cal
        .held_out
        .iter()
        .filter_map(|h| h.utilization)
        .fold(0.0, f64::max);
    let (r_lo, r_hi) = ends(&errors);
    let band = &a["prediction_band"];
    for (got, r) in [(&band[0], r_hi), (&band[1], r_lo)] {
        let want = first_crossing(r, u_cal);
        assert!(
            (got.as_f64().unwrap() - want).abs() < TOL,
            "{got} vs {want} (r {r}, U {u_cal})"
        );
    }
}
