//! The per-row numbers the estimators read on every bootstrap resample
//! (throughputs, utilization and the observed-state response equations),
//! laid out flat and computed once per `Observations`, which fills them
//! (this file knows nothing of it: only the layout and the cache slot).
//!
//! A [`Row`](super::observations::Row) keeps its per-class numbers in vectors of their
//! own, so reading one row touches several cache lines; over 50 000
//! intervals × 200 resamples the filters and the regressions spent most of
//! their time waiting for memory, and recomputed the same Erlang-C value
//! for every resample. The cache is filled on first use and keyed on what
//! it depends on besides the rows (servers, discipline, row and class
//! counts): an observation set whose rows are edited after an estimate
//! must be built anew.

use std::sync::OnceLock;

use super::discipline::Discipline;

/// Response equations are cached up to this many numbers (32 MB); past
/// it (very many classes) they are computed on each use.
const MAX_EQUATION_VALUES: usize = 4 << 20;

/// What the cache was computed for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Key {
    pub servers: u32,
    pub discipline: Discipline,
    pub rows: usize,
    pub classes: usize,
}

/// The flat copies.
#[derive(Debug)]
pub(super) struct Hot {
    key: Key,
    /// Throughput per row and class, row after row.
    pub throughput: Vec<f64>,
    /// Utilization per row.
    pub utilization: Vec<f64>,
    /// Per row and class: the response equation's coefficients (n each),
    /// and its (measured response, requests), response NaN where the
    /// class has no equation in the row. `None` past
    /// [`MAX_EQUATION_VALUES`].
    equations: Option<Equations>,
}

/// Coefficients (n per row and class), then (response, requests) per row
/// and class.
type Equations = (Vec<f64>, Vec<(f64, u64)>);

impl Hot {
    /// The flat copies for `key`: throughputs row after row (`classes` per
    /// row), utilization per row, and the response equations
    /// `equation(row, class, coefficients)` gives, when they fit.
    pub fn new(
        key: Key,
        throughput: Vec<f64>,
        utilization: Vec<f64>,
        equation: impl Fn(usize, usize, &mut [f64]) -> Option<(f64, u64)>,
    ) -> Self {
        let (rows, n) = (key.rows, key.classes);
        let equations = (rows * n * (n + 2) <= MAX_EQUATION_VALUES).then(|| {
            let (mut coefficients, mut sides) =
                (vec![0.0; rows * n * n], vec![(f64::NAN, 0); rows * n]);
            for i in 0..rows {
                for r in 0..n {
                    let k = i * n + r;
                    let slot = &mut coefficients[k * n..(k + 1) * n];
                    if let Some(side) = equation(i, r, slot) {
                        sides[k] = side;
                    }
                }
            }
            (coefficients, sides)
        });
        Self {
            key,
            throughput,
            utilization,
            equations,
        }
    }

    /// The cached response equation of class `r` in row `i`: `None` when
    /// none is cached, `Some(None)` when the class has none in the row.
    pub fn response_equation(
        &self,
        i: usize,
        r: usize,
        a: &mut [f64],
    ) -> Option<Option<(f64, u64)>> {
        let (coefficients, sides) = self.equations.as_ref()?;
        let n = a.len();
        let k = i * n + r;
        let (response, requests) = sides[k];
        if response.is_nan() {
            return Some(None);
        }
        a.copy_from_slice(&coefficients[k * n..(k + 1) * n]);
        Some(Some((response, requests)))
    }
}

/// The cache slot in `Observations`: not part of its value (a clone
/// starts empty, any two compare equal).
#[derive(Default)]
pub(super) struct HotCache(OnceLock<Hot>);

impl HotCache {
    /// The flat copies, computed by `init` on first use; `None` when what
    /// they were computed for is not `key` any more (the observations'
    /// servers, discipline, rows or classes changed since).
    pub fn get(&self, key: Key, init: impl FnOnce() -> Hot) -> Option<&Hot> {
        let hot = self.0.get_or_init(init);
        (hot.key == key).then_some(hot)
    }
}

impl Clone for HotCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for HotCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for HotCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HotCache")
    }
}
