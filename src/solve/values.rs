//! What [`analyse`](super::analyse) answers: values per probe and per
//! place, or the reasons a net is not product-form.

use serde::Serialize;

/// Analytic value of a probe and colour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeValue {
    /// Probe name.
    pub name: String,
    /// Colour.
    pub color: String,
    /// Mean end-to-end time, seconds (`None`: this probe's shape is not
    /// one the solver maps; see the notes).
    pub mean_s: Option<f64>,
}

/// Analytic values of a place and colour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceValue {
    /// Place.
    pub place: String,
    /// Colour.
    pub color: String,
    /// Throughput, 1/s.
    pub throughput: f64,
    /// Utilization of the place (busy servers / servers); `None` for IS.
    pub utilization: Option<f64>,
    /// Mean residence time per visit, seconds.
    pub mean_residence_s: f64,
    /// Mean number of tokens.
    pub mean_population: f64,
}

/// The analytic solution of a model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Method, in words.
    pub method: String,
    /// What was simplified or could not be mapped.
    pub notes: Vec<String>,
    /// Probes.
    pub probes: Vec<ProbeValue>,
    /// Queueing places.
    pub places: Vec<PlaceValue>,
}

impl Analysis {
    /// The analytic mean of probe `name` for colour `color`, seconds, where
    /// the solver maps that probe.
    pub fn probe_mean(&self, name: &str, color: &str) -> Option<f64> {
        self.probes
            .iter()
            .find(|p| p.name == name && p.color == color)?
            .mean_s
    }
}

/// Why a model has no analytic solution here.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not product-form: {}; use simulate", .0.join("; "))]
pub struct NotProductForm(pub Vec<String>);
