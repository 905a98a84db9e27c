//! What runs leave behind: a folder written whole or not at all, the mode
//! of a file written over, no temporaries.

use crate::demandsim;

#[cfg(unix)]
#[test]
fn a_file_written_over_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model.qpe");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/qpn1.yaml");
    let o = out.to_str().unwrap();
    let r = demandsim(&["export", "qpe", model.to_str().unwrap(), "-o", o], b"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(std::fs::read_to_string(&out).unwrap().contains("<net"));
    // A new file is an ordinary one.
    let new = dir.path().join("new.qpe");
    let r = demandsim(
        &[
            "export",
            "qpe",
            model.to_str().unwrap(),
            "-o",
            new.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mode = std::fs::metadata(&new).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
}

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn export_librede_writes_its_folder_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let input = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let requests = input("requests.csv", "timestamp,response_time\n10,0.5\n20,0.5\n");
    let good = input("util.csv", "timestamp,utilization\n10,0.2\n20,0.4\n");
    let bad = input("bad-util.csv", "timestamp,utilization\n10,0.2\n20,-0.4\n");
    let out = dir.path().join("out").join("librede");
    let o = out.to_str().unwrap();
    let export = |util: &str| {
        let a = [
            "export",
            "librede",
            "--requests",
            &requests,
            "--utilization",
            util,
            "--out",
            o,
        ];
        demandsim(&a, b"")
    };
    // The utilization fails after the response-time files were written:
    // they were left in a half-written folder.
    let r = export(&bad);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!out.exists(), "{:?}", listing(&out));
    assert!(listing(&dir.path().join("out")).is_empty());
    let r = export(&good);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        listing(&out),
        ["cpu_CPU_UTILIZATION.csv", "default_RESPONSE_TIME.csv"].map(String::from)
    );
    assert!(listing(&dir.path().join("out")) == ["librede"]);
    // Into a folder that exists, beside what it holds.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let r = export(&good);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(listing(&out).len(), 3, "{:?}", listing(&out));
}

/// Sends SIGINT to `child` once `ready` holds (at most 30 s), and waits
/// for it to end, its input left open: at most 20 s, after which it is
/// killed and the test fails (its first run waited forever: `simulate --time 1e12` looked at
/// Ctrl-C only between 200ths of its simulated time).
#[cfg(unix)]
fn interrupt_when(
    mut child: std::process::Child,
    ready: impl Fn() -> bool,
) -> std::process::Output {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let t0 = Instant::now();
    while !ready() && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    // Its input stays open: an import that reached the end of it would
    // end well (exit 0, a race with the handler's thread); only Ctrl-C
    // can end it here.
    let stdin = child.stdin.take();
    let t1 = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if t1.elapsed() > Duration::from_secs(20) {
            child.kill().ok();
            child.wait().ok();
            panic!("still running 20 s after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    let read = |pipe: Option<&mut dyn Read>| {
        let mut v = Vec::new();
        pipe.map(|p| p.read_to_end(&mut v));
        v
    };
    let stdout = read(child.stdout.as_mut().map(|p| p as &mut dyn Read));
    let stderr = read(child.stderr.as_mut().map(|p| p as &mut dyn Read));
    std::process::Output {
        status,
        stdout,
        stderr,
    }
}

#[cfg(unix)]
fn spawn(args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_demandsim"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Ctrl-C in the middle of writing: the temporary goes, no output is
/// left half-written (an import reading a pipe that has not ended), and a
/// simulation stops cleanly with the whole report of the run so far.
#[cfg(unix)]
#[test]
fn ctrl_c_leaves_no_temporary_and_no_half_written_output() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("requests.csv");
    let mut child = spawn(&["import", "jmeter", "-", "-o", out.to_str().unwrap()]);
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"timeStamp,elapsed,label,success\n1732265430781,100,Login,true\n")
        .unwrap();
    child.stdin = Some(stdin);
    let has_temporary = || {
        listing(dir.path())
            .iter()
            .any(|f| f.starts_with(".demandsim-"))
    };
    let run = interrupt_when(child, has_temporary);
    assert_eq!(run.status.code(), Some(130), "{:?}", run);
    assert_eq!(listing(dir.path()), Vec::<String>::new());

    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/qpn1.yaml");
    let report = dir.path().join("report.json");
    let child = spawn(&[
        "simulate",
        model.to_str().unwrap(),
        "--time",
        "1e12",
        "--seed",
        "1",
        "--format",
        "json",
        "-o",
        report.to_str().unwrap(),
    ]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let run = interrupt_when(child, || true);
    let left = listing(dir.path());
    assert!(
        left.iter().all(|f| !f.starts_with(".demandsim-")),
        "{left:?}"
    );
    // Interrupted before its handler was in place, it ends with 130 and
    // leaves nothing; else the whole report of the run so far.
    if run.status.code() == Some(0) {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        assert_eq!(doc["interrupted"], true, "{doc}");
        let measured = doc["measured_time_s"].as_f64().unwrap();
        assert!(measured > 0.0 && measured < 1e12, "{measured}");
        assert!(doc["events"].as_u64().unwrap() > 0, "{doc}");
        assert!(String::from_utf8_lossy(&run.stderr).contains("interrupted"));
    } else {
        assert_eq!(run.status.code(), Some(130), "{run:?}");
        assert_eq!(left, Vec::<String>::new(), "{run:?}");
    }
}
