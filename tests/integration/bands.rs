//! Joint `--bind` of several classes, the `(mix)` class, bands on
//! capacity answers, the load multiplier and the one `--slo` syntax,
//! against hand computations over the same draws.

use serde_json::{Value, json};

use super::{demandsim, seed_arg};

/// Two open classes on one processor-sharing CPU: product-form, the mean
/// response time of class c is D_c / (1 − λa·Da − λb·Db).
const TWO_CLASSES: &str = include_str!("../fixtures/models/two-ps.yaml");

/// 201 joint draws (so that the 2.5 % and 97.5 % quantiles are the 6th
/// and 196th order statistics exactly), b's demand falling as a's rises
/// (a correlation independent pairing would lose).
fn draws() -> Vec<(f64, f64)> {
    (0..201)
        .map(|i| {
            let t = ((i * 37) % 201) as f64 / 200.0;
            let u = ((i * 53) % 201) as f64 / 200.0;
            (0.08 + 0.04 * t, 0.14 - 0.03 * t - 0.01 * u)
        })
        .collect()
}

/// `estimate --format json --draws 201` as the binds read it: classes a
/// and b (weights 1/4, 3/4 of the mix), optionally only some classes'
/// draws, and two runs at 30 % and 60 % utilization.
fn estimate_json(classes: &[&str]) -> Value {
    let d = draws();
    json!({
        "recommended": "ur",
        "estimates": [
            {"method": "ur", "class": "a", "demand_s": 0.1},
            {"method": "ur", "class": "b", "demand_s": 0.12},
            {"method": "ur", "class": "(mix)", "demand_s": 0.115},
        ],
        "identifiability": {"identifiable": [false, false], "singular_values": [1.0, 0.01], "weights": [0.25, 0.75]},
        "runs": [
            {"name": "low", "intervals": 10, "mean_utilization": 0.3, "class_mix": {}},
            {"name": "high", "intervals": 10, "mean_utilization": 0.6, "class_mix": {}},
        ],
        "draws_method": "ur",
        "draws": d.iter().map(|&(a, b)| {
            let mut m = serde_json::Map::new();
            if classes.contains(&"a") { m.insert("a".into(), json!(a)); }
            if classes.contains(&"b") { m.insert("b".into(), json!(b)); }
            Value::Object(m)
        }).collect::<Vec<_>>(),
    })
}

struct Files {
    _dir: tempfile::TempDir,
    model: String,
    both: String,
    only_a: String,
    only_b: String,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    Files {
        model: write("two.yaml", TWO_CLASSES.to_string()),
        both: write("est.json", estimate_json(&["a", "b"]).to_string()),
        only_a: write("a.json", estimate_json(&["a"]).to_string()),
        only_b: write("b.json", estimate_json(&["b"]).to_string()),
        _dir: dir,
    }
}

fn json_of(run: &super::Run) -> Value {
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

/// The 2.5 % and 97.5 % quantiles of 201 values: order statistics 5 and
/// 195.
fn ends(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[5], v[195])
}

fn close(got: f64, want: f64, rel: f64) {
    assert!((got - want).abs() <= rel * want.abs(), "{got} vs {want}");
}

/// Class `c`'s band of one sweep point (rate_a = 2).
fn band_of(v: &Value, color: &str) -> (f64, f64) {
    let probes = v["points"][0]["probes"].as_array().unwrap();
    let q = probes.iter().find(|p| p["color"] == color).unwrap();
    (
        q["band_low_s"].as_f64().unwrap(),
        q["band_high_s"].as_f64().unwrap(),
    )
}

fn sweep(f: &Files, binds: &[String]) -> super::Run {
    let seed = seed_arg(1);
    let mut a = vec![
        "sweep", &f.model, "--grid", "rate_a=2", "--method", "analytic", "--format", "json",
        "--seed", &seed,
    ];
    for b in binds {
        a.extend(["--bind", b.as_str()]);
    }
    demandsim(&a, b"")
}

/// `demand_a` and `demand_b` bound to classes a and b of one file.
fn both_classes(f: &Files) -> [String; 2] {
    [
        format!("demand_a={}:a", f.both),
        format!("demand_b={}:b", f.both),
    ]
}

#[test]
fn two_classes_bound_from_one_file_take_the_same_draw() {
    let f = files();
    let binds = both_classes(&f);
    let v = json_of(&sweep(&f, &binds));
    assert_eq!(v["points"][0]["params"]["demand_b"], 0.12);
    // By hand over the same draws: R_c = D_c / (1 − 2·Da − 3·Db).
    let r = |c: usize| -> Vec<f64> {
        draws()
            .iter()
            .map(|&(da, db)| [da, db][c] / (1.0 - 2.0 * da - 3.0 * db))
            .collect()
    };
    for (c, color) in ["a", "b"].iter().enumerate() {
        let (lo, hi) = band_of(&v, color);
        let (want_lo, want_hi) = ends(r(c));
        close(lo, want_lo, 1e-12);
        close(hi, want_hi, 1e-12);
    }
    // Bound from two files, the classes' draws are paired independently:
    // the negative correlation that narrowed the band is gone, and the
    // pairing is said.
    let run = sweep(
        &f,
        &[
            format!("demand_a={}:a", f.only_a),
            format!("demand_b={}:b", f.only_b),
        ],
    );
    assert!(run.stderr.contains("independent"), "{}", run.stderr);
    let apart = json_of(&run);
    let (lo, hi) = band_of(&apart, "a");
    let (jlo, jhi) = band_of(&v, "a");
    assert!(
        hi - lo > 1.1 * (jhi - jlo),
        "{lo}–{hi} vs joint {jlo}–{jhi}"
    );
}

#[test]
fn the_mix_class_binds_as_the_weighted_mean_of_the_draws() {
    let f = files();
    let model = format!("{}/models/qpn1-open.yaml", env!("CARGO_MANIFEST_DIR"));
    let bind = format!("demand={}:(mix)", f.both);
    let seed = seed_arg(1);
    let v = json_of(&demandsim(
        &[
            "sweep",
            &model,
            "--set",
            "servers=1",
            "--grid",
            "arrival_rate=4",
            "--bind",
            &bind,
            "--format",
            "json",
            "--seed",
            &seed,
        ],
        b"",
    ));
    let p = &v["points"][0];
    assert_eq!(p["params"]["demand"], 0.115);
    assert_eq!(
        p["params"]["servers"],
        Value::Null,
        "only the grid's and bound"
    );
    assert_eq!(
        p["params"]["arrival_rate"],
        json!(4),
        "a whole value is an integer"
    );
    let mm1 = |d: f64| d / (1.0 - 4.0 * d);
    let mix: Vec<f64> = draws()
        .iter()
        .map(|&(a, b)| mm1(0.25 * a + 0.75 * b))
        .collect();
    let (want_lo, want_hi) = ends(mix);
    close(
        p["probes"][0]["band_low_s"].as_f64().unwrap(),
        want_lo,
        1e-12,
    );
    close(
        p["probes"][0]["band_high_s"].as_f64().unwrap(),
        want_hi,
        1e-12,
    );
}

fn capacity(args: &[&str]) -> Value {
    let seed = seed_arg(1);
    let mut a = vec!["capacity", "--format", "json", "--seed", &seed];
    a.extend_from_slice(args);
    json_of(&demandsim(&a, b""))
}

#[test]
fn a_capacity_answer_carries_the_answers_at_the_demand_quantiles() {
    let f = files();
    let model = format!("{}/models/qpn1-open.yaml", env!("CARGO_MANIFEST_DIR"));
    let bind = format!("demand={}:a", f.both);
    // M/M/1: p95 = ln 20 / (1/D − λ) ≤ 1 s  ⇔  λ ≤ 1/D − ln 20.
    let v = capacity(&[
        &model,
        "--set",
        "servers=1",
        "--find",
        "arrival_rate",
        "--slo",
        "p95<=1000ms",
        "--bind",
        &bind,
        "--range",
        "0.5..12",
    ]);
    let answer = |d: f64| 1.0 / d - 20f64.ln();
    let tol = 1e-4 * 11.5;
    assert!(
        (v["value"].as_f64().unwrap() - answer(0.1)).abs() <= tol,
        "{v}"
    );
    let (d_lo, d_hi) = ends(draws().iter().map(|d| d.0).collect());
    let band = &v["estimation_band"];
    // The largest demand gives the lowest load.
    assert!(
        (band[0].as_f64().unwrap() - answer(d_hi)).abs() <= tol,
        "{v}"
    );
    assert!(
        (band[1].as_f64().unwrap() - answer(d_lo)).abs() <= tol,
        "{v}"
    );
    assert_eq!(v["estimation_draws"], 201);
    assert!(v.get("prediction_band").is_none(), "no held-out runs given");
}

#[test]
fn a_load_scale_search_over_two_classes_bands_by_the_joint_draws() {
    let f = files();
    let binds = both_classes(&f);
    let v = capacity(&[
        &f.model,
        "--find",
        "load_scale",
        "--slo",
        "mean<=300ms",
        "--class",
        "a",
        "--bind",
        &binds[0],
        "--bind",
        &binds[1],
    ]);
    // Class a's mean: Da / (1 − x·(2·Da + 3·Db)) ≤ 0.3 s.
    let x = |da: f64, db: f64| (1.0 - da / 0.3) / (2.0 * da + 3.0 * db);
    let (lo, hi) = (
        v["range"][0].as_f64().unwrap(),
        v["range"][1].as_f64().unwrap(),
    );
    let tol = 1e-4 * (hi - lo);
    let got = v["value"].as_f64().unwrap();
    assert!(
        (got - x(0.1, 0.12)).abs() <= tol,
        "{got} vs {}",
        x(0.1, 0.12)
    );
    // The draws ranked by class a's mean at the answer; the band's ends
    // are the answers at the 6th and 196th.
    let mut ranked = draws();
    let r = |&(da, db): &(f64, f64)| da / (1.0 - got * (2.0 * da + 3.0 * db));
    ranked.sort_by(|p, q| r(p).total_cmp(&r(q)));
    let (worse, better) = (ranked[195], ranked[5]);
    let band = &v["estimation_band"];
    assert!(
        (band[0].as_f64().unwrap() - x(worse.0, worse.1)).abs() <= tol,
        "{v}"
    );
    assert!(
        (band[1].as_f64().unwrap() - x(better.0, better.1)).abs() <= tol,
        "{v}"
    );
    // The range came from the runs: U = x·(2·0.1 + 3·0.12) = 0.56·x, so
    // 30 % and 60 % are x = 0.536 and 1.071; halved, and doubled up to
    // 99 % utilization (x = 1.768, below 2.143).
    close(lo, 0.5 * 0.3 / 0.56, 1e-9);
    close(hi, 0.99 / 0.56, 1e-9);
    assert!(v["range_from"].as_str().unwrap().contains("2 runs"), "{v}");
}

#[test]
fn slos_take_one_syntax_with_a_unit_everywhere() {
    let f = files();
    for (cmd, slo, says) in [
        (
            "sweep",
            "p95<=3",
            "the limit needs a unit: p95<=3ms or p95<=3s",
        ),
        ("capacity", "3", "e.g. p95<=50ms or mean<=1.2s"),
        ("capacity", "p95<=3", "the limit needs a unit"),
    ] {
        let mut a = vec![cmd, f.model.as_str(), "--slo", slo, "--seed", "1"];
        if cmd == "sweep" {
            a.extend(["--grid", "rate_a=1"]);
        } else {
            a.extend(["--find", "rate_a"]);
        }
        let run = demandsim(&a, b"");
        assert_eq!(run.code, 2, "{a:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{a:?}: {}", run.stderr);
    }
}

#[test]
fn a_table_answer_is_rounded_to_three_digits_with_its_band() {
    let f = files();
    let bind = format!("demand={}:a", f.both);
    let model = format!("{}/models/qpn1-open.yaml", env!("CARGO_MANIFEST_DIR"));
    let run = demandsim(
        &[
            "capacity",
            &model,
            "--set",
            "servers=1",
            "--find",
            "arrival_rate",
            "--slo",
            "p95<=1s",
            "--bind",
            &bind,
            "--range",
            "0.5..12",
            "--seed",
            "1",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // 1/0.1 − ln 20 = 7.0043 req/s, floored to three digits; the band's
    // ends at D = 0.119 and 0.081: 5.408 and 9.350.
    let first = run.stdout.lines().next().unwrap();
    assert!(
        first.starts_with(
            "largest arrival_rate with p95 ≤ 1 s: 7.00 req/s (estimation band 5.40 – 9.34 req/s"
        ),
        "{first}"
    );
}

#[test]
fn scale_load_multiplies_every_rate() {
    let f = files();
    let seed = seed_arg(1);
    let run = |extra: &[&str]| {
        let mut a = vec![
            "sweep",
            f.model.as_str(),
            "--method",
            "analytic",
            "--format",
            "json",
            "--seed",
            &seed,
        ];
        a.extend_from_slice(extra);
        json_of(&demandsim(&a, b""))
    };
    // rate_a 2 → 3, rate_b 3 → 4.5 at D = 0.1: U = 0.75, R = 0.4 s.
    let v = run(&["--grid", "demand_a=0.1", "--scale-load", "1.5"]);
    let p = &v["points"][0];
    assert_eq!(p["params"]["load_scale"], 1.5);
    close(p["probes"][0]["mean_s"].as_f64().unwrap(), 0.4, 1e-12);
    let v = run(&["--grid", "load_scale=1,1.5"]);
    close(
        v["points"][1]["probes"][0]["mean_s"].as_f64().unwrap(),
        0.4,
        1e-12,
    );
}
