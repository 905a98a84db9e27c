//! A Prometheus latency histogram (`NAME_bucket{le}`, `NAME_sum`,
//! `NAME_count`, as `query_range` returns the raw counters, e.g. of
//! `{__name__=~"http_request_duration_seconds_(bucket|sum|count)"}` with a
//! step of the interval wanted) → interval-level rows
//! ([`crate::trace::interval_input`]), one class per value of a label.
//!
//! The counters are cumulative: between two successive steps of a class,
//! the increase of `_count` is the requests completed and the increase of
//! `_sum` their total time, so the interval means are exact (a counter
//! that goes down was reset: its new value is the increase, as Prometheus'
//! `increase` reads it). Series that differ only in other labels (the
//! method, the instance) are added up. The buckets give each class's
//! percentiles over the whole file (linear within a bucket, as
//! `histogram_quantile` reads them); they are checked to be a whole
//! histogram: a `+Inf` bucket equal to `_count`, counts that never fall as
//! `le` rises.

use std::collections::BTreeMap;
use std::io::Read;

use super::prometheus_matrix::{invalid, matrix, parse, samples};
use super::{ClassSummary, IntervalSink, TraceError};
use crate::trace::{IntervalRecord, Labels};

/// The counters of one class: per step time (milliseconds, exact keys).
#[derive(Default)]
struct Counters {
    count: BTreeMap<i64, f64>,
    sum: BTreeMap<i64, f64>,
    /// Per bucket bound (its bits, so that +Inf is a key too).
    buckets: BTreeMap<u64, BTreeMap<i64, f64>>,
}

/// Reads the histogram and hands every interval of every class to `sink`;
/// returns each class's figures over the file, in class order.
///
/// # Errors
/// Not a query_range matrix, a series of another metric or without
/// `class_label` (or `le` on a bucket), a class without `_count`, `_sum`
/// or a `+Inf` bucket, buckets that are not a histogram.
pub fn read<R: Read>(
    input: R,
    class_label: &str,
    sink: &mut IntervalSink<'_>,
) -> Result<Vec<ClassSummary>, TraceError> {
    let v = parse(input)?;
    let classes = collect(matrix(&v)?, class_label)?;
    let mut labels = Labels::new();
    let mut out = Vec::new();
    for (class, c) in &classes {
        check(class, c)?;
        let id = labels.intern(class);
        for (t0, t1, n) in increases(&c.count) {
            if n <= 0.0 {
                continue;
            }
            // The same steps of `_sum` (a scrape may be missing from one).
            let (Some(&a), Some(&b)) = (c.sum.get(&t0), c.sum.get(&t1)) else {
                return Err(invalid(format!(
                    "class `{class}`: `_sum` has no sample at {} s or {} s where `_count` has",
                    t0 as f64 / 1000.0,
                    t1 as f64 / 1000.0
                )));
            };
            let total = if b >= a { b - a } else { b };
            let row = IntervalRecord {
                end: t1 as f64 / 1000.0,
                width: (t1 - t0) as f64 / 1000.0,
                class: id,
                completions: n.round() as u64,
                failures: 0,
                mean_response_s: Some(total / n),
            };
            sink(&row, class)?;
        }
        out.push(summary(class, c));
    }
    Ok(out)
}

/// Every series of the file, added up per class and counter.
fn collect(
    series: &[serde_json::Value],
    class_label: &str,
) -> Result<BTreeMap<String, Counters>, TraceError> {
    let mut classes: BTreeMap<String, Counters> = BTreeMap::new();
    for (k, s) in series.iter().enumerate() {
        let metric = &s["metric"];
        let name = metric["__name__"].as_str().unwrap_or("");
        let Some(class) = metric[class_label].as_str() else {
            return Err(invalid(format!(
                "series {k} has no `{class_label}` label (labels: {metric}); name the label that tells the classes apart with --class-label"
            )));
        };
        let c = classes.entry(class.to_string()).or_default();
        let target = if name.ends_with("_count") {
            &mut c.count
        } else if name.ends_with("_sum") {
            &mut c.sum
        } else if name.ends_with("_bucket") {
            let le = match metric["le"].as_str() {
                Some("+Inf") => f64::INFINITY,
                Some(b) => b.parse::<f64>().map_err(|_| {
                    invalid(format!(
                        "series {k}: bucket bound `le=\"{b}\"` is not a number"
                    ))
                })?,
                None => return Err(invalid(format!("series {k}: a bucket without `le`"))),
            };
            c.buckets.entry(le.to_bits()).or_default()
        } else {
            return Err(invalid(format!(
                "series {k} is `{name}`, not a histogram's `_bucket`, `_sum` or `_count` (query them with {{__name__=~\"NAME_(bucket|sum|count)\"}})"
            )));
        };
        let values = s["values"]
            .as_array()
            .ok_or_else(|| invalid(format!("series {k} has no `values` array")))?;
        for (_, t, v) in samples(values, k)? {
            if !v.is_nan() {
                *target.entry((t * 1000.0).round() as i64).or_insert(0.0) += v;
            }
        }
    }
    Ok(classes)
}

/// (previous step, step, increase) of a counter, resets read as Prometheus
/// reads them.
fn increases(series: &BTreeMap<i64, f64>) -> Vec<(i64, i64, f64)> {
    series
        .iter()
        .zip(series.iter().skip(1))
        .map(|((&t0, &a), (&t1, &b))| (t0, t1, if b >= a { b - a } else { b }))
        .collect()
}

/// Refuses a class whose histogram is incomplete.
fn check(class: &str, c: &Counters) -> Result<(), TraceError> {
    let problem = |what: String| invalid(format!("class `{class}`: {what}"));
    if c.count.is_empty() || c.sum.is_empty() {
        return Err(problem(
            "no `_count` or no `_sum` series; the histogram needs both".into(),
        ));
    }
    let Some(inf) = c.buckets.get(&f64::INFINITY.to_bits()) else {
        let found: Vec<String> = c
            .buckets
            .keys()
            .map(|b| format!("{}", f64::from_bits(*b)))
            .collect();
        return Err(problem(format!(
            "no `le=\"+Inf\"` bucket, so buckets are missing (found le = {}); query every bucket",
            if found.is_empty() {
                "none".to_string()
            } else {
                found.join(", ")
            }
        )));
    };
    for (t, n) in &c.count {
        if inf.get(t).is_some_and(|b| (b - n).abs() > 0.5) {
            return Err(problem(format!(
                "at {} s the `+Inf` bucket holds {} requests but `_count` {n}; buckets are missing or from another query",
                *t as f64 / 1000.0,
                inf[t]
            )));
        }
    }
    let mut bounds: Vec<f64> = c.buckets.keys().map(|b| f64::from_bits(*b)).collect();
    bounds.sort_by(f64::total_cmp);
    for w in bounds.windows(2) {
        let (lo, hi) = (&c.buckets[&w[0].to_bits()], &c.buckets[&w[1].to_bits()]);
        if let Some((t, a)) = lo.iter().find(|(t, a)| hi.get(t).is_some_and(|b| *a > b)) {
            return Err(problem(format!(
                "at {} s bucket le={} holds {a} but le={} fewer, {}; a histogram's buckets never fall",
                *t as f64 / 1000.0,
                w[0],
                w[1],
                hi[t]
            )));
        }
    }
    Ok(())
}

/// The class's requests, mean and percentiles over the whole file.
fn summary(class: &str, c: &Counters) -> ClassSummary {
    let total = |s: &BTreeMap<i64, f64>| increases(s).iter().map(|x| x.2).sum::<f64>();
    let n = total(&c.count);
    let mut bounds: Vec<(f64, f64)> = c
        .buckets
        .iter()
        .map(|(b, s)| (f64::from_bits(*b), total(s)))
        .collect();
    bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let quantile = |p: f64| -> Option<f64> {
        if n <= 0.0 {
            return None;
        }
        let rank = p * n;
        let (mut lo, mut below) = (0.0, 0.0);
        for &(le, count) in &bounds {
            if count >= rank {
                // In the +Inf bucket: the highest finite bound, as
                // histogram_quantile answers.
                if le.is_infinite() {
                    return Some(lo);
                }
                let inside = count - below;
                let frac = if inside > 0.0 {
                    (rank - below) / inside
                } else {
                    1.0
                };
                return Some(lo + (le - lo) * frac);
            }
            (lo, below) = (le, count);
        }
        None
    };
    ClassSummary {
        class: class.to_string(),
        requests: n.round() as u64,
        mean_s: (n > 0.0).then(|| total(&c.sum) / n),
        percentiles_s: [quantile(0.5), quantile(0.95), quantile(0.99)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One class `rate`: at t = 10 s nothing, at 11 s 4 requests (3 under
    /// 10 ms, 1 under 20 ms) summing 0.05 s, at 12 s 4 more (all under
    /// 10 ms) summing 0.02 s.
    fn doc(inf: &str) -> String {
        let series = |name: &str, le: Option<&str>, v: [&str; 3]| {
            let le = le.map(|l| format!(", \"le\": \"{l}\"")).unwrap_or_default();
            format!(
                "{{\"metric\": {{\"__name__\": \"{name}\", \"handler\": \"rate\", \"method\": \"GET\"{le}}}, \"values\": [[10, \"{}\"], [11, \"{}\"], [12, \"{}\"]]}}",
                v[0], v[1], v[2]
            )
        };
        let mut s = vec![
            series("lat_count", None, ["0", "4", "8"]),
            series("lat_sum", None, ["0", "0.05", "0.07"]),
            series("lat_bucket", Some("0.01"), ["0", "3", "7"]),
            series("lat_bucket", Some("0.02"), ["0", "4", "8"]),
        ];
        if !inf.is_empty() {
            s.push(series("lat_bucket", Some("+Inf"), ["0", inf, "8"]));
        }
        format!(
            "{{\"status\": \"success\", \"data\": {{\"resultType\": \"matrix\", \"result\": [{}]}}}}",
            s.join(", ")
        )
    }

    fn rows(text: &str) -> Result<(Vec<IntervalRecord>, Vec<ClassSummary>), TraceError> {
        let mut v = Vec::new();
        let h = read(text.as_bytes(), "handler", &mut |r, _| {
            v.push(*r);
            Ok(())
        })?;
        Ok((v, h))
    }

    #[test]
    fn increases_give_the_interval_means_and_buckets_the_percentiles() {
        let (v, h) = rows(&doc("4")).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].end, v[0].width, v[0].completions), (11.0, 1.0, 4));
        assert!((v[0].mean_response_s.unwrap() - 0.0125).abs() < 1e-12);
        assert!((v[1].mean_response_s.unwrap() - 0.005).abs() < 1e-12);
        let h = &h[0];
        assert_eq!((h.class.as_str(), h.requests), ("rate", 8));
        assert!((h.mean_s.unwrap() - 0.07 / 8.0).abs() < 1e-12);
        // 7 of 8 under 10 ms: the median at 0.01 * 4/7, p95 (rank 7.6) at
        // 0.01 + 0.01 * 0.6 in the next bucket.
        assert!((h.percentiles_s[0].unwrap() - 0.01 * 4.0 / 7.0).abs() < 1e-12);
        assert!((h.percentiles_s[1].unwrap() - 0.016).abs() < 1e-12);
    }

    #[test]
    fn a_histogram_without_its_inf_bucket_or_with_falling_buckets_is_refused() {
        let err = rows(&doc("")).unwrap_err().to_string();
        assert!(
            err.contains("class `rate`: no `le=\"+Inf\"` bucket, so buckets are missing (found le = 0.01, 0.02)"),
            "{err}"
        );
        let err = rows(&doc("3")).unwrap_err().to_string();
        assert!(
            err.contains("at 11 s the `+Inf` bucket holds 3 requests but `_count` 4"),
            "{err}"
        );
        let gap = doc("4").replace(
            "[[10, \"0\"], [11, \"0.05\"], [12, \"0.07\"]]",
            "[[10, \"0\"], [12, \"0.07\"]]",
        );
        let err = rows(&gap).unwrap_err().to_string();
        assert!(
            err.contains("class `rate`: `_sum` has no sample at 10 s or 11 s"),
            "{err}"
        );
        let falling = doc("4").replace("[11, \"3\"]", "[11, \"5\"]");
        let err = rows(&falling).unwrap_err().to_string();
        assert!(
            err.contains("bucket le=0.01 holds 5 but le=0.02 fewer, 4"),
            "{err}"
        );
    }
}
