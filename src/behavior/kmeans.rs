//! Seeded k-means on sparse vectors (k-means++ seeding, Lloyd's
//! iterations). By hand: the well-kept implementation (linfa-clustering)
//! works on ndarray, while the project's linear algebra is nalgebra, and
//! these vectors are sparse (a session takes a handful of the possible
//! transitions), which the distance below exploits.

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A sparse vector: (dimension, value), dimensions increasing.
pub type Sparse = Vec<(usize, f64)>;

/// A clustering: each point's cluster and the sum of squared distances
/// to the centres.
#[derive(Debug, Clone, PartialEq)]
pub struct Clusters {
    /// Cluster of each point, 0..k, numbered by first member.
    pub of: Vec<usize>,
    /// Σ ‖x − c‖².
    pub sse: f64,
}

fn norm2(x: &Sparse) -> f64 {
    x.iter().map(|(_, v)| v * v).sum()
}

/// ‖x − c‖² with c dense and ‖c‖² given.
fn dist2(x: &Sparse, x2: f64, c: &[f64], c2: f64) -> f64 {
    let dot: f64 = x.iter().map(|&(d, v)| v * c[d]).sum();
    (x2 - 2.0 * dot + c2).max(0.0)
}

/// Starts from new k-means++ seeds: one start falls into a poor local
/// optimum often enough.
const RESTARTS: u64 = 10;

/// `k` clusters of `points` in `dims` dimensions, seeded by `seed`, from
/// each of [`RESTARTS`] starts.
pub fn starts(
    points: &[Sparse],
    dims: usize,
    k: usize,
    seed: u64,
) -> impl Iterator<Item = Clusters> + '_ {
    (0..RESTARTS).map(move |r| {
        lloyd(
            points,
            dims,
            k,
            seed.wrapping_add(r.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        )
    })
}

/// One k-means++ start and Lloyd's iterations to a fixed point.
fn lloyd(points: &[Sparse], dims: usize, k: usize, seed: u64) -> Clusters {
    let n = points.len();
    let k = k.clamp(1, n.max(1));
    let x2: Vec<f64> = points.iter().map(norm2).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let dense = |p: &Sparse| {
        let mut c = vec![0.0; dims];
        for &(d, v) in p {
            c[d] = v;
        }
        c
    };
    // k-means++: each next centre drawn with probability ∝ its squared
    // distance to the nearest centre so far.
    let mut centres = vec![dense(&points[rng.random_range(0..n)])];
    let mut near: Vec<f64> = vec![f64::INFINITY; n];
    while centres.len() < k {
        let c = centres.last().expect("one centre");
        let c2 = c.iter().map(|v| v * v).sum();
        for i in 0..n {
            near[i] = near[i].min(dist2(&points[i], x2[i], c, c2));
        }
        let total: f64 = near.iter().sum();
        if total <= 0.0 {
            break; // fewer distinct points than k
        }
        let mut r = rng.random::<f64>() * total;
        let pick = near
            .iter()
            .position(|&d| {
                r -= d;
                r <= 0.0
            })
            .unwrap_or(n - 1);
        centres.push(dense(&points[pick]));
    }
    let mut of = vec![usize::MAX; n];
    let mut sse = 0.0;
    for _ in 0..200 {
        let c2: Vec<f64> = centres
            .iter()
            .map(|c| c.iter().map(|v| v * v).sum())
            .collect();
        let mut changed = false;
        sse = 0.0;
        for i in 0..n {
            let (best, d) = (0..centres.len())
                .map(|j| (j, dist2(&points[i], x2[i], &centres[j], c2[j])))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .expect("a centre");
            sse += d;
            changed |= of[i] != best;
            of[i] = best;
        }
        if !changed {
            break;
        }
        let mut sums = vec![vec![0.0; dims]; centres.len()];
        let mut sizes = vec![0usize; centres.len()];
        for i in 0..n {
            sizes[of[i]] += 1;
            for &(d, v) in &points[i] {
                sums[of[i]][d] += v;
            }
        }
        for (j, (s, &size)) in sums.into_iter().zip(&sizes).enumerate() {
            if size > 0 {
                centres[j] = s.into_iter().map(|v| v / size as f64).collect();
            }
        }
    }
    Clusters {
        of: renumber(&of),
        sse,
    }
}

/// Clusters numbered by their first member, so that the numbering does
/// not depend on which centre was drawn first.
pub(super) fn renumber(of: &[usize]) -> Vec<usize> {
    let mut map = std::collections::HashMap::new();
    of.iter()
        .map(|&c| {
            let next = map.len();
            *map.entry(c).or_insert(next)
        })
        .collect()
}
