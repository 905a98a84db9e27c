//! What `plan` is given and how it fails: the run directories as the
//! caller found them, the user's question and flags, the errors. Every
//! step of the plan reads these; none of them reads the steps.

use std::path::PathBuf;

use super::facts::RunFacts;
use crate::capacity::{CapacityError, Slo};
use crate::run_dir::RunMeta;

/// One run directory, as the caller found it.
#[derive(Debug, Clone)]
pub struct RunInput {
    /// Its name (its run.yaml's, else the directory's).
    pub name: String,
    /// Its request trace, as [`Files`] opens it.
    pub requests: PathBuf,
    /// Its utilization trace.
    pub utilization: PathBuf,
    /// Its metadata file (run.json or run.yaml), for the study's closed
    /// reading.
    pub metadata: Option<PathBuf>,
    /// Its metadata, merged.
    pub meta: RunMeta,
    /// What its traces hold.
    pub facts: RunFacts,
}

/// The parameter a question finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Find {
    /// The largest arrival rate (open model).
    ArrivalRate,
    /// The most users (closed model).
    Users,
    /// The fewest containers.
    Containers,
    /// The fewest CPUs per container.
    Cpus,
}

impl Find {
    /// The model parameter.
    pub fn param(self) -> &'static str {
        match self {
            Self::ArrivalRate => "arrival_rate",
            Self::Users => "users",
            Self::Containers => "containers",
            Self::Cpus => "cpus",
        }
    }
}

/// What the user asked.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Runs to fit (default all).
    pub fit: Option<Vec<String>>,
    /// The requests' CPU series.
    pub resource: Option<String>,
    /// The total CPU series.
    pub background: Option<String>,
    /// CPUs.
    pub servers: Option<u32>,
    /// The class column.
    pub class_column: Option<String>,
    /// Fit each class's demand as a function of load [default: with two
    /// fitted runs or more].
    pub load_dependence: Option<bool>,
    /// The objective.
    pub slo: Slo,
    /// The parameter to find.
    pub find: Option<Find>,
    /// The load of the what-if (a multiple of the base run's, or a value).
    pub at: Option<At>,
    /// The run whose mix and load are the base.
    pub mix_of: Option<String>,
    /// Simulated requests per prediction.
    pub requests: u64,
    /// Where the model will be written (the study reads it under this
    /// name; the answer names it).
    pub model_file: PathBuf,
}

/// What stops a plan.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// No runs.
    #[error(
        "no runs: give run directories (each with requests.csv[.gz] or intervals.csv[.gz], and utilization.csv[.gz])"
    )]
    NoRuns,
    /// Two runs of one name.
    #[error("two runs are named `{0}`; give each a name of its own (`name:` in run.yaml)")]
    DuplicateRun(String),
    /// A flag names a run not given.
    #[error("{flag} names `{name}`, which is not one of the runs given ({known})")]
    UnknownRun {
        /// The flag.
        flag: &'static str,
        /// The name.
        name: String,
        /// The runs.
        known: String,
    },
    /// Runs that disagree.
    #[error("the runs disagree on their {what}: {detail}")]
    Disagree {
        /// What.
        what: String,
        /// How.
        detail: String,
    },
    /// Several series and none named.
    #[error(
        "{run}: the utilization has several series ({known}); say which one the requests use: --resource NAME, or `resource:` in each run's run.yaml"
    )]
    NoResource {
        /// The run.
        run: String,
        /// Its series.
        known: String,
    },
    /// A series a run lacks.
    #[error("{run}: its utilization has no series `{series}` (it has {known})")]
    MissingSeries {
        /// The run.
        run: String,
        /// The series.
        series: String,
        /// What it has.
        known: String,
    },
    /// The class column is missing.
    #[error("{run}: the requests have no values in a `{column}` column")]
    NoClassColumn {
        /// The column.
        column: String,
        /// The run.
        run: String,
    },
    /// A question the runs cannot answer.
    #[error("{0}")]
    Question(String),
    /// The validation failed.
    #[error(transparent)]
    Validate(#[from] crate::validate::ValidateError),
    /// The base run's prediction failed.
    #[error("{run}: {why}")]
    Experiment {
        /// The run.
        run: String,
        /// Why.
        why: String,
    },
    /// A capacity question failed.
    #[error(transparent)]
    Capacity(#[from] CapacityError),
}

/// A what-if load that is neither `2x` nor a load.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "--at `{0}`: expected a multiple of the base run's load such as 2x, or the load itself (users or requests per second) above 0"
)]
pub struct AtError(pub String);

/// The load of a what-if.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum At {
    /// A multiple of the base run's load (`2x`).
    Times(f64),
    /// The load itself (users, or requests per second).
    Value(f64),
}

impl At {
    /// Reads `2x` or `120`.
    ///
    /// # Errors
    /// Text that is neither, or not above 0.
    pub fn parse(s: &str) -> Result<Self, AtError> {
        let t = s.trim();
        let (num, times) = match t.strip_suffix(['x', 'X']) {
            Some(n) => (n, true),
            None => (t, false),
        };
        match num.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(if times {
                Self::Times(v)
            } else {
                Self::Value(v)
            }),
            _ => Err(AtError(s.to_string())),
        }
    }
}
