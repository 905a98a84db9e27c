//! The interface every estimation method implements. The methods
//! themselves are in `methods/`, declared in `methods.rs`.

use super::linearized::Linearized;
use super::observations::Observations;

/// Why a method has no estimate from the rows it was given, in words. The
/// caller names the method: [`Method::failed`](super::Method::failed).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Unfit(pub String);

/// One estimation approach.
pub trait Estimator: Send + Sync {
    /// Demand per class (seconds) from the rows `use_rows` of `obs`.
    ///
    /// # Errors
    /// [`Unfit`] when the method cannot produce an estimate from these
    /// rows (never a zero vector in its place).
    fn estimate(&self, obs: &Observations, use_rows: &[usize]) -> Result<Vec<f64>, Unfit>;

    /// The fit on a resample's `rows`, given the full data's estimate
    /// `from` (an iterative method may start there).
    ///
    /// # Errors
    /// As [`Estimator::estimate`].
    fn refit(&self, obs: &Observations, rows: &[usize], _from: &[f64]) -> Result<Vec<f64>, Unfit> {
        self.estimate(obs, rows)
    }

    /// A least-squares method's fit on `rows`, expanded at its estimate
    /// `at` (for the one-step bootstrap); `None` for the others.
    fn linearize(&self, _obs: &Observations, _rows: &[usize], _at: &[f64]) -> Option<Linearized> {
        None
    }
}
