//! Confidence intervals for means of correlated output: batch means with
//! automatic batch-size doubling (constant memory), MSER-5 warm-up
//! detection, and the Student-t quantile.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Batches kept before pairs are merged and the batch size doubles.
const MAX_BATCHES: usize = 64;

/// The two-sided `level` quantile of Student's t with `dof` degrees of
/// freedom (e.g. level 0.95 → t_{0.975, dof}).
pub fn student_t_quantile(level: f64, dof: f64) -> f64 {
    let p = 0.5 + 0.5 * level;
    if dof > 1e4 {
        // statrs' t inverse loses digits at huge dof; the normal limit is
        // within 2.4e-4 of t there (1.959964 against 1.960201 at 1e4).
        return statrs::distribution::Normal::standard().inverse_cdf(p);
    }
    match StudentsT::new(0.0, 1.0, dof) {
        Ok(t) => t.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

/// Non-overlapping batch means whose batch size doubles whenever 64
/// batches are full, so that between 32 and 64 batches of ever larger size
/// summarise a run of any length (Law & Kelton's "fixed number of
/// batches" scheme).
#[derive(Debug, Clone)]
pub struct BatchMeans {
    size: u64,
    sum: f64,
    n: u64,
    means: Vec<f64>,
}

impl Default for BatchMeans {
    fn default() -> Self {
        Self::new(8)
    }
}

impl BatchMeans {
    /// Starts with batches of `initial_size` observations.
    pub fn new(initial_size: u64) -> Self {
        Self {
            size: initial_size.max(1),
            sum: 0.0,
            n: 0,
            means: Vec::with_capacity(MAX_BATCHES),
        }
    }

    /// Adds one observation.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.sum += x;
        self.n += 1;
        if self.n == self.size {
            self.means.push(self.sum / self.size as f64);
            self.sum = 0.0;
            self.n = 0;
            if self.means.len() == MAX_BATCHES {
                for i in 0..MAX_BATCHES / 2 {
                    self.means[i] = 0.5 * (self.means[2 * i] + self.means[2 * i + 1]);
                }
                self.means.truncate(MAX_BATCHES / 2);
                self.size *= 2;
            }
        }
    }

    /// Number of complete batches.
    pub fn batches(&self) -> usize {
        self.means.len()
    }

    /// Current batch size.
    pub fn batch_size(&self) -> u64 {
        self.size
    }

    /// Half-width of the `level` CI of the mean from complete batches, or
    /// `None` with fewer than 10 batches.
    pub fn half_width(&self, level: f64) -> Option<f64> {
        let k = self.means.len();
        if k < 10 {
            return None;
        }
        let mean = self.means.iter().sum::<f64>() / k as f64;
        let var = self.means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
        Some(student_t_quantile(level, (k - 1) as f64) * (var / k as f64).sqrt())
    }

    /// Lag-1 autocorrelation of the batch means (the batch-size check: near
    /// 0 means batches are long enough to be nearly independent).
    pub fn lag1(&self) -> Option<f64> {
        let k = self.means.len();
        if k < 10 {
            return None;
        }
        let mean = self.means.iter().sum::<f64>() / k as f64;
        let var: f64 = self.means.iter().map(|m| (m - mean).powi(2)).sum();
        if var == 0.0 {
            return Some(0.0);
        }
        let cov: f64 = self
            .means
            .windows(2)
            .map(|w| (w[0] - mean) * (w[1] - mean))
            .sum();
        Some(cov / var)
    }
}

/// MSER-5 (White 1997): the number of leading batch-of-5 means to drop so
/// that the remaining mean has the least marginal standard error. Only the
/// first half is searched, as is customary. Returns the truncation point in
/// batches of 5.
pub fn mser5(batch_means: &[f64]) -> usize {
    let n = batch_means.len();
    if n < 4 {
        return 0;
    }
    // Suffix sums make every candidate O(1).
    let mut suffix = vec![(0.0f64, 0.0f64); n + 1];
    for i in (0..n).rev() {
        let x = batch_means[i];
        suffix[i] = (suffix[i + 1].0 + x, suffix[i + 1].1 + x * x);
    }
    let (mut best, mut best_d) = (f64::INFINITY, 0);
    for d in 0..n / 2 {
        let m = (n - d) as f64;
        let (s, s2) = suffix[d];
        let mean = s / m;
        let sse = (s2 - m * mean * mean).max(0.0);
        let stat = sse / (m * m);
        if stat < best {
            best = stat;
            best_d = d;
        }
    }
    best_d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        assert!((student_t_quantile(0.95, 9.0) - 2.262157).abs() < 1e-5);
        assert!((student_t_quantile(0.95, 1e6) - 1.959966).abs() < 1e-4);
    }

    #[test]
    fn batch_means_of_independent_data_give_the_textbook_interval() {
        // Batches of one: each observation is a batch mean. Twelve known
        // means m: the half-width is t(0.975, 11)·s/√12 with s the sample
        // standard deviation (n − 1), computed here by hand.
        let m = [1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 2.0, 8.0, 3.0, 7.0, 1.0, 6.0];
        let mut b = BatchMeans::new(1);
        for x in m {
            b.push(x);
        }
        assert_eq!(b.batches(), 12);
        let mean = m.iter().sum::<f64>() / 12.0; // 4.0
        let s2 = m.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 11.0; // 54/11
        // t(0.975, 11) = 2.200985 (tables).
        let want = 2.200985 * (s2 / 12.0).sqrt();
        let got = b.half_width(0.95).unwrap();
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        // Fewer than 10 batches: no interval.
        let mut few = BatchMeans::new(1);
        for x in &m[..9] {
            few.push(*x);
        }
        assert_eq!(few.half_width(0.95), None);
    }

    #[test]
    fn full_batches_merge_pairwise_and_double_their_size() {
        // 64 batches of one merge into 32 of two: each the mean of a pair.
        // Squares, so that a merge keeping one of each pair (the evens)
        // is not the true pair means shifted by a constant.
        let mut b = BatchMeans::new(1);
        for i in 0..64 {
            b.push(f64::from(i * i));
        }
        assert_eq!((b.batches(), b.batch_size()), (32, 2));
        let mut two = BatchMeans::new(2);
        for i in 0..64 {
            two.push(f64::from(i * i));
        }
        assert_eq!(b.half_width(0.95), two.half_width(0.95));
    }

    #[test]
    fn lag1_is_the_batch_means_autocorrelation() {
        let of = |xs: &[f64]| {
            let mut b = BatchMeans::new(1);
            for &x in xs {
                b.push(x);
            }
            b.lag1()
        };
        // 1..10: mean 5.5, Σ(m − 5.5)² = 82.5, Σ(m_i − 5.5)(m_i+1 − 5.5)
        // = 57.75: 0.7.
        let trend: Vec<f64> = (1..=10).map(f64::from).collect();
        let r = of(&trend).unwrap();
        assert!((r - 0.7).abs() < 1e-12, "{r}");
        // 2, 0, 2, …: mean 1, Σ(m − 1)² = 10, nine products of −1: −0.9.
        let alternating: Vec<f64> = (0..10).map(|i| f64::from(2 * ((i + 1) % 2))).collect();
        let r = of(&alternating).unwrap();
        assert!((r + 0.9).abs() < 1e-12, "{r}");
        // Equal means: no correlation to speak of, not 0/0.
        assert_eq!(of(&[3.0; 10]), Some(0.0));
        assert_eq!(of(&trend[..9]), None);
    }

    #[test]
    fn ten_batches_are_enough_for_an_interval() {
        let mut b = BatchMeans::new(1);
        for x in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0] {
            b.push(x);
        }
        // s² = 82.5/9, t(0.975, 9) = 2.262157 (tables).
        let want = 2.262157 * (82.5 / 9.0 / 10.0_f64).sqrt();
        let got = b.half_width(0.95).unwrap();
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn mser5_drops_the_prefix_with_the_least_marginal_standard_error() {
        // 0, 8, 3, 7, 7, 8, 3, 5: dropping d of them leaves m = 8 − d
        // means with SSE/m² of 58.875/64 = 0.920 (d 0), 28.857/49 = 0.589
        // (d 1), 23.5/36 = 0.653 (d 2), 16/25 = 0.64 (d 3): one.
        assert_eq!(mser5(&[0.0, 8.0, 3.0, 7.0, 7.0, 8.0, 3.0, 5.0]), 1);
        // Four means are enough to search: 10, 1, 1, 1 drops the 10.
        assert_eq!(mser5(&[10.0, 1.0, 1.0, 1.0]), 1);
        assert_eq!(mser5(&[10.0, 1.0, 1.0]), 0);
    }

    #[test]
    fn mser5_cuts_an_initial_transient() {
        let mut xs: Vec<f64> = (0..40).map(|i| 10.0 - 0.25 * i as f64).collect();
        xs.extend((0..400).map(|i| if i % 2 == 0 { 0.9 } else { 1.1 }));
        let d = mser5(&xs);
        assert!((36..=44).contains(&d), "truncated at {d}");
        assert_eq!(mser5(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]), 0);
    }
}
