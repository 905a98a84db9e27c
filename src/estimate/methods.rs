//! The estimation methods, declared once. The `methods!` table below is
//! the only list of them: a row gives the method's variant, its id (as in
//! output and `--methods`), how its [`Estimator`] (in its own file in
//! `methods/`) is built, and what the trust checks must know of it
//! ([`Traits`]). Adding a method is its file, its `mod` line and one row;
//! nothing else in the crate names a method (`only_the_table_names_a_method`
//! fails if something does). The `mod` lines stay outside the macro so that
//! rustfmt, which skips modules a macro declares, formats the estimators.

use serde::Serialize;

use super::error::EstimateError;
use super::estimator::{Estimator, Unfit};

mod filter;
mod fit;

// One line per method (see the table below).
pub(in crate::estimate) mod kf_ru;
pub(in crate::estimate) mod kf_u;
pub(in crate::estimate) mod rort;
pub(in crate::estimate) mod rortu;
pub(in crate::estimate) mod rr;
pub(in crate::estimate) mod rta;
pub(in crate::estimate) mod sdl;
pub(in crate::estimate) mod ur;

/// How a method treats utilization that the traced requests do not
/// explain (background load).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackgroundUse {
    /// It counts it as the classes' demand.
    Counted,
    /// It counts it unless fitted with a background intercept
    /// (`--intercept`).
    CountedWithoutIntercept,
    /// It does not count it as demand.
    NotCounted,
}

/// What a method assumes, for judging where its fit can be trusted
/// (`trust.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traits {
    /// Its split between the classes depends on the resource's
    /// [`Discipline`](super::Discipline).
    pub splits_by_discipline: bool,
    /// What it makes of background load.
    pub background: BackgroundUse,
    /// It fits its demands to the measured response times through the
    /// steady-state queueing equation, which the measurements may not
    /// follow across load.
    pub fits_response_times: bool,
    /// Its estimate bounds the demand from above (the response time
    /// itself, R ≥ D) rather than fitting it: it is recommended only when
    /// no other method passed the checks.
    pub upper_bound: bool,
    /// It applies an operational law to the whole trace's totals (no
    /// fit, so no misfit to tilt the classes): the demands `plan` takes,
    /// as the fidelity protocol does.
    pub law_over_the_trace: bool,
}

impl Traits {
    /// Whether the method counts background load as demand when the
    /// utilization regression has (`intercept`) or has no background term.
    pub fn counts_background(self, intercept: bool) -> bool {
        match self.background {
            BackgroundUse::Counted => true,
            BackgroundUse::CountedWithoutIntercept => !intercept,
            BackgroundUse::NotCounted => false,
        }
    }
}

/// Declares [`Method`] from one table: the enum, [`Method::ALL`],
/// [`Method::id`], [`Method::estimator`], [`Method::traits`] and the
/// estimators' modules come from this one list, so they cannot disagree.
/// Every column must be given (the macro matches no row without one).
macro_rules! methods {
    ($(
        $(#[$doc:meta])*
        $variant:ident $id:literal, new |$arg:pat_param| $new:expr,
        splits_by_discipline: $splits:literal, background: $background:ident,
        fits_response_times: $fits:literal, upper_bound: $upper:literal,
        law_over_the_trace: $law:literal;
    )*) => {
        /// The estimation approaches. Ids as in output and `--methods`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum Method {
            $($(#[$doc])* $variant,)*
        }

        impl Method {
            /// All methods, in declaration order.
            pub const ALL: &'static [Method] = &[$(Method::$variant,)*];

            /// The id used in output.
            pub fn id(self) -> &'static str {
                match self {
                    $(Method::$variant => $id,)*
                }
            }

            /// The estimator behind the method; `intercept` adds a
            /// background term where the method has one.
            pub fn estimator(self, intercept: bool) -> Box<dyn Estimator> {
                match self {
                    $(Method::$variant => {
                        let $arg = intercept;
                        Box::new($new)
                    })*
                }
            }

            /// What the method assumes.
            pub fn traits(self) -> Traits {
                match self {
                    $(Method::$variant => Traits {
                        splits_by_discipline: $splits,
                        background: BackgroundUse::$background,
                        fits_response_times: $fits,
                        upper_bound: $upper,
                        law_over_the_trace: $law,
                    },)*
                }
            }
        }
    };
}

methods! {
    /// Service demand law: D_r = c·U·share_r / X_r over the whole trace.
    Sdl "sdl", new |_| sdl::ServiceDemandLaw,
        splits_by_discipline: true, background: Counted, fits_response_times: false, upper_bound: false,
        law_over_the_trace: true;
    /// Response-time approximation: D ≈ R. Biased upward by the waiting
    /// time, R/D = 1 + C/(c(1−U)): about 2× at 50 % on one server.
    Rta "rta", new |_| rta::ResponseTimeApproximation,
        splits_by_discipline: false, background: NotCounted, fits_response_times: false,
        upper_bound: true, law_over_the_trace: false;
    /// Least squares on the utilization law (non-negative).
    Ur "ur", new |intercept| ur::UtilizationRegression { intercept },
        splits_by_discipline: false, background: CountedWithoutIntercept, fits_response_times: false, upper_bound: false, law_over_the_trace: false;
    /// Least squares on response times with observed utilization (Kraft).
    Rr "rr", new |_| rr::ResponseTimeRegression,
        splits_by_discipline: true, background: NotCounted, fits_response_times: true, upper_bound: false, law_over_the_trace: false;
    /// Kalman filter on the utilization law.
    KfU "kf-u", new |_| kf_u::KalmanUtilization,
        splits_by_discipline: false, background: Counted, fits_response_times: false, upper_bound: false, law_over_the_trace: false;
    /// Kalman filter on response times and utilization.
    KfRu "kf-ru", new |_| kf_ru::KalmanResponseUtilization,
        splits_by_discipline: true, background: NotCounted, fits_response_times: true, upper_bound: false, law_over_the_trace: false;
    /// Optimisation on response times, utilization computed from D
    /// (Menascé).
    Rort "rort", new |_| rort::Menasce,
        splits_by_discipline: true, background: NotCounted, fits_response_times: true, upper_bound: false, law_over_the_trace: false;
    /// Optimisation on response times and utilization (Liu et al.).
    Rortu "rortu", new |_| rortu::Liu,
        splits_by_discipline: true, background: NotCounted, fits_response_times: true, upper_bound: false, law_over_the_trace: false;
}

impl Method {
    /// Every id, for messages: "sdl, rta, … or rortu".
    pub fn ids() -> String {
        Self::sentence(Method::ALL.iter().copied(), "or")
    }

    /// The ids of the methods whose [`Traits`] `have` it, for help texts:
    /// "sdl, rr … and rortu".
    pub fn ids_with(have: impl Fn(Traits) -> bool) -> String {
        Self::sentence(
            Method::ALL.iter().copied().filter(|m| have(m.traits())),
            "and",
        )
    }

    /// `methods`' ids as a list whose last two are joined by `last`.
    fn sentence(methods: impl Iterator<Item = Method>, last: &str) -> String {
        let ids: Vec<&str> = methods.map(Method::id).collect();
        match ids.split_last() {
            None => String::new(),
            Some((one, [])) => one.to_string(),
            Some((tail, head)) => format!("{} {last} {tail}", head.join(", ")),
        }
    }

    /// Parses an id.
    pub fn from_id(s: &str) -> Option<Method> {
        Method::ALL.iter().copied().find(|m| m.id() == s)
    }

    /// The method's failure, named.
    pub fn failed(self, why: Unfit) -> EstimateError {
        EstimateError::Failed {
            method: self.id(),
            message: why.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::{Discipline, Observations, Row};

    #[test]
    fn every_method_is_listed_once_and_its_id_round_trips() {
        let mut ids: Vec<&str> = Method::ALL.iter().map(|m| m.id()).collect();
        for m in Method::ALL {
            assert_eq!(Method::from_id(m.id()), Some(*m));
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Method::ALL.len());
        // The lists in messages and help texts name them all, in order.
        let all = Method::ids();
        let named: Vec<&str> = all
            .split([',', ' '])
            .filter(|w| !w.is_empty() && *w != "or")
            .collect();
        let want: Vec<&str> = Method::ALL.iter().map(|m| m.id()).collect();
        assert_eq!(named, want, "{all}");
        let ms = [Method::ALL[0], Method::ALL[1], Method::ALL[2]];
        let ids = ms.map(Method::id);
        assert_eq!(
            Method::sentence(ms.into_iter(), "and"),
            format!("{}, {} and {}", ids[0], ids[1], ids[2])
        );
        assert_eq!(Method::sentence(ms[..1].iter().copied(), "and"), ids[0]);
        assert_eq!(Method::ids_with(|_| false), "");
    }

    /// The crate's non-test source files (each cut where its test module
    /// starts) other than this one, as (path, text).
    fn library_sources() -> Vec<(std::path::PathBuf, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let this = root.join("estimate").join("methods.rs");
        let (mut dirs, mut out) = (vec![root], Vec::new());
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && path != this {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let code = text.split("#[cfg(test)]\nmod ").next().unwrap();
                    out.push((path, code.to_string()));
                }
            }
        }
        out
    }

    /// Whether `text` holds `word` not followed by a letter, digit or `_`.
    fn names(text: &str, word: &str) -> bool {
        text.match_indices(word).any(|(i, _)| {
            !text[i + word.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
        })
    }

    #[test]
    fn only_the_table_names_a_method() {
        // A classifier outside the table (a `matches!` on variants, a
        // comparison with an id) would silently leave a new method out.
        let sources = library_sources();
        assert!(sources.len() > 50, "read {} files", sources.len());
        for (path, code) in &sources {
            for m in Method::ALL {
                let variant = format!("Method::{m:?}");
                let id = format!("\"{}\"", m.id());
                assert!(
                    !names(code, &variant) && !code.contains(&id),
                    "{} names {} ({variant} or {id}): give the table a column instead",
                    path.display(),
                    m.id()
                );
            }
        }
        // The scan itself sees what it looks for.
        assert!(names("matches!(m, Method::Rort)", "Method::Rort"));
        assert!(!names("Method::Rortu", "Method::Rort"));
    }

    #[test]
    fn every_method_has_its_own_file() {
        // Each method lives in `methods/<id>.rs` (`-` as `_`), and every
        // file there is a method or one of the two shared helpers.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/estimate/methods");
        let mut expected: Vec<String> = Method::ALL
            .iter()
            .map(|m| format!("{}.rs", m.id().replace('-', "_")))
            .collect();
        expected.extend(["filter.rs".to_string(), "fit.rs".to_string()]);
        expected.sort();
        let mut found: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        found.sort();
        assert_eq!(found, expected);
    }

    /// `n` rows of one server at throughputs `x(i)` with demands `d`,
    /// response times as processor sharing gives them, D_r / (1 − U).
    fn rows(d: &[f64], x: impl Fn(usize) -> Vec<f64>) -> Observations {
        let rows = (0..60)
            .map(|i| {
                let x = x(i);
                let u: f64 = x.iter().zip(d).map(|(x, d)| x * d).sum();
                let r: Vec<f64> = d.iter().map(|d| d / (1.0 - u)).collect();
                Row {
                    length: 30.0,
                    completions: x.iter().map(|x| (x * 30.0) as u64).collect(),
                    in_system: x.iter().zip(&r).map(|(x, r)| x * r).collect(),
                    response: r.into_iter().map(Some).collect(),
                    throughput: x,
                    utilization: u,
                    arrived: Vec::new(),
                }
            })
            .collect();
        let classes = (0..d.len()).map(|c| format!("c{c}")).collect();
        Observations::new(classes, 1, rows)
    }

    /// Method `m`'s demands of `obs` (with the intercept where it has one).
    fn fit(m: Method, obs: &Observations, intercept: bool) -> Vec<f64> {
        let all: Vec<usize> = (0..obs.rows.len()).collect();
        m.estimator(intercept).estimate(obs, &all).unwrap()
    }

    #[test]
    fn every_column_says_what_the_method_does() {
        let moved = |a: &[f64], b: &[f64]| a.iter().zip(b).any(|(a, b)| (a - b).abs() > 1e-6 * a);
        // Two classes whose mix varies: read as FCFS or as processor
        // sharing, exactly the methods that split by the discipline move.
        let two = rows(&[0.05, 0.02], |i| {
            let t = i as f64;
            vec![4.0 + 2.0 * (t * 0.37).sin(), 8.0 + 5.0 * (t * 0.61).cos()]
        });
        let mut ps = two.clone();
        ps.discipline = Discipline::Ps;
        // One class at loads 0.1 to 0.4.
        let one = rows(&[0.05], |i| vec![2.0 + 6.0 * (i as f64 / 59.0)]);
        let mean_x = one.rows.iter().map(|r| r.throughput[0]).sum::<f64>() / 60.0;
        let slower = {
            let mut o = one.clone();
            for r in &mut o.rows {
                r.response[0] = r.response[0].map(|v| 1.5 * v);
                r.in_system[0] *= 1.5;
            }
            o
        };
        let busier = {
            let mut o = one.clone();
            o.rows.iter_mut().for_each(|r| r.utilization += 0.1);
            o
        };
        for &m in Method::ALL {
            let t = m.traits();
            assert_eq!(
                moved(&fit(m, &two, false), &fit(m, &ps, false)),
                t.splits_by_discipline,
                "{}: splits_by_discipline",
                m.id()
            );
            if t.fits_response_times {
                let (a, b) = (fit(m, &one, false), fit(m, &slower, false));
                assert!(moved(&a, &b), "{}: fits_response_times", m.id());
            }
            for intercept in [false, true] {
                // Counted as demand: at least half of the 0.1 the
                // utilization law would put on the class.
                let rise = fit(m, &busier, intercept)[0] - fit(m, &one, intercept)[0];
                if t.counts_background(intercept) {
                    assert!(rise > 0.05 / mean_x, "{} ({intercept}): {rise}", m.id());
                } else if t.background == BackgroundUse::CountedWithoutIntercept {
                    assert!(
                        rise.abs() < 0.01 / mean_x,
                        "{} ({intercept}): {rise}",
                        m.id()
                    );
                }
            }
        }
    }
}
