use super::*;

const TRACE: &str = "5B8EFFF798038103D269B633813FC60C";
const SPAN: &str = "eee19b7ec3c1b174";

/// A span with ids and the given fields.
fn span(fields: &str) -> String {
    format!(r#"{{"traceId":"{TRACE}","spanId":"{SPAN}",{fields}}}"#)
}

/// A server span from `start` to `end` (nanoseconds) with more fields.
fn server(start: u64, end: u64, more: &str) -> String {
    span(&format!(
        r#""name":"GET /","kind":2,"startTimeUnixNano":"{start}","endTimeUnixNano":"{end}"{more}"#
    ))
}

/// An export request of one resource (`svc`) holding `spans`.
fn request(spans: &[String]) -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
}

type Got = (f64, f64, String, bool, Option<String>);

fn read_all(text: &str, opts: &Options) -> Result<(Vec<Got>, Imported), TraceError> {
    let mut rows = Vec::new();
    let imported = read(text.as_bytes(), opts, &mut |r| {
        let resource = r.resource.map(str::to_string);
        rows.push((
            r.start,
            r.response_time,
            r.class.into(),
            r.success,
            resource,
        ));
        Ok(())
    })?;
    Ok((rows, imported))
}

fn rows(text: &str, opts: &Options) -> Vec<Got> {
    read_all(text, opts).unwrap().0
}

fn error(text: &str) -> String {
    read_all(text, &Options::default()).unwrap_err().to_string()
}

#[test]
fn seconds_are_the_nanoseconds_correctly_rounded() {
    assert_eq!(seconds(1), 1e-9);
    assert_eq!(
        seconds(1_544_712_661_000_000_000 - 1_544_712_660_000_000_000),
        1.0
    );
    let exact: f64 = "1733572800.123456789".parse().unwrap();
    assert_eq!(seconds(1_733_572_800_123_456_789), exact);
    // Two roundings (the whole nanoseconds as a double, then divided)
    // land elsewhere for this one; the decimal is rounded once.
    let ns = 1_733_572_800_123_456_836u64;
    let exact: f64 = "1733572800.123456836".parse().unwrap();
    assert_ne!(ns as f64 / 1e9, exact);
    assert_eq!(seconds(ns), exact);
    assert!(seconds(u64::MAX).is_finite());
}

#[test]
fn server_spans_are_read_in_either_form_and_either_spelling() {
    let hex = request(&[server(1_000_000_000, 1_250_000_000, "")]);
    assert_eq!(
        rows(&hex, &Options::default()),
        [(1.0, 0.25, "GET /".into(), true, Some("svc".into()))]
    );
    // Protobuf's mapping with the .proto's names: base64 ids (the
    // URL-safe alphabet, unpadded), enums by name, numbers as text.
    let snake = r#"{"resource_spans":[{"scope_spans":[{"spans":[
        {"trace_id":"W47_95gDgQPSabYzgT_GDA","span_id":"7uGbfsPBsXQ=","parent_span_id":"",
         "name":"x","kind":"SPAN_KIND_SERVER","start_time_unix_nano":1000000000,
         "end_time_unix_nano":"1500000000","status":{"code":"STATUS_CODE_ERROR"}},
        {"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ","kind":"SPAN_KIND_CLIENT",
         "startTimeUnixNano":"1","endTimeUnixNano":"2","status":null,"attributes":null}]}]}]}"#;
    assert_eq!(
        rows(snake, &Options::default()),
        [(1.0, 0.5, "x".into(), false, None)]
    );
    // Both are roots; with `roots` the client span is taken too.
    let roots = Options {
        roots: true,
        ..Options::default()
    };
    assert_eq!(rows(snake, &roots).len(), 2);
}

#[test]
fn a_resource_after_its_spans_still_names_them_and_each_file_says_what_it_held() {
    let text = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}],"resource":{{"attributes":[{{"key":"host.name","value":{{"stringValue":"h1"}}}}]}}}},{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        server(0, 1, ""),
        server(2, 3, r#","parentSpanId":"EEE19B7EC3C1B173""#)
    );
    let opts = Options {
        resource_attr: "host.name".into(),
        ..Options::default()
    };
    let (got, imported) = read_all(&text, &opts).unwrap();
    let resources: Vec<_> = got.iter().map(|r| r.4.as_deref()).collect();
    assert_eq!(resources, [Some("h1"), None]);
    assert_eq!(
        imported.notes,
        [
            Note::Read("2 spans, 2 of them server spans".into()),
            Note::Read(
                "1 server spans of a resource without `host.name`: their resource is left empty"
                    .into()
            )
        ]
    );
}

#[test]
fn attributes_of_every_form_give_their_text_and_a_missing_one_leaves_the_name() {
    let with = |value: &str| {
        server(
            0,
            1,
            &format!(r#","attributes":[{{"key":"k","value":{value}}}]"#),
        )
    };
    let values = [
        (r#"{"stringValue":"/cart/{id}"}"#, "/cart/{id}"),
        (r#"{"intValue":"-42"}"#, "-42"),
        (r#"{"intValue":7}"#, "7"),
        (r#"{"doubleValue":0.25}"#, "0.25"),
        (r#"{"doubleValue":"Infinity"}"#, "inf"),
        (r#"{"boolValue":true}"#, "true"),
        (r#"{"bytesValue":"AAE="}"#, "AAE="),
        (
            r#"{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"1"}]}}"#,
            "[a, 1]",
        ),
        (
            r#"{"kvlistValue":{"values":[{"key":"x","value":{"boolValue":false}}]}}"#,
            "{x: false}",
        ),
    ];
    let opts = Options {
        class_attr: Some("k".into()),
        ..Options::default()
    };
    for (value, text) in values {
        let got = rows(&request(&[with(value)]), &opts);
        assert_eq!(got[0].2, text, "{value}");
    }
    let (got, imported) = read_all(&request(&[server(0, 1, "")]), &opts).unwrap();
    assert_eq!(got[0].2, "GET /");
    assert!(imported.notes.contains(&Note::Read(
        "1 server spans without the attribute `k`: their class is their name".into()
    )));
    for bad in [
        r#"{"stringValue":5}"#,
        r#"{"stringValue":"a","intValue":"1"}"#,
        r#"{"x":1}"#,
    ] {
        let e = read_all(&request(&[with(bad)]), &opts)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "line 1, field `resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value`: found"
            ) && e.ends_with("or `bytesValue`"),
            "{e}"
        );
    }
}

#[test]
fn a_bad_field_is_named_by_the_line_its_span_starts_on_and_its_path() {
    let pretty = format!(
        "{{\n  \"resourceSpans\": [\n    {{\n      \"scopeSpans\": [\n        {{\n          \"spans\": [\n            {},\n            {{\n              \"traceId\": \"{TRACE}\",\n              \"spanId\": \"{SPAN}\",\n              \"kind\": \"SERVER\"\n            }}\n          ]\n        }}\n      ]\n    }}\n  ]\n}}\n",
        server(0, 1, "")
    );
    assert_eq!(
        error(&pretty),
        "line 8, field `resourceSpans[0].scopeSpans[0].spans[1].kind`: found \"SERVER\", expected \
         a span kind: 0 to 5, or SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, SPAN_KIND_CLIENT, \
         SPAN_KIND_PRODUCER or SPAN_KIND_CONSUMER"
    );
    let lines = [
        request(&[server(0, 1, "")]),
        String::new(),
        request(&[server(0, 1, ""), span(r#""spanId":"xyz""#)]),
    ]
    .join("\n");
    // The duplicate `spanId` is JSON's: the last one counts.
    assert_eq!(
        error(&lines),
        "line 3, field `resourceSpans[0].scopeSpans[0].spans[1].spanId`: found \"xyz\", expected \
         16 hex digits or 8 bytes in base64"
    );
}

#[test]
fn what_is_not_an_otlp_request_is_refused_with_where_and_what() {
    let cases = [
        (
            "[1]",
            "line 1: expected an OTLP trace export request, `{\"resourceSpans\": [...]}`, found a list",
        ),
        (
            "{\"resourceSpans\": {}}",
            "line 1: `resourceSpans`: expected a list of resource spans, found an object",
        ),
        (
            "{\"resourceSpans\": [{\"scopeSpans\": [{\"spans\": [1]}]}]}",
            "line 1: `resourceSpans[0].scopeSpans[0].spans[0]`: expected a span, an object, found the number 1",
        ),
        (
            "{\"resourceSpans\": [{\"resource\": \"svc\"}]}",
            "line 1: `resourceSpans[0].resource`: expected a resource, an object with `attributes`, found the text \"svc\"",
        ),
        (
            "{\"resourceSpans\": []}\n{\"resourceSpans\": [}\n",
            "line 2: not valid JSON at column 20: expected value",
        ),
        (
            "{\"resourceSpans\": [\n",
            "line 1: not valid JSON at the end of the line: EOF while parsing a list",
        ),
        (
            "  \n",
            "empty OTLP JSON file: expected OTLP trace export requests",
        ),
    ];
    for (text, want) in cases {
        let e = error(text);
        assert!(e.starts_with(want), "{text}: {e}");
    }
}

#[test]
fn times_ids_and_status_must_be_what_otlp_writes() {
    let at = "line 1, field `resourceSpans[0].scopeSpans[0].spans[0]";
    let cases = [
        (server(2_500_000_000, 2_000_000_000, ""), "line 1: `resourceSpans[0].scopeSpans[0].spans[0]`: it ends 0.5 s before it starts (`endTimeUnixNano` is less than `startTimeUnixNano`)".to_string()),
        (span(r#""endTimeUnixNano":"5""#), "line 1: `resourceSpans[0].scopeSpans[0].spans[0]`: no `startTimeUnixNano`; expected nanoseconds since the epoch".into()),
        (span(r#""startTimeUnixNano":"1.5","endTimeUnixNano":"5""#), format!("{at}.startTimeUnixNano`: found \"1.5\"")),
        (span(r#""startTimeUnixNano":-1,"endTimeUnixNano":"5""#), format!("{at}.startTimeUnixNano`: found \"-1\"")),
        (server(0, 1, r#","status":{"code":3}"#), format!("{at}.status.code`: found \"3\", expected a status code")),
        (server(0, 1, r#","traceId":"5B8EFFF7""#), format!("{at}.traceId`: found \"5B8EFFF7\", expected 32 hex digits or 16 bytes in base64")),
        (server(0, 1, r#","parentSpanId":7"#), format!("{at}.parentSpanId`: found \"7\"")),
        (server(0, 1, r#","name":["a"]"#), format!("{at}.name`: found \"[\\\"a\\\"]\", expected text")),
        (server(0, 1, r#","kind":6"#), format!("{at}.kind`: found \"6\"")),
    ];
    for (s, want) in cases {
        let e = error(&request(std::slice::from_ref(&s)));
        assert!(e.starts_with(&want), "{s}:\n{e}\n{want}");
    }
    let no_id = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"eee19b7ec3c1b174"}]}]}]}"#;
    assert!(
        error(no_id).contains("no `traceId`; expected 32 hex digits"),
        "{}",
        error(no_id)
    );
    let ok = [
        r#"{"code":1}"#,
        r#"{"code":"STATUS_CODE_OK"}"#,
        "{}",
        r#"{"message":"m"}"#,
    ];
    for status in ok {
        let got = rows(
            &request(&[server(0, 1, &format!(r#","status":{status}"#))]),
            &Options::default(),
        );
        assert!(got[0].3, "{status}");
    }
    let error_2 = rows(
        &request(&[server(0, 1, r#","status":{"code":2}"#)]),
        &Options::default(),
    );
    assert!(!error_2[0].3);
}

#[test]
fn a_failing_sink_stops_the_reading_with_its_own_error() {
    let text = request(&[server(0, 1, ""), server(1, 2, "")]);
    let mut calls = 0;
    let e = read(text.as_bytes(), &Options::default(), &mut |_| {
        calls += 1;
        Err(TraceError::Malformed {
            line: 99,
            message: "disk full".into(),
        })
    })
    .unwrap_err();
    assert_eq!((e.to_string(), calls), ("line 99: disk full".into(), 1));
}

#[test]
fn ids_are_hex_or_base64_of_their_length() {
    for ok in [
        "eee19b7ec3c1b174",
        "EEE19B7EC3C1B174",
        "7uGbfsPBsXQ=",
        "7uGbfsPBsXQ",
        "-_-_-_-_-_A",
    ] {
        assert!(span::is_id(ok, 8), "{ok}");
    }
    for bad in [
        "eee19b7ec3c1b17",
        "eee19b7ec3c1b1745",
        "7uGbfsPBsX",
        "7uGbfsPBsXQ==",
        "7uGbfs*BsXQ=",
        "",
    ] {
        assert!(!span::is_id(bad, 8), "{bad}");
    }
    assert!(span::is_id(TRACE, 16) && span::is_id("W47/95gDgQPSabYzgT/GDA==", 16));
    assert!(!span::is_id(SPAN, 16));
}
