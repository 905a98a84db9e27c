//! `behavior export`: the learnt chains out as Locust and k6 load tests,
//! the integer weights checked against the model's probabilities, the
//! files parsed by Python and Node where they are installed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::demandsim;

fn real_behavior() -> String {
    format!("{}/traces/real/behavior.json", env!("CARGO_MANIFEST_DIR"))
}

/// Whether `program --version` runs.
fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `@transitions({...})` rows of a Locust file, by the task they decorate:
/// task → (target, weight).
fn locust_rows(text: &str) -> BTreeMap<(String, String), Vec<(String, u64)>> {
    let mut out = BTreeMap::new();
    let mut class = String::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        if let Some(c) = l.strip_prefix("class ") {
            class = c.split(['(', ':']).next().unwrap().to_string();
        }
        let Some(body) = l.trim().strip_prefix("@transitions({") else {
            continue;
        };
        let task = lines[i + 1]
            .trim()
            .trim_start_matches("def ")
            .split('(')
            .next()
            .unwrap();
        let row = body
            .trim_end_matches("})")
            .split(", ")
            .map(|kv| {
                let (k, v) = kv.split_once(": ").unwrap();
                (k.trim_matches('"').to_string(), v.parse().unwrap())
            })
            .collect();
        out.insert((class.clone(), task.to_string()), row);
    }
    out
}

#[test]
fn the_locust_file_carries_every_learnt_probability_within_a_thousandth() {
    let run = demandsim(
        &["behavior", "export", "--format", "locust", &real_behavior()],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(real_behavior()).unwrap()).unwrap();
    let states: Vec<String> = model["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let rows = locust_rows(&run.stdout);
    let task = |s: &str| match s {
        "INITIAL" => "start".to_string(),
        "$" => "end".to_string(),
        s => format!("s{}", states.iter().position(|x| x == s).unwrap()),
    };
    let mut checked = 0;
    for p in model["profiles"].as_array().unwrap() {
        let class = format!("{}Session", p["name"].as_str().unwrap());
        for t in p["transitions"].as_array().unwrap() {
            let row = &rows[&(class.clone(), task(t["from"].as_str().unwrap()))];
            let total: u64 = row.iter().map(|r| r.1).sum();
            let to = task(t["to"].as_str().unwrap());
            let w = row.iter().find(|r| r.0 == to).unwrap().1;
            let p = t["probability"].as_f64().unwrap();
            assert!((w as f64 / total as f64 - p).abs() <= 0.001, "{class} {t}");
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
    // Users per profile ∝ session share × mean session duration.
    let weight = |name: &str| -> f64 {
        let at = run.stdout.find(&format!("class {name}(HttpUser)")).unwrap();
        let w = &run.stdout[at..];
        let w = &w[w.find("weight = ").unwrap() + 9..];
        w[..w.find('\n').unwrap()].parse().unwrap()
    };
    let profiles = model["profiles"].as_array().unwrap();
    let want: Vec<f64> = profiles
        .iter()
        .map(|p| {
            p["probability"].as_f64().unwrap() * p["session_duration_s"]["mean"].as_f64().unwrap()
        })
        .collect();
    let got: Vec<f64> = profiles
        .iter()
        .map(|p| weight(p["name"].as_str().unwrap()))
        .collect();
    let (ws, gs) = (want.iter().sum::<f64>(), got.iter().sum::<f64>());
    for (w, g) in want.iter().zip(&got) {
        assert!((w / ws - g / gs).abs() < 1e-3, "{want:?} {got:?}");
    }
}

#[test]
fn both_files_parse_in_their_own_language() {
    let dir = tempfile::tempdir().unwrap();
    let py = dir.path().join("locustfile.py");
    let js = dir.path().join("script.mjs");
    for (format, path) in [("locust", &py), ("k6", &js)] {
        let run = demandsim(
            &[
                "behavior",
                "export",
                "--format",
                format,
                &real_behavior(),
                "--host",
                "http://sut:8080",
                "-o",
                path.to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            std::fs::read_to_string(path)
                .unwrap()
                .contains("http://sut:8080")
        );
    }
    if have("python3") {
        let ok = Command::new("python3")
            .args([
                "-c",
                "import ast, sys; ast.parse(open(sys.argv[1]).read())",
                py.to_str().unwrap(),
            ])
            .status()
            .unwrap();
        assert!(ok.success(), "the Locust file is not Python");
    } else {
        eprintln!("skipped: no python3 to parse the Locust file");
    }
    if have("node") {
        let ok = Command::new("node")
            .args(["--check", js.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(ok.success(), "the k6 script is not JavaScript");
    } else {
        eprintln!("skipped: no node to parse the k6 script");
    }
}

#[test]
fn a_requests_map_is_drafted_by_learn_and_read_by_export() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("map.yaml");
    let trace = format!(
        "{}/traces/real/mixed-n21/requests.csv.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let run = demandsim(
        &[
            "-q",
            "behavior",
            "learn",
            "--requests",
            &trace,
            "--by",
            "user_class",
            "--format",
            "json",
            "--requests-map",
            map.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model = dir.path().join("b.json");
    std::fs::write(&model, &run.stdout).unwrap();
    let draft = std::fs::read_to_string(&map).unwrap();
    assert!(
        draft.contains("\"buy\": {method: GET, path: \"/buy\"}"),
        "{draft}"
    );
    std::fs::write(
        &map,
        draft.replace(
            "{method: GET, path: \"/buy\"}",
            "{method: POST, path: \"/api/offers\", body: '{\"side\": \"buy\"}'}",
        ),
    )
    .unwrap();
    let export_k6 = || {
        demandsim(
            &[
                "behavior",
                "export",
                "--format",
                "k6",
                model.to_str().unwrap(),
                "--requests-map",
                map.to_str().unwrap(),
            ],
            b"",
        )
    };
    let run = export_k6();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(r#""buy": ["POST", "/api/offers", "{\"side\": \"buy\"}"],"#),
        "{}",
        run.stdout
    );
    // A map missing a state names it and its file.
    std::fs::write(&map, "buy: {path: /b}\n").unwrap();
    let run = export_k6();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("b.json") && run.stderr.contains("no request for state(s)"),
        "{}",
        run.stderr
    );
    let run = demandsim(
        &[
            "behavior",
            "export",
            "--format",
            "locust",
            model.to_str().unwrap(),
            "--users",
            "5",
        ],
        b"",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, "").unwrap();
    let run = demandsim(
        &[
            "behavior",
            "export",
            "--format",
            "k6",
            empty.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("empty.json"), "{}", run.stderr);
    assert!(!Path::new(&dir.path().join("out.js")).exists());
}

/// Every Markov4JMeter / WESSBAS behaviour model shipped with the
/// third-party examples: imported (or refused with its file and line),
/// then made a model with a think time and exported as both load tests,
/// never a panic.
#[test]
fn every_third_party_behaviour_model_becomes_a_model_and_a_load_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/third-party/wessbas");
    if !root.exists() {
        eprintln!("skipped: {} is absent", root.display());
        return;
    }
    let mut files = Vec::new();
    for sub in ["m4j", "aida/output/none", "aida/output/simple", "specj"] {
        for e in std::fs::read_dir(root.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "csv") && !p.ends_with("requestCount.csv") {
                files.push(p);
            }
        }
    }
    files.sort();
    let dir = tempfile::tempdir().unwrap();
    let (mut modelled, mut refused) = (0, 0);
    for f in &files {
        let json = dir.path().join("b.json");
        let run = demandsim(
            &[
                "-q",
                "import",
                "m4j",
                f.to_str().unwrap(),
                "-o",
                json.to_str().unwrap(),
            ],
            b"",
        );
        if run.code != 0 {
            // Refused as data, naming the file and the line.
            assert_eq!(run.code, 1, "{}: {}", f.display(), run.stderr);
            assert!(
                run.stderr.contains(f.to_str().unwrap()) && run.stderr.contains("line "),
                "{}",
                run.stderr
            );
            refused += 1;
            continue;
        }
        let model: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let mut demands = String::from("class,resource,demand_s\n");
        for s in model["states"].as_array().unwrap() {
            demands += &format!("\"{}\",cpu,0.01\n", s.as_str().unwrap());
        }
        let d = dir.path().join("d.csv");
        std::fs::write(&d, demands).unwrap();
        let qpn = dir.path().join("m.yaml");
        let run = demandsim(
            &[
                "-q",
                "behavior",
                "model",
                json.to_str().unwrap(),
                "--users",
                "20",
                "--think",
                "1",
                "--demands",
                d.to_str().unwrap(),
                "-o",
                qpn.to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}: {}", f.display(), run.stderr);
        let run = demandsim(
            &[
                "-q",
                "simulate",
                qpn.to_str().unwrap(),
                "--requests",
                "2000",
                "--seed",
                "1",
            ],
            b"",
        );
        assert_eq!(run.code, 0, "{}: {}", f.display(), run.stderr);
        for format in ["locust", "k6"] {
            let run = demandsim(
                &[
                    "-q",
                    "behavior",
                    "export",
                    "--format",
                    format,
                    json.to_str().unwrap(),
                ],
                b"",
            );
            assert_eq!(run.code, 0, "{} {format}: {}", f.display(), run.stderr);
        }
        modelled += 1;
    }
    eprintln!(
        "{modelled} third-party behaviour models modelled and exported, {refused} refused as data"
    );
    assert!(modelled >= 10, "{modelled} of {}", files.len());
}
