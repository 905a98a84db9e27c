//! Every importer on a fixture written in its tool's real format, and the
//! table that declares them: each importer is offered by `import` with
//! its own options, reads its example, and is named nowhere else.

use demandsim::import::ALL;

use super::{close, demandsim, fixture, rows};

/// The header of each kind of canonical file an importer gives.
pub(super) const REQUESTS: &str = "timestamp,response_time,class,success\n";
pub(super) const RESOURCES: &str = "timestamp,response_time,class,success,resource\n";
pub(super) const SESSIONS: &str = "timestamp,response_time,class,success,user_class,user,session\n";
pub(super) const INTERVALS: &str =
    "timestamp,interval,class,completions,mean_response_time,failures\n";
pub(super) const UTILIZATION: &str = "timestamp,utilization,resource,interval\n";

/// One example per importer of the table, in its order: the file it gives
/// and its arguments (`@name`: a file of `tests/fixtures/import/`).
pub(super) const EXAMPLES: &[(&str, &str, &[&str])] = &[
    ("jmeter", REQUESTS, &["@jmeter-5.jtl"]),
    ("k6", REQUESTS, &["@k6.ndjson"]),
    (
        "access-log",
        REQUESTS,
        &[
            "--log-format",
            r#"%h %l %u %t "%r" %>s %b %D"#,
            "@apache.log",
        ],
    ),
    ("sadf", UTILIZATION, &["@sadf.csv"]),
    ("prometheus", UTILIZATION, &["@prometheus.json"]),
    (
        "librede",
        REQUESTS,
        &["--metric", "response-time", "@WC0_RESPONSE_TIME.csv"],
    ),
    ("locust", INTERVALS, &["@locust_stats_history.csv"]),
    ("wessbas", SESSIONS, &["@wessbas-sessions.dat"]),
    ("lodestone", SESSIONS, &["@lodestone.jsonl"]),
    ("otlp", RESOURCES, &["@../otlp/spans-protobuf.jsonl"]),
    ("pgbench", SESSIONS, &["@../pgbench/tx", "@../pgbench/tx.1"]),
];

#[test]
fn every_importer_of_the_table_is_offered_with_its_options_and_reads_its_example() {
    let table: Vec<&str> = ALL.iter().map(|i| i.name()).collect();
    let examples: Vec<&str> = EXAMPLES.iter().map(|e| e.0).collect();
    assert_eq!(
        table, examples,
        "an example for each importer, in table order"
    );
    let help = demandsim(&["import", "--help"], b"").stdout;
    let formats = help.split("Formats:\n").nth(1).expect("a list of formats");
    let offered: Vec<&str> = formats
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // The table's, then the two documents that are not traces: nothing
    // is offered that the table does not declare.
    assert_eq!(offered, [&table[..], &["m4j", "qpe"]].concat());
    for (importer, &(name, header, args)) in ALL.iter().zip(EXAMPLES) {
        let about = importer.about().trim_end_matches('.');
        assert!(
            help.contains(&format!("{name}  ")) && help.contains(about),
            "{help}"
        );
        let own = demandsim(&["import", name, "--help"], b"").stdout;
        for opt in importer.options() {
            assert!(own.contains(&format!("--{}", opt.name)), "{name}: {own}");
        }
        let args: Vec<String> = args
            .iter()
            .map(|a| match a.strip_prefix('@') {
                Some(file) => fixture(&format!("import/{file}")),
                None => a.to_string(),
            })
            .collect();
        let mut argv = vec!["import", name];
        argv.extend(args.iter().map(String::as_str));
        let run = demandsim(&argv, b"");
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert!(run.stdout.starts_with(header), "{name}: {}", run.stdout);
        assert!(!rows(&run.stdout).is_empty(), "{name}: no rows");
    }
}

#[test]
fn no_code_outside_the_import_module_names_an_importer() {
    // A second place to touch when adding an importer (a dispatch on its
    // name, a flag or a message for it) names it in a string.
    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.ends_with("src/import") {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    assert!(files.len() > 50, "{files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for importer in ALL {
            let quoted = format!("\"{}\"", importer.name());
            assert!(
                !text.contains(&quoted),
                "{} names the importer {quoted}: add what it needs to the importer instead",
                file.display()
            );
        }
    }
}

#[test]
fn options_belong_to_their_importer_and_are_checked_before_anything_is_written() {
    let jtl = fixture("import/jmeter-5.jtl");
    let run = demandsim(&["import", "k6", "--exclude-label", "x", &jtl], b"");
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = demandsim(&["import", "jmeter", "--session-start", "(", &jtl], b"");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--session-start: not a valid regular expression"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "", "no header before the refusal");
    // `-o` goes before the format as well as after it.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.csv");
    let run = demandsim(
        &["import", "-o", out.to_str().unwrap(), "jmeter", &jtl],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(rows(&std::fs::read_to_string(&out).unwrap()).len(), 4);
    let run = demandsim(&["import", "jmetr", &jtl], b"");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("[possible values: jmeter, k6, access-log"),
        "{}",
        run.stderr
    );
}

#[test]
fn wessbas_nanosecond_sessions_and_lodestone_records_become_requests_with_sessions() {
    let run = demandsim(
        &[
            "-v",
            "import",
            "wessbas",
            &fixture("import/wessbas-sessions.dat"),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("timestamps read as epoch nanoseconds")
            && run.stderr.contains("3 requests"),
        "{}",
        run.stderr
    );
    let r = rows(&run.stdout);
    let got: Vec<(f64, f64, &str, &str)> = r
        .iter()
        .map(|x| (f(&x[0]), f(&x[1]), x[2].as_str(), x[6].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1443600000.0, 0.25, "login", "A1B2"),
            (1443600003.0, 0.125, "view", "A1B2"),
            (1443600001.0, 0.5, "login", "C3D4"),
        ]
    );
    // Lodestone: n events spread evenly over the session, no duration.
    let r = import(&["import", "lodestone", &fixture("import/lodestone.jsonl")]);
    let got: Vec<(f64, &str, &str, &str)> = r
        .iter()
        .map(|x| (f(&x[0]), x[2].as_str(), x[5].as_str(), x[6].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1500000087.0, "login", "bbicke", "9474dec4-f3f8"),
            (1500000112.0, "role_view", "bbicke", "9474dec4-f3f8"),
            (1500000137.0, "logout", "bbicke", "9474dec4-f3f8"),
            (1500000090.0, "login", "x", "s2"),
            (1500000100.0, "logout", "x", "s2"),
        ]
    );
    assert!(r.iter().all(|x| x[1] == "0"));
}

fn import(args: &[&str]) -> Vec<Vec<String>> {
    let run = demandsim(args, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    rows(&run.stdout)
}

fn f(s: &str) -> f64 {
    s.parse().unwrap()
}

#[test]
fn jmeter_5_start_stamps_milliseconds_quoted_labels_and_failures() {
    let r = import(&["import", "jmeter", &fixture("import/jmeter-5.jtl")]);
    assert_eq!(r.len(), 4);
    close(f(&r[0][0]), 1732265430.781);
    close(f(&r[0][1]), 0.123);
    assert_eq!((r[0][2].as_str(), r[0][3].as_str()), ("Login", "true"));
    assert_eq!(
        (r[1][2].as_str(), r[1][3].as_str()),
        ("Buy, stock", "false")
    );
    close(f(&r[1][1]), 2.05);
    let r = import(&[
        "import",
        "jmeter",
        "--exclude-label",
        "^Scenario$",
        &fixture("import/jmeter-5.jtl"),
    ]);
    assert_eq!(r.len(), 3);
}

#[test]
fn jmeter_2_13_without_url_and_success_columns_by_name() {
    let r = import(&["import", "jmeter", &fixture("import/jmeter-2.13.jtl")]);
    assert_eq!(r.len(), 2);
    close(f(&r[1][0]), 1431000000.5);
    close(f(&r[1][1]), 1.0);
    assert_eq!(r[1][2], "GET /wallet");
}

#[test]
fn k6_csv_keeps_http_req_duration_and_starts_before_the_end_stamp() {
    let r = import(&["import", "k6", &fixture("import/k6.csv")]);
    assert_eq!(r.len(), 2);
    close(f(&r[0][0]), 1732265431.0 - 0.12531);
    close(f(&r[0][1]), 0.12531);
    assert_eq!(
        (r[0][2].as_str(), r[0][3].as_str()),
        ("http://localhost:8000/stocks", "true")
    );
    assert_eq!((r[1][2].as_str(), r[1][3].as_str()), ("buy", "false"));
    close(f(&r[1][0]), 1732265431.5);
}

#[test]
fn k6_ndjson_points_with_rfc3339_times_and_offsets() {
    let r = import(&["import", "k6", &fixture("import/k6.ndjson")]);
    assert_eq!(r.len(), 2);
    close(f(&r[0][0]), 1732264231.5 - 0.1255);
    close(f(&r[0][1]), 0.1255);
    close(f(&r[1][0]), 1732264233.0);
    assert_eq!(r[1][3], "false");
}

#[test]
fn nginx_log_with_msec_request_time_and_upstream_lists() {
    let fmt = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time $msec"#;
    let r = import(&[
        "import",
        "access-log",
        "--log-format",
        fmt,
        &fixture("import/nginx.log"),
    ]);
    assert_eq!(r.len(), 3);
    close(f(&r[0][0]), 1732267831.0);
    close(f(&r[0][1]), 0.125);
    assert_eq!(
        (r[0][2].as_str(), r[0][3].as_str()),
        ("/api/stocks", "true")
    );
    close(f(&r[1][0]), 1732267830.5);
    assert_eq!(
        (r[1][2].as_str(), r[1][3].as_str()),
        ("/api/orders/17", "false")
    );
    assert_eq!(
        r[2][3], "true",
        "a 404 is the client's failure, not the server's"
    );
    let r = import(&[
        "import",
        "access-log",
        "--log-format",
        fmt,
        "--class-regex",
        r"^/api/(\w+)",
        &fixture("import/nginx.log"),
    ]);
    let classes: Vec<&str> = r.iter().map(|x| x[2].as_str()).collect();
    assert_eq!(classes, ["stocks", "orders", "orders"]);
}

#[test]
fn apache_log_with_start_stamp_and_microseconds() {
    let fmt = r#"%h %l %u %t "%r" %>s %b %D"#;
    let r = import(&[
        "import",
        "access-log",
        "--log-format",
        fmt,
        &fixture("import/apache.log"),
    ]);
    assert_eq!(r.len(), 2);
    close(f(&r[0][0]), 1732267831.0);
    close(f(&r[0][1]), 0.25);
    assert_eq!((r[1][2].as_str(), r[1][3].as_str()), ("/sell", "false"));
    close(f(&r[1][1]), 0.0015);
}

#[test]
fn access_log_lines_that_do_not_match_name_the_line() {
    let run = demandsim(
        &[
            "import",
            "access-log",
            "--log-format",
            "$msec $request_time",
            &fixture("import/apache.log"),
        ],
        b"",
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("apache.log: line 1: does not match the log format `$msec $request_time`"),
        "{}",
        run.stderr
    );
    let run = demandsim(
        &[
            "import",
            "access-log",
            "--log-format",
            "$remote_addr [$time_local]",
            "-",
        ],
        b"",
    );
    assert_eq!(run.code, 2, "a format without timing is a usage error");
    assert!(run.stderr.contains("no duration field"), "{}", run.stderr);
}

#[test]
fn sadf_idle_becomes_utilization_and_cpus_become_resources() {
    let r = import(&["import", "sadf", &fixture("import/sadf.csv")]);
    assert_eq!(r.len(), 4);
    assert_eq!(
        (r[0][0].as_str(), r[0][2].as_str(), r[0][3].as_str()),
        ("1732265460", "cpu", "30")
    );
    close(f(&r[0][1]), 0.1285);
    assert_eq!(r[1][2], "cpu0");
    close(f(&r[1][1]), 0.25);
    close(f(&r[3][1]), 0.7);
    let r = import(&["import", "sadf", &fixture("import/sadf-dates.csv")]);
    close(f(&r[0][0]), 1732267860.0);
    close(f(&r[0][1]), 0.12);
}

#[test]
fn prometheus_matrix_skips_nan_and_names_series_by_label() {
    let r = import(&["import", "prometheus", &fixture("import/prometheus.json")]);
    assert_eq!(r.len(), 3);
    assert_eq!(r[0][2], "co1:9100");
    close(f(&r[0][0]), 1732265430.781);
    close(f(&r[1][1]), 0.5);
    assert_eq!(r[2][2], "co2:9100");
    let run = demandsim(
        &[
            "import",
            "prometheus",
            "--resource-label",
            "pod",
            &fixture("import/prometheus.json"),
        ],
        b"",
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("has no `pod` label"), "{}", run.stderr);
}

#[test]
fn prometheus_reads_a_repeated_sample_once_and_refuses_two_values_at_one_time() {
    // Concatenated exports repeat samples: the same value at the same time
    // is one sample (the rows come out in time order); two values are
    // refused (tests/fixtures/bad/prometheus-duplicate-times.json).
    let doc = br#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"cpu":"0"},"values":[[1700000010,"0.5"],[1700000000,"0.25"],
         [1700000010,"0.5"],[1700000020,"NaN"],[1700000020,"NaN"],[1700000030,"1"]]}]}}"#;
    let run = demandsim(&["import", "prometheus", "-"], doc);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = rows(&run.stdout);
    let got: Vec<(f64, f64)> = r.iter().map(|x| (f(&x[0]), f(&x[1]))).collect();
    assert_eq!(
        got,
        [
            (1700000000.0, 0.25),
            (1700000010.0, 0.5),
            (1700000030.0, 1.0)
        ]
    );
}

#[test]
fn librede_files_round_trip_through_export() {
    let r = import(&[
        "import",
        "librede",
        "--metric",
        "response-time",
        &fixture("import/WC0_RESPONSE_TIME.csv"),
    ]);
    assert_eq!(r.len(), 2);
    close(f(&r[1][0]), 1370087521.25);
    assert_eq!(r[1][2], "WC0");
    let u = import(&[
        "import",
        "librede",
        "--metric",
        "utilization",
        &fixture("import/host1_CPU_UTILIZATION.csv"),
    ]);
    assert_eq!((u[0][2].as_str(), u[0][1].as_str()), ("host1", "0.4459"));

    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("r.csv");
    std::fs::write(
        &req,
        "timestamp,response_time,class\n10,0.5,WC0\n11,0.25,WC1\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = demandsim(
        &[
            "export",
            "librede",
            "--requests",
            req.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(out.join("WC0_RESPONSE_TIME.csv")).unwrap(),
        "10.5,0.5\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("WC1_RESPONSE_TIME.csv")).unwrap(),
        "11.25,0.25\n"
    );
}

#[test]
fn librede_without_metric_is_a_usage_error() {
    let run = demandsim(
        &[
            "import",
            "librede",
            &fixture("import/WC0_RESPONSE_TIME.csv"),
        ],
        b"",
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--metric"), "{}", run.stderr);
}

#[test]
fn locust_history_of_a_testbed_run_gives_exact_interval_means() {
    // The first seconds of a testbed run's Locust history (mixed users, 21
    // of them; testbed/run.sh). Request
    // name `companies`: cumulative count 1 (mean 33.205… ms) at …531,
    // 2 (23.162… ms) at …532, 7 (16.286… ms) at …533.
    let out = demandsim(
        &[
            "import",
            "locust",
            &fixture("import/locust_stats_history.csv"),
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("timestamp,interval,class,completions,mean_response_time,failures\n")
    );
    let r = rows(&out.stdout);
    let companies: Vec<&Vec<String>> = r.iter().filter(|x| x[2] == "companies").collect();
    let at = |t: &str| companies.iter().find(|x| x[0] == t).unwrap();
    // First seen at …531: its one request completed after …530.
    let first = at("1796054531");
    assert_eq!((first[1].as_str(), first[3].as_str()), ("1", "1"));
    close(f(&first[4]), 0.03320538100160775);
    let second = at("1796054532");
    assert_eq!(second[3], "1");
    close(
        f(&second[4]),
        (2.0 * 23.16227450137376 - 33.20538100160775) / 1000.0,
    );
    let third = at("1796054533");
    assert_eq!((third[3].as_str(), third[5].as_str()), ("5", "0"));
    close(
        f(&third[4]),
        (7.0 * 16.286540714645525 - 2.0 * 23.16227450137376) / 5.0 / 1000.0,
    );
    assert!(r.iter().all(|x| x[2] != "Aggregated"));
}

#[test]
fn prometheus_histogram_of_a_testbed_run_counts_what_the_requests_trace_holds() {
    // One testbed run (testbed/run.sh --plan quick --only mixed-low
    // --prometheus): Prometheus' query_range of the API's server-side
    // latency histogram, and Locust's per-request trace of the same window.
    let out = demandsim(
        &[
            "-v",
            "import",
            "prometheus",
            "--histogram",
            &fixture("import/prometheus-histogram.json.gz"),
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut server: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for r in rows(&out.stdout) {
        assert_eq!(r[1], "1", "one-second steps: {r:?}");
        let e = server.entry(r[2].clone()).or_default();
        e.0 += f(&r[3]);
        e.1 += f(&r[3]) * f(&r[4]);
    }
    let trace = demandsim(
        &[
            "inspect",
            "--requests",
            &fixture("import/testbed-requests.csv.gz"),
            "--format",
            "csv",
        ],
        b"",
    );
    let mut client: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for r in rows(&trace.stdout) {
        if let Ok(mean) = r[6].parse::<f64>() {
            let e = client.entry(r[2].clone()).or_default();
            e.0 += f(&r[4]);
            e.1 += f(&r[4]) * mean;
        }
    }
    assert_eq!(
        server.keys().collect::<Vec<_>>(),
        client.keys().collect::<Vec<_>>()
    );
    for (class, (n, sum)) in &server {
        let (m, msum) = client[class];
        // The same requests (to the window's edges)...
        assert!(
            (n - m).abs() <= 5.0_f64.max(0.05 * m),
            "{class}: {n} vs {m}"
        );
        // ...timed inside the server: less than Locust saw, by the network
        // and the client (a few milliseconds on loopback).
        let gap = msum / m - sum / n;
        assert!(gap > 0.0 && gap < 0.005, "{class}: {gap}");
    }
    // The percentiles come from the buckets.
    assert!(
        out.stderr.contains("class rate: 232 requests")
            && out.stderr.contains("from the buckets p50"),
        "{}",
        out.stderr
    );
    // The estimates that rest on counts and utilization agree with the
    // per-request trace's within 2 % (the response-time methods see the
    // server's time, shorter by the network and the client).
    let dir = tempfile::tempdir().unwrap();
    let intervals = dir.path().join("intervals.csv");
    std::fs::write(&intervals, &out.stdout).unwrap();
    let mix = |requests: &str| -> std::collections::BTreeMap<String, f64> {
        let utilization = fixture("import/testbed-utilization.csv.gz");
        super::estimated(requests, &utilization, &["--methods", "sdl,ur,kf-u"])
            .into_iter()
            .filter(|((_, class), _)| class == "(mix)")
            .map(|((method, _), d)| (method, d))
            .collect()
    };
    let a = mix(&fixture("import/testbed-requests.csv.gz"));
    let b = mix(intervals.to_str().unwrap());
    assert_eq!(a.len(), 3, "{a:?}");
    for (m, x) in &a {
        assert!((b[m] - x).abs() <= 0.02 * x, "{m}: {x} vs {}", b[m]);
    }
}

/// One log line through `--log-format`: (start, response time, class, success).
fn one_line(format: &str, line: &str) -> (f64, f64, String, String) {
    let run = demandsim(
        &["import", "access-log", "--log-format", format, "-"],
        line.as_bytes(),
    );
    assert_eq!(run.code, 0, "{format}: {}", run.stderr);
    let r = rows(&run.stdout);
    assert_eq!(r.len(), 1, "{format}");
    (f(&r[0][0]), f(&r[0][1]), r[0][2].clone(), r[0][3].clone())
}

#[test]
fn every_time_field_stamps_the_start_or_the_end_as_its_server_does() {
    // 2024-11-22 09:30:31 UTC is 1732267831 s. nginx stamps the end of a
    // request, Apache's %t and %{msec}t its start, %{end:msec}t its end.
    let cases: [(&str, &str, f64, f64); 7] = [
        (
            r#"$time_iso8601 $request_time "$request" $status"#,
            r#"2024-11-22T10:30:31+01:00 0.125 "GET /a HTTP/1.1" 200"#,
            1732267831.0 - 0.125,
            0.125,
        ),
        (
            r#"[$time_local] "$request" $status $request_time"#,
            r#"[22/Nov/2024:09:30:31 +0000] "GET /a HTTP/1.1" 200 0.5"#,
            1732267830.5,
            0.5,
        ),
        // No $request_time: the upstream times of every try and redirect.
        (
            r#"[$time_local] "$request" $status $upstream_response_time"#,
            r#"[22/Nov/2024:09:30:31 +0000] "GET /a HTTP/1.1" 200 0.010, 0.020 : 0.005"#,
            1732267831.0 - 0.035,
            0.035,
        ),
        (
            r#"%{msec}t "%r" %>s %D"#,
            r#"1732267831250 "GET /b HTTP/1.1" 200 1500"#,
            1732267831.25,
            0.0015,
        ),
        (
            r#"%{end:msec}t "%r" %>s %{ms}T"#,
            r#"1732267831250 "GET /c HTTP/1.1" 200 250"#,
            1732267831.0,
            0.25,
        ),
        (
            r#"%t "%r" %>s %T"#,
            r#"[22/Nov/2024:09:30:31 +0000] "GET /d HTTP/1.1" 200 2"#,
            1732267831.0,
            2.0,
        ),
        (
            r#"$msec "$request" $status $request_time"#,
            r#"1732267831.750 "GET /e HTTP/1.1" 200 0.250"#,
            1732267831.5,
            0.25,
        ),
    ];
    for (format, line, start, rt) in cases {
        let (s, r, _, ok) = one_line(format, line);
        assert!(
            (s - start).abs() < 1e-6,
            "{format}: start {s}, want {start}"
        );
        assert!(
            (r - rt).abs() < 1e-9,
            "{format}: response time {r}, want {rt}"
        );
        assert_eq!(ok, "true");
    }
}

#[test]
fn k6_unix_milli_stamps_are_read_as_milliseconds() {
    let csv = "metric_name,timestamp,metric_value,check,error,error_code,group,method,name,proto,scenario,status,subproto,tls_version,url,extra_tags
http_req_duration,1732265431250,125.5,,,,,GET,buy,HTTP/1.1,default,200,,,http://x/buy,
";
    let run = demandsim(&["import", "k6", "-"], csv.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = rows(&run.stdout);
    close(f(&r[0][0]), 1732265431.25 - 0.1255);
    close(f(&r[0][1]), 0.1255);
}

#[test]
fn librede_time_units_names_and_several_files_and_a_real_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    std::fs::write(p("a.csv"), "10500,0.5\n11250,0.25\n").unwrap();
    std::fs::write(p("b.csv"), "12000,1\n").unwrap();
    let r = import(&[
        "import",
        "librede",
        "--metric",
        "response-time",
        "--time-unit",
        "ms",
        "--name",
        "buy",
        &p("a.csv"),
        &p("b.csv"),
    ]);
    let got: Vec<(f64, f64, &str)> = r
        .iter()
        .map(|x| (f(&x[0]), f(&x[1]), x[2].as_str()))
        .collect();
    assert_eq!(
        got,
        [(10.0, 0.5, "buy"), (11.0, 0.25, "buy"), (11.0, 1.0, "buy")]
    );

    // canonical → LibReDE → canonical gives the same requests and samples.
    std::fs::write(
        p("r.csv"),
        "timestamp,response_time,class\n10,0.5,WC0\n11,0.25,WC1\n12.5,0.125,WC0\n",
    )
    .unwrap();
    std::fs::write(
        p("u.csv"),
        "timestamp,utilization,resource\n30,0.25,host1\n60,0.5,host1\n",
    )
    .unwrap();
    let run = demandsim(
        &[
            "export",
            "librede",
            "--requests",
            &p("r.csv"),
            "--utilization",
            &p("u.csv"),
            "--out",
            &p("out"),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let back = |metric: &str, file: &str| {
        import(&[
            "import",
            "librede",
            "--metric",
            metric,
            &format!("{}/{file}", p("out")),
        ])
    };
    let wc0 = back("response-time", "WC0_RESPONSE_TIME.csv");
    let wc1 = back("response-time", "WC1_RESPONSE_TIME.csv");
    let req: Vec<(f64, f64, &str)> = wc0
        .iter()
        .chain(&wc1)
        .map(|x| (f(&x[0]), f(&x[1]), x[2].as_str()))
        .collect();
    assert_eq!(
        req,
        [
            (10.0, 0.5, "WC0"),
            (12.5, 0.125, "WC0"),
            (11.0, 0.25, "WC1")
        ]
    );
    let u = back("utilization", "host1_CPU_UTILIZATION.csv");
    let u: Vec<(f64, f64, &str)> = u
        .iter()
        .map(|x| (f(&x[0]), f(&x[1]), x[2].as_str()))
        .collect();
    assert_eq!(u, [(30.0, 0.25, "host1"), (60.0, 0.5, "host1")]);
}
