//! Model parameters bound to estimated demands, with the estimate's joint
//! bootstrap draws lined up so that one index is one draw of every bound
//! parameter: the band a sweep or a capacity answer carries.
//!
//! A draw of one estimation carries every class's demand together, so two
//! parameters bound to classes of the same [`Estimates`] take the same draw
//! at every index and keep the classes' correlation. Parameters bound to
//! different estimations take independent draws: each later source's draws
//! are paired in an order shuffled by the caller's seed (two estimations of
//! one trace with one seed would otherwise resample the same rows at the
//! same index). The pseudo-class [`MIX`] is the mix-weighted mean of the
//! classes (the `(mix)` row of `estimate`), draw by draw.
//!
//! The module takes values read by the caller; it opens no files.

use std::collections::BTreeMap;

pub use crate::estimate::MIX;
use crate::stats::point_seed;

/// One estimation's demands of one method, as `estimate` reported them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Estimates {
    /// Where it came from (a file name), for messages.
    pub name: String,
    /// Class → point estimate, seconds, in the estimation's class order
    /// (with the `(mix)` row where the estimation gave one).
    pub demands: Vec<(String, f64)>,
    /// Joint bootstrap draws, class → seconds (empty: no band).
    pub draws: Vec<BTreeMap<String, f64>>,
    /// The weights of the `(mix)` class, in the order of `demands`' classes
    /// (each class's share of the completions); `None` with one class.
    pub mix_weights: Option<Vec<f64>>,
}

/// A parameter to bind: `param` to `class` of source `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindSpec {
    /// The model parameter.
    pub param: String,
    /// Index of the source among those given to [`join`].
    pub source: usize,
    /// The class (or [`MIX`]).
    pub class: String,
}

/// A model parameter bound to an estimated demand: its value and its
/// draws (seconds), index k of every bind of one [`join`] being one joint
/// draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Bind {
    /// The parameter.
    pub param: String,
    /// The estimate.
    pub value: f64,
    /// Its draws (empty: no band).
    pub draws: Vec<f64>,
}

/// What is wrong with a binding.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BindError {
    /// The estimation has no such class.
    #[error("{file}: no estimate of class `{class}` (it has {known})")]
    NoClass {
        /// The source's name.
        file: String,
        /// The class asked for.
        class: String,
        /// The classes it has.
        known: String,
    },
    /// A draw without the class.
    #[error("{file}: a draw lacks class `{class}`")]
    DrawLacks {
        /// The source's name.
        file: String,
        /// The class.
        class: String,
    },
    /// No weights to form the mix from.
    #[error(
        "{0}: no class weights for `(mix)` (the estimate's `identifiability.weights`); rerun estimate"
    )]
    NoWeights(String),
    /// One parameter bound twice.
    #[error("`{0}` is bound twice")]
    Twice(String),
}

/// How the draws of several sources were joined, in words for the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    /// The binds, draws aligned.
    pub binds: Vec<Bind>,
    /// Joint draws (0: no band).
    pub draws: usize,
    /// Sentences about the pairing (independent sources, sources without
    /// draws, draws left unused).
    pub notes: Vec<String>,
}

impl Estimates {
    fn classes(&self) -> impl Iterator<Item = &str> {
        self.demands
            .iter()
            .map(|(c, _)| c.as_str())
            .filter(|c| *c != MIX)
    }

    /// The point estimate of `class` ([`MIX`]: the `(mix)` row, else the
    /// weighted mean of the classes).
    fn value(&self, class: &str) -> Result<f64, BindError> {
        if let Some((_, d)) = self.demands.iter().find(|(c, _)| c == class) {
            return Ok(*d);
        }
        if class == MIX {
            let point: BTreeMap<String, f64> = self.demands.iter().cloned().collect();
            return self.mix_of(&point);
        }
        Err(BindError::NoClass {
            file: self.name.clone(),
            class: class.to_string(),
            known: self.classes().collect::<Vec<_>>().join(", "),
        })
    }

    /// The mix-weighted mean of one set of class demands.
    fn mix_of(&self, d: &BTreeMap<String, f64>) -> Result<f64, BindError> {
        let classes: Vec<&str> = self.classes().collect();
        let weights = match &self.mix_weights {
            Some(w) if w.len() == classes.len() => w.clone(),
            None if classes.len() == 1 => vec![1.0],
            _ => return Err(BindError::NoWeights(self.name.clone())),
        };
        classes.iter().zip(&weights).try_fold(0.0, |sum, (c, w)| {
            let x = d.get(*c).ok_or_else(|| self.lacks(c))?;
            Ok(sum + w * x)
        })
    }

    fn lacks(&self, class: &str) -> BindError {
        BindError::DrawLacks {
            file: self.name.clone(),
            class: class.to_string(),
        }
    }

    /// `class`'s value in draw `d`.
    fn draw(&self, d: &BTreeMap<String, f64>, class: &str) -> Result<f64, BindError> {
        match d.get(class) {
            Some(x) => Ok(*x),
            None if class == MIX => self.mix_of(d),
            None => Err(self.lacks(class)),
        }
    }
}

/// The order in which source `s` contributes its `n` draws: as they are
/// for the first source, shuffled by `seed` for the others (Fisher–Yates
/// on SplitMix64), so that sources are paired independently.
fn order(s: usize, n: usize, seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    if s > 0 {
        let stream = point_seed(seed, s);
        for i in (1..n).rev() {
            let j = (point_seed(stream, i) % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
    v
}

/// Lines up the binds' draws: joint draw k takes, from every source with
/// draws, its draw `order(source)[k]`; as many joint draws as the source
/// with the fewest has. A source without draws binds its value at every
/// draw (said in `notes`).
///
/// # Errors
/// A class a source lacks, a draw without it, a `(mix)` without weights,
/// a parameter bound twice.
pub fn join(sources: &[Estimates], specs: &[BindSpec], seed: u64) -> Result<Joined, BindError> {
    for (i, s) in specs.iter().enumerate() {
        if specs[..i].iter().any(|t| t.param == s.param) {
            return Err(BindError::Twice(s.param.clone()));
        }
    }
    let used: Vec<usize> = {
        let mut u: Vec<usize> = specs.iter().map(|s| s.source).collect();
        u.sort_unstable();
        u.dedup();
        u
    };
    let with_draws: Vec<usize> = used
        .iter()
        .copied()
        .filter(|&s| !sources[s].draws.is_empty())
        .collect();
    let n = with_draws
        .iter()
        .map(|&s| sources[s].draws.len())
        .min()
        .unwrap_or(0);
    let notes = join_notes(sources, &used, &with_draws, n);
    let rank = |s: usize| with_draws.iter().position(|&x| x == s);
    let mut binds = Vec::with_capacity(specs.len());
    for spec in specs {
        let src = &sources[spec.source];
        let value = src.value(&spec.class)?;
        let draws = match rank(spec.source) {
            Some(r) => order(r, src.draws.len(), seed)[..n]
                .iter()
                .map(|&k| src.draw(&src.draws[k], &spec.class))
                .collect::<Result<Vec<f64>, _>>()?,
            None => vec![value; n],
        };
        binds.push(Bind {
            param: spec.param.clone(),
            value,
            draws,
        });
    }
    Ok(Joined {
        binds,
        draws: n,
        notes,
    })
}

/// The sentences [`join`] says about its pairing.
fn join_notes(
    sources: &[Estimates],
    used: &[usize],
    with_draws: &[usize],
    n: usize,
) -> Vec<String> {
    let mut notes = Vec::new();
    for &s in used.iter().filter(|s| !with_draws.contains(s)) {
        notes.push(format!(
            "{} has no draws (estimate --draws N): its demands are held at their estimates in the band",
            sources[s].name
        ));
    }
    if with_draws.len() > 1 {
        let names: Vec<&str> = with_draws
            .iter()
            .map(|&s| sources[s].name.as_str())
            .collect();
        notes.push(format!(
            "the draws of {} are independent estimations, paired at random (by the seed); classes of one file share each draw",
            names.join(" and ")
        ));
    }
    for &s in with_draws.iter().filter(|&&s| sources[s].draws.len() > n) {
        notes.push(format!(
            "{}: {} of its {} draws used (as many as the file with the fewest)",
            sources[s].name,
            n,
            sources[s].draws.len()
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, draws: &[(f64, f64)]) -> Estimates {
        Estimates {
            name: name.into(),
            demands: vec![("a".into(), 0.1), ("b".into(), 0.2)],
            draws: draws
                .iter()
                .map(|&(a, b)| [("a".to_string(), a), ("b".to_string(), b)].into())
                .collect(),
            mix_weights: Some(vec![0.25, 0.75]),
        }
    }

    fn spec(param: &str, source: usize, class: &str) -> BindSpec {
        BindSpec {
            param: param.into(),
            source,
            class: class.into(),
        }
    }

    #[test]
    fn classes_of_one_file_take_the_same_draw_and_the_mix_is_their_weighted_mean() {
        let s = source("e.json", &[(1.0, 10.0), (2.0, 20.0), (3.0, 30.0)]);
        let j = join(
            &[s],
            &[spec("x", 0, "a"), spec("y", 0, "b"), spec("m", 0, MIX)],
            7,
        )
        .unwrap();
        assert_eq!(j.draws, 3);
        assert_eq!(j.binds[0].draws, [1.0, 2.0, 3.0]);
        assert_eq!(j.binds[1].draws, [10.0, 20.0, 30.0]);
        assert_eq!(j.binds[2].draws, [7.75, 15.5, 23.25]);
        assert!((j.binds[2].value - 0.175).abs() < 1e-15);
        assert!(j.notes.is_empty(), "{:?}", j.notes);
    }

    #[test]
    fn two_files_pair_their_draws_by_a_seeded_shuffle_and_say_so() {
        let draws: Vec<(f64, f64)> = (0..50).map(|i| (f64::from(i), 0.0)).collect();
        let (a, b) = (source("one", &draws), source("two", &draws[..40]));
        let j = join(&[a, b], &[spec("x", 0, "a"), spec("y", 1, "a")], 3).unwrap();
        assert_eq!(j.draws, 40);
        // The first file in its own order, the second a permutation of its
        // 40 draws (not the identity).
        assert_eq!(
            j.binds[0].draws,
            draws[..40].iter().map(|d| d.0).collect::<Vec<_>>()
        );
        let mut y = j.binds[1].draws.clone();
        assert_ne!(y, j.binds[0].draws);
        y.sort_by(f64::total_cmp);
        assert_eq!(y, j.binds[0].draws);
        assert!(
            j.notes.iter().any(|n| n.contains("independent")),
            "{:?}",
            j.notes
        );
        assert!(
            j.notes.iter().any(|n| n.contains("40 of its 50")),
            "{:?}",
            j.notes
        );
        // The same seed, the same pairing; another seed, another.
        let again = join(
            &[source("one", &draws), source("two", &draws[..40])],
            &[spec("x", 0, "a"), spec("y", 1, "a")],
            3,
        )
        .unwrap();
        assert_eq!(again.binds[1].draws, j.binds[1].draws);
        let other = join(
            &[source("one", &draws), source("two", &draws[..40])],
            &[spec("x", 0, "a"), spec("y", 1, "a")],
            4,
        )
        .unwrap();
        assert_ne!(other.binds[1].draws, j.binds[1].draws);
    }

    #[test]
    fn missing_classes_weights_and_repeated_params_are_named() {
        let s = source("e.json", &[(1.0, 10.0)]);
        let e = join(std::slice::from_ref(&s), &[spec("x", 0, "c")], 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "e.json: no estimate of class `c` (it has a, b)"
        );
        let e = join(
            std::slice::from_ref(&s),
            &[spec("x", 0, "a"), spec("x", 0, "b")],
            1,
        )
        .unwrap_err();
        assert_eq!(e, BindError::Twice("x".into()));
        let unweighted = Estimates {
            mix_weights: None,
            ..s.clone()
        };
        let e = join(&[unweighted], &[spec("x", 0, MIX)], 1).unwrap_err();
        assert!(matches!(e, BindError::NoWeights(_)), "{e}");
        let mut gap = s;
        gap.draws[0].remove("b");
        let e = join(&[gap], &[spec("x", 0, "b")], 1).unwrap_err();
        assert!(e.to_string().contains("a draw lacks class `b`"), "{e}");
    }

    #[test]
    fn a_file_without_draws_holds_its_value_beside_one_with_draws() {
        let bare = Estimates {
            draws: Vec::new(),
            ..source("bare", &[])
        };
        let j = join(
            &[bare, source("full", &[(1.0, 2.0), (3.0, 4.0)])],
            &[spec("x", 0, "a"), spec("y", 1, "b")],
            1,
        )
        .unwrap();
        assert_eq!(j.binds[0].draws, [0.1, 0.1]);
        assert_eq!(j.binds[1].draws, [2.0, 4.0]);
        assert!(j.notes[0].contains("bare has no draws"), "{:?}", j.notes);
    }
}
