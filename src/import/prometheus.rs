//! Prometheus `query_range` results (matrix JSON), for example of
//! `1 - avg by(instance)(rate(node_cpu_seconds_total{mode="idle"}[2m]))`.
//!
//! Each series becomes one resource, named by the label chosen
//! (`instance` by default). Timestamps are float epoch seconds at the end
//! of each step; values are strings; `NaN` samples are skipped.

use std::io::Read;

use super::prometheus_matrix::{invalid, matrix, parse, samples};
use super::{
    Imported, Importer, Note, Opt, OptionError, Reader, TraceError, UtilSink, Values,
    prometheus_histogram,
};
use crate::trace::UtilSample;

/// The importer of Prometheus' range queries: utilization, or with
/// `histogram` a latency histogram ([`prometheus_histogram`]).
#[derive(Debug)]
pub struct Prometheus;

const RESOURCE_LABEL: Opt = Opt::text(
    "resource-label",
    "LABEL",
    "The label naming the resource of each series.",
)
.default("instance");
const HISTOGRAM: Opt = Opt::switch(
    "histogram",
    "The file is a latency histogram (`_bucket`, `_sum`, `_count` counters) → interval-level \
     intervals.csv.",
);
const CLASS_LABEL: Opt = Opt::text(
    "class-label",
    "LABEL",
    "With --histogram: the label naming the class of each series.",
)
.default("handler");

impl Importer for Prometheus {
    /// A JSON document is often one line.
    fn max_line(&self) -> u64 {
        crate::trace::MAX_DOCUMENT_BYTES
    }

    fn name(&self) -> &'static str {
        "prometheus"
    }

    fn about(&self) -> &'static str {
        "Prometheus query_range matrix JSON → utilization; with --histogram, a latency \
         histogram → interval-level intervals.csv."
    }

    fn options(&self) -> &'static [Opt] {
        &[RESOURCE_LABEL, HISTOGRAM, CLASS_LABEL]
    }

    fn configure(&self, values: &Values) -> Result<Reader, OptionError> {
        if values.is_set(&HISTOGRAM) {
            let label = values.required_text(&CLASS_LABEL)?.to_string();
            return Ok(Reader::intervals(move |input, _, sink| {
                let mut rows = 0;
                let classes = prometheus_histogram::read(input, &label, &mut |r, class| {
                    rows += 1;
                    sink(r, class)
                })?;
                Ok(Imported {
                    records: rows,
                    notes: classes.into_iter().map(Note::Class).collect(),
                })
            }));
        }
        let label = values.required_text(&RESOURCE_LABEL)?.to_string();
        Ok(Reader::utilization(move |input, _, sink| {
            read(input, &label, sink).map(Imported::from)
        }))
    }
}

/// Reads a whole response (monitoring exports are small) and streams the
/// samples into `sink`; returns the number imported.
///
/// # Errors
/// Invalid JSON (with its line and column), a result type other than
/// `matrix`, a series without the resource label, values outside 0–1.
pub fn read<R: Read>(
    input: R,
    resource_label: &str,
    sink: &mut UtilSink<'_>,
) -> Result<u64, TraceError> {
    let v = parse(input)?;
    let series = matrix(&v)?;
    let mut read: Vec<(String, Vec<(f64, f64)>)> = Vec::with_capacity(series.len());
    // A range query has one step for every series (the smallest spacing
    // of any series' samples, NaN ones included): a series of a single
    // sample is written with it, so that the file can be read back (its
    // own spacing cannot give it).
    let mut step = f64::INFINITY;
    for (k, s) in series.iter().enumerate() {
        let mut last_t: Option<f64> = None;
        let resource = match s["metric"][resource_label].as_str() {
            Some(r) => r.to_string(),
            None if series.len() == 1 => "cpu".to_string(),
            None => {
                return Err(invalid(format!(
                    "series {k} has no `{resource_label}` label (labels: {}); choose the label that names the resource",
                    s["metric"]
                )));
            }
        };
        let values = s["values"]
            .as_array()
            .ok_or_else(|| invalid(format!("series {k} has no `values` array")))?;
        let mut kept = Vec::new();
        for (j, t, u) in samples(values, k)? {
            if let Some(p) = last_t.replace(t)
                && t > p
            {
                step = step.min(t - p);
            }
            if u.is_nan() {
                continue;
            }
            if !(-1e-6..=1.0 + 1e-6).contains(&u) {
                return Err(invalid(format!(
                    "series {k} (`{resource}`), sample {j}: utilization {u} is outside 0–1; export a fraction, not percent"
                )));
            }
            kept.push((t, u.clamp(0.0, 1.0)));
        }
        read.push((resource, kept));
    }
    let mut n = 0;
    for (resource, kept) in read {
        let interval = match kept.len() {
            1 if step.is_finite() => Some(step),
            1 => {
                return Err(invalid(format!(
                    "series `{resource}` has a single sample and no series has two: the sampling interval cannot be known; export a range of two samples or more"
                )));
            }
            _ => None,
        };
        for (t, u) in kept {
            sink(UtilSample {
                timestamp: t,
                utilization: u,
                resource: resource.clone(),
                interval,
            })?;
            n += 1;
        }
    }
    Ok(n)
}
