//! `demandsim behavior classify`: the testbed's sessions labelled with
//! profiles learnt from another run, the labelled trace read back, users
//! without sessions cut at gaps, and the refusals.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde_json::Value;

use super::demandsim;

fn real(run: &str) -> String {
    format!(
        "{}/traces/real/{run}/requests.csv.gz",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn json_of(args: &[&str]) -> Value {
    let run = demandsim(args, b"");
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

/// Per user class: its requests and its sessions, read straight from the
/// trace.
fn truth(path: &str) -> BTreeMap<String, (u64, BTreeSet<String>)> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (group, session) = (col("user_class"), col("session"));
    let mut out: BTreeMap<String, (u64, BTreeSet<String>)> = BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let e = out.entry(f[group].to_string()).or_default();
        e.0 += 1;
        e.1.insert(f[session].to_string());
    }
    out
}

#[test]
fn another_runs_sessions_are_labelled_and_scored_against_their_user_classes() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("n21.json");
    let p = profiles.to_str().unwrap();
    let learn = demandsim(
        &[
            "behavior",
            "learn",
            "--requests",
            &real("mixed-n21"),
            "--by",
            "user_class",
            "--format",
            "json",
            "-o",
            p,
        ],
        b"",
    );
    assert_eq!(learn.code, 0, "{}", learn.stderr);
    let trace = real("mixed-n76");
    let labelled = dir.path().join("labelled.csv");
    let l = labelled.to_str().unwrap();
    let doc = json_of(&[
        "behavior",
        "classify",
        p,
        "--requests",
        &trace,
        "--format",
        "json",
        "--label-trace",
        l,
    ]);
    let truth = truth(&trace);
    let sessions = doc["sessions"].as_array().unwrap();
    assert_eq!(
        sessions.len(),
        truth.values().map(|t| t.1.len()).sum::<usize>()
    );
    let s = &doc["scores"];
    // Each class's support is its requests in the trace, and the
    // confusion's rows add up to it.
    let labels: Vec<&str> = s["confusion"]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for (row, c) in s["confusion"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .zip(s["per_class"].as_array().unwrap())
    {
        let class = c["class"].as_str().unwrap();
        let support = c["support"].as_u64().unwrap();
        assert_eq!(support, truth[class].0, "{class}");
        assert_eq!(
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .sum::<u64>(),
            support
        );
        let right = row[labels.iter().position(|x| *x == class).unwrap()]
            .as_u64()
            .unwrap();
        assert!((c["recall"].as_f64().unwrap() - right as f64 / support as f64).abs() < 1e-12);
    }
    // Measured on this pair of runs (chain only): 97.5 % of the requests
    // (the study's classifier: 79 %).
    let accuracy = s["request_accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.9, "{accuracy}");
    let mix: f64 = doc["mix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["share"].as_f64().unwrap())
        .sum();
    assert!((mix - 1.0).abs() < 1e-9, "{mix}");
    // The labelled trace, learnt by its (new) user_class, has one profile
    // per label with the sessions classify gave it.
    let mut count: BTreeMap<String, u64> = BTreeMap::new();
    for x in sessions {
        *count
            .entry(x["profile"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let back = json_of(&[
        "behavior",
        "learn",
        "--requests",
        l,
        "--by",
        "user_class",
        "--format",
        "json",
    ]);
    let learnt: BTreeMap<String, u64> = back["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["sessions"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(learnt, count);
}

/// Profiles learnt from a small trace of request types a and b.
fn small_profiles(dir: &std::path::Path) -> String {
    let trace = dir.join("ab.csv");
    std::fs::write(
        &trace,
        "timestamp,response_time,class,user_class,user,session\n\
         0,0.1,a,A,u1,s1\n1,0.1,a,A,u1,s1\n2,0.1,b,B,u2,s2\n3,0.1,b,B,u2,s2\n4,0.1,a,A,u3,s3\n5,0.1,b,B,u4,s4\n",
    )
    .unwrap();
    let out = dir.join("ab.json");
    let run = demandsim(
        &[
            "behavior",
            "learn",
            "--requests",
            trace.to_str().unwrap(),
            "--by",
            "user_class",
            "--format",
            "json",
            "-o",
            out.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    out.to_str().unwrap().to_string()
}

#[test]
fn users_without_sessions_are_cut_at_the_gap() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = small_profiles(dir.path());
    let trace = dir.path().join("users.csv");
    // u1: 0, 1, then 100 (a pause of 99 s): two sessions at a 10 s gap.
    std::fs::write(
        &trace,
        "timestamp,response_time,class,user\n0,0.1,a,u1\n1,0.1,a,u1\n2,0.1,b,u2\n100,0.1,b,u1\n",
    )
    .unwrap();
    let t = trace.to_str().unwrap();
    let run = demandsim(
        &[
            "behavior",
            "classify",
            &profiles,
            "--requests",
            t,
            "--session-timeout",
            "10",
            "--format",
            "csv",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sessions: Vec<(String, String)> = run
        .stdout
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[3].to_string())
        })
        .collect();
    let expected = [("u1#1", "2"), ("u2#1", "1"), ("u1#2", "1")];
    assert_eq!(
        sessions,
        expected
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .to_vec()
    );
    // Without a gap given, 1800 s: u1's requests are one session.
    let run = demandsim(
        &[
            "behavior",
            "classify",
            &profiles,
            "--requests",
            t,
            "--format",
            "csv",
        ],
        b"",
    );
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.stdout);
}

#[test]
fn bad_inputs_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = small_profiles(dir.path());
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let with_c = write(
        "c.csv",
        "timestamp,response_time,class,session\n0,0.1,a,s1\n1,0.1,c,s1\n2,0.1,b,s2\n3,0.1,b,s2\n",
    );
    let only_c = write(
        "onlyc.csv",
        "timestamp,response_time,class,session\n0,0.1,c,s1\n1,0.1,d,s1\n",
    );
    let anonymous = write(
        "anonymous.csv",
        "timestamp,response_time,class,user_class\n0,0.1,a,A\n",
    );
    let empty = write("empty.json", "");
    let none = write(
        "none.json",
        r#"{"sessions": 0, "states": ["a"], "grouping": "x", "profiles": []}"#,
    );
    let cases: [(&str, &str, &[&str], &[&str]); 5] = [
        (
            &profiles,
            &with_c,
            &[],
            &[
                "c.csv",
                "request types the profiles do not know: c",
                "--unknown",
            ],
        ),
        (
            &profiles,
            &only_c,
            &[],
            &[
                "onlyc.csv",
                "the profiles' request types (a, b) are none of the trace's (c, d)",
            ],
        ),
        (
            &profiles,
            &anonymous,
            &[],
            &[
                "anonymous.csv: no `session` and no `user` column",
                "nothing is classified",
            ],
        ),
        (&empty, &with_c, &[], &["empty.json: not a behaviour model"]),
        (
            &none,
            &with_c,
            &[],
            &["none.json: the behaviour model has no profile"],
        ),
    ];
    for (model, trace, extra, messages) in cases {
        let args = [
            &["behavior", "classify", model, "--requests", trace][..],
            extra,
        ]
        .concat();
        let run = demandsim(&args, b"");
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        for m in messages {
            assert!(
                run.stderr.contains(m),
                "{args:?}: `{m}` not in {}",
                run.stderr
            );
        }
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    // By the explicit flag, the session with c is `unknown`, the other
    // classified.
    let run = demandsim(
        &[
            "behavior",
            "classify",
            &profiles,
            "--requests",
            &with_c,
            "--unknown",
            "--format",
            "csv",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let labels: Vec<&str> = run
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(labels, ["unknown", "B"]);
}
