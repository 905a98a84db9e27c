//! What a sweep shard's numbers depend on besides its model name, seed
//! and grid: recorded in each part so that `merge` refuses parts run with
//! other settings or on other files.

use std::path::Path;

use anyhow::{Context, Result};
use demandsim::sweep::fingerprint;
use serde::{Deserialize, Serialize};

/// A shard's settings (written in parts only: a whole run's JSON stays
/// as it was, and so does what `merge` writes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSettings {
    /// The model file's fingerprint.
    pub model_file: String,
    /// `--set` values, sorted.
    pub set: Vec<String>,
    /// `--method`.
    pub method: String,
    /// `--requests`.
    pub requests: u64,
    /// `--warmup`.
    pub warmup: String,
    /// `--replications`.
    pub replications: usize,
    /// `--bind` specs, each with its estimates file's fingerprint.
    pub bind: Vec<String>,
    /// `--estimate-method`.
    pub estimate_method: Option<String>,
    /// `--sensitivity`.
    pub sensitivity: bool,
    /// `--calibration` with its file's fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<String>,
    /// `--scale-load`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_load: Option<f64>,
}

impl SweepSettings {
    /// The settings' names (as their flags) where `self` and `o` differ.
    pub fn differences(&self, o: &Self) -> Vec<&'static str> {
        let pairs = [
            (self.model_file != o.model_file, "the model file"),
            (self.set != o.set, "--set"),
            (self.method != o.method, "--method"),
            (self.requests != o.requests, "--requests"),
            (self.warmup != o.warmup, "--warmup"),
            (self.replications != o.replications, "--replications"),
            (self.bind != o.bind, "--bind (or its estimates file)"),
            (
                self.estimate_method != o.estimate_method,
                "--estimate-method",
            ),
            (self.sensitivity != o.sensitivity, "--sensitivity"),
            (
                self.calibration != o.calibration,
                "--calibration (or its file)",
            ),
            (self.scale_load != o.scale_load, "--scale-load"),
        ];
        pairs.iter().filter(|p| p.0).map(|p| p.1).collect()
    }
}

/// The fingerprint of a file's bytes.
pub fn file_fingerprint(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(fingerprint(&bytes))
}

/// `--bind PARAM=FILE:CLASS` with FILE's fingerprint.
pub fn bind_with_fingerprint(spec: &str) -> Result<String> {
    let file = spec
        .split_once('=')
        .and_then(|(_, rest)| rest.rsplit_once(':'))
        .map_or(spec, |(file, _)| file);
    Ok(format!("{spec}@{}", file_fingerprint(Path::new(file))?))
}
