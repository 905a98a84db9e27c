//! The document both Prometheus importers read: a `query_range` response
//! (`{status, data: {resultType: "matrix", result: [...]}}`, or a bare
//! `{resultType, result}`), its series and their `[epoch, "value"]` pairs.
//! The gauges (`prometheus.rs`) and the latency histograms
//! (`prometheus_histogram.rs`) build on it.

use std::io::Read;

use super::TraceError;

/// One `[epoch_seconds, "value"]` pair of series `k`.
pub(super) fn sample(
    pair: &serde_json::Value,
    k: usize,
    j: usize,
) -> Result<(f64, f64), TraceError> {
    let (Some(t), Some(raw)) = (pair[0].as_f64(), pair[1].as_str()) else {
        return Err(invalid(format!(
            "series {k}, sample {j}: expected [epoch_seconds, \"value\"], found {pair}"
        )));
    };
    let v = raw.parse::<f64>().map_err(|_| {
        invalid(format!(
            "series {k}, sample {j}: value {raw:?} is not a number"
        ))
    })?;
    if !(0.0..1e15).contains(&t) {
        return Err(invalid(format!(
            "series {k}, sample {j}: timestamp {} is not epoch seconds",
            crate::words::readable(t)
        )));
    }
    Ok((t, v))
}

/// The samples of series `k`'s `values` as (index, epoch seconds,
/// value), in time order. A timestamp given twice (as concatenated or
/// federated exports have) is read once when both values agree (NaN
/// agreeing with NaN), as Prometheus itself ingests a repeated sample;
/// two different values at one time are refused, naming both samples.
pub(super) fn samples(
    values: &[serde_json::Value],
    k: usize,
) -> Result<Vec<(usize, f64, f64)>, TraceError> {
    let mut out = values
        .iter()
        .enumerate()
        .map(|(j, pair)| sample(pair, k, j).map(|(t, v)| (j, t, v)))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut clash = None;
    out.dedup_by(|b, a| {
        let same_time = a.1 == b.1;
        if same_time && a.2.to_bits() != b.2.to_bits() && a.2 != b.2 && clash.is_none() {
            clash = Some((a.0.min(b.0), a.0.max(b.0), a.1, a.2, b.2));
        }
        same_time
    });
    match clash {
        None => Ok(out),
        Some((i, j, t, a, b)) => Err(invalid(format!(
            "series {k}, samples {i} and {j}: two values ({} and {}) at one time, {} s; a series has one value per timestamp",
            crate::words::readable(a.min(b)),
            crate::words::readable(a.max(b)),
            crate::words::readable(t),
        ))),
    }
}

/// The JSON of a query_range response.
pub(super) fn parse<R: Read>(input: R) -> Result<serde_json::Value, TraceError> {
    serde_json::from_reader(input).map_err(|e| TraceError::Malformed {
        line: e.line() as u64,
        message: format!("not valid JSON at column {} ({e})", e.column()),
    })
}

/// The series of a query_range response (`data.result` of a matrix, or a
/// bare `{resultType, result}`), or why it is not one.
pub(super) fn matrix(v: &serde_json::Value) -> Result<&Vec<serde_json::Value>, TraceError> {
    if let Some(status) = v["status"].as_str()
        && status != "success"
    {
        return Err(invalid(format!(
            "the query failed: status `{status}`, error {}",
            v["error"]
        )));
    }
    let data = if v.get("data").is_some() {
        &v["data"]
    } else {
        v
    };
    match data["resultType"].as_str() {
        Some("matrix") => {}
        other => {
            return Err(invalid(format!(
                "expected `\"resultType\": \"matrix\"` (a query_range result), found {}",
                other.map_or("none".to_string(), |s| format!("`{s}`"))
            )));
        }
    }
    data["result"]
        .as_array()
        .ok_or_else(|| invalid("`data.result` is not an array".into()))
}

/// A query_range result that is not what it should be.
pub(super) fn invalid(problem: String) -> TraceError {
    TraceError::Format {
        format: "prometheus",
        problem,
    }
}
