//! The rows' numbers as every estimator reads them on each fit (lengths,
//! utilization, per-class throughputs, response times and completions,
//! and the observed-state response equations), laid out flat, in columns,
//! and computed once per `Observations`, which fills them from its rows.
//!
//! A [`Row`] keeps its per-class numbers in vectors of their own, so
//! reading one row touches several cache lines in as many heap blocks;
//! over 53,000 intervals × 200 resamples the methods spent most of their
//! time waiting for memory once the rows no longer fitted in the cache
//! (CPU time grew ×16 from 5,300 to 53,000 intervals), and recomputed the
//! same Erlang-C value for every resample. The cache is filled on first
//! use and keyed on what it depends on besides the rows' numbers
//! (servers, discipline, row and class counts): an observation set whose
//! rows are edited in place after an estimate must be built anew (a
//! clone starts with an empty cache).

use std::sync::OnceLock;

use super::discipline::Discipline;
use super::observations::Row;

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

/// The flat copies: per row, or per row and class row after row
/// (`classes` each).
#[derive(Debug, Clone)]
pub(super) struct Hot {
    key: Key,
    /// Interval length per row, seconds.
    pub length: Vec<f64>,
    /// Utilization per row.
    pub utilization: Vec<f64>,
    /// Throughput per row and class.
    pub throughput: Vec<f64>,
    /// Mean response time per row and class (`None`: no completion).
    pub response: Vec<Option<f64>>,
    /// Completions per row and class.
    pub completions: Vec<u64>,
    /// Per row and class: the response equation's coefficients (n each),
    /// and its (measured response, requests), response NaN where the
    /// class has no equation in the row. `None` past
    /// [`MAX_EQUATION_VALUES`], or when not asked for.
    equations: Option<Equations>,
}

/// Coefficients (n per row and class), then (response, requests) per row
/// and class.
type Equations = (Vec<f64>, Vec<(f64, u64)>);

/// One row of [`Hot`]: what a [`Row`] holds, minus the population and the
/// arrivals (read through the response equations).
#[derive(Debug, Clone, Copy)]
pub(super) struct RowView<'a> {
    pub length: f64,
    pub utilization: f64,
    pub throughput: &'a [f64],
    pub response: &'a [Option<f64>],
    pub completions: &'a [u64],
}

impl Hot {
    /// The flat copies of `rows` for `key`, with the response equations
    /// `equation(row, class, coefficients)` gives, when `equations` is
    /// set and they fit.
    pub fn new(
        key: Key,
        rows: &[Row],
        equations: bool,
        equation: impl Fn(usize, usize, &mut [f64]) -> Option<(f64, u64)>,
    ) -> Self {
        let n = key.classes;
        let equations = (equations && rows.len() * n * (n + 2) <= MAX_EQUATION_VALUES).then(|| {
            let (mut coefficients, mut sides) = (
                vec![0.0; rows.len() * n * n],
                vec![(f64::NAN, 0); rows.len() * n],
            );
            for i in 0..rows.len() {
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
            length: rows.iter().map(|r| r.length).collect(),
            utilization: rows.iter().map(|r| r.utilization).collect(),
            throughput: rows
                .iter()
                .flat_map(|r| r.throughput.iter().copied())
                .collect(),
            response: rows
                .iter()
                .flat_map(|r| r.response.iter().copied())
                .collect(),
            completions: rows
                .iter()
                .flat_map(|r| r.completions.iter().copied())
                .collect(),
            equations,
        }
    }

    /// Row `i`.
    #[inline]
    pub fn row(&self, i: usize) -> RowView<'_> {
        let n = self.key.classes;
        let at = i * n..(i + 1) * n;
        RowView {
            length: self.length[i],
            utilization: self.utilization[i],
            throughput: &self.throughput[at.clone()],
            response: &self.response[at.clone()],
            completions: &self.completions[at],
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
