//! Blocked k-fold cross-validation: the folds, the relative errors of a
//! method's demands on held-out rows, and the report rows of a method
//! ([`Scorer`]: its cross-validated errors beside its bootstrap
//! intervals).

use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::bootstrap::Percentile;
use super::error::EstimateError;
use super::identify::Identifiability;
use super::methods::Method;
use super::observations::Observations;
use super::outcome::{Estimate, MIX};
use crate::numeric::response_factor;

/// Utilization at which validation stops trusting the queueing formula
/// (a predicted U ≥ 1 would give an infinite or negative response time).
const U_GUARD: f64 = 0.995;

/// Blocked folds: each block of `k` consecutive intervals gets a random
/// permutation of the fold ids, so every fold samples the whole trace.
pub(super) fn folds(n: usize, k: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<usize> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut perm: Vec<usize> = (0..k).collect();
        for i in (1..k).rev() {
            let j = rng.random_range(0..=i);
            perm.swap(i, j);
        }
        out.extend(perm);
    }
    out.truncate(n);
    out
}

/// Relative errors of demands `d` on `rows`: (response time, utilization).
pub(super) fn errors(obs: &Observations, d: &[f64], rows: &[usize]) -> (Option<f64>, Option<f64>) {
    let (mut rt, mut rtw, mut ut, mut utn) = (0.0, 0.0, 0.0, 0.0);
    let hot = obs.hot();
    for &i in rows {
        let row = hot.row(i);
        let u_hat = crate::numeric::dot(row.throughput, d) / obs.servers as f64;
        let f = response_factor(u_hat.min(U_GUARD), obs.servers);
        for (r, resp) in row.response.iter().enumerate() {
            let Some(obs_rt) = resp.filter(|v| *v > 0.0) else {
                continue;
            };
            let w = row.completions[r] as f64;
            let predicted = obs.discipline.response(row.throughput, r, d, f);
            rt += w * ((predicted - obs_rt) / obs_rt).abs();
            rtw += w;
        }
        if row.utilization > 0.0 {
            ut += ((u_hat - row.utilization) / row.utilization).abs();
            utn += 1.0;
        }
    }
    ((rtw > 0.0).then(|| rt / rtw), (utn > 0.0).then(|| ut / utn))
}

/// Every method that ran, in order, with its fits.
pub(super) struct Fits {
    pub methods: Vec<Method>,
    pub runs: Vec<MethodRun>,
}

impl Fits {
    /// Method `m`'s fits (it must have run).
    pub fn of(&self, m: Method) -> &MethodRun {
        let i = self.methods.iter().position(|x| *x == m);
        &self.runs[i.expect("every method asked for ran")]
    }

    /// The fits of the method with id `id`, if it ran.
    pub fn by_id(&self, id: &str) -> Option<&MethodRun> {
        let i = self.methods.iter().position(|m| m.id() == id)?;
        Some(&self.runs[i])
    }
}

/// A method's fits: on all rows, on each fold's training rows and on each
/// bootstrap resample (`None` where a fit failed).
pub(super) struct MethodRun {
    pub full: Result<Vec<f64>, EstimateError>,
    pub per_fold: Vec<Option<Vec<f64>>>,
    pub draws: Vec<Option<Vec<f64>>>,
}

/// Turns a method's runs into report rows: cross-validation errors on the
/// held-out folds and percentile bootstrap intervals.
pub(super) struct Scorer<'a> {
    pub obs: &'a Observations,
    /// Held-out rows of each fold.
    pub test: Vec<Vec<usize>>,
    /// For several classes: which demands the data determine.
    pub ident: Option<Identifiability>,
    /// How the intervals are drawn.
    pub percentile: Percentile,
}

impl<'a> Scorer<'a> {
    /// Scores on the held-out rows of each of the `k` folds (`fold_of`:
    /// each row's fold).
    pub fn new(
        obs: &'a Observations,
        fold_of: &[usize],
        k: usize,
        ident: Option<Identifiability>,
        percentile: Percentile,
    ) -> Self {
        let test = (0..k)
            .map(|f| (0..fold_of.len()).filter(|&i| fold_of[i] == f).collect())
            .collect();
        Self {
            obs,
            test,
            ident,
            percentile,
        }
    }

    /// Mean relative R and U errors over the folds where the method ran;
    /// `None` where some fold has no value.
    pub fn cv_errors(&self, per_fold: &[Option<Vec<f64>>]) -> (Option<f64>, Option<f64>) {
        let (mut rt_sum, mut ut_sum, mut folds_ok) = (0.0, 0.0, 0usize);
        let (mut rt_ok, mut ut_ok) = (true, true);
        for (f, df) in per_fold.iter().enumerate() {
            let Some(df) = df else { continue };
            let (rt, ut) = errors(self.obs, df, &self.test[f]);
            match rt {
                Some(v) => rt_sum += v,
                None => rt_ok = false,
            }
            match ut {
                Some(v) => ut_sum += v,
                None => ut_ok = false,
            }
            folds_ok += 1;
        }
        let rel_rt = (folds_ok > 0 && rt_ok).then(|| rt_sum / folds_ok as f64);
        let rel_ut = (folds_ok > 0 && ut_ok).then(|| ut_sum / folds_ok as f64);
        (rel_rt, rel_ut)
    }

    /// One row per class (and the mix-weighted mean where some class is
    /// not determined), and the method's cross-validated (R, U) errors.
    pub fn rows(
        &self,
        name: &str,
        d: &[f64],
        run: &MethodRun,
    ) -> (Vec<Estimate>, (Option<f64>, Option<f64>)) {
        let (rel_rt, rel_ut) = self.cv_errors(&run.per_fold);
        let row = |class: &str, demand_s: f64, draw: &dyn Fn(&[f64]) -> f64, identifiable| {
            let (ci_low_s, ci_high_s) = match identifiable {
                true => self.percentile.interval(&run.draws, demand_s, draw),
                false => (None, None),
            };
            Estimate {
                method: name.to_string(),
                class: class.to_string(),
                demand_s,
                ci_low_s,
                ci_high_s,
                rel_rt_error: rel_rt,
                rel_util_error: rel_ut,
                identifiable,
                distrusted: None,
            }
        };
        let mut rows: Vec<Estimate> = (0..self.obs.n_classes())
            .map(|r| {
                let ok = self.ident.as_ref().is_none_or(|i| i.identifiable[r]);
                row(&self.obs.classes[r], d[r], &|x: &[f64]| x[r], ok)
            })
            .collect();
        if let Some(i) = self.ident.as_ref().filter(|i| !i.all()) {
            let mix = |x: &[f64]| x.iter().zip(&i.weights).map(|(d, w)| d * w).sum::<f64>();
            rows.push(row(MIX, mix(d), &mix, true));
        }
        (rows, (rel_rt, rel_ut))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::testdata::{estimated, quick, two_classes, two_rows, varying};
    use crate::estimate::{Method, Row};
    use crate::stats::quantile_sorted as quantile;
    use rand::SeedableRng;

    /// Two folds, rows 0 and 1, and intervals of the draws' spread.
    fn scorer(obs: &Observations) -> Scorer<'_> {
        Scorer {
            obs,
            test: vec![vec![0], vec![1]],
            ident: None,
            percentile: Percentile {
                confidence: 0.95,
                widen: 1.0,
            },
        }
    }

    #[test]
    fn validation_errors_are_the_hand_computed_ones() {
        // D = 0.1: predicted U = 0.2 and 0.4, so U errors 1/3 and 1/5;
        // R = D / (1 − U) = 0.125 and 0.1667 against 0.2 and 0.4, weighted
        // by completions 5 and 10.
        let obs = two_rows();
        let (rt, ut) = errors(&obs, &[0.1], &[0, 1]);
        let want_ut = (1.0 / 3.0 + 0.2) / 2.0;
        let r1 = (0.1 / 0.8 - 0.2f64).abs() / 0.2;
        let r2 = (0.1 / 0.6 - 0.4f64).abs() / 0.4;
        let want_rt = (5.0 * r1 + 10.0 * r2) / 15.0;
        assert!((ut.unwrap() - want_ut).abs() < 1e-12, "{ut:?}");
        assert!((rt.unwrap() - want_rt).abs() < 1e-12, "{rt:?}");
        // Scored on held-out folds: the mean over folds of each fold's
        // errors with that fold's fit.
        let scorer = Scorer {
            obs: &obs,
            test: vec![vec![0], vec![1]],
            ident: None,
            percentile: Percentile {
                confidence: 0.95,
                widen: 1.0,
            },
        };
        let (rt, ut) = scorer.cv_errors(&[Some(vec![0.1]), Some(vec![0.2])]);
        let (a, b) = (errors(&obs, &[0.1], &[0]), errors(&obs, &[0.2], &[1]));
        assert!((rt.unwrap() - (a.0.unwrap() + b.0.unwrap()) / 2.0).abs() < 1e-12);
        assert!((ut.unwrap() - (a.1.unwrap() + b.1.unwrap()) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn errors_skip_rows_with_no_response_or_no_utilization() {
        let obs = two_rows();
        assert_eq!(errors(&obs, &[0.1], &[]), (None, None));
        let mut quiet = two_rows();
        quiet.rows[0].response = vec![Some(0.0)];
        quiet.rows[0].utilization = 0.0;
        // Only row 1 counts: U error |0.4 − 0.5|/0.5, R error
        // |0.1/0.6 − 0.4|/0.4.
        let (rt, ut) = errors(&quiet, &[0.1], &[0, 1]);
        assert!((ut.unwrap() - 0.2).abs() < 1e-12, "{ut:?}");
        assert!(
            (rt.unwrap() - (0.1 / 0.6 - 0.4f64).abs() / 0.4).abs() < 1e-12,
            "{rt:?}"
        );
        // A fold whose rows give no R error makes the method's R error
        // unknown, not the other folds' mean.
        let sc = Scorer {
            test: vec![vec![0], vec![1]],
            ..scorer(&quiet)
        };
        let (rt, ut) = sc.cv_errors(&[Some(vec![0.1]), Some(vec![0.1])]);
        assert_eq!((rt, ut), (None, None));
        // A fold that did not fit is left out; none fitted, no error.
        let (rt, _) = scorer(&obs).cv_errors(&[None, Some(vec![0.1])]);
        assert_eq!(rt, errors(&obs, &[0.1], &[1]).0);
        assert_eq!(scorer(&obs).cv_errors(&[None, None]), (None, None));
    }

    #[test]
    fn the_mix_row_weights_the_demands_and_their_draws_by_the_completions() {
        let row = |x: [f64; 2], u: f64| Row {
            length: 30.0,
            throughput: x.to_vec(),
            response: vec![Some(0.2), Some(0.3)],
            completions: x.iter().map(|v| (v * 30.0) as u64).collect(),
            utilization: u,
            in_system: vec![0.5, 0.5],
            arrived: Vec::new(),
        };
        let obs = Observations::new(
            vec!["a".into(), "b".into()],
            1,
            vec![row([2.0, 1.0], 0.3), row([4.0, 2.0], 0.6)],
        );
        let mut sc = scorer(&obs);
        sc.ident = Some(Identifiability {
            identifiable: vec![false, false],
            singular_values: vec![1.0, 0.0],
            weights: vec![0.25, 0.75],
        });
        let draws = (0..40)
            .map(|i| Some(vec![0.1, 0.02 * f64::from(i)]))
            .collect();
        let run = MethodRun {
            full: Ok(vec![0.1, 0.2]),
            per_fold: vec![Some(vec![0.1, 0.2]), Some(vec![0.1, 0.2])],
            draws,
        };
        let (rows, _) = sc.rows("ur", &[0.1, 0.2], &run);
        assert_eq!(rows.len(), 3);
        // Classes the data cannot tell apart get no interval.
        assert!(
            rows[..2]
                .iter()
                .all(|r| !r.identifiable && r.ci_low_s.is_none())
        );
        let mix = &rows[2];
        assert_eq!(mix.class, MIX);
        assert!(
            (mix.demand_s - (0.25 * 0.1 + 0.75 * 0.2)).abs() < 1e-12,
            "{mix:?}"
        );
        // Its draws are 0.025 + 0.015·i, i = 0..39: the spread about the
        // median is the mix's, not either class's.
        let (lo, hi) = (mix.ci_low_s.unwrap(), mix.ci_high_s.unwrap());
        let v: Vec<f64> = (0..40).map(|i| 0.025 + 0.015 * f64::from(i)).collect();
        let (l, m, h) = (quantile(&v, 0.025), quantile(&v, 0.5), quantile(&v, 0.975));
        assert!(
            (lo - (mix.demand_s - (m - l)).max(0.0)).abs() < 1e-12,
            "{lo}"
        );
        assert!((hi - (mix.demand_s + (h - m))).abs() < 1e-12, "{hi}");
    }

    #[test]
    fn cross_validation_fits_on_the_other_folds_and_scores_on_the_fold() {
        let obs = two_classes(varying);
        let cfg = quick(&[Method::Ur, Method::Rr]);
        let report = estimated(&obs, &cfg);
        // The folds estimate() draws: the first use of its seed.
        let (n, k) = (obs.rows.len(), cfg.folds);
        let fold_of = folds(n, k, &mut Xoshiro256PlusPlus::seed_from_u64(cfg.seed));
        let scorer = Scorer {
            obs: &obs,
            test: (0..k)
                .map(|f| (0..n).filter(|&i| fold_of[i] == f).collect())
                .collect(),
            ident: None,
            percentile: Percentile {
                confidence: 0.95,
                widen: 1.0,
            },
        };
        for m in [Method::Ur, Method::Rr] {
            let per_fold: Vec<Option<Vec<f64>>> = (0..k)
                .map(|f| {
                    let train: Vec<usize> = (0..n).filter(|&i| fold_of[i] != f).collect();
                    m.estimator(false).estimate(&obs, &train).ok()
                })
                .collect();
            let (rt, ut) = scorer.cv_errors(&per_fold);
            let row = report
                .estimates
                .iter()
                .find(|e| e.method == m.id())
                .unwrap();
            assert!(
                (row.rel_rt_error.unwrap() - rt.unwrap()).abs() < 1e-12,
                "{m:?}"
            );
            assert!(
                (row.rel_util_error.unwrap() - ut.unwrap()).abs() < 1e-12,
                "{m:?}"
            );
        }
    }
}
