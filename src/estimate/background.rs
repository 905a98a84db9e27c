//! Background work as a modelled load: CPU time on the requests' resource
//! that is not theirs (a task queue's workers, periodic jobs, a foreign
//! process) but that they wait behind. Per interval it is the total
//! utilization of the host or core ([`Observations::total`]) less the
//! requests' resource's, fitted over all intervals of all runs as
//!
//!   U_bg = b₀ + Σ_c X_c·w_c / c
//!
//! (a constant part, and w_c CPU seconds of background work caused per
//! request of class c, on c servers) by non-negative least squares, with
//! intervals from the run-aware moving-block bootstrap of the demands
//! (`bootstrap.rs`, its own seed stream so that the demands' draws do not
//! move). [`BackgroundFit::utilization_at`] gives U_bg at other
//! throughputs, the load to add to a model's queue as an open competing
//! class.
//!
//! An interval's throughput counts a Poisson number of completions
//! (variance X/Δ); regressed on it, the slopes flatten towards zero and the
//! constant swallows them (regression dilution; at 1 s intervals on the
//! testbed's runs, most of the within-run variation is that noise). The
//! normal equations are corrected for it (the noise variance taken off
//! their diagonal), where that leaves them positive definite.
//!
//! With no total series, the intercept of the requests' own utilization
//! law, U = b₀ + Σ X_c·D_c / c, stands in for the constant part (no per
//! request part can be told from the requests' own demands), and the fit
//! says so ([`Source::Intercept`]).

use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

use super::bootstrap::{Percentile, Resamples};
use super::observations::Observations;

/// Where the background was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The total series less the requests' resource, interval by interval.
    Measured,
    /// No total series: the intercept of the requests' utilization law
    /// stands in (a constant only).
    Intercept,
}

/// A fitted value and its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Band {
    /// The value.
    pub value: f64,
    /// Lower end of its interval (none with too few resamples).
    pub low: Option<f64>,
    /// Upper end.
    pub high: Option<f64>,
}

/// Background work caused per request of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassWork {
    /// The class.
    pub class: String,
    /// CPU seconds of background work per request.
    pub cpu_s: Band,
}

/// One run's background: measured and fitted at its mean throughputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunBackground {
    /// The run.
    pub name: String,
    /// Mean measured background utilization (total − the requests'), none
    /// without a total series.
    pub measured: Option<f64>,
    /// The law's background utilization at the run's mean per-class
    /// throughputs.
    pub fitted: Band,
    /// The background's share of the total utilization (measured, or with
    /// the intercept standing in, the fitted constant's share of the
    /// resource's).
    pub share_of_total: Option<f64>,
}

/// The fitted background law U_bg = b₀ + Σ_c X_c·w_c / c.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackgroundFit {
    /// Measured, or the intercept standing in.
    pub source: Source,
    /// The total series (none when the intercept stands in).
    pub total: Option<String>,
    /// Servers of the resource (c).
    pub servers: u32,
    /// Intervals fitted.
    pub intervals: usize,
    /// b₀, the constant background utilization (fraction of all servers).
    pub constant: Band,
    /// w_c per class (empty when the intercept stands in).
    pub per_request: Vec<ClassWork>,
    /// Per run.
    pub runs: Vec<RunBackground>,
    /// How the intervals were drawn, in words.
    pub interval_method: String,
    /// Whether the slopes were corrected for the throughputs' counting
    /// noise.
    pub deattenuated: bool,
    /// Bootstrap fits (b₀, w_c…), for intervals of predictions.
    #[serde(skip)]
    draws: Vec<Option<Vec<f64>>>,
    /// How an interval is drawn from them.
    #[serde(skip)]
    percentile: (f64, f64),
}

impl BackgroundFit {
    /// U_bg at per-class throughputs `x` (requests/s, in the estimate's
    /// class order; missing classes count as 0), with its interval.
    pub fn utilization_at(&self, x: &[f64]) -> Band {
        let c = f64::from(self.servers);
        let at = |b: &[f64]| b[0] + x.iter().zip(&b[1..]).map(|(x, w)| x * w / c).sum::<f64>();
        let mut point = vec![self.constant.value];
        point.extend(self.per_request.iter().map(|w| w.cpu_s.value));
        let value = at(&point);
        let (low, high) = self.percentile().interval(&self.draws, value, &at);
        Band { value, low, high }
    }

    fn percentile(&self) -> Percentile {
        Percentile {
            confidence: self.percentile.0,
            widen: self.percentile.1,
        }
    }
}

/// Resamples of the background fit's interval: their own stream of the
/// seed (the demands' resamples keep theirs).
const SEED_STREAM: u64 = 0x6267_5f6c_6177;

/// The background law of `obs` (from its total series, else the
/// intercept standing in), with `bootstrap` resamples from `seed` at
/// `confidence`; `None` with fewer intervals than unknowns + 2.
pub(super) fn fit(
    obs: &Observations,
    seed: u64,
    bootstrap: usize,
    confidence: f64,
) -> Option<BackgroundFit> {
    let data = Data::of(obs);
    let all: Vec<usize> = (0..obs.rows.len())
        .filter(|&i| data.y[i].is_some())
        .collect();
    if all.len() < data.columns.len() + 2 {
        return None;
    }
    let (point, deattenuated) = data.solve(&all)?;
    let (draws, percentile) = resampled(obs, &data, seed, bootstrap, confidence);
    let band = |j: usize| {
        let (low, high) = percentile.interval(&draws, point[j], &|d| d[j]);
        // At the bound (w = 0 for a class that causes none), the
        // re-centred interval would start at the estimate: where the
        // resamples reach 0, so does the interval.
        let bound = draws.iter().flatten().filter(|d| d[j] <= 0.0).count();
        let at_bound = bound as f64 > 0.5 * (1.0 - confidence) * draws.len() as f64;
        Band {
            value: point[j],
            low: low.map(|l| if at_bound { 0.0 } else { l }),
            high,
        }
    };
    let measured = obs.total.is_some();
    let per_request = match measured {
        true => obs
            .classes
            .iter()
            .enumerate()
            .map(|(r, class)| ClassWork {
                class: class.clone(),
                cpu_s: band(r + 1),
            })
            .collect(),
        false => Vec::new(),
    };
    let mut out = BackgroundFit {
        source: if measured {
            Source::Measured
        } else {
            Source::Intercept
        },
        total: obs.total.as_ref().map(|t| t.resource.clone()),
        servers: obs.servers,
        intervals: all.len(),
        constant: band(0),
        per_request,
        runs: Vec::new(),
        interval_method: format!(
            "{:.0} % percentile interval of {bootstrap} moving-block bootstrap resamples of each run's intervals",
            100.0 * confidence
        ),
        deattenuated,
        draws: match measured {
            true => draws,
            // Only the constant is background: the slopes are demands.
            false => draws.into_iter().map(|d| d.map(|d| vec![d[0]])).collect(),
        },
        percentile: (percentile.confidence, percentile.widen),
    };
    out.runs = runs(obs, &data, &out);
    Some(out)
}

/// The law fitted on `bootstrap` resamples of each run's intervals (from
/// `seed`'s own stream), and how an interval is drawn from them.
fn resampled(
    obs: &Observations,
    data: &Data<'_>,
    seed: u64,
    bootstrap: usize,
    confidence: f64,
) -> (Vec<Option<Vec<f64>>>, Percentile) {
    let spans: Vec<std::ops::Range<usize>> = obs.runs.iter().map(|r| r.rows.clone()).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ SEED_STREAM);
    let boot = Resamples::new(&spans, bootstrap, &mut rng);
    let draws = boot
        .starts
        .iter()
        .map(|b| {
            let rows: Vec<usize> = boot
                .rows(b)
                .into_iter()
                .filter(|&i| data.y[i].is_some())
                .collect();
            data.solve(&rows).map(|s| s.0)
        })
        .collect();
    let percentile = Percentile {
        confidence,
        widen: boot.widening(confidence, data.columns.len()),
    };
    (draws, percentile)
}

/// The regression's data: per row the background (or, with the intercept
/// standing in, the resource's utilization) and the design.
struct Data<'a> {
    obs: &'a Observations,
    /// Per row; `None` where the total is not measured.
    y: Vec<Option<f64>>,
    /// The classes with throughput somewhere (design columns 1…).
    columns: Vec<Option<usize>>,
}

impl<'a> Data<'a> {
    fn of(obs: &'a Observations) -> Self {
        let y = match &obs.total {
            Some(t) => obs
                .rows
                .iter()
                .zip(&t.utilization)
                .map(|(r, t)| t.map(|t| t - r.utilization))
                .collect(),
            None => obs.rows.iter().map(|r| Some(r.utilization)).collect(),
        };
        // Column 0 is the constant; a class never seen gets no column.
        let mut columns = vec![None];
        columns.extend(
            (0..obs.n_classes())
                .filter(|&r| obs.rows.iter().any(|w| w.throughput[r] > 0.0))
                .map(Some),
        );
        Self { obs, y, columns }
    }

    /// (b₀, w per class) over `rows` (all classes: 0 for one without a
    /// column), and whether the dilution correction applied.
    fn solve(&self, rows: &[usize]) -> Option<(Vec<f64>, bool)> {
        let k = self.columns.len();
        let c = f64::from(self.obs.servers);
        let (mut gram, mut noise) = (DMatrix::zeros(k, k), DMatrix::zeros(k, k));
        let mut h = DVector::zeros(k);
        for &i in rows {
            let row = &self.obs.rows[i];
            let a = DVector::from_iterator(
                k,
                self.columns
                    .iter()
                    .map(|col| col.map_or(1.0, |r| row.throughput[r] / c)),
            );
            gram += &a * a.transpose();
            h += &a * self.y[i]?;
            for (j, col) in self.columns.iter().enumerate() {
                if let Some(r) = col {
                    noise[(j, j)] += row.throughput[*r] / (row.length * c * c);
                }
            }
        }
        let corrected = (&gram - &noise).cholesky();
        let deattenuated = corrected.is_some();
        let chol = corrected.or_else(|| gram.clone().cholesky())?;
        // min xᵀGx − 2hᵀx, x ≥ 0, as min ‖Lᵀx − L⁻¹h‖².
        let l = chol.l();
        let rhs = l.clone().solve_lower_triangular(&h)?;
        let x = crate::numeric::nnls_matrix(&l.transpose(), &rhs)?;
        let mut out = vec![0.0; self.obs.n_classes() + 1];
        for (j, col) in self.columns.iter().enumerate() {
            out[col.map_or(0, |r| r + 1)] = x[j];
        }
        Some((out, deattenuated))
    }
}

/// Each run's measured and fitted background.
fn runs(obs: &Observations, data: &Data<'_>, fit: &BackgroundFit) -> Vec<RunBackground> {
    obs.runs
        .iter()
        .map(|span| {
            let rows = &obs.rows[span.rows.clone()];
            let length: f64 = rows.iter().map(|r| r.length).sum();
            let x: Vec<f64> = (0..obs.n_classes())
                .map(|r| rows.iter().map(|w| w.throughput[r] * w.length).sum::<f64>() / length)
                .collect();
            let fitted = fit.utilization_at(&x);
            let measured_rows: Vec<usize> =
                span.rows.clone().filter(|&i| data.y[i].is_some()).collect();
            let mean = |v: &dyn Fn(usize) -> f64| {
                (!measured_rows.is_empty()).then(|| {
                    measured_rows.iter().map(|&i| v(i)).sum::<f64>() / measured_rows.len() as f64
                })
            };
            let (measured, share_of_total) = match &obs.total {
                Some(_) => {
                    let bg = mean(&|i| data.y[i].unwrap_or(0.0));
                    let total = mean(&|i| data.y[i].unwrap_or(0.0) + obs.rows[i].utilization);
                    (bg, bg.zip(total).map(|(b, t)| b / t))
                }
                None => {
                    let u = mean(&|i| obs.rows[i].utilization);
                    (None, u.map(|u| fitted.value / u))
                }
            };
            RunBackground {
                name: span.name.clone(),
                measured,
                fitted,
                share_of_total,
            }
        })
        .collect()
}
