//! The aggregated trace: per interval and class, what arrived, completed
//! and was in the system; per interval and resource, the utilization;
//! the whole trace's summary. Built by [`super::Aggregator`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::util_series::Grid;
use super::{Arrivals, TraceError};

/// Per-class figures of one interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassStats {
    /// Requests that started in the interval.
    pub arrivals: u64,
    /// Requests that completed in the interval.
    pub completions: u64,
    /// Completions per second.
    pub throughput: f64,
    /// Mean response time (s) of the requests completing in the interval;
    /// `None` when none did.
    pub mean_response_s: Option<f64>,
    /// Time-average number of requests of the class in the system during
    /// the interval (from their start and end times).
    pub mean_in_system: f64,
}

/// One interval `(start, end]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Start (exclusive), seconds.
    pub start: f64,
    /// End (inclusive), seconds.
    pub end: f64,
    /// Indexed like [`IntervalTable::classes`].
    pub classes: Vec<ClassStats>,
    /// Per class, what its requests that started in this interval found
    /// and how long they took; `None` for a class without arrivals here.
    pub arrived: Vec<Option<Arrivals>>,
    /// Time-weighted utilization (fraction) per resource, indexed like
    /// [`IntervalTable::resources`]; `None` where samples do not cover it.
    pub utilization: Vec<Option<f64>>,
    /// Whether some resource's utilization is ≥ 0.99.
    pub saturated: bool,
}

/// Response-time statistics of the requests used (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ResponseSummary {
    /// Mean.
    pub mean_response_s: Option<f64>,
    /// Median (±0.5 %).
    pub p50_response_s: Option<f64>,
    /// 90th percentile (±0.5 %).
    pub p90_response_s: Option<f64>,
    /// 95th percentile (±0.5 %).
    pub p95_response_s: Option<f64>,
    /// 99th percentile (±0.5 %).
    pub p99_response_s: Option<f64>,
    /// Maximum.
    pub max_response_s: Option<f64>,
}

/// Whole-trace summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSummary {
    /// Rows read.
    pub requests: u64,
    /// Rows with `success = false`.
    pub failed: u64,
    /// Rows aggregated (all, or the successful ones).
    pub used: u64,
    /// Earliest start, seconds.
    pub first_start_s: Option<f64>,
    /// Latest completion, seconds.
    pub last_end_s: Option<f64>,
    /// Latest completion minus earliest start, seconds.
    pub duration_s: f64,
    /// Response-time statistics.
    #[serde(flatten)]
    pub response: ResponseSummary,
    /// Time-weighted mean utilization per resource.
    pub mean_utilization: BTreeMap<String, f64>,
    /// Number of intervals.
    pub intervals: usize,
    /// Intervals with some utilization ≥ 0.99.
    pub saturated_intervals: usize,
    /// Who sent the requests, when the traces have the `user_class`,
    /// `user` or `session` columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origins: Option<OriginSummary>,
}

/// What the `user_class`, `user` and `session` columns held.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct OriginSummary {
    /// The user classes, in order of appearance.
    pub user_classes: Vec<String>,
    /// Distinct users.
    pub users: usize,
    /// Distinct sessions.
    pub sessions: usize,
    /// Per present column: rows that left it empty (0 when none did).
    pub empty_rows: BTreeMap<String, u64>,
}

/// The aggregated trace.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalTable {
    /// The grid used.
    pub grid: Grid,
    /// Class names.
    pub classes: Vec<String>,
    /// Resource names.
    pub resources: Vec<String>,
    /// Intervals in time order, without holes.
    pub intervals: Vec<Interval>,
    /// Whole-trace summary.
    pub summary: TraceSummary,
}

/// One output row: an interval and a class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalRow<'a> {
    /// Start (exclusive), seconds.
    pub start: f64,
    /// End (inclusive), seconds.
    pub end: f64,
    /// Class name.
    pub class: &'a str,
    /// Requests started in the interval.
    pub arrivals: u64,
    /// Requests completed in the interval.
    pub completions: u64,
    /// Completions per second.
    pub throughput: f64,
    /// Mean response time, seconds (null when none completed).
    pub mean_response_s: Option<f64>,
    /// Time-average requests in the system.
    pub mean_in_system: f64,
    /// Utilization per resource (null when not covered).
    pub utilization: BTreeMap<&'a str, Option<f64>>,
    /// Some resource ≥ 0.99.
    pub saturated: bool,
}

impl IntervalTable {
    /// Column of resource `name` in each interval's `utilization`.
    ///
    /// # Errors
    /// An unknown resource; the message lists the known ones.
    pub fn resource_index(&self, name: &str) -> Result<usize, TraceError> {
        self.resources
            .iter()
            .position(|x| x == name)
            .ok_or_else(|| TraceError::UnknownResource {
                name: name.to_string(),
                known: self.resources.clone(),
            })
    }

    /// Flattens to one row per interval and class.
    pub fn rows(&self) -> impl Iterator<Item = IntervalRow<'_>> {
        self.intervals.iter().flat_map(move |iv| {
            iv.classes
                .iter()
                .zip(&self.classes)
                .map(move |(c, name)| IntervalRow {
                    start: iv.start,
                    end: iv.end,
                    class: name,
                    arrivals: c.arrivals,
                    completions: c.completions,
                    throughput: c.throughput,
                    mean_response_s: c.mean_response_s,
                    mean_in_system: c.mean_in_system,
                    utilization: self
                        .resources
                        .iter()
                        .map(String::as_str)
                        .zip(iv.utilization.iter().copied())
                        .collect(),
                    saturated: iv.saturated,
                })
        })
    }
}
