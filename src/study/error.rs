//! Why an experiment failed: the step, and the typed error behind it.

use std::path::PathBuf;

use crate::estimate::EstimateError;
use crate::model::ModelError;
use crate::qpn::RunError;
use crate::trace::TraceError;

/// Why a parameter has no value: the reason in words, for
/// [`ExperimentError::Param`].
pub(super) type Why = std::borrow::Cow<'static, str>;

/// An experiment that could not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExperimentError {
    /// A file could not be read (the message names it).
    #[error("{0}")]
    Read(#[from] std::io::Error),
    /// A trace file is malformed.
    #[error("{}: {source}", path.display())]
    Trace {
        /// The file as the study names it.
        path: PathBuf,
        /// What is wrong, with the line.
        source: TraceError,
    },
    /// A resource the utilization traces do not hold.
    #[error("{0}")]
    Resource(TraceError),
    /// The utilization samples make no series.
    #[error("utilization: {0}")]
    Utilization(TraceError),
    /// The requests make no interval table.
    #[error("requests: {0}")]
    Requests(TraceError),
    /// Estimation without request or utilization traces.
    #[error("estimation needs request and utilization traces")]
    NoTraces,
    /// The container count does not match the utilization's resources.
    #[error("{containers} container(s), but the utilization traces hold {} resource(s) ({}); name them under `resources`", resources.len(), resources.join(", "))]
    Containers {
        /// Containers of the experiment.
        containers: u32,
        /// Resources in the utilization traces.
        resources: Vec<String>,
    },
    /// Only failed requests.
    #[error("the request traces hold no successful request")]
    NoSuccess,
    /// The measured think time cannot be computed.
    #[error("the measured think time (Z = N / X − R) needs a `clients` parameter")]
    NoClients,
    /// The measured think time is not positive.
    #[error(
        "the measured think time N / X − R = {clients} / {throughput:.4} − {response:.4} is not positive: the traces do not fit a closed model with {clients} clients"
    )]
    ThinkTime {
        /// N.
        clients: f64,
        /// X, 1/s.
        throughput: f64,
        /// R, seconds.
        response: f64,
    },
    /// The intervals cannot be estimated from.
    #[error("estimation: {0}")]
    Estimation(EstimateError),
    /// A model parameter cannot be set.
    #[error("parameter {name}: {why}")]
    Param {
        /// The parameter.
        name: String,
        /// Why, in words.
        why: String,
    },
    /// The model does not load or instantiate.
    #[error("{}: {source}", path.display())]
    Model {
        /// The model file as the study names it.
        path: PathBuf,
        /// What is wrong.
        source: ModelError,
    },
    /// The simulation failed.
    #[error("simulation: {0}")]
    Simulation(RunError),
    /// The model has no probe to compare (or not the one named).
    #[error(transparent)]
    Probe(#[from] crate::qpn::NoSuchProbe),
    /// A behaviour model file that cannot be read as one.
    #[error("{}: not a behaviour model (the JSON of `behavior learn`): {why}", path.display())]
    Behavior {
        /// The file as the study names it.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A behaviour workload that cannot become a model.
    #[error("workload: {0}")]
    Workload(#[from] crate::behavior::to_qpn::ToQpnError),
    /// A run's metadata file that lacks a field a parameter takes, or
    /// holds it malformed.
    #[error("{}: {source}", path.display())]
    Metadata {
        /// The file as the study names it.
        path: PathBuf,
        /// What is wrong, naming the field.
        source: super::MetadataError,
    },
    /// The latency offset cannot be estimated.
    #[error("latency offset: {0}")]
    Offset(String),
    /// A `truth.json` that holds no usable true demand.
    #[error("{}: {why}", path.display())]
    Truth {
        /// The file.
        path: PathBuf,
        /// What is missing.
        why: String,
    },
}

impl ExperimentError {
    /// The experiment's model file could not be parsed or instantiated.
    pub(super) fn model(e: &super::Experiment, source: ModelError) -> Self {
        Self::Model {
            path: e.model.clone(),
            source,
        }
    }
}
