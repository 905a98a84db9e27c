//! Resource-demand estimation: the eight LibReDE approaches, done right
//! (see `../shared/reference/estimators.md`), with cross-validation,
//! selection and bootstrap confidence intervals.
//!
//! Every estimator sees the same [`Observations`] (`observations.rs`):
//! per interval, each class's throughput and mean response time (missing
//! when no request completed: never 0) and the resource's utilization.
//! They share one queueing equation, [`crate::numeric::response_factor`]
//! (M/M/c with the 1/c factor and exact Erlang-C), split between the
//! classes as the resource's [`Discipline`] does it.
//!
//! The methods are declared once, in the table of `methods.rs` (one file
//! each in `methods/`), behind the [`Estimator`] trait (`estimator.rs`).
//! `validate.rs` runs them with cross-validation (`crossval.rs`), the
//! bootstrap (`bootstrap.rs`) and the verdicts (`verdicts.rs`).
//!
//! This module does no I/O; it takes an interval table and returns values.

mod background;
mod bootstrap;
mod crossval;
mod discipline;
mod error;
mod estimator;
mod hot;
mod identify;
mod linearized;
mod load;
mod load_forms;
mod load_model;
mod methods;
mod observations;
mod outcome;
mod trust;
mod validate;
mod verdicts;

#[cfg(test)]
mod testdata;

pub use background::{BackgroundFit, Band, ClassWork, RunBackground, Source};
pub use discipline::Discipline;
pub use error::EstimateError;
pub use estimator::{Estimator, Unfit};
pub use identify::{Identifiability, RunIdentifiability, WeakDirection, identify, identify_runs};
pub use linearized::Linearized;
pub use load::{RunDemand, RunLoad};
pub use load_forms::{LoadChoice, LoadForm};
pub use load_model::{AtLoad, Candidate, ClassLoad, LoadModel, Parameter, load_model};
pub use methods::{BackgroundUse, Method, Traits};
pub use observations::{Diagnostics, Observations, ResponseEquation, Row, RunSpan, Total};
pub use outcome::{Estimate, MIX, Report, RunSummary, Verdict};
pub use trust::{Background, DisciplineFit};
pub use validate::{Config, estimate};

/// Most bootstrap resamples (and joint draws) an estimation takes: each
/// refits every method, so 100,000 already take hours on a long trace,
/// and 100,000,000 asked 11-19 GB before the first.
pub const MAX_RESAMPLES: usize = 100_000;
