//! Shared numerical kernels: the Erlang formulas (used by the analytic
//! solver and, next, by the estimators' response-time equations).

mod erlang;

pub use erlang::{erlang_b, erlang_c, mmc_response_time};
