//! Erlang-B and Erlang-C in their numerically stable recursive form.
//!
//! LibReDE fits a degree-6 polynomial to Erlang-C ("ok for k ≤ 15"); the
//! recursion below is exact for any number of servers and costs O(c).

/// Erlang-B blocking probability for `c` servers and offered load `a`
/// (erlangs): B₀ = 1, B_k = a·B_{k−1} / (k + a·B_{k−1}), run on the
/// reciprocal, 1/B_k = 1 + (k/a)·(1/B_{k−1}): sums of positive terms (as
/// stable), one division instead of c (the estimators evaluate it
/// millions of times). An overflow of 1/B means B = 0 to rounding.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    if a <= 0.0 {
        return if c == 0 { 1.0 } else { 0.0 };
    }
    let inv_a = 1.0 / a;
    let mut inv_b = 1.0;
    for k in 1..=c {
        inv_b = 1.0 + f64::from(k) * inv_a * inv_b;
    }
    1.0 / inv_b
}

/// Erlang-C: the probability that an arrival waits in an M/M/c queue with
/// offered load `a = λ/μ` (erlangs), `C = c·B / (c − a·(1 − B))`. Returns 1
/// when `a ≥ c` (the queue is unstable and everyone waits).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    if c == 0 {
        return 1.0;
    }
    if a >= c as f64 {
        return 1.0;
    }
    if a <= 0.0 {
        return 0.0;
    }
    let b = erlang_b(c, a);
    let c = c as f64;
    c * b / (c - a * (1.0 - b))
}

/// Mean response time (seconds) of an M/M/c queue with arrival rate
/// `lambda` (1/s) and mean service time `s` (seconds):
/// `W = s + C(c, λs)·s / (c − λs)`. Infinite when unstable.
pub fn mmc_response_time(c: u32, lambda: f64, s: f64) -> f64 {
    let a = lambda * s;
    if a >= c as f64 {
        return f64::INFINITY;
    }
    s + erlang_c(c, a) * s / (c as f64 - a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_check_value_lambda_1_5_mu_1_c_2() {
        assert!((erlang_c(2, 1.5) - 0.642857142857).abs() < 1e-9);
        assert!((mmc_response_time(2, 1.5, 1.0) - 2.285714285714).abs() < 1e-9);
    }

    #[test]
    fn librede_erlang_c_values_for_2_and_15_servers() {
        // LibReDE's ErlangCEquationTest, as a function of utilization U = a/c.
        let at = |c: u32, u: f64| erlang_c(c, u * c as f64);
        for (u, want) in [(0.25, 0.1), (0.5, 1.0 / 3.0), (0.75, 0.642857)] {
            assert!((at(2, u) - want).abs() < 1e-6, "k=2 U={u}: {}", at(2, u));
        }
        for (u, want, tol) in [
            (0.25, 9.78e-6, 1e-8),
            (0.5, 0.0112924, 1e-7),
            (0.75, 0.217989, 1e-6),
        ] {
            assert!((at(15, u) - want).abs() < tol, "k=15 U={u}: {}", at(15, u));
        }
        for u in [0.1, 0.5, 0.9] {
            assert!((at(1, u) - u).abs() < 1e-15);
        }
    }

    #[test]
    fn erlang_b_matches_the_sum_formula() {
        // B = (a^c / c!) / Σ_{k ≤ c} a^k / k!, summed directly.
        for (c, a) in [(1, 0.5), (3, 2.0), (8, 6.4), (12, 0.01), (20, 25.0)] {
            let (mut term, mut sum) = (1.0, 1.0);
            for k in 1..=c {
                term *= a / k as f64;
                sum += term;
            }
            let want = term / sum;
            assert!(
                ((erlang_b(c, a) - want) / want).abs() < 1e-12,
                "c={c} a={a}: {} vs {want}",
                erlang_b(c, a)
            );
        }
        assert_eq!(erlang_b(0, 3.0), 1.0);
        assert_eq!(erlang_b(5, 0.0), 0.0);
    }

    #[test]
    fn many_servers_do_not_overflow() {
        let c = erlang_c(1000, 950.0);
        assert!(c.is_finite() && c > 0.0 && c < 1.0, "{c}");
        assert_eq!(erlang_c(4, 4.0), 1.0);
        assert!(mmc_response_time(4, 5.0, 1.0).is_infinite());
    }
}
