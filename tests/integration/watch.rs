//! `demandsim watch` on finished files (`--until-eof`): the JSON lines
//! parse, hold exactly the fields and find the known demands; a
//! bad line is named by file and line.

use std::fmt::Write as _;

use super::demandsim;

/// Seconds of trace, and the demands of classes a and b.
const SECONDS: usize = 300;
const DEMAND: [f64; 2] = [0.005, 0.010];

/// A trace whose two classes' rates vary apart, every request taking its
/// class's demand and the utilization exactly their sum per second.
fn write_trace(dir: &std::path::Path) -> (String, String) {
    let t0 = 1_700_000_000.0;
    let (mut req, mut util) = (
        String::from("timestamp,response_time,class\n"),
        String::from("timestamp,utilization,interval\n"),
    );
    for s in 0..SECONDS {
        let t = t0 + s as f64;
        let x = s as f64;
        let n = [
            (20.0 + 10.0 * (x * 0.37).sin()).round() as usize,
            (10.0 + 8.0 * (x * 0.61).cos()).round() as usize,
        ];
        for (c, name) in ["a", "b"].iter().enumerate() {
            for i in 0..n[c] {
                let start = t + (i as f64 + 0.5) / (n[c] as f64 + 1.0) * 0.9;
                writeln!(req, "{start:.6},{},{name}", DEMAND[c]).unwrap();
            }
        }
        let u = n[0] as f64 * DEMAND[0] + n[1] as f64 * DEMAND[1];
        writeln!(util, "{},{u:.6},1", t + 1.0).unwrap();
    }
    let (r, u) = (dir.join("requests.csv"), dir.join("utilization.csv"));
    std::fs::write(&r, req).unwrap();
    std::fs::write(&u, util).unwrap();
    (r.display().to_string(), u.display().to_string())
}

#[test]
fn watch_a_finished_file_prints_json_lines_with_the_known_demands() {
    let dir = tempfile::tempdir().unwrap();
    let (r, u) = write_trace(dir.path());
    let run = demandsim(
        &[
            "watch",
            "--requests",
            &r,
            "--utilization",
            &u,
            "--until-eof",
            "--format",
            "json",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    // One line per class and method every 5 s of data, from the first
    // full 10 intervals on.
    assert!(lines.len() >= 4 * 50, "{} lines", lines.len());
    let keys = [
        "alarm",
        "class",
        "demand_s",
        "high_s",
        "low_s",
        "method",
        "reason",
        "resource",
        "throughput",
        "time",
        "utilization",
    ];
    let mut methods = std::collections::BTreeSet::new();
    for l in &lines {
        let mut got: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        got.sort_unstable();
        assert_eq!(got, keys);
        assert_eq!(l["alarm"], false, "{l}");
        assert_eq!(l["resource"], "cpu");
        methods.insert(l["method"].as_str().unwrap().to_string());
    }
    assert_eq!(methods.into_iter().collect::<Vec<_>>(), ["kf-u", "ur"]);
    // The last update: each class's demand, within 5 % by both methods.
    for l in &lines[lines.len() - 4..] {
        let truth = if l["class"] == "a" {
            DEMAND[0]
        } else {
            DEMAND[1]
        };
        let d = l["demand_s"].as_f64().unwrap();
        assert!((d - truth).abs() < 0.05 * truth, "{l}");
        let time = l["time"].as_f64().unwrap();
        assert!(time > 1_700_000_000.0 + SECONDS as f64 - 10.0, "{l}");
    }
}

#[test]
fn watch_names_the_file_and_line_of_a_bad_row_and_a_format_that_gives_no_requests() {
    let dir = tempfile::tempdir().unwrap();
    let (r, u) = write_trace(dir.path());
    let mut text = std::fs::read_to_string(&r).unwrap();
    text.push_str("1700000400,soon,a\n");
    let lines = text.lines().count();
    std::fs::write(&r, text).unwrap();
    let run = demandsim(
        &[
            "watch",
            "--requests",
            &r,
            "--utilization",
            &u,
            "--until-eof",
        ],
        b"",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let expected = format!("{r}: line {lines}, field `response_time`");
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    let run = demandsim(
        &[
            "watch",
            "--requests",
            &r,
            "--requests-format",
            "sadf",
            "--utilization",
            &u,
        ],
        b"",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("`sadf` does not give requests"),
        "{}",
        run.stderr
    );
}
