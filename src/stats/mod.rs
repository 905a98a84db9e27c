//! Streaming statistics shared by the trace reader and the simulator:
//! bounded-memory quantiles, running moments.
//!
//! Nothing here allocates per observation.

mod batch;
mod quantile;

pub use batch::{BatchMeans, mser5, student_t_quantile};
pub use quantile::QuantileSketch;

/// Points of the quantile grid: p = 0.01, 0.02, …, 0.99.
pub const QUANTILE_GRID: usize = 99;

/// The seed of point `index`: the sweep seed mixed with the index
/// (SplitMix64), so that neighbouring points do not share streams.
pub fn point_seed(seed: u64, index: usize) -> u64 {
    let mut z = seed.wrapping_add((index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) >> 11
}

/// The probability of grid point `i` (0-based): (i + 1) / 100.
pub fn grid_p(i: usize) -> f64 {
    (i + 1) as f64 / 100.0
}

/// The sketch's quantiles on the grid (empty when the sketch is).
pub fn quantile_grid(sketch: &QuantileSketch) -> Vec<f64> {
    (0..QUANTILE_GRID)
        .filter_map(|i| sketch.quantile(grid_p(i)))
        .collect()
}

/// The `q` quantile of sorted, non-empty `sorted`, interpolating linearly
/// between neighbours (R's type 7); an infinite neighbour is returned as
/// is rather than interpolated into NaN.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let (a, b) = (sorted[lo], sorted[hi]);
    if lo == hi || a == b || !a.is_finite() || !b.is_finite() {
        return if pos - (lo as f64) < 0.5 || lo == hi {
            a
        } else {
            b
        };
    }
    a + (b - a) * (pos - lo as f64)
}

/// Running count, mean and variance (Welford), numerically stable.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Adds one observation.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Mean, or `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// Unbiased sample variance, or `None` with fewer than two observations.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 1).then(|| self.m2 / (self.n - 1) as f64)
    }

    /// Merges another accumulator (Chan et al.).
    pub fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * (self.n as f64 * o.n as f64) / n as f64;
        self.n = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_match_the_two_pass_formulas_and_merge() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let mut m = Moments::default();
        xs.iter().for_each(|&x| m.push(x));
        assert_eq!(m.mean(), Some(5.0));
        assert!((m.variance().unwrap() - 32.0 / 7.0).abs() < 1e-12);
        let (mut a, mut b) = (Moments::default(), Moments::default());
        xs[..3].iter().for_each(|&x| a.push(x));
        xs[3..].iter().for_each(|&x| b.push(x));
        a.merge(&b);
        assert!((a.mean().unwrap() - 5.0).abs() < 1e-12);
        assert!((a.variance().unwrap() - 32.0 / 7.0).abs() < 1e-12);
    }
}
