//! The prediction band's coverage as a tested property: systems whose
//! error the method does not model (a demand that differs from run to
//! run, unmodelled background work, a demand that falls with load),
//! generated with known demands, validated like a user's study (five
//! estimation runs at U 0.15–0.55, four more runs at U 0.2–0.75 held
//! out), and the share of runs whose measured mean the band covers
//! against the level it states. The smoke test runs a few seeds;
//! `scripts/coverage.sh` runs the slow tier (200 seeds and more).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use demandsim::generate::{GenConfig, generate};
use demandsim::model::{LoadOptions, Params, load};
use demandsim::study::Files;
use demandsim::study_file::load_study;
use demandsim::trace::{Columns, RequestRow, RequestWriter, UtilSample, UtilizationWriter};
use demandsim::validate::{Role, ValidateSpec, Validation, validate};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// One CPU (FCFS) with the requests and, where the system has it,
/// background jobs that the traces' requests do not show but the
/// utilization does.
const SYSTEM: &str = "name: mis-specified
params: {arrival_rate: 20, demand: 0.01, bg_rate: 0, bg_demand: 0.005}
colors: [request, bg]
places:
  CPU:
    queue: fcfs
    servers: 1
    service: {request: {exponential: demand}, bg: {exponential: bg_demand}}
transitions:
  arrive:
    delay: {exponential: 1 / (arrival_rate + bg_rate)}
    modes:
      - {name: request, weight: arrival_rate, out: {CPU: request}}
      - {name: bg, weight: bg_rate, out: {CPU: bg}}
  leave:
    modes:
      - {name: request, in: {CPU: request}}
      - {name: bg, in: {CPU: bg}}
probes:
  response:
    colors: [request]
    start: {place: CPU, when: enter}
    end: {place: CPU, when: exit}
";

/// What the method does not model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The demand differs by up to ±10 % from run to run.
    Drift,
    /// Background jobs take 15 % of the CPU (and the demand differs by up
    /// to ±5 %).
    Background,
    /// The demand falls by 40 % per unit of utilization above 0.2 (and
    /// differs by up to ±5 %).
    Falling,
}

impl Kind {
    pub const ALL: [Self; 3] = [Self::Drift, Self::Background, Self::Falling];
}

/// The traces of a study, in memory, by the paths the study names; other
/// paths (the model) from the disk.
struct Memory(HashMap<PathBuf, Vec<u8>>);

impl Files for Memory {
    fn open(&self, path: &Path) -> std::io::Result<Box<dyn BufRead + Send + '_>> {
        match self.0.get(path) {
            Some(b) => Ok(Box::new(std::io::Cursor::new(b.as_slice()))),
            None => Ok(Box::new(std::io::BufReader::new(std::fs::File::open(
                path,
            )?))),
        }
    }
}

/// One run of the system: the request and background rates and the
/// demand.
fn run_traces(arrival: f64, demand: f64, bg_rate: f64, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut params = Params::new();
    params.set("arrival_rate", arrival);
    params.set("demand", demand);
    params.set("bg_rate", bg_rate);
    let opts = LoadOptions {
        params,
        ..LoadOptions::default()
    };
    let model = load(SYSTEM, &opts).expect("the system model loads");
    let (mut req, mut util) = (Vec::new(), Vec::new());
    let mut rw = RequestWriter::new(&mut req, Columns::default()).unwrap();
    let mut uw = UtilizationWriter::new(&mut util).unwrap();
    let cfg = GenConfig {
        probe: 0,
        interval: 1.0,
        requests: Some(3000),
        time: None,
        seed,
        token_limit: 1_000_000,
    };
    generate(
        &model.net,
        &cfg,
        &mut |start, response_time, class| {
            rw.write_row(&RequestRow {
                start,
                response_time,
                class,
                success: true,
                ..RequestRow::default()
            })
        },
        &mut |t, place, u| {
            uw.write(&UtilSample {
                timestamp: t,
                utilization: u,
                resource: place.to_string(),
                interval: Some(1.0),
            })
        },
    )
    .expect("the system runs");
    rw.finish().unwrap();
    uw.finish().unwrap();
    (req, util)
}

/// The runs of one seed's system: five estimation runs, four held out,
/// each (name, request utilization) with its traces.
fn system(kind: Kind, seed: u64) -> (Memory, Vec<String>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let d0 = 0.01;
    let (bg_u, spread) = match kind {
        Kind::Drift => (0.0, 0.10),
        Kind::Background => (0.15, 0.05),
        Kind::Falling => (0.0, 0.05),
    };
    let mut loads: Vec<f64> = (0..5)
        .map(|i| 0.15 + 0.1 * f64::from(i) + rng.random_range(-0.03..0.03))
        .collect();
    loads.extend((0..4).map(|_| rng.random_range(0.2..0.75)));
    let mut files = HashMap::new();
    let mut names = Vec::new();
    for (i, u) in loads.iter().enumerate() {
        // With background work, the requests' share of the load: the
        // total reaches 0.75 at the top.
        let u = u - bg_u * u / 0.75;
        let mut d = d0 * (1.0 + rng.random_range(-spread..spread));
        if kind == Kind::Falling {
            d *= 1.0 - 0.4 * (u - 0.2);
        }
        let bg_rate = bg_u / 0.005;
        let name = format!("{}{i}", if i < 5 { "est" } else { "new" });
        let (req, util) = run_traces(u / d, d, bg_rate, seed.wrapping_mul(31) + i as u64);
        files.insert(PathBuf::from(format!("{name}/requests.csv")), req);
        files.insert(PathBuf::from(format!("{name}/utilization.csv")), util);
        names.push(name);
    }
    (Memory(files), names)
}

/// The study a user would write: constant demand (`sdl`) from the five
/// estimation runs, an M/M/1 at each run's measured throughput.
fn study_yaml(names: &[String], seed: u64) -> String {
    let model = format!("{}/models/qpn1-open.yaml", env!("CARGO_MANIFEST_DIR"));
    let run = |n: &String| {
        format!("{{name: {n}, requests: {n}/requests.csv, utilization: {n}/utilization.csv}}")
    };
    let from: Vec<String> = names
        .iter()
        .filter(|n| n.starts_with("est"))
        .map(run)
        .collect();
    let exps: Vec<String> = names.iter().map(|n| format!("  - {}\n", run(n))).collect();
    format!(
        "name: coverage
seed: {seed}
defaults:
  model: {model}
  servers: 1
  containers: 1
  estimate: {{methods: [sdl], bootstrap: 20}}
  estimate_from: [{}]
  params:
    arrival_rate: {{measured: throughput}}
    demand: {{estimate: sdl}}
  run: {{requests: 20000}}
experiments:
{}",
        from.join(", "),
        exps.concat()
    )
}

/// One seed's validation (no leave-one-load-out: one level).
pub fn one(kind: Kind, seed: u64) -> Validation {
    let (files, names) = system(kind, seed);
    let study = load_study(&study_yaml(&names, seed)).expect("the study loads");
    let spec = ValidateSpec {
        level_gap: 10.0,
        ..ValidateSpec::default()
    };
    validate(&study, &files, seed, &spec).expect("the study validates")
}

/// Over seeds: (runs with a band, covered, sum of the stated levels).
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub runs: usize,
    pub covered: usize,
    pub nominal: f64,
}

impl Tally {
    pub fn add(&mut self, v: &Validation) {
        for r in &v.runs {
            let (Some(c), Some(b)) = (r.covered, &r.prediction_band) else {
                continue;
            };
            self.runs += 1;
            self.covered += usize::from(c);
            self.nominal += b.nominal;
        }
    }

    pub fn coverage(&self) -> f64 {
        self.covered as f64 / self.runs as f64
    }

    pub fn nominal(&self) -> f64 {
        self.nominal / self.runs as f64
    }

    /// The binomial standard error of the coverage at the stated level.
    pub fn sampling_error(&self) -> f64 {
        let p = self.nominal();
        (p * (1.0 - p) / self.runs as f64).sqrt()
    }
}

#[test]
fn bands_on_mis_specified_systems_cover_about_their_stated_level() {
    let mut all = Tally::default();
    for (k, kind) in Kind::ALL.iter().enumerate() {
        for s in 0..2 {
            let v = one(*kind, crate::seed(100 + 10 * k as u64 + s));
            // Five calibration runs: a held-out run's band is calibrated on
            // all five ((5 − 1)/(5 + 1)), a calibration run's on the other
            // four ((4 − 1)/(4 + 1)).
            for r in &v.runs {
                let b = r.prediction_band.as_ref().expect("every run has a band");
                let (n, nominal) = match r.role {
                    Role::Calibration => (4, 0.6),
                    _ => (5, 4.0 / 6.0),
                };
                assert_eq!(b.calibration_runs, n, "{}", r.name);
                assert!((b.nominal - nominal).abs() < 1e-12);
            }
            all.add(&v);
        }
    }
    let (c, n, se) = (all.coverage(), all.nominal(), all.sampling_error());
    eprintln!(
        "coverage {:.3} over {} runs, stated {:.3} ± {:.3}",
        c, all.runs, n, se
    );
    assert_eq!(all.runs, 54);
    assert!((c - n).abs() <= 3.0 * se, "coverage {c} against {n} ± {se}");
}

/// The slow tier: `COVERAGE_SEEDS` seeds (default 200) of each kind, and
/// the table (scripts/coverage.sh).
#[test]
#[ignore = "slow tier: scripts/coverage.sh"]
fn coverage_over_many_seeds() {
    let seeds: u64 = std::env::var("COVERAGE_SEEDS").map_or(200, |s| s.parse().unwrap());
    let mut all = Tally::default();
    println!("kind        seeds   runs  covered  coverage  stated  ±1 se   median width");
    for kind in Kind::ALL {
        let mut t = Tally::default();
        let mut widths = Vec::new();
        for s in 0..seeds {
            let v = one(kind, 1_000 + s);
            widths.extend(
                v.runs
                    .iter()
                    .filter_map(|r| Some((r.band_high_s? - r.band_low_s?) / r.predicted_mean_s?)),
            );
            t.add(&v);
        }
        widths.sort_by(f64::total_cmp);
        println!(
            "{:<10} {:>6} {:>6} {:>8} {:>9.3} {:>7.3} {:>6.3} {:>13.3}",
            format!("{kind:?}"),
            seeds,
            t.runs,
            t.covered,
            t.coverage(),
            t.nominal(),
            t.sampling_error(),
            widths[widths.len() / 2]
        );
        // Never below the stated level by more than sampling error (the
        // runs of one seed share a fit, so three binomial errors).
        assert!(
            t.coverage() >= t.nominal() - 3.0 * t.sampling_error(),
            "{kind:?}: coverage {} against {}",
            t.coverage(),
            t.nominal()
        );
        all.runs += t.runs;
        all.covered += t.covered;
        all.nominal += t.nominal;
    }
    println!(
        "all        {:>6} {:>6} {:>8} {:>9.3} {:>7.3} {:>6.3}",
        3 * seeds,
        all.runs,
        all.covered,
        all.coverage(),
        all.nominal(),
        all.sampling_error()
    );
}

/// Writes one seed's system and study into `dir` (the study with
/// `validate:` and the estimation runs `est`), returning the study's path.
pub fn write_study(dir: &Path, kind: Kind, seed: u64, est: usize) -> PathBuf {
    let (files, names) = system(kind, seed);
    for (path, bytes) in &files.0 {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let keep: Vec<String> = names
        .iter()
        .filter(|n| !n.starts_with("est") || n[3..].parse::<usize>().unwrap() < est)
        .cloned()
        .collect();
    let yaml = study_yaml(&keep, seed).replace(
        "experiments:\n",
        "validate: {level_gap: 10}\nexperiments:\n",
    );
    let path = dir.join("study.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn validate_prints_the_held_out_table_and_the_library_s_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let seed = crate::seed(7);
    let path = write_study(dir.path(), Kind::Drift, seed, 5);
    let p = path.to_str().unwrap();
    let run = crate::demandsim(&["-q", "validate", p, "--format", "json"], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    // The CLI's numbers are the library's on the same study and seed.
    let want = one(Kind::Drift, seed);
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 9);
    for (r, w) in runs.iter().zip(&want.runs) {
        assert_eq!(r["name"], w.name.as_str());
        for key in [
            "utilization",
            "measured_mean_s",
            "predicted_mean_s",
            "error",
            "band_low_s",
            "band_high_s",
        ] {
            assert!(r[key].is_number(), "{key} of {r}");
        }
        assert_eq!(r["error"].as_f64(), w.error);
        assert_eq!(r["band_low_s"].as_f64(), w.band_low_s);
        assert_eq!(r["covered"].as_bool(), w.covered);
        // error = (measured − predicted) / measured.
        let (m, pr) = (
            r["measured_mean_s"].as_f64().unwrap(),
            r["predicted_mean_s"].as_f64().unwrap(),
        );
        assert!((r["error"].as_f64().unwrap() - (m - pr) / m).abs() < 1e-12);
    }
    assert_eq!(doc["coverage"].as_f64(), want.coverage);
    // Five calibration runs at 3/5, four held-out runs at 4/6.
    let nominal = (5.0 * 0.6 + 4.0 * 4.0 / 6.0) / 9.0;
    assert!(
        (doc["nominal"].as_f64().unwrap() - nominal).abs() < 1e-12,
        "{}",
        doc["nominal"]
    );
    // The table says what each band is.
    let run = crate::demandsim(&["-q", "validate", p], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("estimation band: the prediction at the ends of the demands' 95 % intervals"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("prediction band, calibrated on 5 held-out runs"),
        "{}",
        run.stdout
    );
}

#[test]
fn with_two_estimation_runs_there_is_no_band_and_a_sentence_says_what_would_give_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_study(dir.path(), Kind::Drift, crate::seed(8), 2);
    let p = path.to_str().unwrap();
    let run = crate::demandsim(&["-q", "validate", p, "--format", "json"], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        doc["coverage"].is_null() && doc["nominal"].is_null(),
        "{doc}"
    );
    // Each calibration run is fitted on the other one alone; the others on
    // both.
    let fits: Vec<usize> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fit_runs"].as_array().unwrap().len())
        .collect();
    assert_eq!(fits, [1, 1, 2, 2, 2, 2]);
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("no prediction band: 2 held-out run(s); it takes 3 or more runs"),
        "{notes}"
    );
    // Held out against every other experiment instead: six runs, five each.
    let run = crate::demandsim(
        &[
            "-q",
            "validate",
            p,
            "--format",
            "json",
            "--hold-out",
            "experiments",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["hold_out"], "experiments");
    for r in doc["runs"].as_array().unwrap() {
        assert_eq!(r["fit_runs"].as_array().unwrap().len(), 5, "{r}");
        assert_eq!(r["prediction_band"]["calibration_runs"], 5);
    }
}

#[test]
fn validate_refuses_a_bad_section_and_a_study_without_traces() {
    let dir = tempfile::tempdir().unwrap();
    let m = format!("{}/models/qpn1-open.yaml", env!("CARGO_MANIFEST_DIR"));
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, format!("name: b\nvalidate: {{level: 1.5}}\nexperiments:\n  - {{name: p, model: {m}, measured_mean_s: 1.0}}\n")).unwrap();
    let run = crate::demandsim(&["-q", "validate", bad.to_str().unwrap()], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("validate: level: expected a fraction between 0 and 1, got 1.5"),
        "{}",
        run.stderr
    );
    let none = dir.path().join("none.yaml");
    std::fs::write(
        &none,
        format!("name: n\nexperiments:\n  - {{name: p, model: {m}, measured_mean_s: 1.0}}\n"),
    )
    .unwrap();
    let run = crate::demandsim(&["-q", "validate", none.to_str().unwrap()], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("no experiment has request traces"),
        "{}",
        run.stderr
    );
    let run = crate::demandsim(
        &["-q", "validate", none.to_str().unwrap(), "--level", "2"],
        b"",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
}

/// `study` on a study with `validate:` shows the prediction band beside
/// each prediction: the validation it writes is `validate`'s, byte for
/// byte (the held-out runs' results reused from the study's own run), and
/// the page labels each band with the runs it is calibrated on.
#[test]
fn study_shows_each_prediction_s_band_from_its_own_validation() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_study(dir.path(), Kind::Drift, crate::seed(9), 5);
    let p = path.to_str().unwrap();
    let out = dir.path().join("report");
    let run = crate::demandsim(&["-q", "study", p, "--out", out.to_str().unwrap()], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let want = crate::demandsim(&["-q", "validate", p, "--format", "json"], b"");
    assert_eq!(want.code, 0, "{}", want.stderr);
    let written = std::fs::read_to_string(out.join("validation.json")).unwrap();
    assert_eq!(written, want.stdout);
    let doc: serde_json::Value = serde_json::from_str(&written).unwrap();
    let (covered, with_band) = (
        doc["covered"].as_u64().unwrap(),
        doc["with_band"].as_u64().unwrap(),
    );
    assert_eq!(with_band, 9);
    // The table: a prediction band column and how often it covered.
    assert!(run.stdout.contains("prediction band [s]"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "the measured mean inside in {covered} of 9 runs, 63 % stated"
        )),
        "{}",
        run.stdout
    );
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    // Four held-out runs on all five calibration runs' errors (4/6), five
    // calibration runs each on the other four's (3/5).
    assert_eq!(
        page.matches("prediction band, calibrated on 5 held-out runs (67 %)")
            .count(),
        4,
        "{page}"
    );
    assert_eq!(
        page.matches("prediction band, calibrated on 4 held-out runs (60 %)")
            .count(),
        5
    );
    assert!(page.contains(&format!("{covered} of 9 (63 % stated)")));
    // A held-out run's band in the page is its validation row's.
    let row = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "held_out")
        .unwrap();
    let sig = |x: f64| demandsim::report::sig(Some(x));
    let (lo, hi) = (
        row["band_low_s"].as_f64().unwrap(),
        row["band_high_s"].as_f64().unwrap(),
    );
    assert!(
        page.contains(&format!("(67 %) {}–{} s", sig(lo), sig(hi))),
        "{} {lo} {hi}",
        row["name"]
    );
}
