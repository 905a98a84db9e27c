//! Step 1: the experiment's traces, read into its interval table, with the
//! measured response times overall, per class and per user class.

use std::path::Path;

use super::error::Why;
use super::{Experiment, ExperimentError, Files, Measured, MeasuredTraces, SeriesPoint};
use crate::compare::{Accumulator, Summary, mean_only};
use crate::trace::{IntervalTable, Pipeline, UtilSeries, read_utilization};

/// Everything read from an experiment's traces.
pub(super) struct Traces {
    pub(super) table: IntervalTable,
    pub(super) resources: Vec<String>,
    pub(super) response: Accumulator,
    /// Per class (ids of `table.classes`), successful requests.
    pub(super) by_class: Vec<Accumulator>,
    /// Per user class (the traces' `user_class` column), successful
    /// requests.
    pub(super) by_user_class: Vec<(String, Summary)>,
    pub(super) measured: MeasuredTraces,
    /// The run's load from its metadata file, when the experiment names
    /// one.
    pub(super) load: Option<super::RunLoad>,
    /// The span of the intervals whose CPU was measured, when requests
    /// outside it (a load tester's warm-up) are left out of the rates.
    pub(super) window: Option<(f64, f64)>,
}

impl Traces {
    /// A measured quantity for a model parameter, of all requests or of
    /// one class; a class the traces do not have has throughput 0 (the
    /// caller says so).
    pub(super) fn measured_value(&self, m: Measured, class: Option<&str>) -> Result<f64, Why> {
        let Some(c) = class else {
            let x = self.measured.throughput;
            return Ok(match m {
                Measured::Throughput => x,
                Measured::Interarrival => 1.0 / x,
                Measured::ResponseTime => self.mean_response(None).unwrap_or(f64::NAN),
                Measured::ThinkTime => unreachable!("needs the model's clients: see think_time"),
            });
        };
        let idx = self.table.classes.iter().position(|n| n == c);
        let x = idx.map_or(0.0, |i| {
            self.class_count(i) as f64 / self.measured.duration_s
        });
        match m {
            Measured::Throughput => Ok(x),
            Measured::Interarrival if x > 0.0 => Ok(1.0 / x),
            Measured::ResponseTime => idx
                .and_then(|i| self.mean_response(Some(i)))
                .ok_or_else(|| format!("class `{c}` has no successful request").into()),
            _ => Err(format!("class `{c}` has no successful request").into()),
        }
    }

    /// Completed successful requests of class `i` (in the measured
    /// window, when there is one).
    pub(super) fn class_count(&self, i: usize) -> u64 {
        self.table
            .intervals
            .iter()
            .filter(|iv| in_window(iv, self.window))
            .map(|iv| iv.classes[i].completions)
            .sum()
    }

    /// Mean response time of all requests or of class `i`: from the
    /// requests when there were per-request rows, else from the
    /// interval-level rows.
    pub(super) fn mean_response(&self, class: Option<usize>) -> Option<f64> {
        let acc = match class {
            None => Some(&self.response),
            Some(i) => self.by_class.get(i),
        };
        if let Some(a) = acc.filter(|a| a.count() > 0) {
            return a.summary().mean_s;
        }
        let (mut n, mut sum) = (0u64, 0.0);
        for iv in &self.table.intervals {
            for (k, c) in iv.classes.iter().enumerate() {
                if class.is_none_or(|i| i == k) {
                    n += c.completions;
                    sum += c.mean_response_s.unwrap_or(0.0) * c.completions as f64;
                }
            }
        }
        (n > 0).then(|| sum / n as f64)
    }

    /// The measured summary of all requests or of class `i` (the mean only
    /// for interval-level input).
    pub(super) fn summary(&self, class: Option<usize>) -> Option<Summary> {
        let acc = match class {
            None => Some(&self.response),
            Some(i) => self.by_class.get(i),
        };
        match acc {
            Some(a) if a.count() > 0 => Some(a.summary()),
            _ => self.mean_response(class).map(mean_only),
        }
    }
}

/// The experiment's containers among the utilization's resources.
pub(super) fn resources_of(
    e: &Experiment,
    known: &[String],
) -> Result<Vec<String>, ExperimentError> {
    let resources: Vec<String> = if e.resources.is_empty() {
        known.to_vec()
    } else {
        e.resources.clone()
    };
    if e.estimate.is_some() && resources.len() != e.containers as usize {
        return Err(ExperimentError::Containers {
            containers: e.containers,
            resources,
        });
    }
    Ok(resources)
}

/// One run's files aggregated into its interval table (on the
/// estimation's interval); `each` sees every request.
pub(super) fn read_table(
    e: &Experiment,
    files: &dyn Files,
    requests: &[std::path::PathBuf],
    utilization: &[std::path::PathBuf],
    each: &mut dyn FnMut(&crate::trace::Request),
    file_done: &mut dyn FnMut(Option<&crate::trace::OriginLabels>),
) -> Result<(IntervalTable, Vec<String>), ExperimentError> {
    let trace_error = |p: &Path| {
        let path = p.to_path_buf();
        move |source| ExperimentError::Trace { path, source }
    };
    let mut samples = Vec::new();
    for p in utilization {
        samples.extend(read_utilization(files.open(p)?).map_err(trace_error(p))?);
    }
    let util = UtilSeries::from_samples(samples).map_err(ExperimentError::Utilization)?;
    let known = util.resources().to_vec();
    let interval = e.estimate.as_ref().and_then(|s| s.interval_s);
    let mut pipeline = Pipeline::new(util, interval, false).group_by(e.class_column.as_deref());
    for p in requests {
        pipeline
            .add_requests(files.open(p)?, &mut *each)
            .map_err(trace_error(p))?;
        file_done(pipeline.last_origins());
    }
    let table = pipeline.finish().map_err(ExperimentError::Requests)?;
    Ok((table, known))
}

pub(super) fn read_traces(e: &Experiment, files: &dyn Files) -> Result<Traces, ExperimentError> {
    let response = std::cell::RefCell::new(Accumulator::default());
    let by_class: std::cell::RefCell<Vec<Accumulator>> = Default::default();
    // Per user class: this file's accumulators (by the file's own ids),
    // then every file's summaries by name.
    let this_file: std::cell::RefCell<Vec<Accumulator>> = Default::default();
    let mut by_user_class: std::collections::BTreeMap<String, Vec<Summary>> = Default::default();
    let (table, known) = read_table(
        e,
        files,
        &e.requests,
        &e.utilization,
        &mut |r| {
            if !r.success {
                return;
            }
            response.borrow_mut().push(r.response_time);
            push_at(
                &mut by_class.borrow_mut(),
                r.class.0 as usize,
                r.response_time,
            );
            if let Some(g) = r.origin.user_class {
                push_at(&mut this_file.borrow_mut(), g.0 as usize, r.response_time);
            }
        },
        &mut |origins| {
            let done = std::mem::take(&mut *this_file.borrow_mut());
            let Some(o) = origins else { return };
            for (name, acc) in o.user_classes.names().iter().zip(&done) {
                if acc.count() > 0 {
                    by_user_class
                        .entry(name.clone())
                        .or_default()
                        .push(acc.summary());
                }
            }
        },
    )?;
    let (response, by_class) = (response.into_inner(), by_class.into_inner());
    let by_user_class = by_user_class
        .into_iter()
        .filter_map(|(name, parts)| {
            let refs: Vec<&Summary> = parts.iter().collect();
            let merged = match refs.as_slice() {
                [one] => (*one).clone(),
                _ => crate::compare::mixture(&refs)?,
            };
            Some((name, merged))
        })
        .collect();
    let resources = resources_of(e, &known)?;
    if table.summary.used == 0 {
        return Err(ExperimentError::NoSuccess);
    }
    let (measured, window) = measured(&table, &shown_utilization(e, &resources))?;
    let load = e
        .metadata
        .as_ref()
        .map(|p| read_metadata(files, p))
        .transpose()?;
    Ok(Traces {
        table,
        resources,
        response,
        by_class,
        by_user_class,
        measured,
        load,
        window,
    })
}

/// The resources whose utilization the comparison shows: the requests'
/// own, or the total they share when the model carries the fitted
/// background (a parameter bound to it), so that the measured and the
/// simulated utilization count the same work.
fn shown_utilization(e: &Experiment, resources: &[String]) -> Vec<String> {
    let total = e.estimate.as_ref().and_then(|s| s.background.clone());
    let modelled = e
        .params
        .iter()
        .any(|(_, p)| matches!(p, super::ParamSource::Background));
    match total {
        Some(total) if modelled => vec![total],
        _ => resources.to_vec(),
    }
}

/// The `load` of a run's metadata file.
pub(super) fn read_metadata(
    files: &dyn Files,
    path: &Path,
) -> Result<super::RunLoad, ExperimentError> {
    super::RunLoad::parse(&files.read_to_string(path)?).map_err(|source| {
        ExperimentError::Metadata {
            path: path.to_path_buf(),
            source,
        }
    })
}

pub(super) fn push_at(accs: &mut Vec<Accumulator>, i: usize, x: f64) {
    if accs.len() <= i {
        accs.resize_with(i + 1, Accumulator::default);
    }
    accs[i].push(x);
}

/// Whether interval `iv` lies in `window` (every interval does without
/// one).
fn in_window(iv: &crate::trace::Interval, window: Option<(f64, f64)>) -> bool {
    window.is_none_or(|(lo, hi)| iv.start >= lo && iv.end <= hi)
}

/// How much longer than the measured intervals the requests' span may be
/// (a share of the measured span) before the rates are taken over those
/// intervals only: requests straddling the measurement's ends belong to
/// the run, a warm-up or cool-down the CPU did not see (a load tester's
/// history) does not.
const OUTSIDE_SHARE: f64 = 0.01;

/// The span of the intervals where every one of the resources `idx` has
/// utilization, when the requests' span reaches more than
/// [`OUTSIDE_SHARE`] of it beyond.
fn measured_window(table: &IntervalTable, idx: &[usize]) -> Option<(f64, f64)> {
    let covered = |iv: &&crate::trace::Interval| {
        !idx.is_empty() && idx.iter().all(|&r| iv.utilization[r].is_some())
    };
    let (lo, hi) = (
        table.intervals.iter().find(covered)?.start,
        table.intervals.iter().rev().find(covered)?.end,
    );
    let s = &table.summary;
    let beyond = (lo - s.first_start_s?).max(0.0) + (s.last_end_s? - hi).max(0.0);
    (hi > lo && beyond > OUTSIDE_SHARE * (hi - lo)).then_some((lo, hi))
}

/// The per-interval series and the means over the experiment's resources,
/// and the measured window the rates were taken over (see
/// [`measured_window`]).
pub(super) fn measured(
    table: &IntervalTable,
    resources: &[String],
) -> Result<(MeasuredTraces, Option<(f64, f64)>), ExperimentError> {
    let idx: Vec<usize> = resources
        .iter()
        .map(|r| table.resource_index(r))
        .collect::<Result<_, _>>()
        .map_err(ExperimentError::Resource)?;
    let origin = table.intervals.first().map_or(0.0, |iv| iv.start);
    let series = table
        .intervals
        .iter()
        .map(|iv| {
            let done: u64 = iv.classes.iter().map(|c| c.completions).sum();
            let rt: f64 = iv
                .classes
                .iter()
                .filter_map(|c| c.mean_response_s.map(|m| m * c.completions as f64))
                .sum();
            let us: Option<Vec<f64>> = idx.iter().map(|&r| iv.utilization[r]).collect();
            SeriesPoint {
                t_s: iv.end - origin,
                response_s: (done > 0).then(|| rt / done as f64),
                utilization: us
                    .filter(|u| !u.is_empty())
                    .map(|u| u.iter().sum::<f64>() / u.len() as f64),
            }
        })
        .collect();
    let s = &table.summary;
    let means: Vec<f64> = resources
        .iter()
        .filter_map(|r| s.mean_utilization.get(r).copied())
        .collect();
    let window = measured_window(table, &idx);
    let (requests, duration_s) = match window {
        Some((lo, hi)) => {
            let done = table
                .intervals
                .iter()
                .filter(|iv| in_window(iv, window))
                .flat_map(|iv| iv.classes.iter().map(|c| c.completions))
                .sum();
            log::warn!(
                "{} of {} requests completed where the CPU was not measured (a warm-up?): the rates are taken over the {:.0} s that it was",
                s.used.saturating_sub(done),
                s.used,
                hi - lo
            );
            (done, hi - lo)
        }
        None => (s.used, s.duration_s),
    };
    let measured = MeasuredTraces {
        requests,
        duration_s,
        throughput: requests as f64 / duration_s,
        mean_utilization: (!means.is_empty())
            .then(|| means.iter().sum::<f64>() / means.len() as f64),
        series,
    };
    Ok((measured, window))
}
