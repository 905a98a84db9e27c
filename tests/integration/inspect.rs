//! `demandsim inspect` on small hand-made traces with exact expectations.

use std::io::Write;

use serde_json::Value;

use super::{close, demandsim};

const REQUESTS: &str = "timestamp,response_time,class,success\n\
1,2,a,true\n\
5,7,b,true\n\
10,10,a,true\n\
3,1,a,false\n\
31,1,b,true\n";

const UTIL: &str = "timestamp,utilization\n10,0.2\n20,0.4\n30,0.995\n40,0.1\n";

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

fn json(args: &[&str], stdin: &[u8]) -> Value {
    let run = demandsim(args, stdin);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

fn check_reference(v: &Value) {
    assert_eq!(v["interval_s"], 10.0);
    let rows = v["intervals"].as_array().unwrap();
    // 4 intervals (0,10] .. (30,40], 2 classes each.
    assert_eq!(rows.len(), 8);
    let row = |start: f64, class: &str| {
        rows.iter()
            .find(|r| r["start"] == start && r["class"] == class)
            .unwrap()
    };
    let a0 = row(0.0, "a");
    assert_eq!(
        (a0["arrivals"].as_u64(), a0["completions"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(a0["mean_response_s"], 2.0);
    close(a0["utilization"]["cpu"].as_f64().unwrap(), 0.2);
    let b0 = row(0.0, "b");
    assert!(
        b0["mean_response_s"].is_null(),
        "an empty interval is missing, not 0"
    );
    assert_eq!(row(10.0, "b")["mean_response_s"], 7.0);
    assert_eq!(row(10.0, "b")["throughput"], 0.1);
    assert_eq!(row(10.0, "a")["mean_response_s"], 10.0);
    assert_eq!(row(20.0, "a")["saturated"], true);
    assert_eq!(row(30.0, "b")["completions"], 1);
    let s = &v["summary"];
    assert_eq!(s["requests"], 5);
    assert_eq!(s["failed"], 1);
    assert_eq!(s["duration_s"], 31.0);
    close(s["mean_response_s"].as_f64().unwrap(), 20.0 / 4.0);
    assert_eq!(s["saturated_intervals"], 1);
    close(s["mean_utilization"]["cpu"].as_f64().unwrap(), 1.695 / 4.0);
    let p95 = s["p95_response_s"].as_f64().unwrap();
    assert!((p95 - 7.0).abs() <= 0.005 * 7.0, "p95 {p95}");
}

#[test]
fn intervals_boundaries_classes_and_summary_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let r = write(dir.path(), "requests.csv", REQUESTS);
    let u = write(dir.path(), "utilization.csv", UTIL);
    check_reference(&json(
        &[
            "inspect",
            "--requests",
            &r,
            "--utilization",
            &u,
            "--format",
            "json",
        ],
        b"",
    ));
}

#[test]
fn gzip_and_stdin_give_the_same_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("requests.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(REQUESTS.as_bytes()).unwrap();
    enc.finish().unwrap();
    let u = write(dir.path(), "utilization.csv", UTIL);
    check_reference(&json(
        &[
            "inspect",
            "--requests",
            gz.to_str().unwrap(),
            "--utilization",
            &u,
            "--format",
            "json",
        ],
        b"",
    ));
    check_reference(&json(
        &[
            "inspect",
            "--requests",
            "-",
            "--utilization",
            &u,
            "--format",
            "json",
        ],
        REQUESTS.as_bytes(),
    ));
}

#[test]
fn csv_and_table_formats_carry_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let r = write(dir.path(), "requests.csv", REQUESTS);
    let u = write(dir.path(), "utilization.csv", UTIL);
    let run = demandsim(
        &[
            "inspect",
            "--requests",
            &r,
            "--utilization",
            &u,
            "--format",
            "csv",
        ],
        b"",
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "start,end,class,arrivals,completions,throughput,mean_response_s,util_cpu,saturated"
    );
    assert_eq!(lines[2], "0,10,b,1,0,0,,0.2,false");
    assert_eq!(lines.len(), 9);
    let run = demandsim(&["inspect", "--requests", &r, "--utilization", &u], b"");
    assert!(
        run.stdout.contains("requests 5 (1 failed, left out)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("saturated intervals (utilization >= 0.99): 1"),
        "{}",
        run.stdout
    );
}

#[test]
fn output_file_is_written_whole_and_not_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let r = write(dir.path(), "requests.csv", REQUESTS);
    let out = dir.path().join("out.json");
    let run = demandsim(
        &[
            "inspect",
            "--requests",
            &r,
            "--interval",
            "10",
            "--format",
            "json",
            "-o",
            out.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        v["intervals"][0]["start"], 1.0,
        "without utilization the grid starts at the first request"
    );

    let bad = write(
        dir.path(),
        "bad.csv",
        "timestamp,response_time\n1,2\n3,oops\n",
    );
    let out2 = dir.path().join("out2.json");
    let run = demandsim(
        &["inspect", "--requests", &bad, "-o", out2.to_str().unwrap()],
        b"",
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(
            "bad.csv: line 3, field `response_time`: found \"oops\", expected a number of seconds"
        ),
        "{}",
        run.stderr
    );
    assert!(!out2.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".demandsim"))
        .collect();
    assert!(leftovers.is_empty(), "temporary file left behind");
}

/// `-o` naming a FIFO (as `/dev/null` is a device) writes into it, and
/// `-o` naming a symbolic link writes its target: renaming the temporary
/// file over either would replace it (a root user's `-o /dev/null` once
/// turned `/dev/null` into a regular file that later commands read back).
#[cfg(unix)]
#[test]
fn output_to_a_fifo_or_a_symlink_keeps_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let r = write(dir.path(), "requests.csv", REQUESTS);
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let args = ["inspect", "--requests", &r, "--format", "json", "-o"];
        let run = demandsim(&[&args[..], &[fifo.to_str().unwrap()]].concat(), b"");
        assert_eq!(run.code, 0, "{}", run.stderr);
        // Checked before joining: a replaced FIFO leaves its reader waiting.
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "the FIFO was replaced by {kind:?}");
        let v: Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
        assert!(v["intervals"].as_array().is_some_and(|a| !a.is_empty()));
    }

    let real = write(dir.path(), "real.json", "old");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let run = demandsim(
        &[
            "inspect",
            "--requests",
            &r,
            "--format",
            "json",
            "-o",
            link.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let link_kind = std::fs::symlink_metadata(&link).unwrap().file_type();
    assert!(link_kind.is_symlink(), "the link was replaced");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert!(v["intervals"].as_array().is_some_and(|a| !a.is_empty()));
}

#[test]
fn usage_errors_exit_2_and_data_errors_exit_1() {
    assert_eq!(demandsim(&["inspect"], b"").code, 2);
    assert_eq!(
        demandsim(&["inspect", "--requests", "-", "--interval", "-3"], b"").code,
        2
    );
    assert_eq!(
        demandsim(&["inspect", "--requests", "-", "--utilization", "-"], b"").code,
        2
    );
    let run = demandsim(&["inspect", "--requests", "/nonexistent/r.csv"], b"");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot open /nonexistent/r.csv"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_truncated_gzip_names_the_file_and_the_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    writeln!(enc, "timestamp,response_time").unwrap();
    for i in 0..5000 {
        writeln!(enc, "{i},0.5").unwrap();
    }
    let gz = enc.finish().unwrap();
    let mut bytes = b"".to_vec();
    bytes.extend_from_slice(&gz[..gz.len() / 2]);
    let p = write(dir.path(), "cut.csv.gz", "");
    std::fs::write(&p, &bytes).unwrap();
    let run = demandsim(&["inspect", "--requests", &p], b"");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("cut.csv.gz: cannot read the input (truncated or corrupt gzip"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.matches("deflate").count(), 1, "{}", run.stderr);
}
