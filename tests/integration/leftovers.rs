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
