//! The held-out errors summarised: median and largest |error|, and their
//! quantiles by how far the run's load lies beyond its fit's.

use serde::Serialize;

use super::{Position, RunRow};
use crate::stats::quantile_sorted as quantile;

/// The errors of a set of predicted runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorSummary {
    /// Runs with an error.
    pub runs: usize,
    /// Median |error|.
    pub median_abs_error: Option<f64>,
    /// Largest |error|.
    pub max_abs_error: Option<f64>,
    /// By distance in load beyond the fit runs' (empty bins left out).
    pub by_distance: Vec<DistanceBin>,
}

/// The errors of the runs at one distance in load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DistanceBin {
    /// The distance, in words.
    pub distance: String,
    /// Runs.
    pub runs: usize,
    /// Median |error|.
    pub median_abs_error: f64,
    /// 90th percentile of |error| (linear interpolation).
    pub p90_abs_error: f64,
    /// Largest |error|.
    pub max_abs_error: f64,
}

/// The bins: below the fit's loads, inside, and beyond by up to 0.1, 0.1
/// to 0.2, more than 0.2 of utilization.
const BINS: [&str; 5] = [
    "below the fit's loads",
    "inside the fit's loads",
    "beyond by ≤ 0.1",
    "beyond by 0.1–0.2",
    "beyond by > 0.2",
];

fn bin(r: &RunRow) -> Option<usize> {
    Some(match (r.position?, r.distance?) {
        (Position::Below, _) => 0,
        (Position::Inside, _) => 1,
        (Position::Beyond, d) if d <= 0.1 => 2,
        (Position::Beyond, d) if d <= 0.2 => 3,
        (Position::Beyond, _) => 4,
    })
}

fn sorted_abs(rows: &[&RunRow]) -> Vec<f64> {
    let mut v: Vec<f64> = rows.iter().filter_map(|r| r.error).map(f64::abs).collect();
    v.sort_by(f64::total_cmp);
    v
}

impl ErrorSummary {
    /// The summary of `rows`' errors.
    pub fn of(rows: &[RunRow]) -> Self {
        let all = sorted_abs(&rows.iter().collect::<Vec<_>>());
        let by_distance = BINS
            .iter()
            .enumerate()
            .filter_map(|(b, name)| {
                let v = sorted_abs(
                    &rows
                        .iter()
                        .filter(|r| bin(r) == Some(b))
                        .collect::<Vec<_>>(),
                );
                (!v.is_empty()).then(|| DistanceBin {
                    distance: (*name).to_string(),
                    runs: v.len(),
                    median_abs_error: quantile(&v, 0.5),
                    p90_abs_error: quantile(&v, 0.9),
                    max_abs_error: v[v.len() - 1],
                })
            })
            .collect();
        Self {
            runs: all.len(),
            median_abs_error: (!all.is_empty()).then(|| quantile(&all, 0.5)),
            max_abs_error: all.last().copied(),
            by_distance,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Role;

    fn run(error: f64, position: Position, distance: f64) -> RunRow {
        let mut r = RunRow::empty("r", Role::HeldOut, None);
        r.error = Some(error);
        r.position = Some(position);
        r.distance = Some(distance);
        r
    }

    #[test]
    fn errors_are_summarised_overall_and_by_distance_in_load() {
        let rows = [
            run(0.02, Position::Inside, 0.0),
            run(-0.04, Position::Inside, 0.0),
            run(0.1, Position::Beyond, 0.05),
            run(-0.3, Position::Beyond, 0.25),
        ];
        let s = ErrorSummary::of(&rows);
        assert_eq!(s.runs, 4);
        assert!((s.median_abs_error.unwrap() - 0.07).abs() < 1e-12);
        assert_eq!(s.max_abs_error, Some(0.3));
        let names: Vec<&str> = s.by_distance.iter().map(|b| b.distance.as_str()).collect();
        assert_eq!(
            names,
            [
                "inside the fit's loads",
                "beyond by ≤ 0.1",
                "beyond by > 0.2"
            ]
        );
        let inside = &s.by_distance[0];
        assert!((inside.median_abs_error - 0.03).abs() < 1e-12);
        assert!((inside.p90_abs_error - 0.038).abs() < 1e-12);
        assert_eq!(inside.max_abs_error, 0.04);
    }
}
