//! The run-aware moving-block bootstrap: resamples of the rows
//! ([`Resamples`]), the re-centred, t/z-widened percentile interval of a
//! method's resampled fits ([`Percentile`]) and the joint draws of the
//! demands that carry the uncertainty into predictions.

use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::stats::quantile_sorted as quantile;

/// Intervals from which the least-squares methods (`rort`, `rortu`) draw
/// their bootstrap by one Gauss–Newton step rather than by refitting: the
/// resample's fit then lies within O(1/√n) of the full one, where one
/// step is exact to first order. (On 53,000 intervals the refits took
/// 14 of the 16.6 s of an estimate.)
pub(super) const ONE_STEP_FROM: usize = 5000;

/// Moving-block bootstrap resamples (block length ≈ n^(1/3) within each
/// run) keep the short-range correlation of neighbouring intervals; blocks
/// never cross a run boundary, and each run keeps its own number of rows.
///
/// A resample is kept as its block starts and expanded only while a method
/// fits it: 200 resamples of 50,000 intervals would otherwise hold 80 MB of
/// indices.
pub(super) struct Resamples {
    /// Per run: (first row, rows, block length).
    segments: Vec<(usize, usize, usize)>,
    n: usize,
    /// Per resample, its blocks' first rows.
    pub starts: Vec<Vec<usize>>,
}

impl Resamples {
    pub fn new(runs: &[std::ops::Range<usize>], b: usize, rng: &mut Xoshiro256PlusPlus) -> Self {
        let segments: Vec<(usize, usize, usize)> = runs
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| {
                let n = r.len();
                (r.start, n, ((n as f64).cbrt().round() as usize).clamp(1, n))
            })
            .collect();
        let starts = (0..b)
            .map(|_| {
                let mut s = Vec::new();
                for &(first, n, len) in &segments {
                    for _ in 0..n.div_ceil(len) {
                        s.push(first + rng.random_range(0..=(n - len)));
                    }
                }
                s
            })
            .collect();
        let n = segments.iter().map(|s| s.1).sum();
        Self {
            segments,
            n,
            starts,
        }
    }

    /// How much wider than the percentile spread an interval at
    /// `confidence` must be: t over z at the resamples' degrees of freedom,
    /// the number of blocks less the `params` fitted. The blocks are the
    /// resample's independent pieces, so the bootstrap's spread is itself
    /// estimated from that many; read with z, the intervals of a one-hour
    /// trace (24 blocks) held the truth in 89.5–92 % of seeds for two
    /// classes instead of 95 %.
    pub fn widening(&self, confidence: f64, params: usize) -> f64 {
        let blocks: usize = self.segments.iter().map(|&(_, n, l)| n.div_ceil(l)).sum();
        let dof = blocks.saturating_sub(params).max(1) as f64;
        let z = crate::stats::student_t_quantile(confidence, f64::INFINITY);
        crate::stats::student_t_quantile(confidence, dof) / z
    }

    /// The rows of resample `starts`.
    pub fn rows(&self, starts: &[usize]) -> Vec<usize> {
        let mut v = Vec::with_capacity(self.n + self.segments.len() * 8);
        let mut blocks = starts.iter();
        for &(_, n, len) in &self.segments {
            let from = v.len();
            for &s in blocks.by_ref().take(n.div_ceil(len)) {
                v.extend(s..s + len);
            }
            v.truncate(from + n);
        }
        v
    }
}

/// How an interval is drawn from a method's resampled fits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Percentile {
    /// Confidence level.
    pub confidence: f64,
    /// The percentile spread's factor ([`Resamples::widening`]).
    pub widen: f64,
}

impl Percentile {
    /// The percentile bootstrap interval of `draw` over the resampled
    /// fits `draws` (`None` where a fit failed), about the estimate
    /// `point`, when at least 20 (and 90 % of them) succeeded.
    pub fn interval(
        &self,
        draws: &[Option<Vec<f64>>],
        point: f64,
        draw: &dyn Fn(&[f64]) -> f64,
    ) -> (Option<f64>, Option<f64>) {
        let alpha = 0.5 * (1.0 - self.confidence);
        let mut v: Vec<f64> = draws
            .iter()
            .flatten()
            .map(|d| draw(d))
            .filter(|x| x.is_finite())
            .collect();
        v.sort_by(f64::total_cmp);
        let ok = v.len() >= 20 && v.len() * 10 >= draws.len() * 9;
        if !ok {
            return (None, None);
        }
        // The percentile interval moved so that the draws' median sits on
        // the estimate: what the resampled fits say about the spread,
        // around the number reported (never an interval that misses it),
        // widened for the few blocks it was learnt from.
        let (lo, mid, hi) = (
            quantile(&v, alpha),
            quantile(&v, 0.5),
            quantile(&v, 1.0 - alpha),
        );
        (
            Some((point - self.widen * (mid - lo)).max(0.0)),
            Some(point + self.widen * (hi - mid)),
        )
    }
}

/// The first `n` successful bootstrap fits of a method, class → demand,
/// each class moved as its interval is (the draws' median onto the
/// estimate, their spread around it widened by `widen`), so that the
/// draws' quantiles are the reported intervals.
pub(super) fn joint_draws(
    classes: &[String],
    point: &[f64],
    draws: &[Option<Vec<f64>>],
    n: usize,
    widen: f64,
) -> Vec<std::collections::BTreeMap<String, f64>> {
    let median: Vec<f64> = (0..classes.len())
        .map(|r| {
            let mut v: Vec<f64> = draws
                .iter()
                .flatten()
                .map(|d| d[r])
                .filter(|x| x.is_finite())
                .collect();
            v.sort_by(f64::total_cmp);
            if v.is_empty() {
                point[r]
            } else {
                quantile(&v, 0.5)
            }
        })
        .collect();
    draws
        .iter()
        .flatten()
        .take(n)
        .map(|d| {
            let moved = (0..d.len()).map(|r| (point[r] + widen * (d[r] - median[r])).max(0.0));
            classes.iter().cloned().zip(moved).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// 95 % intervals with the spread times `widen`.
    fn percentile(widen: f64) -> Percentile {
        Percentile {
            confidence: 0.95,
            widen,
        }
    }

    #[test]
    fn an_interval_is_the_draws_spread_about_the_estimate_times_the_widening() {
        // Draws 0, 1, …, 100: the 2.5 %, 50 % and 97.5 % points are 2.5,
        // 50 and 97.5; reported about 40 with the spread doubled.
        let draws: Vec<Option<Vec<f64>>> = (0..=100).map(|i| Some(vec![f64::from(i)])).collect();
        let (lo, hi) = percentile(2.0).interval(&draws, 40.0, &|x| x[0]);
        assert!((lo.unwrap() - 0.0).abs() < 1e-12, "{lo:?}: clamped at 0");
        assert!((hi.unwrap() - (40.0 + 2.0 * 47.5)).abs() < 1e-9, "{hi:?}");
        let (lo, hi) = percentile(0.5).interval(&draws, 40.0, &|x| x[0]);
        assert!((lo.unwrap() - (40.0 - 0.5 * 47.5)).abs() < 1e-9, "{lo:?}");
        assert!((hi.unwrap() - (40.0 + 0.5 * 47.5)).abs() < 1e-9, "{hi:?}");
        // Fewer than 20 draws, or more than one in ten failed: none.
        let few = &draws[..19];
        assert_eq!(percentile(1.0).interval(few, 40.0, &|x| x[0]), (None, None));
        let mut failing = draws.clone();
        failing.extend(std::iter::repeat_n(None, 12));
        assert_eq!(
            percentile(1.0).interval(&failing, 40.0, &|x| x[0]),
            (None, None)
        );
    }

    #[test]
    fn an_interval_always_holds_its_estimate_with_the_draws_spread() {
        // Resampled fits all above the full fit (a biased method on a
        // short trace): the raw percentile interval would miss the
        // estimate; the re-centred one keeps the draws' spread around it.
        let draws: Vec<Option<Vec<f64>>> = (0..=100)
            .map(|i| Some(vec![2.0 + 0.01 * f64::from(i)]))
            .collect();
        let (lo, hi) = percentile(1.0).interval(&draws, 1.0, &|d| d[0]);
        // Draws 2.00..3.00: median 2.5, 2.5 % at 2.025, 97.5 % at 2.975.
        assert!((lo.unwrap() - 0.525).abs() < 1e-12, "{lo:?}");
        assert!((hi.unwrap() - 1.475).abs() < 1e-12, "{hi:?}");
    }

    #[test]
    fn joint_draws_are_the_draws_moved_onto_the_estimate_and_widened() {
        let classes = ["a".to_string()];
        // Median of 1, 2, 3, 4, 5 is 3; about the estimate 10, doubled.
        let draws: Vec<Option<Vec<f64>>> = (1..=5).map(|i| Some(vec![f64::from(i)])).collect();
        let got: Vec<f64> = joint_draws(&classes, &[10.0], &draws, 4, 2.0)
            .iter()
            .map(|d| d["a"])
            .collect();
        assert_eq!(got, vec![6.0, 8.0, 10.0, 12.0]);
        // Never below zero.
        assert_eq!(joint_draws(&classes, &[1.0], &draws, 1, 2.0)[0]["a"], 0.0);
    }

    #[test]
    fn intervals_widen_by_t_over_z_at_the_blocks_less_the_parameters() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        // 120 rows: blocks of round(120^(1/3)) = 5, 24 blocks; two classes
        // leave 22 degrees of freedom: t(0.975, 22) = 2.0739.
        let boot = Resamples::new(std::slice::from_ref(&(0..120)), 10, &mut rng);
        assert!((boot.widening(0.95, 2) - 2.073_873 / 1.959_964).abs() < 1e-5);
        // Two runs of 8 rows (blocks of 2, 4 each): 8 blocks, 1 class, 7
        // degrees of freedom.
        let boot = Resamples::new(&[0..8, 8..16], 10, &mut rng);
        assert!((boot.widening(0.95, 1) - 2.364_624 / 1.959_964).abs() < 1e-5);
        // A long trace: the normal quantile.
        let boot = Resamples::new(std::slice::from_ref(&(0..1_000_000)), 10, &mut rng);
        assert!((boot.widening(0.95, 1) - 1.0).abs() < 1e-3);
    }

    #[test]
    fn bootstrap_blocks_stay_inside_their_run_and_keep_its_size() {
        let runs = [0..30, 30..37, 37..100];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let boot = Resamples::new(&runs, 50, &mut rng);
        for starts in &boot.starts {
            let rows = boot.rows(starts);
            assert_eq!(rows.len(), 100);
            let mut at = 0;
            for r in &runs {
                let part = &rows[at..at + r.len()];
                assert!(part.iter().all(|i| r.contains(i)), "{r:?}: {part:?}");
                at += r.len();
            }
        }
    }

    #[test]
    fn one_run_resamples_as_before_runs_existed() {
        // The draws of a single run are the moving-block bootstrap of the
        // whole trace: block length round(n^(1/3)), ceil(n/len) blocks.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let one_run = std::iter::once(0..64).collect::<Vec<_>>();
        let boot = Resamples::new(&one_run, 3, &mut rng);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        for starts in &boot.starts {
            assert_eq!(starts.len(), 16);
            for &s in starts {
                assert_eq!(s, rng.random_range(0..=60));
            }
        }
    }
}
