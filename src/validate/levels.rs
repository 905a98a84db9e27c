//! Load levels for leave-one-load-out: given by name, or the calibration
//! runs grouped by utilization.

use super::{Level, Role, RunRow, ValidateError, ValidateSpec};

/// The calibration runs' load levels: the spec's, checked against the
/// runs, else the runs sorted by utilization and split where it jumps by
/// more than `level_gap`.
///
/// # Errors
/// [`ValidateError::UnknownRun`]: a level names a run that is not a
/// calibration run.
pub(super) fn levels(runs: &[RunRow], spec: &ValidateSpec) -> Result<Vec<Level>, ValidateError> {
    let calibration: Vec<&RunRow> = runs
        .iter()
        .filter(|r| r.role == Role::Calibration)
        .collect();
    if !spec.levels.is_empty() {
        return spec
            .levels
            .iter()
            .map(|(name, members)| {
                if let Some(run) = members
                    .iter()
                    .find(|m| !calibration.iter().any(|r| &r.name == *m))
                {
                    return Err(ValidateError::UnknownRun {
                        level: name.clone(),
                        run: run.clone(),
                        known: calibration
                            .iter()
                            .map(|r| r.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
                Ok(Level {
                    name: name.clone(),
                    runs: members.clone(),
                })
            })
            .collect();
    }
    Ok(by_gap(&loads(runs, &calibration), spec.level_gap))
}

/// Each calibration run's utilization: its own, else (a run that failed)
/// as another run's estimation read it.
fn loads<'a>(runs: &'a [RunRow], calibration: &[&'a RunRow]) -> Vec<(f64, &'a str)> {
    calibration
        .iter()
        .filter_map(|r| {
            let fitted = || {
                runs.iter()
                    .flat_map(|o| &o.fit_utilization)
                    .find(|(n, _)| *n == r.name)
                    .map(|(_, u)| *u)
            };
            Some((r.utilization.or_else(fitted)?, r.name.as_str()))
        })
        .collect()
}

/// Runs with a utilization, sorted, split where consecutive ones differ
/// by more than `gap`; each level named by its utilization range.
fn by_gap(loaded: &[(f64, &str)], gap: f64) -> Vec<Level> {
    let mut loaded = loaded.to_vec();
    loaded.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut groups: Vec<Vec<(f64, &str)>> = Vec::new();
    for (u, name) in loaded {
        match groups.last_mut() {
            Some(g) if u - g[g.len() - 1].0 <= gap => g.push((u, name)),
            _ => groups.push(vec![(u, name)]),
        }
    }
    groups
        .iter()
        .map(|g| Level {
            name: format!("U {:.2}–{:.2}", g[0].0, g[g.len() - 1].0),
            runs: g.iter().map(|(_, n)| (*n).to_string()).collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, u: f64) -> RunRow {
        let mut r = RunRow::empty(name, Role::Calibration, None);
        r.utilization = Some(u);
        r
    }

    #[test]
    fn runs_split_into_levels_where_their_utilization_jumps() {
        let runs = [
            run("a", 0.21),
            run("b", 0.55),
            run("c", 0.3),
            run("d", 0.62),
            run("e", 0.9),
        ];
        let spec = ValidateSpec::default();
        let l = levels(&runs, &spec).unwrap();
        let names: Vec<Vec<&str>> = l
            .iter()
            .map(|l| l.runs.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(names, [vec!["a", "c"], vec!["b", "d"], vec!["e"]]);
        assert_eq!(l[0].name, "U 0.21–0.30");
        let spec = ValidateSpec {
            levels: vec![("low".into(), vec!["a".into(), "x".into()])],
            ..ValidateSpec::default()
        };
        let e = levels(&runs, &spec).unwrap_err();
        assert!(
            e.to_string().contains("`x`") && e.to_string().contains("a, b, c, d, e"),
            "{e}"
        );
    }
}
