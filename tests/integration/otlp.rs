//! `import otlp` on spans the OpenTelemetry Python SDK made and its own
//! OTLP encoder wrote (`tests/fixtures/otlp/make_fixture.py`), in both
//! JSON forms, as JSON lines and as one pretty-printed document; on the
//! OTLP specification's example; and through the command line into
//! `inspect` and `estimate`.

use std::io::Write;

use demandsim::import::otlp::{Options, read};
use demandsim::trace::RequestReader;

use super::{close, demandsim, fixture};

/// One request as compared: start, response time, class, success,
/// resource, user, session.
type Row = (f64, f64, String, bool, String, String, String);

/// The fixtures and the file of their spans, in their order.
const FIXTURES: [(&str, &str); 4] = [
    ("spans-protobuf.jsonl", "expected-batched.csv"),
    ("spans-otlp-numbers.jsonl", "expected-batched.csv"),
    ("spans-protobuf-snake.json", "expected-single.csv"),
    ("spans-otlp.json", "expected-single.csv"),
];

fn otlp(name: &str) -> String {
    fixture(&format!("otlp/{name}"))
}

/// The rows `opts` must give, from the spans the fixture script wrote
/// (its seconds computed there from the spans' nanoseconds).
fn expected(file: &str, opts: &Options) -> Vec<Row> {
    let mut csv = csv::Reader::from_path(otlp(file)).unwrap();
    let header = csv.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let take = if opts.roots {
        col("root")
    } else {
        col("server")
    };
    let named = |r: &csv::StringRecord, key: &Option<String>, column: &str| match key {
        Some(_) => r[col(column)].to_string(),
        None => String::new(),
    };
    csv.records()
        .map(Result::unwrap)
        .filter(|r| &r[take] == "true")
        .map(|r| {
            let route = named(&r, &opts.class_attr, "route");
            let class = if route.is_empty() {
                &r[col("name")]
            } else {
                route.as_str()
            };
            (
                r[col("timestamp")].parse().unwrap(),
                r[col("response_time")].parse().unwrap(),
                class.to_string(),
                &r[col("success")] == "true",
                r[col("service")].to_string(),
                named(&r, &opts.user_attr, "user"),
                named(&r, &opts.session_attr, "session"),
            )
        })
        .collect()
}

/// What the library reads from `input` with `opts`.
fn imported(input: &[u8], opts: &Options) -> Vec<Row> {
    let mut rows = Vec::new();
    read(input, opts, &mut |r| {
        let text = |t: Option<&str>| t.unwrap_or_default().to_string();
        rows.push((
            r.start,
            r.response_time,
            r.class.to_string(),
            r.success,
            text(r.resource),
            text(r.user),
            text(r.session),
        ));
        Ok(())
    })
    .unwrap();
    rows
}

fn everything() -> Options {
    Options {
        roots: true,
        class_attr: Some("http.route".into()),
        user_attr: Some("enduser.id".into()),
        session_attr: Some("session.id".into()),
        ..Options::default()
    }
}

#[test]
fn otlp_sdk_spans_in_every_form_give_each_server_or_root_span_to_the_nanosecond() {
    let by_route = Options {
        class_attr: Some("http.route".into()),
        ..Options::default()
    };
    for (file, spans) in FIXTURES {
        let input = std::fs::read(otlp(file)).unwrap();
        // Six frontend requests with a server span each, five of them
        // calling the pricing service's server; six of them roots, and
        // the pricing job.
        for (opts, n) in [
            (Options::default(), 11),
            (by_route.clone(), 11),
            (everything(), 7),
        ] {
            let want = expected(spans, &opts);
            assert_eq!(want.len(), n, "{file}: {opts:?}");
            assert_eq!(imported(&input, &opts), want, "{file}: {opts:?}");
        }
    }
    // The checks can fail: the 404 has no route, so it keeps its name;
    // checkout failed in both services; the job is a root of `pricing`.
    let rows = imported(
        &std::fs::read(otlp("spans-otlp.json")).unwrap(),
        &everything(),
    );
    let classes: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    assert!(
        classes.contains(&"GET") && classes.contains(&"refresh-cache"),
        "{classes:?}"
    );
    assert!(rows.iter().any(|r| r.2 == "/checkout" && !r.3), "{rows:?}");
    let (start, rt) = (rows[0].0, rows[0].1);
    let base: f64 = "1733572800.123456789".parse().unwrap();
    assert_eq!(start, base, "the first request's start, correctly rounded");
    assert!(rt > 0.001 && rt < 0.05, "{rt}");
}

#[test]
fn otlp_specification_example_is_one_server_span_of_one_second() {
    let input = std::fs::read(otlp("trace.json")).unwrap();
    let rows = imported(&input, &Options::default());
    assert_eq!(
        rows,
        [(
            1_544_712_660.0,
            1.0,
            "I'm a server span".to_string(),
            true,
            "my.service".to_string(),
            String::new(),
            String::new()
        )]
    );
    // It has a parent, so it is no root.
    assert!(imported(&input, &everything()).is_empty());
}

/// The command line writes what the canonical reader reads back, row for
/// row and bit for bit; gzip on standard input reads as the file.
#[test]
fn otlp_import_writes_what_the_requests_reader_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("requests.csv");
    let file = otlp("spans-protobuf.jsonl");
    let args = [
        "import",
        "otlp",
        "--roots",
        "--class-attr",
        "http.route",
        "--user-attr",
        "enduser.id",
        "--session-attr",
        "session.id",
    ];
    let mut argv = args.to_vec();
    argv.extend([file.as_str(), "-o", out.to_str().unwrap()]);
    let run = demandsim(&argv, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with(
            "timestamp,response_time,class,success,resource,user_class,user,session\n"
        ),
        "{text}"
    );
    let mut reader = RequestReader::new(text.as_bytes()).unwrap();
    let requests: Vec<_> = reader.by_ref().map(Result::unwrap).collect();
    let origins = reader.origin_labels().clone();
    let name = |id: Option<demandsim::trace::LabelId>, labels: &demandsim::trace::Labels| {
        id.map_or(String::new(), |id| labels.name(id).to_string())
    };
    let got: Vec<Row> = requests
        .iter()
        .map(|r| {
            (
                r.start,
                r.response_time,
                reader.classes().name(r.class).to_string(),
                r.success,
                name(r.resource, reader.resources()),
                name(r.origin.user, &origins.users),
                name(r.origin.session, &origins.sessions),
            )
        })
        .collect();
    assert_eq!(got, expected("expected-batched.csv", &everything()));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(&file).unwrap()).unwrap();
    let mut argv = args.to_vec();
    argv.push("-");
    let run = demandsim(&argv, &gz.finish().unwrap());
    assert_eq!((run.code, run.stdout), (0, text), "{}", run.stderr);
}

/// Spans of two classes with known response times, and a utilization
/// that their known demands make: `estimate` reads the import back and
/// finds both (`rta` the mean response time, `ur` the demands).
#[test]
fn otlp_import_feeds_estimate_which_finds_the_known_demands() {
    let dir = tempfile::tempdir().unwrap();
    let (width, base) = (10u64, 1_700_000_000u64);
    let (demand, response) = ([0.03, 0.08], [20_000_000u64, 50_000_000]);
    let mut spans = String::new();
    let mut util = String::from("timestamp,resource,utilization\n");
    for i in 0..30u64 {
        let counts = [5 + (i * 7) % 11, 3 + (i * 5) % 7];
        let mut line = Vec::new();
        for (c, &n) in counts.iter().enumerate() {
            for j in 0..n {
                let start =
                    (base + i * width + 1) * 1_000_000_000 + (j * 2 + c as u64) * 100_000_000;
                let id = i * 1000 + c as u64 * 100 + j + 1;
                line.push(format!(
                    r#"{{"traceId":"{id:032x}","spanId":"{id:016x}","name":"{}","kind":"SPAN_KIND_SERVER","startTimeUnixNano":"{start}","endTimeUnixNano":"{}"}}"#,
                    ["A", "B"][c],
                    start + response[c]
                ));
            }
        }
        spans.push_str(&format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"shop"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
            line.join(",")
        ));
        spans.push('\n');
        let u = (counts[0] as f64 * demand[0] + counts[1] as f64 * demand[1]) / width as f64;
        util.push_str(&format!("{},cpu,{u}\n", base + (i + 1) * width));
    }
    let (input, requests, utilization) = (
        dir.path().join("spans.jsonl"),
        dir.path().join("requests.csv"),
        dir.path().join("utilization.csv"),
    );
    std::fs::write(&input, spans).unwrap();
    std::fs::write(&utilization, util).unwrap();
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let run = demandsim(
        &["import", "otlp", &path(&input), "-o", &path(&requests)],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = demandsim(&["inspect", "--requests", &path(&requests)], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = demandsim(
        &[
            "-q",
            "estimate",
            "--requests",
            &path(&requests),
            "--utilization",
            &path(&utilization),
            "--methods",
            "rta,ur",
            "--bootstrap",
            "0",
            "--seed",
            "1",
            "--format",
            "json",
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let found = |method: &str, class: &str| {
        doc["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["method"] == method && e["class"] == class)
            .and_then(|e| e["demand_s"].as_f64())
            .unwrap()
    };
    close(found("rta", "A"), 0.02);
    close(found("rta", "B"), 0.05);
    close(found("ur", "A"), demand[0]);
    close(found("ur", "B"), demand[1]);
}
