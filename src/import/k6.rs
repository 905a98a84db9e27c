//! k6 results: `--out csv=FILE` and `--out json=FILE` (NDJSON).
//!
//! Only `http_req_duration` samples are used (sending + waiting +
//! receiving, in milliseconds). k6 stamps a sample when the request ends,
//! so start = time − duration. CSV timestamps are whole epoch seconds
//! unless `K6_CSV_TIME_FORMAT=unix_milli` (detected by magnitude) or RFC
//! 3339. The class is the `name` tag (the URL unless renamed), and a
//! status of 0 or ≥ 400 is a failure (k6's default expected statuses are
//! 200–399).

use std::io::BufRead;

use super::{
    Imported, Importer, OptionError, Reader, RequestRow, RequestSink, TraceError, Values,
    check_duration, epoch_auto, rfc3339,
};
use crate::trace::{HeaderProblem, parse_f64};

/// The importer of k6's results.
#[derive(Debug)]
pub struct K6;

impl Importer for K6 {
    fn name(&self) -> &'static str {
        "k6"
    }

    fn about(&self) -> &'static str {
        "k6 `--out csv` or `--out json` (NDJSON) → requests."
    }

    fn configure(&self, _: &Values) -> Result<Reader, OptionError> {
        Ok(Reader::requests(false, |input, _, sink| {
            read(input, sink).map(Imported::from)
        }))
    }
}

const METRIC: &str = "http_req_duration";

fn status_ok(status: &str) -> bool {
    match status.trim().parse::<u32>() {
        Ok(s) => (1..400).contains(&s),
        Err(_) => status.trim().is_empty(),
    }
}

/// Streams a k6 CSV or NDJSON file (detected from its first byte) into
/// `sink`; returns the number of requests imported.
///
/// # Errors
/// A missing column or a malformed value, with its line.
pub fn read<R: BufRead>(mut input: R, sink: &mut RequestSink<'_>) -> Result<u64, TraceError> {
    let first = loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Err(TraceError::Empty {
                what: "k6",
                expected:
                    "a CSV with a `metric_name,timestamp,metric_value,...` header or NDJSON points"
                        .into(),
            });
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break buf[i],
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    };
    if first == b'{' {
        read_json(input, sink)
    } else {
        read_csv(input, sink)
    }
}

fn read_csv<R: BufRead>(input: R, sink: &mut RequestSink<'_>) -> Result<u64, TraceError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header = csv.byte_headers().map_err(TraceError::from_csv)?.clone();
    let col = |name: &str| header.iter().position(|h| h == name.as_bytes());
    let need = |name: &str| {
        col(name).ok_or_else(|| TraceError::Header {
            problem: HeaderProblem::MissingColumn(name.to_string()),
            expected: "k6's CSV header `metric_name,timestamp,metric_value,check,error,error_code,group,method,name,proto,scenario,status,...`".into(),
            found: None,
        })
    };
    let (metric, ts, value) = (
        need("metric_name")?,
        need("timestamp")?,
        need("metric_value")?,
    );
    let (name, url, status) = (col("name"), col("url"), col("status"));
    let mut rec = csv::ByteRecord::new();
    let mut n = 0;
    let field = |rec: &csv::ByteRecord, i: Option<usize>| -> String {
        i.and_then(|i| rec.get(i))
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    };
    while csv
        .read_byte_record(&mut rec)
        .map_err(TraceError::from_csv)?
    {
        if rec.get(metric) != Some(METRIC.as_bytes()) {
            continue;
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let raw_ts = rec.get(ts).unwrap_or_default();
        let end = match parse_f64(raw_ts) {
            Some(v) if v.is_finite() && v >= 0.0 => epoch_auto(v),
            _ => std::str::from_utf8(raw_ts)
                .ok()
                .and_then(rfc3339)
                .ok_or_else(|| {
                    TraceError::bad_value(
                        line,
                        "timestamp",
                        raw_ts,
                        "epoch seconds, epoch milliseconds or an RFC 3339 time",
                    )
                })?,
        };
        let raw_v = rec.get(value).unwrap_or_default();
        let ms = parse_f64(raw_v)
            .ok_or_else(|| TraceError::bad_value(line, "metric_value", raw_v, "milliseconds"))?;
        let rt = check_duration(
            ms / 1000.0,
            line,
            "metric_value",
            &String::from_utf8_lossy(raw_v),
        )?;
        let mut class = field(&rec, name);
        if class.is_empty() {
            class = field(&rec, url);
        }
        sink(RequestRow {
            start: (end - rt).max(0.0),
            response_time: rt,
            class: if class.is_empty() { "default" } else { &class },
            success: status_ok(&field(&rec, status)),
            ..RequestRow::default()
        })?;
        n += 1;
    }
    Ok(n)
}

fn read_json<R: BufRead>(input: R, sink: &mut RequestSink<'_>) -> Result<u64, TraceError> {
    let mut n = 0;
    for (i, line) in input.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| TraceError::Malformed {
                line: line_no,
                message: format!("not a k6 JSON object ({e})"),
            })?;
        if v["type"] != "Point" || v["metric"] != METRIC {
            continue;
        }
        let data = &v["data"];
        let time = data["time"].as_str().and_then(rfc3339).ok_or_else(|| {
            TraceError::bad_value(
                line_no,
                "data.time",
                data["time"].to_string().as_bytes(),
                "an RFC 3339 time",
            )
        })?;
        let ms = data["value"].as_f64().ok_or_else(|| {
            TraceError::bad_value(
                line_no,
                "data.value",
                data["value"].to_string().as_bytes(),
                "milliseconds",
            )
        })?;
        let rt = check_duration(
            ms / 1000.0,
            line_no,
            "data.value",
            &data["value"].to_string(),
        )?;
        let tags = &data["tags"];
        let class = tags["name"]
            .as_str()
            .or(tags["url"].as_str())
            .unwrap_or("default");
        let status = match &tags["status"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(x) => x.to_string(),
            _ => String::new(),
        };
        sink(RequestRow {
            start: (time - rt).max(0.0),
            response_time: rt,
            class,
            success: status_ok(&status),
            ..RequestRow::default()
        })?;
        n += 1;
    }
    Ok(n)
}
