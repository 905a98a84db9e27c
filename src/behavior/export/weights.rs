//! Probabilities as the integer weights load generators take (Locust's
//! `@transitions`, a k6 table), losing at most a stated amount of any
//! probability.

/// The largest total of a row's weights. Locust expands a row into a list
/// with one entry per unit of weight, so the total is its memory; 10,000
/// keeps every probability within 0.0001 of its value (1/20,000 from
/// rounding to the nearest unit).
pub const MAX_TOTAL: u64 = 10_000;

/// Integer weights for a row of `(probability, count)`: the counts
/// themselves (divided by their greatest common divisor) when every
/// probability was learnt from them and their total is at most
/// [`MAX_TOTAL`], which loses nothing; else the probabilities scaled to
/// [`MAX_TOTAL`] by the largest remainder, none of a positive probability
/// below 1 (so each loses at most 1/[`MAX_TOTAL`]); either divided by
/// the weights' greatest common divisor.
pub fn integer_weights(row: &[(f64, u64)]) -> Vec<u64> {
    let total: u64 = row.iter().map(|r| r.1).sum();
    let p_sum: f64 = row.iter().map(|r| r.0).sum();
    let from_counts = total > 0
        && total <= MAX_TOTAL
        && row
            .iter()
            .all(|&(p, c)| (p * p_sum.recip() - c as f64 / total as f64).abs() < 1e-9);
    let w: Vec<u64> = if from_counts {
        row.iter().map(|r| r.1).collect()
    } else {
        largest_remainder(row.iter().map(|r| r.0 / p_sum), MAX_TOTAL)
    };
    let g = w.iter().fold(0, |g, &x| gcd(g, x)).max(1);
    w.into_iter().map(|x| x / g).collect()
}

/// `shares` (summing to 1) as integers summing to about `total`: each
/// share's floor, then one more for the largest remainders, a positive
/// share never 0.
fn largest_remainder(shares: impl Iterator<Item = f64>, total: u64) -> Vec<u64> {
    let exact: Vec<f64> = shares.map(|s| s * total as f64).collect();
    let mut w: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let left = total.saturating_sub(w.iter().sum());
    let mut order: Vec<usize> = (0..exact.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    for &i in order.iter().take(left as usize) {
        w[i] += 1;
    }
    for (wi, x) in w.iter_mut().zip(&exact) {
        if *wi == 0 && *x > 0.0 {
            *wi = 1;
        }
    }
    w
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The largest absolute difference between a row's probabilities
/// (normalised) and its weights' shares.
pub fn loss(row: &[(f64, u64)], weights: &[u64]) -> f64 {
    let p_sum: f64 = row.iter().map(|r| r.0).sum();
    let w_sum = weights.iter().sum::<u64>() as f64;
    row.iter()
        .zip(weights)
        .map(|(r, &w)| (r.0 / p_sum - w as f64 / w_sum).abs())
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_kept_exactly_and_reduced() {
        let row = [(0.5, 10), (0.25, 5), (0.25, 5)];
        assert_eq!(integer_weights(&row), [2, 1, 1]);
        assert_eq!(loss(&row, &[2, 1, 1]), 0.0);
    }

    #[test]
    fn probabilities_without_counts_lose_at_most_one_ten_thousandth() {
        // Thirds, a tiny one and a large one: no count behind them.
        let row = [
            (1.0 / 3.0, 0),
            (1.0 / 3.0, 0),
            (0.00003, 0),
            (1.0 / 3.0 - 0.00003, 0),
        ];
        let w = integer_weights(&row);
        assert_eq!(w, [3334, 3333, 1, 3333]);
        assert_eq!(w[2], 1, "a positive probability keeps a weight");
        assert!(loss(&row, &w) <= 1.0 / MAX_TOTAL as f64, "{w:?}");
        // Every share of at least 0.1 within 0.1 % of itself.
        for (r, &x) in row.iter().zip(&w) {
            if r.0 >= 0.1 {
                let share = x as f64 / w.iter().sum::<u64>() as f64;
                assert!((share - r.0).abs() / r.0 < 0.001);
            }
        }
    }

    #[test]
    fn large_counts_are_scaled_down() {
        let row = [(0.7, 70_000), (0.3, 30_000)];
        assert_eq!(integer_weights(&row), [7, 3]);
        let row = [(0.700_01, 70_001), (0.299_99, 29_999)];
        let w = integer_weights(&row);
        assert_eq!(w, [7, 3]);
        assert!(loss(&row, &w) < 2e-5);
    }
}
