//! # demandsim
//!
//! Measurement-based performance modelling for containerised web APIs:
//! traces in, per-request resource demands out, queueing Petri net
//! simulation and analytic solutions, and a comparison with what was
//! measured.
//!
//! ## A short tour
//! - [`trace`]: the canonical per-request and utilization traces, gzip and
//!   streaming input, and aggregation into intervals `(start, end]`.
//! - [`import`]: readers for the files load testers and monitors write
//!   (JMeter, k6, nginx/Apache logs, `sadf`, Prometheus, LibReDE).
//! - [`stats`]: streaming moments and bounded-memory quantiles.
//!
//! Units: seconds everywhere; utilization is a fraction (0–1) of a
//! resource's whole capacity.
//!
//! The library opens no files and prints nothing: it takes readers and
//! values and returns values or typed errors. The `demandsim` binary is the
//! only place that touches paths, the terminal and `anyhow`.

#![warn(missing_docs)]
// Index loops over places × colours read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

pub mod compare;
pub mod estimate;
pub mod generate;
pub mod import;
pub mod model_io;
pub mod numeric;
pub mod qpn;
pub mod report;
pub mod solve;
pub mod stats;
pub mod study;
pub mod trace;
