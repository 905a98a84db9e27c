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

/// [`response_factor`] of `L` utilizations at once, each lane's number
/// bit for bit the scalar one: the same operations in the same order,
/// but the `c` steps of the Erlang-B recursion run on the lanes side by
/// side, so that the chain of multiplications of one interval no longer
/// waits for the last (the estimators' fits evaluate it for every
/// interval of every trial: on 53,000 intervals the scalar chain was most
/// of `rort`'s time).
pub fn response_factors<const L: usize>(u: [f64; L], c: u32) -> [f64; L] {
    let cf = f64::from(c);
    let clamped = u.map(|u| u.max(0.0));
    let a = clamped.map(|u| cf * u);
    let inv_a = a.map(|a| 1.0 / a);
    let mut inv_b = [1.0; L];
    for k in 1..=c {
        let kf = f64::from(k);
        for (b, ia) in inv_b.iter_mut().zip(&inv_a) {
            *b = 1.0 + kf * ia * *b;
        }
    }
    std::array::from_fn(|l| {
        if u[l] >= 1.0 {
            return f64::INFINITY;
        }
        let (a, b) = (a[l], 1.0 / inv_b[l]);
        // `erlang_c`'s cases, with its Erlang-B from the lanes.
        let waits = if c == 0 || a >= cf {
            1.0
        } else if a <= 0.0 {
            0.0
        } else {
            cf * b / (cf - a * (1.0 - b))
        };
        1.0 + waits / (cf * (1.0 - clamped[l]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lanes_give_the_scalar_response_factor_bit_for_bit() {
        let us = [
            -0.5,
            0.0,
            1e-300,
            1e-9,
            0.013,
            0.25,
            0.5,
            0.7,
            0.9,
            0.995,
            0.999_999,
            1.0,
            1.5,
            f64::NAN,
            f64::INFINITY,
        ];
        for c in [0, 1, 2, 8, 12, 64, 500] {
            for w in us.windows(4) {
                let got = response_factors([w[0], w[1], w[2], w[3]], c);
                for (g, &u) in got.iter().zip(w) {
                    let want = response_factor(u, c);
                    assert_eq!(g.to_bits(), want.to_bits(), "u {u}, c {c}: {g} vs {want}");
                }
            }
        }
        // A known value: one server at 50 %, R/D = 2.
        assert_eq!(response_factors([0.5], 1), [2.0]);
    }
}
