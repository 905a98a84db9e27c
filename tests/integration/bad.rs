//! The bad-input corpus (`tests/fixtures/bad/`): every file is refused
//! with exit code 1 and one clear message naming the file, the line (and
//! column) where it applies, and what was expected.

use super::{demandsim, fixture};

/// (arguments, with `@name` for a corpus file; what the message must say)
const CASES: &[(&[&str], &str)] = &[
    (
        &["inspect", "--requests", "@empty.csv"],
        "empty.csv: empty requests file: expected a header line `timestamp,response_time",
    ),
    (
        &["inspect", "--requests", "@absurd-timestamps.csv"],
        "absurd-timestamps.csv: the traces span 5.667e58 intervals of 30 s (from 7000000000000 s to 1.700e60 s); are milliseconds mixed with seconds?",
    ),
    (
        &["inspect", "--requests", "@huge-response.csv"],
        "huge-response.csv: the traces span 18551853 intervals of 30 s (from 15 s to 556555605 s) but only 4 of them hold data; are milliseconds mixed with seconds, or are wider intervals meant?",
    ),
    (
        &["inspect", "--requests", "@wrong-header.csv"],
        "wrong-header.csv: line 1: no `timestamp` column; expected a header `timestamp,response_time[,class,success,resource,user_class,user,session]`, found `time,rt`",
    ),
    (
        &["inspect", "--requests", "@nan-timestamp.csv"],
        "nan-timestamp.csv: line 2, field `timestamp`: found \"NaN\", expected a finite, non-negative number of seconds",
    ),
    (
        &["inspect", "--requests", "@inf-response.csv"],
        "inf-response.csv: line 2, field `response_time`: found \"inf\"",
    ),
    (
        &["inspect", "--requests", "@negative-response.csv"],
        "negative-response.csv: line 2, field `response_time`: found \"-0.5\"",
    ),
    (
        &["inspect", "--requests", "@text-in-number.csv"],
        "text-in-number.csv: line 2, field `response_time`: found \"abc\", expected a number of seconds",
    ),
    (
        &["inspect", "--requests", "@short-row.csv"],
        "short-row.csv: line 3: expected 2 fields like the header, found 1",
    ),
    (
        &["inspect", "--requests", "@binary.csv"],
        "binary.csv: line 1: the header is not UTF-8 text",
    ),
    (
        &["inspect", "--requests", "@truncated.csv.gz"],
        "truncated.csv.gz: cannot read the input (truncated or corrupt gzip",
    ),
    (
        &[
            "import",
            "prometheus",
            "--histogram",
            "@prometheus-histogram-no-inf.json",
        ],
        "prometheus-histogram-no-inf.json: class `rate`: no `le=\"+Inf\"` bucket, so buckets are missing (found le = 0.0025, 0.005,",
    ),
    (
        &["import", "locust", "@locust-1.1-history.csv"],
        "locust-1.1-history.csv: line 1: no `Total Average Response Time` column; expected the history Locust 1.2 or later writes",
    ),
    (
        &["inspect", "--requests", "@intervals-fractional-count.csv"],
        "intervals-fractional-count.csv: line 3, field `completions`: found \"2.5\", expected a whole number >= 0",
    ),
    (
        &["inspect", "--requests", "@testbed-interrupted.csv.gz"],
        "testbed-interrupted.csv.gz: cannot read the input (truncated or corrupt gzip",
    ),
    (
        &["inspect", "--requests", "@bad-success.csv"],
        "bad-success.csv: line 2, field `success`: found \"maybe\", expected true, false, 1 or 0",
    ),
    (
        &["inspect", "--requests", "@mixed-units.csv"],
        "mixed-units.csv: the traces span 56610000001 intervals of 30 s",
    ),
    (
        &[
            "inspect",
            "--requests",
            "@good-requests.csv",
            "--utilization",
            "@util-percent-by-mistake.csv",
        ],
        "util-percent-by-mistake.csv: line 2, field `utilization`: found \"45\", expected a fraction between 0 and 1 (use a `utilization_pct` column for percent)",
    ),
    (
        &[
            "inspect",
            "--requests",
            "@good-requests.csv",
            "--utilization",
            "@util-negative.csv",
        ],
        "util-negative.csv: line 2, field `utilization`: found \"-0.2\"",
    ),
    (
        &[
            "inspect",
            "--requests",
            "@good-requests.csv",
            "--utilization",
            "@util-duplicate-timestamps.csv",
        ],
        "util-duplicate-timestamps.csv: two utilization samples of `cpu` share the timestamp 30",
    ),
    (
        &[
            "inspect",
            "--requests",
            "@good-requests.csv",
            "--utilization",
            "@util-single-sample.csv",
        ],
        "util-single-sample.csv: resource `cpu` has a single utilization sample and no `interval` column",
    ),
    (
        &[
            "inspect",
            "--requests",
            "@good-requests.csv",
            "--utilization",
            "@util-no-column.csv",
        ],
        "util-no-column.csv: line 1: no `utilization` column",
    ),
    (
        &[
            "inspect",
            "--requests",
            "@good-requests.csv",
            "--utilization",
            "@util-empty.csv",
        ],
        "util-empty.csv: empty utilization file",
    ),
    (
        &["import", "jmeter", "@jmeter-missing-columns.jtl"],
        "jmeter-missing-columns.jtl: line 1: no `elapsed` column; expected a JMeter CSV header",
    ),
    (
        &["import", "jmeter", "@jmeter-bad-elapsed.jtl"],
        "jmeter-bad-elapsed.jtl: line 2, field `elapsed`: found \"fast\", expected non-negative milliseconds",
    ),
    (
        &["import", "jmeter", "@jmeter-date-timestamps.jtl"],
        "jmeter-date-timestamps.jtl: line 2, field `timeStamp`: found \"2024/11/22 10:00:00.000\", expected epoch milliseconds",
    ),
    (
        &["import", "k6", "@k6-empty.csv"],
        "k6-empty.csv: empty k6 file",
    ),
    (
        &["import", "k6", "@k6-bad.ndjson"],
        "k6-bad.ndjson: line 2: not a k6 JSON object",
    ),
    (
        &[
            "import",
            "access-log",
            "--log-format",
            "$msec $request_time",
            "@access-nomatch.log",
        ],
        "access-nomatch.log: line 1: does not match the log format `$msec $request_time`",
    ),
    (
        &["import", "sadf", "@sadf-no-header.csv"],
        "sadf-no-header.csv: line 1: a data row before sadf's `# hostname;interval;timestamp;CPU;...;%idle` header",
    ),
    (
        &["import", "sadf", "@sadf-bad-idle.csv"],
        "sadf-bad-idle.csv: line 2, field `%idle`: found \"idle\", expected a percentage between 0 and 100",
    ),
    (
        &["import", "prometheus", "@prometheus-vector.json"],
        "prometheus-vector.json: expected `\"resultType\": \"matrix\"` (a query_range result), found `vector`",
    ),
    (
        &["import", "prometheus", "@prometheus-percent.json"],
        "prometheus-percent.json: series 0 (`a`), sample 0: utilization 42 is outside 0–1",
    ),
    (
        &["import", "prometheus", "@prometheus-duplicate-times.json"],
        "prometheus-duplicate-times.json: series 0, samples 1 and 2: two values (0.5 and 0.75) at one time, 1700000010 s",
    ),
    (
        &["import", "prometheus", "@prometheus-bad.json"],
        "prometheus-bad.json: line 2: not valid JSON at column 13",
    ),
    (
        &[
            "import",
            "librede",
            "--metric",
            "utilization",
            "@librede-bad.csv",
        ],
        "librede-bad.csv: line 1: expected `timestamp,value`",
    ),
    (
        &["solve", "@model-unknown-place.yaml"],
        "model-unknown-place.yaml: line 5, column 12: unknown place `X` (places: Q)",
    ),
    (
        &["solve", "@model-unknown-colour.yaml"],
        "model-unknown-colour.yaml: line 3, column 30: unknown colour `b` (colours: a)",
    ),
    (
        &["solve", "@model-unknown-param.yaml"],
        "model-unknown-param.yaml: line 3, column 47: `demand`: unknown parameter `demand` (the model has no `params`)",
    ),
    (
        &["solve", "@model-negative-mean.yaml"],
        "model-negative-mean.yaml: line 3, column 47: the mean must be positive, got -1",
    ),
    (
        &["solve", "@model-dead-mode.yaml"],
        "model-dead-mode.yaml: line 6, column 3: transition `t` mode `mode1` can never fire: place `P` never holds colour `a`",
    ),
    (
        &["solve", "@model-billion-tokens.yaml"],
        "model-billion-tokens.yaml: line 3, column 63: an initial marking is 1000000000, more than the 10000000 supported",
    ),
    (&["solve", "@model-yaml-bomb.yaml"], "budget breached"),
    (
        &["solve", "@model-unstable.yaml"],
        "model-unstable.yaml: the open model is unstable: place Q is offered 2.0000 busy servers",
    ),
    (
        &["solve", "@model-syntax.yaml"],
        "model-syntax.yaml: error: line 4 column 11: while parsing a flow mapping",
    ),
    (
        &[
            "simulate",
            "@model-immediate-cycle.yaml",
            "--time",
            "10",
            "--warmup",
            "0s",
            "--seed",
            "1",
        ],
        "immediate transitions fired 10000001 times at t = 0 s without time advancing",
    ),
    (
        &["import", "m4j", "@m4j-into-initial.csv"],
        "m4j-into-initial.csv: line 3: the row of `A` has a probability in the `INITIAL` column",
    ),
    (
        &["import", "m4j", "@m4j-inf-think.csv"],
        "m4j-inf-think.csv: line 2, column `B`: found \"0.5; n(inf 0)\"",
    ),
    (
        &["import", "m4j", "@m4j-no-requests.csv"],
        "m4j-no-requests.csv: line 1: expected a header `,State1,…,$` naming the states (at least one request)",
    ),
    (
        &["import", "m4j", "@m4j-two-entries.csv"],
        "m4j-two-entries.csv: line 3: `A` is marked `*` as the entry, but `INITIAL` already is",
    ),
    (
        &["import", "m4j", "@m4j-zero-entry.csv"],
        "m4j-zero-entry.csv: line 2: the entry `INITIAL` has an all-zero row",
    ),
    (
        &["solve", "@model-duplicate-key.yaml"],
        "model-duplicate-key.yaml: error: line 4 column 3: duplicate mapping key: Q\n",
    ),
    (
        &["solve", "@model-arc-colours.yaml"],
        "model-arc-colours.yaml: error: line 5 column 41: not one of the forms this field takes",
    ),
    (
        &["solve", "@model-huge-number.yaml"],
        "model-huge-number.yaml: line 3, column 47: the mean must be positive, got -1.000e300",
    ),
    (
        &["simulate", "@model-copies-100000.yaml"],
        "model-copies-100000.yaml: line 8, column 13: copies is 100000, more than the 10000 supported",
    ),
    (
        &["solve", "@model-huge-servers.yaml"],
        "model-huge-servers.yaml: line 3, column 29: servers is 1.000e300, more than the 1000000 supported",
    ),
    (
        &["import", "wessbas", "@wessbas-negative.dat"],
        "wessbas-negative.dat: line 1, field `start`: found",
    ),
    (
        &["import", "lodestone", "@lodestone-huge.jsonl"],
        "lodestone-huge.jsonl: line 1: record 1: session_start -1.000e300 and session_end 1.000e308 are not epoch seconds",
    ),
    (
        &["import", "lodestone", "@lodestone-negative.jsonl"],
        "lodestone-negative.jsonl: line 1: record 1: session_start -5 and session_end 10 are not epoch seconds",
    ),
    (
        &["import", "prometheus", "@prometheus-huge-times.json"],
        "prometheus-huge-times.json: series 0, sample 0: timestamp -1.000e300 is not epoch seconds",
    ),
    (
        &["import", "locust", "@locust-backwards.csv"],
        "locust-backwards.csv: line 3: Timestamp 1796054521 is earlier than the row before it",
    ),
    (
        &["import", "m4j", "@m4j-inf-mix.txt"],
        "m4j-inf-mix.txt: line 1: expected `name; frequency; file`",
    ),
    (
        &["import", "pgbench", "@pgbench-aggregated.log"],
        "pgbench-aggregated.log: line 1: expected 6 to 8 fields, `client_id transaction_no time script_no time_epoch time_us [schedule_lag] [retries]`, found more; an aggregated log needs --aggregate-interval",
    ),
    (
        &["import", "pgbench", "@pgbench-bad-time.log"],
        "pgbench-bad-time.log: line 2, field `time`: found \"1.5\", expected a whole number >= 0",
    ),
    (
        &["import", "otlp", "@otlp-bad-kind.json"],
        "otlp-bad-kind.json: line 21, field `resourceSpans[0].scopeSpans[0].spans[1].kind`: found \"SERVER\", expected a span kind: 0 to 5, or SPAN_KIND_INTERNAL,",
    ),
    (
        &["import", "otlp", "@otlp-bad-id.jsonl"],
        "otlp-bad-id.jsonl: line 2, field `resourceSpans[0].scopeSpans[0].spans[0].spanId`: found \"not-an-id\", expected 16 hex digits or 8 bytes in base64",
    ),
    (
        &["import", "otlp", "@otlp-end-before-start.jsonl"],
        "otlp-end-before-start.jsonl: line 1: `resourceSpans[0].scopeSpans[0].spans[0]`: it ends 1.5 s before it starts",
    ),
    (
        &["import", "otlp", "@otlp-truncated.jsonl"],
        "otlp-truncated.jsonl: line 2: not valid JSON at the end of the line: control character",
    ),
    (
        &["import", "otlp", "@otlp-not-a-list.json"],
        "otlp-not-a-list.json: line 1: `resourceSpans`: expected a list of resource spans, found an object",
    ),
    // A .qpe's refusals name its element and its line in the .qpe, also
    // where the model it makes does not build (they named a line of the
    // model file it was translated into, or quoted that file).
    (
        &["import", "qpe", "@qpe-immediate-without-inputs.qpe"],
        r#"qpe-immediate-without-inputs.qpe: line 17: <transition> "spawn" (id "t2") an immediate transition needs inputs"#,
    ),
    (
        &["import", "qpe", "@qpe-duplicate-probe.qpe"],
        r#"qpe-duplicate-probe.qpe: line 23: <probe> "response" (id "pr2") another probe has the same name"#,
    ),
    (
        &["import", "qpe", "@qpe-huge-population.qpe"],
        r#"qpe-huge-population.qpe: line 8: <color-ref> id "r1" `initial-population` is 100000000, more than the 10000000 tokens supported"#,
    ),
    (
        &["import", "qpe", "@qpe-huge-servers.qpe"],
        r#"qpe-huge-servers.qpe: line 5: <queue> "CPU" (id "q1") has 100000000 servers, more than the 1000000 supported"#,
    ),
];

#[test]
fn every_bad_input_gets_exit_1_and_its_message() {
    let mut failures = Vec::new();
    for (args, want) in CASES {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                a.strip_prefix('@')
                    .map_or(a.to_string(), |f| fixture(&format!("bad/{f}")))
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = demandsim(&args, b"");
        if run.code != 1 || !run.stderr.contains(want) || run.stderr.contains("panicked") {
            failures.push(format!("{args:?}: exit {} {}", run.code, run.stderr));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let files = std::fs::read_dir(fixture("bad")).unwrap().count();
    assert!(files >= 30, "the corpus has {files} files");
}

/// Data that is only suspicious (rows in neither start nor completion
/// order, a hole in the utilization samples, saturated intervals) gets a
/// warning on stderr and the job still runs (exit 0, results on stdout).
#[test]
fn suspicious_data_warns_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("requests.csv");
    let u = dir.path().join("utilization.csv");
    // Starts 5, 1, 3 with completions 5.2, 1.4, 3.1: neither order.
    let mut req = String::from("timestamp,response_time\n");
    for (t, rt) in [(5.0, 0.2), (1.0, 0.4), (3.0, 0.1), (12.0, 0.3), (25.0, 0.2)] {
        req.push_str(&format!("{t},{rt}\n"));
    }
    std::fs::write(&r, req).unwrap();
    // Samples every 10 s, one missing (30 → 50), the last one saturated.
    std::fs::write(
        &u,
        "timestamp,resource,utilization\n10,cpu,0.3\n20,cpu,0.4\n30,cpu,0.2\n50,cpu,0.995\n",
    )
    .unwrap();
    let (r, u) = (r.to_str().unwrap(), u.to_str().unwrap());
    let run = demandsim(&["inspect", "--requests", r, "--utilization", u], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("neither start nor completion order (1 out of order)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("utilization samples of `cpu` have a gap of 20 s (typical spacing 10 s)"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("requests 5"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("saturated intervals (utilization >= 0.99): 1"),
        "{}",
        run.stdout
    );
}

/// Expressions nested far deeper than the loader's limit (256) are refused
/// with exit 1 and where, in a model file and through `--set`, instead of
/// overflowing the stack.
#[test]
fn deeply_nested_expressions_are_refused_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let deep = [
        format!("{}1{}", "(".repeat(20_000), ")".repeat(20_000)),
        format!("{}1", "-".repeat(100_000)),
        format!("{}1", "2^".repeat(50_000)),
    ];
    for (i, text) in deep.iter().enumerate() {
        let model = dir.path().join(format!("deep{i}.yaml"));
        let body = format!(
            "params: {{m: 1}}\ncolors: [a]\nplaces:\n  Q: {{queue: fcfs, service: {{a: {{exponential: \"{text}\"}}}}, initial: {{a: 1}}}}\n"
        );
        std::fs::write(&model, body).unwrap();
        let model = model.to_str().unwrap();
        let set = format!("m={text}");
        // A model file is data (exit 1, its name); `--set` is usage (exit 2).
        let file = format!("deep{i}.yaml");
        for (args, code, names) in [
            (vec!["solve", model], 1, file.as_str()),
            (vec!["solve", model, "--set", &set], 2, "--set m="),
        ] {
            let run = demandsim(&args, b"");
            assert!(
                run.code == code
                    && run.stderr.contains(names)
                    && run.stderr.contains("nested more than 256"),
                "{args:.2?}: exit {} {:.300}",
                run.code,
                run.stderr
            );
        }
    }
}

/// A state with a row but no way in (Markov4JMeter's JPS_browser has one,
/// `Sign On`) is left out of the model, which then loads.
#[test]
fn an_unreached_state_is_left_out_of_the_behaviour_model() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("chain.csv");
    std::fs::write(
        &csv,
        ",\"A\",\"B\",\"Lost\",\"$\"\n\"A*\",0.0,0.5; n(100 10),0.0,0.5\n\"B\",0.2; n(200 20),0.0,0.0,0.8\n\"Lost\",0.0,0.0,0.0,1.0\n",
    )
    .unwrap();
    let json = dir.path().join("chain.json");
    let (csv, json) = (csv.to_str().unwrap(), json.to_str().unwrap());
    let run = demandsim(&["import", "m4j", csv, "-o", json], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let demands = dir.path().join("d.csv");
    std::fs::write(
        &demands,
        "class,resource,demand_s\nA,cpu,0.01\nB,cpu,0.02\nLost,cpu,0.03\n",
    )
    .unwrap();
    let model = dir.path().join("m.yaml");
    let (demands, model) = (demands.to_str().unwrap(), model.to_str().unwrap());
    let run = demandsim(
        &[
            "behavior",
            "model",
            "--users",
            "5",
            "--demands",
            demands,
            json,
            "-o",
            model,
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(model).unwrap();
    assert!(
        !text
            .lines()
            .any(|l| l.contains("end_") && l.contains("Lost")),
        "{text}"
    );
    let run = demandsim(&["solve", model], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
}
