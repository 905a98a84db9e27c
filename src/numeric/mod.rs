//! Shared numerical kernels: the Erlang formulas, non-negative least
//! squares, the Kalman measurement step, a bounded minimiser, and the
//! M/M/c response-time equation the estimators share.

mod erlang;
mod kalman;
mod minimize;
mod nnls;

pub use erlang::{erlang_b, erlang_c, mmc_response_time};
pub use kalman::kalman_update;
pub use minimize::{FitError, least_squares_positive};
pub use nnls::{LeastSquares, condition_number, least_squares, nnls, nnls_flat, nnls_matrix};

/// The dot product of two vectors (over the shorter one's length).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Response time over demand, R/D, at a `c`-server FCFS (or PS) resource
/// with utilization `u` (fraction of all servers):
/// `1 + C(c, c·u) / (c·(1 − u))`, the M/M/c waiting time with its 1/c
/// factor (LibReDE omits it) and exact Erlang-C. Infinite for `u ≥ 1`.
pub fn response_factor(u: f64, c: u32) -> f64 {
    if u >= 1.0 {
        return f64::INFINITY;
    }
    let u = u.max(0.0);
    let cf = c as f64;
    1.0 + erlang_c(c, cf * u) / (cf * (1.0 - u))
}
