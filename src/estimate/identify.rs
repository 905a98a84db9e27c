//! Which per-class demands the data determine.
//!
//! Per-class demands are separable only when the class mix varies over
//! the intervals; with a nearly constant mix only the mix-weighted mean
//! demand is determined and any split fits as well. The judge is the
//! class-throughput design with each class's column scaled to unit root
//! mean square (so units and volumes do not matter), by SVD (nalgebra): a
//! direction whose singular value is below [`MIN_SINGULAR_RATIO`] of
//! σ_max/√k (k classes: what each direction would get if the classes
//! varied independently) is one the mix hardly moves along, and a class
//! whose axis leans on such a direction (squared loading above
//! [`MAX_WEAK_LOADING`]) is not identifiable.
//!
//! Measured on generated traces of two classes: one run at a constant mix
//! (8:2, 5:5, 6:4 requests/s) gives 0.09–0.11; three runs with mixes 8:2,
//! 5:5, 2:12, or one run whose mix flips every five minutes, give about
//! 0.8.

use nalgebra::DMatrix;
use serde::Serialize;

use super::observations::Observations;

/// Smallest singular value, relative to σ_max/√k, of a direction the data
/// determine.
pub const MIN_SINGULAR_RATIO: f64 = 0.25;

/// Largest squared loading of a class's axis on undetermined directions
/// for its demand still to count as determined.
pub const MAX_WEAK_LOADING: f64 = 0.1;

/// What the data determine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identifiability {
    /// Per class: is its demand determined?
    pub identifiable: Vec<bool>,
    /// Singular values of the design with each class's throughput scaled
    /// to unit root mean square, largest first.
    pub singular_values: Vec<f64>,
    /// The weights of the mix-weighted mean demand: each class's share of
    /// the completions.
    pub weights: Vec<f64>,
}

impl Identifiability {
    /// Whether every class is identifiable.
    pub fn all(&self) -> bool {
        self.identifiable.iter().all(|&b| b)
    }
}

/// Judges `rows` of `obs`.
pub fn identify(obs: &Observations, rows: &[usize]) -> Identifiability {
    let k = obs.n_classes();
    let n = rows.len().max(1);
    let mut a = DMatrix::from_fn(rows.len(), k, |i, r| obs.rows[rows[i]].throughput[r]);
    for mut col in a.column_iter_mut() {
        let rms = (col.norm_squared() / n as f64).sqrt();
        if rms > 0.0 {
            col /= rms;
        }
    }
    let svd = a.svd(false, true);
    let v_t = svd.v_t.expect("asked for");
    let mut pairs: Vec<(f64, usize)> = svd.singular_values.iter().copied().zip(0..).collect();
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let largest = pairs.first().map_or(0.0, |p| p.0);
    // Directions the mix hardly moves along; with fewer rows than
    // classes, the missing ones too.
    let weak: Vec<usize> = pairs
        .iter()
        .filter(|p| p.0 < MIN_SINGULAR_RATIO * largest / (k as f64).sqrt())
        .map(|p| p.1)
        .collect();
    let missing = k.saturating_sub(pairs.len());
    let identifiable = (0..k)
        .map(|r| {
            let loading: f64 = weak.iter().map(|&j| v_t[(j, r)].powi(2)).sum();
            missing == 0 && loading <= MAX_WEAK_LOADING && largest > 0.0
        })
        .collect();
    let done: Vec<f64> = (0..k)
        .map(|r| {
            rows.iter()
                .map(|&i| obs.rows[i].completions[r] as f64)
                .sum()
        })
        .collect();
    let total = done.iter().sum::<f64>().max(1.0);
    Identifiability {
        identifiable,
        singular_values: pairs.iter().map(|p| p.0).collect(),
        weights: done.iter().map(|d| d / total).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::Row;

    fn obs(throughputs: &[[f64; 3]]) -> Observations {
        let rows = throughputs
            .iter()
            .map(|x| Row {
                length: 30.0,
                throughput: x.to_vec(),
                response: vec![Some(0.1); 3],
                completions: x.iter().map(|v| (v * 30.0) as u64).collect(),
                utilization: 0.5,
                in_system: vec![0.1; 3],
                arrived: Vec::new(),
            })
            .collect();
        Observations::new(vec!["a".into(), "b".into(), "c".into()], 1, rows)
    }

    #[test]
    fn classes_that_always_move_together_are_not_identifiable_the_others_are() {
        // a and b in a fixed 2:1 ratio (with a little jitter); c varies on
        // its own.
        let data: Vec<[f64; 3]> = (0..40)
            .map(|i| {
                let t = i as f64;
                let load = 4.0 + (t * 0.3).sin();
                [
                    2.0 * load,
                    load * (1.0 + 0.01 * (t * 1.7).cos()),
                    3.0 + 2.0 * (t * 0.9).cos(),
                ]
            })
            .collect();
        let id = identify(&obs(&data), &(0..40).collect::<Vec<_>>());
        assert_eq!(id.identifiable, vec![false, false, true], "{id:?}");
        assert!(id.singular_values[2] < MIN_SINGULAR_RATIO * id.singular_values[0] / 3f64.sqrt());
        let w: f64 = id.weights.iter().sum();
        assert!((w - 1.0).abs() < 1e-12);
    }

    #[test]
    fn independent_mixes_are_identifiable_and_fewer_rows_than_classes_are_not() {
        let data: Vec<[f64; 3]> = (0..30)
            .map(|i| {
                let t = i as f64;
                [
                    5.0 + 3.0 * (t * 0.5).sin(),
                    5.0 + 3.0 * (t * 0.8).cos(),
                    2.0 + (t * 1.3).sin(),
                ]
            })
            .collect();
        let o = obs(&data);
        assert!(identify(&o, &(0..30).collect::<Vec<_>>()).all());
        assert_eq!(identify(&o, &[0, 1]).identifiable, vec![false; 3]);
    }
}
