//! `demandsim behavior learn` on the testbed's real sessions, and its
//! refusals.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::Value;

use super::demandsim;

const REAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/traces/real/mixed-n39/requests.csv.gz"
);

/// Requests per (user class, endpoint) and sessions per user class, read
/// straight from the trace.
fn log_counts() -> (BTreeMap<(String, String), f64>, BTreeMap<String, f64>) {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(REAL).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (class, group, session) = (col("class"), col("user_class"), col("session"));
    let mut requests = BTreeMap::new();
    let mut sessions: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        *requests
            .entry((f[group].to_string(), f[class].to_string()))
            .or_insert(0.0) += 1.0;
        sessions
            .entry(f[group].to_string())
            .or_default()
            .insert(f[session].to_string());
    }
    let sessions = sessions
        .into_iter()
        .map(|(g, s)| (g, s.len() as f64))
        .collect();
    (requests, sessions)
}

#[test]
fn profiles_by_user_class_visit_what_each_class_requested() {
    let run = demandsim(
        &[
            "behavior",
            "learn",
            "--requests",
            REAL,
            "--by",
            "user_class",
            "--format",
            "json",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let m: Value = serde_json::from_str(&run.stdout).unwrap();
    let (requests, sessions) = log_counts();
    let profiles = m["profiles"].as_array().unwrap();
    let mut names: Vec<&str> = profiles
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["ActiveUser", "AnalyticalUser", "ReadOnlyUser"]);
    let total: f64 = sessions.values().sum();
    assert_eq!(m["sessions"].as_f64().unwrap(), total);
    for p in profiles {
        let name = p["name"].as_str().unwrap();
        let n = sessions[name];
        assert_eq!(p["sessions"].as_f64().unwrap(), n);
        assert!((p["probability"].as_f64().unwrap() - n / total).abs() < 1e-12);
        // The chain's expected visits per session are the log's requests
        // of each endpoint per session of this user class, exactly.
        let visits = p["visits_per_session"].as_object().unwrap();
        for ((group, endpoint), count) in &requests {
            if group != name {
                continue;
            }
            let v = visits[endpoint.as_str()].as_f64().unwrap();
            assert!(
                (v - count / n).abs() < 1e-9,
                "{name} {endpoint}: {v} vs {}",
                count / n
            );
        }
        assert_eq!(
            visits.len(),
            requests.keys().filter(|(g, _)| g == name).count(),
            "{name} visits only what it requested"
        );
        let per = p["requests_per_session"].as_f64().unwrap();
        assert!((per - p["session_requests"]["mean"].as_f64().unwrap()).abs() < 1e-9);
        // Rows sum to 1, think times are the testbed's 0.5–1.5 s waits.
        let mut rows: BTreeMap<&str, f64> = BTreeMap::new();
        for t in p["transitions"].as_array().unwrap() {
            *rows.entry(t["from"].as_str().unwrap()).or_default() +=
                t["probability"].as_f64().unwrap();
            if t["from"] != "INITIAL"
                && t["to"] != "$"
                && t["from"] != "login"
                && t["count"].as_f64().unwrap() >= 20.0
            {
                let think = t["think_mean_s"].as_f64().unwrap();
                assert!((0.75..1.25).contains(&think), "{name} {t}");
            }
        }
        for (from, sum) in rows {
            assert!((sum - 1.0).abs() < 1e-9, "{name} row {from}: {sum}");
        }
    }
    // A read-only user never buys.
    let read_only = profiles
        .iter()
        .find(|p| p["name"] == "ReadOnlyUser")
        .unwrap();
    assert!(read_only["visits_per_session"].get("buy").is_none());
}

#[test]
fn behavior_learn_refuses_what_it_cannot_learn_from() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let plain = write("plain.csv", "timestamp,response_time,class\n1,0.1,a\n");
    let run = demandsim(&["behavior", "learn", "--requests", &plain], b"");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("plain.csv: no `session` column"),
        "{}",
        run.stderr
    );
    let back = write(
        "back.csv",
        "timestamp,response_time,class,session\n5,0.1,a,s1\n4,0.1,b,s1\n",
    );
    let run = demandsim(&["behavior", "learn", "--requests", &back], b"");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("back.csv: line 3: this request starts at 4 s, before its session's previous request (5 s)"),
        "{}",
        run.stderr
    );
    let shared = write(
        "shared.csv",
        "timestamp,response_time,class,user,session\n1,0.1,a,u1,s1\n2,0.1,b,u2,s1\n",
    );
    let run = demandsim(&["behavior", "learn", "--requests", &shared], b"");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("line 3: this session id was already used by another user"),
        "{}",
        run.stderr
    );
    let two = write(
        "two.csv",
        "timestamp,response_time,class,session\n1,0.1,a,s1\n2,0.1,b,s2\n",
    );
    let run = demandsim(
        &[
            "behavior",
            "learn",
            "--requests",
            &two,
            "--profiles",
            "3",
            "--seed",
            "1",
        ],
        b"",
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("3 profiles asked for, but there are only 2 sessions"),
        "{}",
        run.stderr
    );
    let run = demandsim(
        &[
            "behavior",
            "learn",
            "--requests",
            &two,
            "--profiles",
            "many",
        ],
        b"",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
}
