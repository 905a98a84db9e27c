//! How well labels match a trace's own user classes: the confusion
//! matrix, accuracy per request and per session, precision, recall and F1
//! per class with their macro and micro averages, all counted in requests
//! (as the study reports them) except the session accuracy.
//!
//! Profiles named after the classes are compared by name; others
//! (`profile0`, …) are matched to the classes one to one so as to agree on
//! the most requests (every assignment tried up to [`EXACT`] profiles,
//! greedily above).

use serde::Serialize;

/// Profiles up to which every one-to-one assignment is tried.
pub const EXACT: usize = 7;

/// One class's scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScore {
    /// The class.
    pub class: String,
    /// Requests labelled it that are it / requests labelled it.
    pub precision: f64,
    /// Requests of it labelled it / its requests.
    pub recall: f64,
    /// Harmonic mean of the two (0 when both are).
    pub f1: f64,
    /// Its requests.
    pub support: u64,
}

/// Requests per (true class, label).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confusion {
    /// The true classes, then labels that are no class (`unknown`, an
    /// unmatched profile): the rows' and the columns' order.
    pub labels: Vec<String>,
    /// counts[true][label], requests.
    pub counts: Vec<Vec<u64>>,
}

/// The scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    /// Requests labelled their own class / requests.
    pub request_accuracy: f64,
    /// The same over sessions.
    pub session_accuracy: f64,
    /// Mean of the classes' F1.
    pub macro_f1: f64,
    /// F1 of the pooled counts.
    pub micro_f1: f64,
    /// Per true class.
    pub per_class: Vec<ClassScore>,
    /// The confusion matrix.
    pub confusion: Confusion,
    /// Which class each profile was taken for (profile, class).
    pub matched: Vec<(String, String)>,
}

/// One labelled session with its true class: (true class, label as a
/// profile index or `None` for unknown, requests).
pub type Outcome = (usize, Option<usize>, u64);

/// The scores of `outcomes` (true classes index `classes`, labels index
/// `profiles`); `None` when there is no outcome.
pub fn scores(outcomes: &[Outcome], classes: &[String], profiles: &[String]) -> Option<Scores> {
    if outcomes.is_empty() {
        return None;
    }
    let to_class = matching(outcomes, classes, profiles);
    let mut labels = classes.to_vec();
    let mut column = |name: &str| match labels.iter().position(|l| l == name) {
        Some(i) => i,
        None => {
            labels.push(name.to_string());
            labels.len() - 1
        }
    };
    let cols: Vec<usize> = (0..profiles.len())
        .map(|p| match to_class[p] {
            Some(c) => c,
            None => column(&profiles[p]),
        })
        .collect();
    let unknown = column("unknown");
    let mut counts = vec![vec![0u64; 0]; classes.len()];
    let (mut right_sessions, mut requests) = (0usize, 0u64);
    let mut raw = vec![vec![0u64; profiles.len() + 1 + classes.len()]; classes.len()];
    for &(t, label, n) in outcomes {
        let col = label.map_or(unknown, |p| cols[p]);
        raw[t][col] += n;
        right_sessions += usize::from(col == t);
        requests += n;
    }
    let used = (0..labels.len()).filter(|&c| c < classes.len() || raw.iter().any(|r| r[c] > 0));
    let keep: Vec<usize> = used.collect();
    for (t, row) in raw.iter().enumerate() {
        counts[t] = keep.iter().map(|&c| row[c]).collect();
    }
    let labels: Vec<String> = keep.iter().map(|&c| labels[c].clone()).collect();
    let per_class = per_class(&counts, classes);
    let tp: u64 = (0..classes.len()).map(|c| counts[c][c]).sum();
    let labelled_as_class: u64 = counts
        .iter()
        .map(|r| r[..classes.len()].iter().sum::<u64>())
        .sum();
    let micro_p = ratio(tp, labelled_as_class);
    let micro_r = ratio(tp, requests);
    let macro_f1 = per_class.iter().map(|c| c.f1).sum::<f64>() / per_class.len().max(1) as f64;
    let matched = (0..profiles.len())
        .filter_map(|p| to_class[p].map(|c| (profiles[p].clone(), classes[c].clone())))
        .collect();
    Some(Scores {
        request_accuracy: ratio(tp, requests),
        session_accuracy: right_sessions as f64 / outcomes.len() as f64,
        macro_f1,
        micro_f1: f1(micro_p, micro_r),
        per_class,
        confusion: Confusion { labels, counts },
        matched,
    })
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

/// Precision, recall and F1 of each class from `counts` (rows and the
/// first columns in `classes`' order).
fn per_class(counts: &[Vec<u64>], classes: &[String]) -> Vec<ClassScore> {
    classes
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let support: u64 = counts[c].iter().sum();
            let labelled: u64 = counts.iter().map(|r| r[c]).sum();
            let (precision, recall) = (ratio(counts[c][c], labelled), ratio(counts[c][c], support));
            ClassScore {
                class: name.clone(),
                precision,
                recall,
                f1: f1(precision, recall),
                support,
            }
        })
        .collect()
}

/// Per profile, the class it stands for: by name when every profile is
/// named after a class, else the one-to-one assignment that agrees on the
/// most requests.
fn matching(outcomes: &[Outcome], classes: &[String], profiles: &[String]) -> Vec<Option<usize>> {
    let by_name: Vec<Option<usize>> = profiles
        .iter()
        .map(|p| classes.iter().position(|c| c == p))
        .collect();
    if by_name.iter().all(Option::is_some) {
        return by_name;
    }
    let mut agree = vec![vec![0u64; classes.len()]; profiles.len()];
    for &(t, label, n) in outcomes {
        if let Some(p) = label {
            agree[p][t] += n;
        }
    }
    let mut best = (0, vec![None; profiles.len()]);
    if profiles.len() <= EXACT && classes.len() <= EXACT {
        let mut taken = vec![false; classes.len()];
        let mut now = vec![None; profiles.len()];
        search(&agree, 0, 0, &mut taken, &mut now, &mut best);
    } else {
        best.1 = greedy(&agree, classes.len());
    }
    best.1
}

/// Every assignment of profiles `p..` to the classes not `taken` (or to
/// none), the best kept in `best`.
fn search(
    agree: &[Vec<u64>],
    p: usize,
    sum: u64,
    taken: &mut [bool],
    now: &mut [Option<usize>],
    best: &mut (u64, Vec<Option<usize>>),
) {
    if p == agree.len() {
        if sum > best.0 || best.1.iter().all(Option::is_none) {
            *best = (sum, now.to_vec());
        }
        return;
    }
    for c in 0..taken.len() {
        if !taken[c] {
            taken[c] = true;
            now[p] = Some(c);
            search(agree, p + 1, sum + agree[p][c], taken, now, best);
            taken[c] = false;
        }
    }
    now[p] = None;
    search(agree, p + 1, sum, taken, now, best);
}

/// The largest agreements first, each profile and class once.
fn greedy(agree: &[Vec<u64>], classes: usize) -> Vec<Option<usize>> {
    let mut cells: Vec<(u64, usize, usize)> = agree
        .iter()
        .enumerate()
        .flat_map(|(p, r)| r.iter().enumerate().map(move |(c, &n)| (n, p, c)))
        .collect();
    cells.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut of = vec![None; agree.len()];
    let mut taken = vec![false; classes];
    for (_, p, c) in cells {
        if of[p].is_none() && !taken[c] {
            of[p] = Some(c);
            taken[c] = true;
        }
    }
    of
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn counts_by_hand() {
        // Classes A, B; profiles p0, p1 (p1 mostly B's, so p1 → B).
        // A: 3 sessions of 10 requests → p0, 1 of 10 → p1;
        // B: 2 of 5 → p1, 1 of 5 → p0.
        let out = [
            (0, Some(0), 10),
            (0, Some(0), 10),
            (0, Some(0), 10),
            (0, Some(1), 10),
            (1, Some(1), 5),
            (1, Some(1), 5),
            (1, Some(0), 5),
        ];
        let s = scores(&out, &names(&["A", "B"]), &names(&["p0", "p1"])).unwrap();
        assert_eq!(
            s.matched,
            vec![("p0".into(), "A".into()), ("p1".into(), "B".into())]
        );
        assert_eq!(s.confusion.counts, vec![vec![30, 10], vec![5, 10]]);
        assert!((s.request_accuracy - 40.0 / 55.0).abs() < 1e-12);
        assert!((s.session_accuracy - 5.0 / 7.0).abs() < 1e-12);
        // A: p = 30/35, r = 30/40; B: p = 10/20, r = 10/15.
        let fa = f1(30.0 / 35.0, 0.75);
        let fb = f1(0.5, 10.0 / 15.0);
        assert!((s.macro_f1 - (fa + fb) / 2.0).abs() < 1e-12);
        assert!((s.micro_f1 - 40.0 / 55.0).abs() < 1e-12);
        assert_eq!(s.per_class[1].support, 15);
        // Named after the classes: compared by name, the other way round.
        let s = scores(&out, &names(&["A", "B"]), &names(&["B", "A"])).unwrap();
        assert_eq!(s.confusion.counts, vec![vec![10, 30], vec![10, 5]]);
        // An unknown session is a column of its own.
        let s = scores(
            &[(0, None, 4), (1, Some(1), 6)],
            &names(&["A", "B"]),
            &names(&["A", "B"]),
        )
        .unwrap();
        assert_eq!(s.confusion.labels, names(&["A", "B", "unknown"]));
        assert_eq!(s.confusion.counts, vec![vec![0, 0, 4], vec![0, 6, 0]]);
    }
}
