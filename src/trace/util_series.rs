//! Utilization samples as series per resource, and the interval grid
//! they and the requests are aggregated on.
//!
//! A sample covers `(timestamp - span, timestamp]`; its span is the
//! file's `interval` column or, when absent, the median spacing of the
//! resource's samples. Means over an interval are time-weighted.

use serde::Serialize;

use super::{TraceError, UtilSample};

/// An interval grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Grid {
    /// Start (exclusive) of interval 0, seconds.
    pub origin: f64,
    /// Interval length, seconds.
    pub width: f64,
    /// Whether `origin` itself belongs to interval 0 (a grid anchored on
    /// the first request must not leave that request outside it).
    #[serde(skip)]
    pub closed_origin: bool,
}

impl Grid {
    /// Interval index of time `t`.
    #[inline]
    pub fn index(&self, t: f64) -> i64 {
        if self.closed_origin && t == self.origin {
            return 0;
        }
        // Clamped to ±2^61 so that differences of indices never overflow:
        // absurd times (1e60 s) then land in far-off intervals, and
        // `finish` refuses the span instead of wrapping around.
        const FAR: f64 = (1u64 << 61) as f64;
        (((t - self.origin) / self.width).ceil() - 1.0).clamp(-FAR, FAR) as i64
    }

    /// `(start, end]` of interval `k`.
    pub fn bounds(&self, k: i64) -> (f64, f64) {
        (
            self.origin + k as f64 * self.width,
            self.origin + (k + 1) as f64 * self.width,
        )
    }
}

/// Utilization samples of every resource, sorted, each covering
/// `(timestamp - span, timestamp]`.
#[derive(Debug, Clone, Default)]
pub struct UtilSeries {
    resources: Vec<String>,
    /// Per resource: (end, span, value), sorted by end.
    samples: Vec<Vec<(f64, f64, f64)>>,
}

impl UtilSeries {
    /// Groups samples by resource, sorts them, and fills in each sample's
    /// span from the `interval` column or, when absent, from the median
    /// spacing of that resource's samples (robust to gaps).
    ///
    /// # Errors
    /// Two samples of one resource with the same timestamp, or a resource
    /// with one sample and no `interval`.
    pub fn from_samples(samples: impl IntoIterator<Item = UtilSample>) -> Result<Self, TraceError> {
        let mut resources: Vec<String> = Vec::new();
        let mut raw: Vec<Vec<(f64, Option<f64>, f64)>> = Vec::new();
        for s in samples {
            let i = match resources.iter().position(|r| *r == s.resource) {
                Some(i) => i,
                None => {
                    resources.push(s.resource.clone());
                    raw.push(Vec::new());
                    resources.len() - 1
                }
            };
            raw[i].push((s.timestamp, s.interval, s.utilization));
        }
        let mut out = Vec::with_capacity(raw.len());
        for (name, mut v) in resources.iter().zip(raw) {
            if !v.is_sorted_by(|a, b| a.0 <= b.0) {
                log::warn!("utilization samples of `{name}` are out of time order; sorted them");
                v.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            if let Some(w) = v.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(TraceError::SameTimestamp {
                    resource: name.clone(),
                    timestamp: w[0].0,
                });
            }
            let mut gaps: Vec<f64> = v.windows(2).map(|w| w[1].0 - w[0].0).collect();
            let typical = if gaps.is_empty() {
                None
            } else {
                gaps.sort_by(f64::total_cmp);
                Some(gaps[gaps.len() / 2])
            };
            if let Some(t) = typical
                && gaps.last().is_some_and(|&g| g > 1.5 * t)
            {
                log::warn!(
                    "utilization samples of `{name}` have a gap of {} s (typical spacing {t} s)",
                    gaps.last().unwrap()
                );
            }
            let mut series = Vec::with_capacity(v.len());
            for (t, interval, u) in v {
                let span = interval
                    .or(typical)
                    .ok_or_else(|| TraceError::SingleSample(name.clone()))?;
                series.push((t, span, u));
            }
            out.push(series);
        }
        Ok(Self {
            resources,
            samples: out,
        })
    }

    /// Resource names in order of first appearance.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.iter().all(Vec::is_empty)
    }

    /// The grid implied by the first sample: its own interval is interval 0.
    /// `width` overrides the sample interval.
    pub fn grid(&self, width: Option<f64>) -> Option<Grid> {
        let (t, span) = self
            .samples
            .iter()
            .filter_map(|s| s.first())
            .map(|&(t, span, _)| (t, span))
            .min_by(|a, b| (a.0 - a.1).total_cmp(&(b.0 - b.1)))?;
        Some(Grid {
            origin: t - span,
            width: width.unwrap_or(span),
            closed_origin: false,
        })
    }

    /// Time-weighted mean utilization of resource `r` over `(a, b]`, or
    /// `None` when samples cover less than half of it.
    pub fn mean_over(&self, r: usize, a: f64, b: f64) -> Option<f64> {
        let s = &self.samples[r];
        // First sample whose end is after a.
        let first = s.partition_point(|&(t, _, _)| t <= a);
        let (mut weighted, mut covered) = (0.0, 0.0);
        for &(t, span, u) in &s[first..] {
            let lo = (t - span).max(a);
            let hi = t.min(b);
            if t - span >= b {
                break;
            }
            if hi > lo {
                weighted += u * (hi - lo);
                covered += hi - lo;
            }
        }
        (covered >= 0.5 * (b - a) && covered > 0.0).then(|| weighted / covered)
    }

    /// Time-weighted mean utilization of resource `r` over all its samples.
    pub fn mean(&self, r: usize) -> Option<f64> {
        let (w, c) = self.samples[r]
            .iter()
            .fold((0.0, 0.0), |(w, c), &(_, span, u)| (w + u * span, c + span));
        (c > 0.0).then(|| w / c)
    }

    /// Samples over all resources.
    pub fn sample_count(&self) -> usize {
        self.samples.iter().map(Vec::len).sum()
    }

    /// Interval indices covered by samples on `grid`, if any.
    pub(super) fn index_range(&self, grid: &Grid) -> Option<(i64, i64)> {
        let lo = self
            .samples
            .iter()
            .filter_map(|s| s.first())
            .map(|&(t, span, _)| grid.index(t - span + 0.5 * span.min(grid.width)))
            .min()?;
        let hi = self
            .samples
            .iter()
            .filter_map(|s| s.last())
            .map(|&(t, _, _)| grid.index(t))
            .max()?;
        Some((lo, hi))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::trace) fn util(points: &[(f64, f64)]) -> UtilSeries {
        UtilSeries::from_samples(points.iter().map(|&(t, u)| UtilSample {
            timestamp: t,
            utilization: u,
            resource: "cpu".into(),
            interval: None,
        }))
        .unwrap()
    }

    #[test]
    fn librede_time_weighted_means_over_half_open_intervals() {
        // LibReDE's TimeSeriesTest: t = 1..5, v = 0.1..0.5, each sample
        // covering the second before it.
        let u = util(&[(1.0, 0.1), (5.0, 0.5), (2.0, 0.2), (4.0, 0.4), (3.0, 0.3)]);
        assert!((u.mean_over(0, 2.0, 4.0).unwrap() - 0.35).abs() < 1e-12);
        assert!((u.mean_over(0, 0.0, 1.0).unwrap() - 0.1).abs() < 1e-12);
        assert!((u.mean_over(0, 4.0, 5.0).unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(u.mean_over(0, 5.0, 7.0), None);
    }

    #[test]
    fn duplicate_utilization_timestamps_are_an_error() {
        let err = UtilSeries::from_samples([30.0, 30.0].map(|t| UtilSample {
            timestamp: t,
            utilization: 0.5,
            resource: "cpu".into(),
            interval: None,
        }))
        .unwrap_err()
        .to_string();
        assert!(err.contains("share the timestamp 30"), "{err}");
    }
}
