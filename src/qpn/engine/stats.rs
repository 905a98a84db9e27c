//! The statistics a replication keeps: per (place, colour), per (probe,
//! colour), and each probe passage when recording.

use crate::stats::{BatchMeans, Moments, QuantileSketch};

/// Statistics of one (place, colour) since the last reset.
#[derive(Debug, Clone)]
pub struct PlaceColorStats {
    /// Tokens that entered (the queue, for a queueing place).
    pub arrivals: u64,
    /// Tokens that left (finished service, for a queueing place).
    pub departures: u64,
    pub(super) pop: u64,
    pub(super) area: f64,
    pub(super) last: f64,
    /// Residence times (queue: waiting + service), seconds.
    pub residence: Moments,
    /// Batch means of residence times.
    pub residence_bm: BatchMeans,
    /// Service times drawn for completed services, seconds.
    pub service: Moments,
    /// Times tokens waited in a queueing place's depository before a
    /// transition took them, seconds (QPME's depository residence).
    pub depository: Moments,
}

impl PlaceColorStats {
    pub(super) fn new() -> Self {
        Self {
            arrivals: 0,
            departures: 0,
            pop: 0,
            area: 0.0,
            last: 0.0,
            residence: Moments::default(),
            residence_bm: BatchMeans::default(),
            service: Moments::default(),
            depository: Moments::default(),
        }
    }
    /// Time-integral of the population up to `now`.
    pub fn area_at(&self, now: f64) -> f64 {
        self.area + self.pop as f64 * (now - self.last)
    }
}

/// Statistics of one probe and colour since the last reset.
#[derive(Debug, Clone, Default)]
pub struct ProbeStats {
    /// End-to-end times, seconds.
    pub moments: Moments,
    /// Quantiles.
    pub sketch: QuantileSketch,
    /// Batch means.
    pub bm: BatchMeans,
}

/// One completed probe passage, when recording is on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeRecord {
    /// Probe index.
    pub probe: usize,
    /// Colour.
    pub color: usize,
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
}
