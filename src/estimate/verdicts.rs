//! Selection and its words: the chosen methods' rows, which failed and
//! which are not trusted here (and why), the recommended one (the least
//! summed cross-validated error of the trusted), each method's verdict,
//! the advice when the classes cannot be told apart, and
//! `combined(a+b…)`, the average of several methods.

use super::crossval::{Fits, MethodRun, Scorer};
use super::identify::Identifiability;
use super::methods::Method;
use super::observations::Observations;
use super::outcome::{Estimate, MIX, Verdict};
use super::trust::{self, Evidence, Findings};

/// What the chosen methods' runs say: their rows, the failures, the scores
/// of the trusted ones and why the others are not trusted.
pub(super) struct Judged {
    /// The chosen methods' rows.
    pub estimates: Vec<Estimate>,
    /// Why methods failed.
    pub failures: Vec<String>,
    /// The trusted methods' summed errors (R + U), by id.
    scored: Vec<(String, f64)>,
    /// Why methods are not trusted, by id.
    distrusted: Vec<(String, String)>,
}

/// What the `chosen` methods' `fits` say, scored by `scorer` and judged on
/// the `evidence` (`intercept`: the utilization regression has a
/// background term).
pub(super) fn judge(
    chosen: &[Method],
    intercept: bool,
    fits: &Fits,
    scorer: &Scorer<'_>,
    evidence: Evidence<'_>,
) -> Judged {
    let mut j = Judged {
        estimates: Vec::new(),
        failures: Vec::new(),
        scored: Vec::new(),
        distrusted: Vec::new(),
    };
    for (m, run) in fits.methods.iter().zip(&fits.runs) {
        if !chosen.contains(m) {
            continue;
        }
        let d = match &run.full {
            Ok(d) => d,
            Err(e) => {
                j.failures.push(e.to_string());
                continue;
            }
        };
        let (mut rows, errors) = scorer.rows(m.id(), d, run);
        let trend = trust::load_trend(scorer.obs, *m, d);
        let identifiable = scorer.ident.as_ref().map(|i| i.identifiable.as_slice());
        let above = trust::above_response(scorer.obs, d, identifiable);
        let findings = Findings {
            errors,
            trend: trend.as_ref(),
            above: above.as_ref(),
        };
        let why = trust::distrust(*m, findings, evidence, intercept);
        for r in &mut rows {
            r.distrusted.clone_from(&why);
        }
        j.estimates.extend(rows);
        match why {
            Some(w) => j.distrusted.push((m.id().to_string(), w)),
            None => j.scored.extend(
                errors
                    .0
                    .zip(errors.1)
                    .map(|(a, b)| (m.id().to_string(), a + b)),
            ),
        }
    }
    j
}

impl Judged {
    /// The trusted method with the least summed cross-validated error; a
    /// method whose estimate only bounds the demand
    /// ([`Traits::upper_bound`](super::methods::Traits)) only when no
    /// other method is trusted, whatever its error (R itself can fit the
    /// measured response times at a low load and still not be the demand).
    pub fn recommended(&self) -> Option<String> {
        let bound = |id: &str| Method::from_id(id).is_some_and(|m| m.traits().upper_bound);
        let best = |upper: bool| {
            self.scored
                .iter()
                .filter(|s| bound(&s.0) == upper)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|s| s.0.clone())
        };
        best(false).or_else(|| best(true))
    }

    /// Per chosen method, in words: recommended (the least summed
    /// cross-validated error), distrusted (why), failed (why), or beaten.
    pub fn verdicts(
        &self,
        chosen: &[Method],
        fits: &Fits,
        recommended: Option<&str>,
    ) -> Vec<Verdict> {
        let (scored, distrusted) = (&self.scored, &self.distrusted);
        let best = scored.iter().find(|s| Some(s.0.as_str()) == recommended);
        chosen
            .iter()
            .map(|m| {
                let id = m.id();
                let run = fits.of(*m);
                let score = scored.iter().find(|s| s.0 == id).map(|s| s.1);
                let reason = match (&run.full, distrusted.iter().find(|d| d.0 == id), score, best) {
                    (Err(e), _, _, _) => format!("failed: {e}"),
                    (_, Some((_, why)), _, _) => format!("not trusted here: {why}"),
                    (_, _, Some(s), Some(b)) if b.0 == id => format!(
                        "the least cross-validated error of the trusted methods (relative R + U error {:.1} %)",
                        100.0 * s
                    ),
                    (_, _, Some(s), Some(_)) if m.traits().upper_bound => format!(
                        "its estimate (the response time itself) only bounds the demand from above: recommended only when no other method passes (cross-validated relative R + U error {:.1} %)",
                        100.0 * s
                    ),
                    (_, _, Some(s), Some(b)) => format!(
                        "cross-validated relative R + U error {:.1} %, more than {}'s {:.1} %",
                        100.0 * s,
                        b.0,
                        100.0 * b.1
                    ),
                    _ => "no cross-validated error (a fold had no response time or utilization)".into(),
                };
                Verdict {
                    method: id.to_string(),
                    recommended: recommended == Some(id),
                    reason,
                }
            })
            .collect()
    }
}

/// The rows of `combined(a+b…)`, the average of the `combine` methods;
/// `None` when one of them failed.
pub(super) fn combined_rows(
    combine: &[Method],
    fits: &Fits,
    scorer: &Scorer<'_>,
) -> Option<Vec<Estimate>> {
    let parts: Vec<&MethodRun> = combine.iter().map(|m| fits.of(*m)).collect();
    let run = combined(&parts, scorer.obs.n_classes())?;
    let ids: Vec<&str> = combine.iter().map(|m| m.id()).collect();
    let name = format!("combined({})", ids.join("+"));
    let d = run.full.as_ref().expect("a combined estimate");
    Some(scorer.rows(&name, d, &run).0)
}

/// The average of `parts` on all rows, per fold and per resample (where
/// every part has a value); `None` when a part failed on all rows.
fn combined(parts: &[&MethodRun], nc: usize) -> Option<MethodRun> {
    if !parts.iter().all(|p| p.full.is_ok()) {
        return None;
    }
    let mean = |vs: Vec<&Vec<f64>>| -> Vec<f64> {
        (0..nc)
            .map(|r| vs.iter().map(|v| v[r]).sum::<f64>() / vs.len() as f64)
            .collect()
    };
    let each = |get: &dyn Fn(&MethodRun) -> Option<&Vec<f64>>| -> Option<Vec<f64>> {
        parts
            .iter()
            .map(|p| get(p))
            .collect::<Option<Vec<_>>>()
            .map(&mean)
    };
    let (folds, draws) = (parts[0].per_fold.len(), parts[0].draws.len());
    Some(MethodRun {
        full: Ok(mean(
            parts.iter().map(|p| p.full.as_ref().unwrap()).collect(),
        )),
        per_fold: (0..folds)
            .map(|f| each(&|p| p.per_fold[f].as_ref()))
            .collect(),
        draws: (0..draws).map(|b| each(&|p| p.draws[b].as_ref())).collect(),
    })
}

/// In words: which classes the data cannot separate, and what would.
pub(super) fn advice(obs: &Observations, ident: &Identifiability) -> Option<String> {
    let lost: Vec<&str> = obs
        .classes
        .iter()
        .zip(&ident.identifiable)
        .filter(|(_, ok)| !**ok)
        .map(|(c, _)| c.as_str())
        .collect();
    (!lost.is_empty()).then(|| {
        format!(
            "the class mix barely varies over these intervals, so the demands of {} cannot be told apart: only their mix-weighted mean, the row {MIX}, is determined, and the recommended method stands for that mean, not for the split; a run with another mix (or several runs with different mixes, fitted together) would separate them",
            lost.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::testdata::{estimated, quick, two_classes, two_rows, varying};
    use crate::estimate::{
        Config, Diagnostics, EstimateError, Observations, Report, Row, estimate,
    };

    #[test]
    fn combined_is_the_mean_of_its_parts_everywhere_and_fails_with_them() {
        let run = |full: f64, fold: Option<f64>, draw: f64| MethodRun {
            full: Ok(vec![full]),
            per_fold: vec![fold.map(|f| vec![f])],
            draws: vec![Some(vec![draw])],
        };
        let (a, b) = (run(1.0, Some(2.0), 3.0), run(3.0, Some(4.0), 5.0));
        let c = combined(&[&a, &b], 1).unwrap();
        assert_eq!(c.full.unwrap(), vec![2.0]);
        assert_eq!(c.per_fold, vec![Some(vec![3.0])]);
        assert_eq!(c.draws, vec![Some(vec![4.0])]);
        // A fold where one part failed has no combined value.
        let b2 = run(3.0, None, 5.0);
        assert_eq!(combined(&[&a, &b2], 1).unwrap().per_fold, vec![None]);
        let failed = MethodRun {
            full: Err(EstimateError::NoServers),
            per_fold: vec![None],
            draws: vec![None],
        };
        assert!(combined(&[&a, &failed], 1).is_none());
    }

    #[test]
    fn the_recommended_method_has_the_least_summed_error_of_the_trusted() {
        // A generated-like trace: demands 0.1 s at loads 0.2–0.7.
        let rows: Vec<Row> = (0..60)
            .map(|i| {
                let x = 2.0 + 5.0 * ((i as f64 * 0.37).sin() + 1.0) / 2.0;
                let u = 0.1 * x * (1.0 + 0.02 * (i as f64 * 1.7).cos());
                let r = 0.1 / (1.0 - u);
                Row {
                    length: 30.0,
                    throughput: vec![x],
                    response: vec![Some(r * (1.0 + 0.05 * (i as f64 * 0.9).sin()))],
                    completions: vec![(x * 30.0) as u64],
                    utilization: u,
                    in_system: vec![x * r],
                    arrived: Vec::new(),
                }
            })
            .collect();
        let obs = Observations::new(vec!["a".into()], 1, rows);
        let cfg = Config {
            bootstrap: 0,
            ..Config::default()
        };
        let r = estimate(&obs, Diagnostics::default(), &cfg, "cpu", 30.0);
        let score = |e: &Estimate| e.rel_rt_error.unwrap() + e.rel_util_error.unwrap();
        let best = r
            .estimates
            .iter()
            .filter(|e| e.distrusted.is_none())
            .min_by(|a, b| score(a).total_cmp(&score(b)))
            .unwrap();
        assert_eq!(r.recommended.as_deref(), Some(best.method.as_str()));
        let v = r.verdicts.iter().find(|v| v.recommended).unwrap();
        assert_eq!(v.method, best.method);
        // Every other trusted method's verdict names the winner.
        for v in r.verdicts.iter().filter(|v| !v.recommended) {
            assert!(
                v.reason.contains(&best.method) || v.reason.starts_with("not trusted"),
                "{v:?}"
            );
        }
    }

    #[test]
    fn a_constant_mix_gets_advice_and_a_mix_row_and_a_varying_one_neither() {
        let run = |obs: &Observations| estimated(obs, &quick(&[Method::Ur]));
        // 2:8 in every row, the load moving: only the mix is determined.
        let constant = run(&two_classes(|i| {
            let s = 1.0 + 0.5 * (i as f64 * 0.37).sin();
            (2.0 * s, 8.0 * s)
        }));
        let advice = constant.advice.expect("advice");
        assert!(
            advice.contains("the demands of a, b cannot be told apart"),
            "{advice}"
        );
        assert!(constant.estimates.iter().any(|e| e.class == MIX));
        let varying = run(&two_classes(varying));
        assert_eq!(varying.advice, None);
        assert!(varying.identifiability.expect("two classes").all());
        assert!(varying.estimates.iter().all(|e| e.class != MIX));
        // One class: nothing to separate, nothing asked.
        let one = run(&two_rows());
        assert!(one.identifiability.is_none() && one.advice.is_none());
    }

    #[test]
    fn combined_averages_methods_that_need_not_be_listed() {
        let obs = two_classes(varying);
        let cfg = Config {
            combine: vec![Method::Ur, Method::Rr],
            ..quick(&[Method::Sdl])
        };
        let report = estimated(&obs, &cfg);
        assert!(
            report
                .estimates
                .iter()
                .all(|e| e.method != "ur" && e.method != "rr")
        );
        let parts = estimated(&obs, &quick(&[Method::Ur, Method::Rr]));
        let demand = |r: &Report, m: &str, c: &str| {
            r.estimates
                .iter()
                .find(|e| e.method == m && e.class == c)
                .unwrap_or_else(|| panic!("{m} {c}"))
                .demand_s
        };
        for c in ["a", "b"] {
            let mean = 0.5 * (demand(&parts, "ur", c) + demand(&parts, "rr", c));
            assert!((demand(&report, "combined(ur+rr)", c) - mean).abs() < 1e-12);
        }
    }

    #[test]
    fn verdicts_give_each_method_its_own_summed_error_and_the_winners() {
        let obs = two_classes(varying);
        let cfg = quick(&[Method::Sdl, Method::Ur, Method::Rr, Method::Rort]);
        let report = estimated(&obs, &cfg);
        let score = |m: &str| {
            let e = report.estimates.iter().find(|e| e.method == m).unwrap();
            100.0 * (e.rel_rt_error.unwrap() + e.rel_util_error.unwrap())
        };
        let best = report.recommended.clone().expect("a recommendation");
        let mut others = 0;
        for v in &report.verdicts {
            assert_eq!(v.recommended, v.method == best);
            let want = if v.method == best {
                format!(
                    "the least cross-validated error of the trusted methods (relative R + U error {:.1} %)",
                    score(&best)
                )
            } else if v.reason.starts_with("not trusted") {
                continue;
            } else {
                others += 1;
                format!(
                    "cross-validated relative R + U error {:.1} %, more than {best}'s {:.1} %",
                    score(&v.method),
                    score(&best)
                )
            };
            assert_eq!(v.reason, want);
        }
        assert!(others >= 2, "{:?}", report.verdicts);
        // No response times: a response-time method fails, and says so.
        let mut silent = two_classes(varying);
        silent
            .rows
            .iter_mut()
            .for_each(|r| r.response = vec![None, None]);
        let report = estimated(&silent, &quick(&[Method::Rr]));
        assert!(
            report.verdicts[0].reason.starts_with("failed: "),
            "{:?}",
            report.verdicts
        );
    }

    #[test]
    fn a_method_that_only_bounds_the_demand_is_recommended_only_when_no_other_passed() {
        // rta (R itself) with the least error and another method trusted:
        // the other one.
        let rta = Method::from_id("rta").unwrap();
        let ur = Method::from_id("ur").unwrap();
        let judged = |scored: Vec<(Method, f64)>| Judged {
            estimates: Vec::new(),
            failures: Vec::new(),
            scored: scored
                .into_iter()
                .map(|(m, e)| (m.id().to_string(), e))
                .collect(),
            distrusted: Vec::new(),
        };
        let both = judged(vec![(rta, 0.01), (ur, 0.30)]);
        assert_eq!(both.recommended().as_deref(), Some(ur.id()));
        // Alone, it is still the answer.
        let alone = judged(vec![(rta, 0.01)]);
        assert_eq!(alone.recommended().as_deref(), Some(rta.id()));
    }
}
