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

/// Cosine between two classes' run-mean throughput columns above which
/// the runs cannot tell them apart: they move together.
pub const COLLINEAR_COSINE: f64 = 0.99;

/// What the runs' means determine: the design with one row per run and
/// one column per class (its mean throughput over the run). Interval
/// throughputs scatter around a run's mix by counting noise alone, which
/// makes the interval design look well conditioned even when every run has
/// the same mix of two classes; across runs, only a change of mix between
/// runs separates them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunIdentifiability {
    /// Runs (rows).
    pub runs: usize,
    /// Rank of the run-mean design (singular values above 10⁻⁹ of the
    /// largest).
    pub rank: usize,
    /// σ_max/σ_min with each class's column scaled to unit root mean
    /// square; `None` when the rank is below the classes.
    pub condition_number: Option<f64>,
    /// Its singular values, largest first (as many as classes; 0 where
    /// there are fewer runs).
    pub singular_values: Vec<f64>,
    /// Per class: is its demand determined by the runs?
    pub identifiable: Vec<bool>,
    /// The combinations of demands the runs cannot separate: per weak
    /// direction, its singular value relative to σ_max and each class's
    /// coefficient (unit length; classes below 0.05 left out).
    pub weak_directions: Vec<WeakDirection>,
    /// Groups of classes whose run-mean throughputs move together (cosine
    /// at least [`COLLINEAR_COSINE`]): only their combined demand is
    /// determined.
    pub collinear_groups: Vec<Vec<String>>,
}

/// A combination of demands the runs hardly move along.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeakDirection {
    /// Its singular value relative to the largest.
    pub relative_singular_value: f64,
    /// Class and coefficient, largest magnitude first.
    pub classes: Vec<(String, f64)>,
}

/// Each run's mean throughput per class (completions over time).
pub(crate) fn run_means(obs: &Observations) -> Vec<Vec<f64>> {
    obs.runs
        .iter()
        .map(|run| {
            let rows = &obs.rows[run.rows.clone()];
            let time: f64 = rows.iter().map(|r| r.length).sum::<f64>().max(1e-300);
            (0..obs.n_classes())
                .map(|c| rows.iter().map(|r| r.throughput[c] * r.length).sum::<f64>() / time)
                .collect()
        })
        .collect()
}

/// Judges the run-mean design of `obs` (with [`MIN_SINGULAR_RATIO`] and
/// [`MAX_WEAK_LOADING`] as for intervals).
pub fn identify_runs(obs: &Observations) -> RunIdentifiability {
    let k = obs.n_classes();
    let means = run_means(obs);
    let n = means.len();
    let mut a = DMatrix::from_fn(n, k, |i, c| means[i][c]);
    for mut col in a.column_iter_mut() {
        let rms = (col.norm_squared() / n.max(1) as f64).sqrt();
        if rms > 0.0 {
            col /= rms;
        }
    }
    // The Gram matrix's eigenvectors span every direction, the null
    // space too when there are fewer runs than classes.
    let eigen = (a.transpose() * &a).symmetric_eigen();
    let mut pairs: Vec<(f64, usize)> = eigen
        .eigenvalues
        .iter()
        .map(|l| l.max(0.0).sqrt())
        .zip(0..)
        .collect();
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let largest = pairs.first().map_or(0.0, |p| p.0);
    // The rank from the design's own singular values: the Gram matrix's
    // eigenvalues carry rounding of order 10⁻¹⁶ of the largest, 10⁻⁸ in σ.
    let sv = a.singular_values();
    let rank = sv.iter().filter(|&&s| s > 1e-9 * sv.max()).count();
    let smallest = if rank == k { sv.min() } else { 0.0 };
    let weak: Vec<&(f64, usize)> = pairs
        .iter()
        .filter(|p| p.0 < MIN_SINGULAR_RATIO * largest / (k as f64).sqrt())
        .collect();
    let v = &eigen.eigenvectors;
    let identifiable = (0..k)
        .map(|c| {
            let loading: f64 = weak.iter().map(|p| v[(c, p.1)].powi(2)).sum();
            loading <= MAX_WEAK_LOADING && largest > 0.0
        })
        .collect();
    let weak_directions = weak
        .iter()
        .map(|p| {
            let mut classes: Vec<(String, f64)> = (0..k)
                .filter(|&c| v[(c, p.1)].abs() >= 0.05)
                .map(|c| (obs.classes[c].clone(), v[(c, p.1)]))
                .collect();
            classes.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()));
            WeakDirection {
                relative_singular_value: if largest > 0.0 { p.0 / largest } else { 0.0 },
                classes,
            }
        })
        .collect();
    RunIdentifiability {
        runs: n,
        rank,
        condition_number: (rank == k && smallest > 0.0).then(|| sv.max() / smallest),
        singular_values: pairs.iter().map(|p| p.0).collect(),
        identifiable,
        weak_directions,
        collinear_groups: collinear_groups(&obs.classes, &a),
    }
}

/// Classes whose columns are nearly parallel, joined transitively; only
/// groups of two or more, in class order.
fn collinear_groups(classes: &[String], a: &DMatrix<f64>) -> Vec<Vec<String>> {
    let k = classes.len();
    let mut group: Vec<usize> = (0..k).collect();
    let root = |g: &[usize], mut i: usize| {
        while g[i] != i {
            i = g[i];
        }
        i
    };
    for i in 0..k {
        for j in i + 1..k {
            let (x, y) = (a.column(i), a.column(j));
            let norms = x.norm() * y.norm();
            if norms > 0.0 && x.dot(&y) / norms >= COLLINEAR_COSINE {
                let (ri, rj) = (root(&group, i), root(&group, j));
                group[rj.max(ri)] = rj.min(ri);
            }
        }
    }
    let mut out: Vec<Vec<String>> = Vec::new();
    for r in 0..k {
        let members: Vec<String> = (0..k)
            .filter(|&c| root(&group, c) == r)
            .map(|c| classes[c].clone())
            .collect();
        if members.len() > 1 {
            out.push(members);
        }
    }
    out
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

    #[test]
    fn runs_with_one_ratio_of_two_classes_leave_them_together_at_run_level() {
        // Within each run a and b vary on their own (interval level: all
        // identifiable); across the three runs b is always half of a.
        let mut rows = Vec::new();
        let mut runs = Vec::new();
        for (k, (load, c)) in [(2.0, 1.0), (4.0, 3.0), (6.0, 1.5)].iter().enumerate() {
            let start = rows.len();
            for i in 0..30 {
                let t = (i + 40 * k) as f64;
                let wobble = (t * 0.7).sin();
                rows.push([
                    load * (1.0 + 0.3 * wobble),
                    0.5 * load * (1.0 - 0.3 * wobble),
                    *c,
                ]);
            }
            runs.push(crate::estimate::RunSpan {
                name: format!("r{k}"),
                rows: start..rows.len(),
            });
        }
        let mut o = obs(&rows);
        o.runs = runs;
        assert!(identify(&o, &(0..90).collect::<Vec<_>>()).all());
        let id = identify_runs(&o);
        assert_eq!((id.runs, id.rank), (3, 3));
        assert_eq!(id.identifiable, vec![false, false, true], "{id:?}");
        assert_eq!(
            id.collinear_groups,
            vec![vec!["a".to_string(), "b".to_string()]]
        );
        // The undetermined combination is a against b, c left out.
        let w = &id.weak_directions[0];
        let names: Vec<&str> = w.classes.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(names.len(), 2, "{w:?}");
        assert!(names.contains(&"a") && names.contains(&"b"), "{w:?}");
        // Two runs for three classes: rank 2, no condition number.
        o.runs.truncate(2);
        let id = identify_runs(&o);
        assert_eq!((id.rank, id.condition_number), (2, None));
    }
}
