//! The drift test: a two-sided CUSUM (Page 1954) on a demand's
//! standardized block estimates.
//!
//! Every update fits each method on the intervals closed since the last
//! one (a block: blocks never overlap, so their estimates are nearly
//! independent). The demand's own recent interval is the mean and
//! standard deviation of its last [`DriftConfig::reference`] block
//! estimates; each new block is standardized by them,
//! z = (b − mean) / sd (clipped at ±7), and accumulated in
//! S⁺ = max(0, S⁺ + z − k) and S⁻ = max(0, S⁻ − z − k). The alarm is
//! raised when one of them passes h after at least two blocks in a row on
//! its side (a single wild block never raises it): the demand has left its
//! recent interval for a sustained time. It stays raised while the test
//! learns the new level (a fresh reference of
//! [`DriftConfig::min_reference`] blocks), then the test is armed again.
//!
//! With k = 1 and h = 10, independent normal z would give about 10⁹
//! blocks between false alarms (Siegmund's approximation), but block
//! estimates are not that: the reference's own estimation error (a mean
//! and a deviation from 12 to 24 blocks) and the load's slow wander make
//! the tails far heavier. The rate that counts is the one measured on
//! generated traces without a step (`watch::tests`' slow test), stated in
//! `docs/commands.md#watch`.

use std::collections::VecDeque;

/// Settings of the drift test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftConfig {
    /// The allowance k, in standard deviations: the test chases shifts of
    /// more than 2k.
    pub allowance: f64,
    /// The decision threshold h, in standard deviations.
    pub threshold: f64,
    /// Block estimates the reference keeps.
    pub reference: usize,
    /// Block estimates the reference needs before the test is armed.
    pub min_reference: usize,
    /// The most one block's z counts, in standard deviations: with
    /// clip − k < h < 2·(clip − k) one wild block never raises the alarm
    /// and leaves little behind, while two in a row do.
    pub clip: f64,
    /// The least standard deviation, as a fraction of the mean (perfectly
    /// steady estimates would otherwise alarm at any wobble).
    pub floor: f64,
}

impl Default for DriftConfig {
    fn default() -> Self {
        Self {
            allowance: 1.0,
            threshold: 10.0,
            reference: 24,
            min_reference: 12,
            clip: 7.0,
            floor: 0.01,
        }
    }
}

/// One demand's drift test.
#[derive(Debug, Clone, Default)]
pub(super) struct Detector {
    history: VecDeque<f64>,
    up: f64,
    down: f64,
    /// Blocks in a row above (+) or below (−) the reference's mean by
    /// more than the allowance.
    run: i32,
    alarm: Option<String>,
}

impl Detector {
    /// Takes block estimate `b`; the alarm's reason while it is raised.
    pub(super) fn observe(&mut self, b: f64, cfg: &DriftConfig) -> Option<String> {
        if self.alarm.is_some() {
            self.remember(b, cfg);
            if self.history.len() >= cfg.min_reference {
                self.alarm = None;
            }
            return self.alarm.clone();
        }
        if self.history.len() < cfg.min_reference {
            self.remember(b, cfg);
            return None;
        }
        let (mean, sd) = self.reference(cfg);
        let z = ((b - mean) / sd).clamp(-cfg.clip, cfg.clip);
        self.up = (self.up + z - cfg.allowance).max(0.0);
        self.down = (self.down - z - cfg.allowance).max(0.0);
        self.run = match (z > cfg.allowance, z < -cfg.allowance) {
            (true, _) => self.run.max(0) + 1,
            (_, true) => self.run.min(0) - 1,
            _ => 0,
        };
        let stat = if self.run > 0 { self.up } else { self.down };
        if self.run.abs() >= 2 && stat > cfg.threshold {
            self.alarm = Some(format!(
                "demand {b:.4} s left its recent interval {:.4}-{:.4} s for {} blocks (CUSUM {stat:.1} > {})",
                mean - 2.0 * sd,
                mean + 2.0 * sd,
                self.run.abs(),
                cfg.threshold
            ));
            *self = Self {
                alarm: self.alarm.take(),
                ..Self::default()
            };
            self.remember(b, cfg);
            return self.alarm.clone();
        }
        // A block on its way out does not widen the reference it leaves.
        if self.up.max(self.down) < cfg.threshold / 2.0 {
            self.remember(b, cfg);
        }
        None
    }

    /// The alarm's reason while it is raised.
    pub(super) fn raised(&self) -> Option<String> {
        self.alarm.clone()
    }

    fn remember(&mut self, b: f64, cfg: &DriftConfig) {
        self.history.push_back(b);
        while self.history.len() > cfg.reference.max(cfg.min_reference) {
            self.history.pop_front();
        }
    }

    /// The reference's mean and standard deviation (floored).
    fn reference(&self, cfg: &DriftConfig) -> (f64, f64) {
        let n = self.history.len() as f64;
        let mean = self.history.iter().sum::<f64>() / n;
        let var = self.history.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var.sqrt().max(cfg.floor * mean.abs()).max(1e-12))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic wobble of ±1 % around `level`.
    fn wobble(level: f64, i: usize) -> f64 {
        level * (1.0 + 0.01 * ((i as f64) * 2.3).sin())
    }

    #[test]
    fn a_step_raises_the_alarm_on_its_second_block_and_a_single_wild_block_does_not() {
        let cfg = DriftConfig::default();
        let mut d = Detector::default();
        for i in 0..30 {
            assert_eq!(d.observe(wobble(0.005, i), &cfg), None, "block {i}");
        }
        assert_eq!(d.observe(0.02, &cfg), None, "one block is not sustained");
        for i in 31..40 {
            assert_eq!(d.observe(wobble(0.005, i), &cfg), None, "block {i}");
        }
        assert_eq!(d.observe(0.01, &cfg), None, "the first block of the step");
        let reason = d.observe(0.01, &cfg).expect("the second block raises it");
        assert!(
            reason.starts_with("demand 0.0100 s left its recent interval 0.00"),
            "{reason}"
        );
        // Raised while the new level is learnt, then armed again.
        for i in 1..cfg.min_reference - 1 {
            assert!(
                d.observe(wobble(0.01, i), &cfg).is_some(),
                "re-learning {i}"
            );
        }
        for i in 0..30 {
            assert_eq!(
                d.observe(wobble(0.01, i), &cfg),
                None,
                "new level, block {i}"
            );
        }
        // A fall is caught as a rise is.
        d.observe(0.005, &cfg);
        assert!(d.observe(0.005, &cfg).is_some());
    }
}
