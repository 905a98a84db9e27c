//! A study's results for machines (`study --format json`): one line of
//! figures per experiment, typed both ways, so that the shards of a study
//! run (`--shard I/N`) read back and merge into the whole.

use serde::{Deserialize, Serialize};

use super::{ClassComparison, ExperimentResult, Failure, StudyResult};
use crate::sweep::{MergeError, Shard, by_index};

/// The per-experiment summary for machines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentSummary {
    /// The experiment's place in the study file (0-based).
    pub index: usize,
    /// Name.
    pub name: String,
    /// Model name.
    pub model: String,
    /// Seed of estimation and simulation.
    pub seed: u64,
    /// The demand the model ran with, seconds.
    pub demand_s: Option<f64>,
    /// Its CI, seconds, when it was estimated.
    pub demand_ci_s: Option<(f64, f64)>,
    /// The true demand, when known, seconds.
    pub true_demand_s: Option<f64>,
    /// (true − estimated) / true × 100.
    pub demand_error_pct: Option<f64>,
    /// Mean simulated response time, seconds.
    pub simulated_s: Option<f64>,
    /// Half-width of its CI, seconds.
    pub simulated_ci_half_width_s: Option<f64>,
    /// Analytic mean response time, seconds.
    pub analytic_s: Option<f64>,
    /// Mean measured response time, seconds.
    pub measured_s: Option<f64>,
    /// (measured − simulated) / measured × 100.
    pub error_pct: Option<f64>,
    /// (measured − analytic) / measured × 100.
    pub analytic_error_pct: Option<f64>,
    /// Mean utilization of the containers in the simulation.
    pub simulated_utilization: Option<f64>,
    /// Mean measured utilization.
    pub measured_utilization: Option<f64>,
    /// Kolmogorov–Smirnov distance, measured against simulated.
    pub ks: Option<f64>,
    /// Wasserstein-1 distance, seconds.
    pub wasserstein_s: Option<f64>,
    /// Per request class.
    pub classes: Vec<ClassComparison>,
    /// Per user class.
    pub user_classes: Vec<ClassComparison>,
    /// Why the prediction should not be trusted, in words.
    pub warnings: Vec<String>,
}

impl From<&ExperimentResult> for ExperimentSummary {
    fn from(e: &ExperimentResult) -> Self {
        Self {
            index: e.index,
            name: e.name.clone(),
            model: e.model.clone(),
            seed: e.seed,
            demand_s: e.demand_s,
            demand_ci_s: e.demand_ci_s,
            true_demand_s: e.true_demand_s,
            demand_error_pct: e.demand_error_pct,
            simulated_s: e.simulated_s,
            simulated_ci_half_width_s: e.simulated.ci_half_width_s,
            analytic_s: e.analytic_s,
            measured_s: e.measured_s,
            error_pct: e.error_pct,
            analytic_error_pct: e.analytic_error_pct,
            simulated_utilization: e.simulated_utilization,
            measured_utilization: e.traces.as_ref().and_then(|t| t.mean_utilization),
            ks: e.comparison.as_ref().and_then(|c| c.ks),
            wasserstein_s: e.comparison.as_ref().and_then(|c| c.wasserstein_s),
            classes: e.classes.clone(),
            user_classes: e.user_classes.clone(),
            warnings: e.warnings.clone(),
        }
    }
}

/// Which shard of a study run a summary holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardMark {
    /// Which shard, 1 to `of`.
    pub index: usize,
    /// How many.
    pub of: usize,
    /// Experiments in the whole study.
    pub experiments: usize,
    /// The study file's fingerprint ([`crate::sweep::fingerprint`]): parts
    /// of different versions of the file do not merge.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub study_file: Option<String>,
}

/// A study's results for machines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudySummary {
    /// Study name.
    pub study: String,
    /// Seed used.
    pub seed: u64,
    /// Experiments that finished, in study order.
    pub experiments: Vec<ExperimentSummary>,
    /// Experiments that failed.
    pub failures: Vec<Failure>,
    /// The shard, for a part of a study run.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shard: Option<ShardMark>,
}

impl StudySummary {
    /// The summary of a study's results; of one shard of a study of
    /// `experiments` experiments when `shard` is given.
    pub fn new(s: &StudyResult, shard: Option<(Shard, usize)>) -> Self {
        Self {
            study: s.name.clone(),
            seed: s.seed,
            experiments: s.experiments.iter().map(ExperimentSummary::from).collect(),
            failures: s.failures.clone(),
            shard: shard.map(|(sh, experiments)| ShardMark {
                index: sh.index,
                of: sh.of,
                experiments,
                study_file: None,
            }),
        }
    }
}

/// One item alone, several under `studies`: how results of one study and
/// of several (`reproduce`) are written.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum OneOrSeveral<'a, T> {
    /// One study.
    One(&'a T),
    /// Several.
    Several {
        /// In order.
        studies: &'a [T],
    },
}

impl<'a, T> OneOrSeveral<'a, T> {
    /// `items` as written: one alone, else under `studies`.
    pub fn of(items: &'a [T]) -> Self {
        match items {
            [one] => Self::One(one),
            _ => Self::Several { studies: items },
        }
    }
}

/// Reads `study --format json` back: one study, or several under
/// `studies`.
///
/// # Errors
/// Text that is not such a document.
pub fn read_summaries(text: &str) -> serde_json::Result<Vec<StudySummary>> {
    #[derive(Deserialize)]
    struct Several {
        studies: Option<Vec<StudySummary>>,
    }
    match serde_json::from_str::<Several>(text)?.studies {
        Some(all) => Ok(all),
        None => Ok(vec![serde_json::from_str(text)?]),
    }
}

/// Why shards do not make a whole study run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ShardMergeError {
    /// A part is a whole study, not a shard. (The caller names the part.)
    #[error("study `{study}` is not a shard (run it with --shard I/N)")]
    NotAShard {
        /// The part, 1-based.
        part: usize,
        /// The study.
        study: String,
    },
    /// A part of another run of the study. (The caller names the part.)
    #[error(
        "study `{study}` is not a part of the same run (the seed, the number of experiments and the study file must match)"
    )]
    OtherRun {
        /// The part, 1-based.
        part: usize,
        /// The study.
        study: String,
    },
    /// Experiments missing, or given more than once.
    #[error("study `{study}`: {why}")]
    Experiments {
        /// The study.
        study: String,
        /// Which, named.
        why: Gap,
    },
}

impl ShardMergeError {
    /// The part (1-based) the error is about, if one.
    pub fn part(&self) -> Option<usize> {
        match self {
            Self::NotAShard { part, .. } | Self::OtherRun { part, .. } => Some(*part),
            Self::Experiments { .. } => None,
        }
    }
}

/// Experiments a set of shards lacks or repeats.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Gap {
    /// Experiments no part holds (index, and the shard that holds it).
    #[error("experiments missing: {}", missing(.0))]
    Missing(Vec<(usize, Shard)>),
    /// Experiments given more than once (index, name).
    #[error("experiments given more than once: {}", named(.0))]
    Repeated(Vec<(usize, String)>),
    /// An index beyond the study's experiments.
    #[error("experiment {0} is outside the study's {1}")]
    Outside(usize, usize),
}

fn missing(v: &[(usize, Shard)]) -> String {
    let list: Vec<String> = v
        .iter()
        .map(|(i, s)| format!("{i} (of shard {}/{})", s.index, s.of))
        .collect();
    list.join(", ")
}

fn named(v: &[(usize, String)]) -> String {
    let list: Vec<String> = v.iter().map(|(i, n)| format!("{i} `{n}`")).collect();
    list.join(", ")
}

/// One study as the parts give it.
struct Gathered {
    summary: StudySummary,
    total: usize,
    of: usize,
    study_file: Option<String>,
}

/// The shards of one study run (each part: the studies of one
/// `study --shard I/N --format json`, in file order) merged into the
/// whole: per study, experiments and failures in index order, every index
/// present once, no shard marks.
///
/// # Errors
/// [`ShardMergeError`]: a part that is not a shard or not of the same run;
/// experiments missing or repeated, named.
pub fn merge_shards(parts: Vec<Vec<StudySummary>>) -> Result<Vec<StudySummary>, ShardMergeError> {
    let mut by_name: Vec<Gathered> = Vec::new();
    for (k, studies) in parts.into_iter().enumerate() {
        for s in studies {
            let part = k + 1;
            let Some(mark) = s.shard else {
                return Err(ShardMergeError::NotAShard {
                    part,
                    study: s.study,
                });
            };
            match by_name.iter_mut().find(|g| g.summary.study == s.study) {
                Some(g)
                    if g.summary.seed != s.seed
                        || g.total != mark.experiments
                        || g.study_file != mark.study_file =>
                {
                    return Err(ShardMergeError::OtherRun {
                        part,
                        study: s.study,
                    });
                }
                Some(g) => {
                    g.summary.experiments.extend(s.experiments);
                    g.summary.failures.extend(s.failures);
                }
                None => by_name.push(Gathered {
                    total: mark.experiments,
                    of: mark.of,
                    study_file: mark.study_file,
                    summary: StudySummary { shard: None, ..s },
                }),
            }
        }
    }
    by_name.into_iter().map(complete).collect()
}

/// One study's experiments and failures, each index once, in order.
fn complete(g: Gathered) -> Result<StudySummary, ShardMergeError> {
    let Gathered {
        summary, total, of, ..
    } = g;
    let gap = |why| ShardMergeError::Experiments {
        study: summary.study.clone(),
        why,
    };
    let names: Vec<(usize, String)> = summary
        .experiments
        .iter()
        .map(|e| (e.index, e.name.clone()))
        .chain(summary.failures.iter().map(|f| (f.index, f.name.clone())))
        .collect();
    let outcomes = summary
        .experiments
        .iter()
        .cloned()
        .map(Ok)
        .chain(summary.failures.iter().cloned().map(Err));
    let index = |o: &Result<ExperimentSummary, Failure>| match o {
        Ok(e) => e.index,
        Err(f) => f.index,
    };
    let all = by_index(total, outcomes, index).map_err(|e| match e {
        MergeError::Missing(v) => gap(Gap::Missing(
            v.into_iter()
                .map(|i| {
                    (
                        i,
                        Shard {
                            index: i % of + 1,
                            of,
                        },
                    )
                })
                .collect(),
        )),
        MergeError::Duplicate(v) => gap(Gap::Repeated(
            v.iter()
                .filter_map(|i| names.iter().find(|(j, _)| j == i).cloned())
                .collect(),
        )),
        MergeError::Outside(i, n) => gap(Gap::Outside(i, n)),
    })?;
    let (experiments, failures) = all.into_iter().partition::<Vec<_>, _>(Result::is_ok);
    Ok(StudySummary {
        experiments: experiments.into_iter().filter_map(Result::ok).collect(),
        failures: failures.into_iter().filter_map(Result::err).collect(),
        ..summary
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(index: usize, name: &str) -> ExperimentSummary {
        ExperimentSummary {
            index,
            name: name.into(),
            model: "M/M/1".into(),
            seed: 100 + index as u64,
            demand_s: Some(0.25),
            demand_ci_s: Some((0.2, 0.3)),
            true_demand_s: None,
            demand_error_pct: None,
            simulated_s: Some(1.0 / 3.0),
            simulated_ci_half_width_s: Some(0.01),
            analytic_s: Some(0.3),
            measured_s: None,
            error_pct: None,
            analytic_error_pct: None,
            simulated_utilization: Some(0.5),
            measured_utilization: None,
            ks: None,
            wasserstein_s: None,
            classes: Vec::new(),
            user_classes: Vec::new(),
            warnings: vec!["w".into()],
        }
    }

    /// Shard `k` of `of` of a study of `names`, experiment 1 failed.
    fn shard(k: usize, of: usize, names: &[&str]) -> StudySummary {
        let mut s = StudySummary {
            study: "s".into(),
            seed: 7,
            experiments: Vec::new(),
            failures: Vec::new(),
            shard: Some(ShardMark {
                index: k,
                of,
                experiments: names.len(),
                study_file: None,
            }),
        };
        for (i, n) in names.iter().enumerate().filter(|(i, _)| i % of == k - 1) {
            match i {
                1 => s.failures.push(Failure {
                    index: i,
                    name: n.to_string(),
                    error: "no traces".into(),
                }),
                _ => s.experiments.push(exp(i, n)),
            }
        }
        s
    }

    const NAMES: [&str; 5] = ["a", "b", "c", "d", "e"];

    #[test]
    fn shards_merge_into_the_whole_in_index_order_without_marks() {
        let parts = vec![vec![shard(2, 2, &NAMES)], vec![shard(1, 2, &NAMES)]];
        let whole = merge_shards(parts).unwrap();
        assert_eq!(whole.len(), 1);
        let s = &whole[0];
        let idx: Vec<usize> = s.experiments.iter().map(|e| e.index).collect();
        assert_eq!(idx, [0, 2, 3, 4]);
        assert_eq!(s.failures.len(), 1);
        assert_eq!((s.failures[0].index, s.failures[0].name.as_str()), (1, "b"));
        assert_eq!((s.seed, &s.shard), (7, &None));
        assert_eq!(s.experiments[3], exp(4, "e"));
    }

    #[test]
    fn a_missing_shard_is_named_and_a_repeated_one_names_its_experiments() {
        let missing = merge_shards(vec![vec![shard(1, 3, &NAMES)], vec![shard(3, 3, &NAMES)]]);
        let two = Shard { index: 2, of: 3 };
        assert_eq!(
            missing,
            Err(ShardMergeError::Experiments {
                study: "s".into(),
                why: Gap::Missing(vec![(1, two), (4, two)]),
            })
        );
        assert_eq!(
            missing.unwrap_err().to_string(),
            "study `s`: experiments missing: 1 (of shard 2/3), 4 (of shard 2/3)"
        );
        let twice = merge_shards(vec![
            vec![shard(1, 2, &NAMES)],
            vec![shard(2, 2, &NAMES)],
            vec![shard(2, 2, &NAMES)],
        ])
        .unwrap_err();
        assert_eq!(
            twice.to_string(),
            "study `s`: experiments given more than once: 1 `b`, 3 `d`"
        );
        assert_eq!(twice.part(), None);
    }

    #[test]
    fn a_whole_study_or_another_run_is_refused_with_its_part() {
        let mut whole = shard(1, 1, &NAMES);
        whole.shard = None;
        let e = merge_shards(vec![vec![shard(1, 2, &NAMES)], vec![whole]]).unwrap_err();
        assert_eq!(e.part(), Some(2));
        assert!(e.to_string().contains("is not a shard"), "{e}");
        let mut other = shard(2, 2, &NAMES);
        other.seed = 8;
        let e = merge_shards(vec![vec![shard(1, 2, &NAMES)], vec![other]]).unwrap_err();
        assert_eq!(
            e,
            ShardMergeError::OtherRun {
                part: 2,
                study: "s".into()
            }
        );
    }

    #[test]
    fn summaries_read_back_what_they_wrote_one_or_several() {
        let one = vec![shard(1, 2, &NAMES)];
        let text = crate::report::json(&OneOrSeveral::of(&one)).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with("{\n  \"experiments\": ["), "{text}");
        assert_eq!(read_summaries(&text).unwrap(), one);
        let mut b = shard(2, 2, &NAMES);
        b.study = "t".into();
        let two = vec![shard(1, 2, &NAMES), b];
        let text = crate::report::json(&OneOrSeveral::of(&two)).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with("{\n  \"studies\": ["), "{text}");
        assert_eq!(read_summaries(&text).unwrap(), two);
        assert!(read_summaries("{\"model\": \"x\"}").is_err());
    }
}
