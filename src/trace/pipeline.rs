//! Traces → intervals, once for every caller: utilization samples into a
//! series, then requests (from one or several files) into an
//! [`IntervalTable`] on the utilization's grid.
//!
//! The interval rule lives here: an explicit width, else the utilization
//! sampling interval, else [`DEFAULT_INTERVAL_S`]; intervals are aligned
//! to the first utilization sample (or, without utilization, to the first
//! request).

use std::io::BufRead;

use super::{
    Aggregator, IntervalTable, LabelId, Labels, Request, RequestReader, TraceError, UtilSample,
    UtilSeries, UtilizationReader,
};

/// Interval width, seconds, when neither the caller nor the utilization
/// samples give one.
pub const DEFAULT_INTERVAL_S: f64 = 30.0;

/// Reads every sample of one canonical utilization file.
///
/// # Errors
/// [`TraceError`] with the line of the first bad row.
pub fn read_utilization<R: BufRead>(input: R) -> Result<Vec<UtilSample>, TraceError> {
    UtilizationReader::new(input)?.collect()
}

/// Aggregates requests into intervals on a utilization series' grid.
pub struct Pipeline {
    width: f64,
    util: UtilSeries,
    agg: Aggregator,
    labels: Labels,
}

impl Pipeline {
    /// The interval width for `util` and an optional explicit `interval`.
    pub fn width(util: &UtilSeries, interval: Option<f64>) -> f64 {
        interval
            .or_else(|| util.grid(None).map(|g| g.width))
            .unwrap_or(DEFAULT_INTERVAL_S)
    }

    /// A pipeline on `util`'s grid with intervals of `interval` seconds
    /// (see [`Pipeline::width`]); failed requests count only with
    /// `include_failed`.
    pub fn new(util: UtilSeries, interval: Option<f64>, include_failed: bool) -> Self {
        let width = Self::width(&util, interval);
        let agg = Aggregator::new(util.grid(Some(width)), width, include_failed);
        Self {
            width,
            util,
            agg,
            labels: Labels::new(),
        }
    }

    /// The interval width, seconds.
    pub fn interval(&self) -> f64 {
        self.width
    }

    /// The utilization series.
    pub fn utilization(&self) -> &UtilSeries {
        &self.util
    }

    /// The id of class `name` in the table being built.
    pub fn class(&mut self, name: &str) -> LabelId {
        self.labels.intern(name)
    }

    /// Adds one request whose class is an id from [`Pipeline::class`].
    pub fn push(&mut self, r: &Request) {
        self.agg.push(r);
    }

    /// Adds every request of one canonical requests file; `each` sees
    /// each request (with its class id mapped onto this table's).
    ///
    /// # Errors
    /// [`TraceError`] with the line of the first bad row.
    pub fn add_requests<R: BufRead>(
        &mut self,
        input: R,
        mut each: impl FnMut(&Request),
    ) -> Result<(), TraceError> {
        let mut reader = RequestReader::new(input)?;
        // Class ids are per file; map them onto one table.
        let mut map: Vec<Option<LabelId>> = Vec::new();
        while let Some(r) = reader.next_request() {
            let mut r = r?;
            let i = r.class.0 as usize;
            if map.len() <= i {
                map.resize(i + 1, None);
            }
            let labels = &mut self.labels;
            r.class = *map[i].get_or_insert_with(|| labels.intern(reader.classes().name(r.class)));
            each(&r);
            self.agg.push(&r);
        }
        Ok(())
    }

    /// The interval table.
    ///
    /// # Errors
    /// [`TraceError`] when the requests and samples make no usable table.
    pub fn finish(self) -> Result<IntervalTable, TraceError> {
        self.agg.finish(&self.labels, &self.util)
    }
}
