//! One resource's data as every estimator sees it: per interval, each
//! class's throughput and mean response time (missing when no request
//! completed: never 0) and the resource's utilization, from one or
//! several runs ([`Observations`]); the observed-state response equation
//! over what arrivals found ([`Observations::response_equation`]) and the
//! steady-state prediction ([`Observations::predicted_response`]), split
//! between the classes as the resource's [`Discipline`] does it.
//!
//! It reads an interval table and fits nothing.

use serde::Serialize;

use super::discipline::Discipline;
use super::error::EstimateError;
use super::hot;
use crate::trace::{Arrivals, IntervalTable};

/// One interval as the estimators see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Interval length, seconds.
    pub length: f64,
    /// Completions per second, per class.
    pub throughput: Vec<f64>,
    /// Mean response time per class, seconds; `None` when no request of
    /// the class completed.
    pub response: Vec<Option<f64>>,
    /// Completions per class (weights).
    pub completions: Vec<u64>,
    /// Utilization of the resource (fraction of all its servers).
    pub utilization: f64,
    /// Time-average requests in the system per class (from the trace).
    pub in_system: Vec<f64>,
    /// Per class, what its requests that arrived in the interval found and
    /// how long they took ([`crate::trace::Interval::arrived`]); empty, or
    /// `None` for a class, where the trace does not tell (the completions'
    /// response time and the time-average population are used then).
    pub arrived: Vec<Option<Arrivals>>,
}

/// One class's observed-state response equation in one row: the mean
/// response time of `requests` requests is Σ_s coefficients[s]·D_s.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseEquation {
    /// Per class.
    pub coefficients: Vec<f64>,
    /// Measured mean response time, seconds.
    pub response: f64,
    /// Requests it is the mean of (a weight).
    pub requests: u64,
}

/// The data of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Observations {
    /// Class names.
    pub classes: Vec<String>,
    /// Servers (cores) of the resource.
    pub servers: u32,
    /// How the resource shares itself among the classes.
    pub discipline: Discipline,
    /// Usable intervals, run after run.
    pub rows: Vec<Row>,
    /// The runs (load tests) the rows come from, in order: each run was
    /// aggregated into its own intervals, and resampling never crosses a
    /// run boundary.
    pub runs: Vec<RunSpan>,
    /// The resource's total utilization (its host's or core's, requests'
    /// and background work together), when one was read: the
    /// [`super::background`] law fits the difference.
    pub total: Option<Total>,
    /// Flat copies of the rows' hot numbers, filled on first use.
    hot: hot::HotCache,
}

/// The total utilization of the resource's host, per row.
#[derive(Debug, Clone, PartialEq)]
pub struct Total {
    /// Its resource (utilization series) name.
    pub resource: String,
    /// Per row of [`Observations::rows`]; `None` where the series does not
    /// cover the interval.
    pub utilization: Vec<Option<f64>>,
}

/// The rows of one run in [`Observations::rows`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpan {
    /// The run's name (its requests file, as given).
    pub name: String,
    /// Its rows.
    pub rows: std::ops::Range<usize>,
}

/// What was left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Diagnostics {
    /// Intervals in the table.
    pub intervals: usize,
    /// Intervals used.
    pub used: usize,
    /// Left out: utilization ≥ 0.99 (saturated: the queueing equations
    /// break down there).
    pub saturated: usize,
    /// Left out: no utilization sample or no completion.
    pub empty: usize,
    /// Condition number of the class-throughput design (collinearity; large
    /// values mean the classes' demands cannot be told apart).
    pub condition_number: Option<f64>,
}

impl Observations {
    /// Takes resource `resource` from an interval table. Intervals with
    /// utilization ≥ 0.99 are left out unless `keep_saturated`; intervals
    /// without utilization or without any completion are always left out.
    ///
    /// # Errors
    /// An unknown resource, or no usable interval.
    pub fn from_table(
        table: &IntervalTable,
        resource: &str,
        servers: u32,
        keep_saturated: bool,
    ) -> Result<(Self, Diagnostics), EstimateError> {
        Self::from_balanced(table, &[resource], servers, keep_saturated)
    }

    /// One run of `rows` (named `run`).
    pub fn new(classes: Vec<String>, servers: u32, rows: Vec<Row>) -> Self {
        let runs = vec![RunSpan {
            name: "run".into(),
            rows: 0..rows.len(),
        }];
        Self {
            classes,
            servers,
            discipline: Discipline::default(),
            rows,
            runs,
            total: None,
            hot: hot::HotCache::default(),
        }
    }

    /// Takes `k` identical, load-balanced resources (containers behind an
    /// equal-split balancer) from an interval table: each row is one
    /// container's view, with the throughput and the population shared
    /// equally (divided by `k`) and the utilization averaged over the
    /// containers. The demand estimated from it is the per-container
    /// demand. Intervals where any container lacks utilization are left
    /// out; saturation is judged on the busiest container.
    ///
    /// # Errors
    /// An unknown resource, zero servers, or fewer than 2 usable intervals.
    pub fn from_balanced(
        table: &IntervalTable,
        resources: &[&str],
        servers: u32,
        keep_saturated: bool,
    ) -> Result<(Self, Diagnostics), EstimateError> {
        Self::from_runs(&[("run", table)], resources, servers, keep_saturated)
    }

    /// Several runs of one system, each aggregated into its own table
    /// (never across a run boundary), fitted together: rows are taken from
    /// each table as [`Observations::from_balanced`] does and stacked, with
    /// the classes of all runs (a class a run lacks has no throughput
    /// there).
    ///
    /// # Errors
    /// An unknown resource, zero servers, or fewer than 2 usable intervals
    /// in all.
    pub fn from_runs(
        runs: &[(&str, &IntervalTable)],
        resources: &[&str],
        servers: u32,
        keep_saturated: bool,
    ) -> Result<(Self, Diagnostics), EstimateError> {
        Self::with_total(runs, resources, None, servers, keep_saturated)
    }

    /// [`Observations::from_runs`] with the `total` utilization series
    /// (the host or core that the resources share with background work)
    /// read beside them into [`Observations::total`]. The rows are the
    /// same as without it: an interval the total does not cover is kept,
    /// with no total.
    ///
    /// # Errors
    /// As [`Observations::from_runs`]; an unknown total, or a total that
    /// is one of the resources.
    pub fn with_total(
        runs: &[(&str, &IntervalTable)],
        resources: &[&str],
        total: Option<&str>,
        servers: u32,
        keep_saturated: bool,
    ) -> Result<(Self, Diagnostics), EstimateError> {
        if let Some(t) = total.filter(|t| resources.contains(t)) {
            return Err(EstimateError::TotalIsResource {
                name: t.to_string(),
            });
        }
        if resources.is_empty() {
            return Err(EstimateError::NoResource);
        }
        if servers == 0 {
            return Err(EstimateError::NoServers);
        }
        let mut classes: Vec<String> = Vec::new();
        for (_, t) in runs {
            for c in &t.classes {
                if !classes.contains(c) {
                    classes.push(c.clone());
                }
            }
        }
        let mut d = Diagnostics::default();
        let (mut rows, mut spans, mut totals) = (Vec::new(), Vec::new(), Vec::new());
        for (name, table) in runs {
            let first = rows.len();
            let map: Vec<usize> = table
                .classes
                .iter()
                .map(|c| classes.iter().position(|x| x == c).unwrap_or(0))
                .collect();
            let columns = Columns::of(table, resources, total)?;
            for (row, t) in rows_of(table, &columns, keep_saturated, &mut d, &map, classes.len()) {
                rows.push(row);
                totals.push(t);
            }
            if rows.len() > first {
                spans.push(RunSpan {
                    name: name.to_string(),
                    rows: first..rows.len(),
                });
            }
        }
        d.used = rows.len();
        drop_silent_classes(&mut classes, &mut rows);
        if rows.len() < 2 {
            return Err(EstimateError::TooFewIntervals {
                used: rows.len(),
                intervals: d.intervals,
                saturated: d.saturated,
                empty: d.empty,
            });
        }
        let design: Vec<Vec<f64>> = rows.iter().map(|r: &Row| r.throughput.clone()).collect();
        if classes.len() > 1 {
            d.condition_number = Some(crate::numeric::condition_number(&design));
        }
        Ok((
            Self {
                classes,
                servers,
                discipline: Discipline::default(),
                rows,
                runs: spans,
                total: total.map(|t| Total {
                    resource: t.to_string(),
                    utilization: totals,
                }),
                hot: hot::HotCache::default(),
            },
            d,
        ))
    }

    /// Keeps only the last `n` rows (and the runs they belong to).
    pub fn keep_last(&mut self, n: usize) {
        let skip = self.rows.len().saturating_sub(n);
        self.rows.drain(..skip);
        if let Some(t) = &mut self.total {
            t.utilization.drain(..skip);
        }
        self.runs = self
            .runs
            .iter()
            .filter(|r| r.rows.end > skip)
            .map(|r| RunSpan {
                name: r.name.clone(),
                rows: r.rows.start.saturating_sub(skip)..r.rows.end - skip,
            })
            .collect();
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.classes.len()
    }

    /// Completion-weighted mean response time of each class over `rows`
    /// (the scale that relative errors are taken against: dividing by each
    /// interval's own noisy mean would bias fits low, E\[1/R\] > 1/E\[R\]).
    pub fn mean_response(&self, rows: &[usize]) -> Vec<f64> {
        let hot = self.hot();
        let n = self.n_classes();
        let (mut s, mut w) = (vec![0.0; n], vec![0.0; n]);
        for &i in rows {
            let at = i * n;
            for r in 0..n {
                if let Some(rt) = hot.response[at + r] {
                    let c = hot.completions[at + r] as f64;
                    s[r] += rt * c;
                    w[r] += c;
                }
            }
        }
        (0..n)
            .map(|r| if w[r] > 0.0 { s[r] / w[r] } else { f64::NAN })
            .collect()
    }

    /// The observed-state response equation of class `r` in row `i`, for
    /// an FCFS resource: the request's own service (a_r += 1), the
    /// residual service of the request in service when all servers are
    /// busy (probability C(c, cU), a server frees after D/c; the class in
    /// service taken in proportion to the classes present), and the
    /// requests waiting ahead (class s's share of the number waiting,
    /// max(0, N − c·U), each D_s/c). Exact in expectation for M/M/c (for
    /// one server, E[R | N found] = D_r + Σ_s D_s·N_s); linear in the
    /// observed queue, so it does not blow up near saturation as f(U)
    /// does. For processor sharing, the class's own demand slowed down by
    /// the sharing: (1 + N found)/c, or, with the time average, N / (c·U)
    /// (Little's law when every class is slowed alike).
    ///
    /// Where the trace tells it ([`Row::arrived`]), both sides are over
    /// the requests that arrived in the row, with the queue they found;
    /// else the completions' mean response time against the row's
    /// time-average population, which mis-splits the demands when the
    /// load or the mix changes within the interval. `None` when no
    /// request of the class is measured in the row.
    pub fn response_equation(&self, i: usize, r: usize) -> Option<ResponseEquation> {
        let mut coefficients = vec![0.0; self.n_classes()];
        let (response, requests) = self.response_equation_into(i, r, &mut coefficients)?;
        Some(ResponseEquation {
            coefficients,
            response,
            requests,
        })
    }

    /// [`Observations::response_equation`] with the coefficients written
    /// into `a` (one per class), for the filters' per-row loop: (measured
    /// mean response time, requests).
    pub fn response_equation_into(&self, i: usize, r: usize, a: &mut [f64]) -> Option<(f64, u64)> {
        match self.cached().and_then(|h| h.response_equation(i, r, a)) {
            Some(cached) => cached,
            None => self.compute_response_equation(i, r, a),
        }
    }

    /// The rows' numbers in flat columns (see `hot.rs`), as the methods
    /// read them on every fit: cached on first use, or taken anew (without
    /// the response equations) when the observations changed since.
    pub(in crate::estimate) fn hot(&self) -> std::borrow::Cow<'_, hot::Hot> {
        match self.cached() {
            Some(h) => std::borrow::Cow::Borrowed(h),
            None => std::borrow::Cow::Owned(self.columns(false)),
        }
    }

    /// The cached columns; `None` when the observations changed since
    /// they were taken.
    fn cached(&self) -> Option<&hot::Hot> {
        self.hot.get(self.key(), || self.columns(true))
    }

    /// What the columns depend on besides the rows' numbers.
    fn key(&self) -> hot::Key {
        hot::Key {
            servers: self.servers,
            discipline: self.discipline,
            rows: self.rows.len(),
            classes: self.n_classes(),
        }
    }

    /// The rows in columns, with the response equations if `equations`.
    fn columns(&self, equations: bool) -> hot::Hot {
        hot::Hot::new(self.key(), &self.rows, equations, |i, r, a| {
            self.compute_response_equation(i, r, a)
        })
    }

    /// [`Observations::response_equation_into`] computed from the row.
    pub(in crate::estimate) fn compute_response_equation(
        &self,
        i: usize,
        r: usize,
        a: &mut [f64],
    ) -> Option<(f64, u64)> {
        let row = &self.rows[i];
        let arrived = row.arrived.get(r).and_then(Option::as_ref);
        let (queue, response, requests) = match arrived {
            Some(a) => (a.found_dense(self.n_classes()), a.mean_response_s, a.count),
            None => (row.in_system.clone(), row.response[r]?, row.completions[r]),
        };
        if response <= 0.0 {
            return None;
        }
        self.coefficients(row, r, &queue, arrived.is_some(), a);
        Some((response, requests))
    }

    /// [`Observations::response_equation`]'s coefficients for `queue`
    /// (found on arrival, or the time average), written into `a`.
    fn coefficients(&self, row: &Row, r: usize, queue: &[f64], found: bool, a: &mut [f64]) {
        let c = self.servers as f64;
        let n_total: f64 = queue.iter().sum();
        a.fill(0.0);
        if self.discipline == Discipline::Ps {
            a[r] = if found {
                ((1.0 + n_total) / c).max(1.0)
            } else if row.utilization > 0.0 {
                (n_total / (c * row.utilization)).max(1.0)
            } else {
                1.0
            };
            return;
        }
        if n_total > 0.0 {
            let waiting = (n_total - c * row.utilization).max(0.0);
            let busy_all =
                crate::numeric::erlang_c(self.servers, (c * row.utilization).min(c * 0.999_999));
            for (a, n) in a.iter_mut().zip(queue) {
                *a = (waiting + busy_all) * n / n_total / c;
            }
        }
        a[r] += 1.0;
    }

    /// Steady-state mean response time of class `r` in row `i` from
    /// demands `d`, given the M/M/c factor `f` = R/D at the row's load
    /// ([`crate::numeric::response_factor`]). Processor sharing slows
    /// every class by f; first come, first served makes every class wait
    /// (f − 1)·D̄ for the work ahead, D̄ = Σ X·D² / Σ X·D the mean demand
    /// of that work (for one server the Pollaczek–Khinchine wait
    /// Σ λ·D² / (1 − U) of exponential service; exact for equal demands
    /// on c servers).
    pub fn predicted_response(&self, i: usize, r: usize, d: &[f64], f: f64) -> f64 {
        self.discipline.response(&self.rows[i].throughput, r, d, f)
    }

    /// Predicted utilization of row `i` from demands `d`: Σ X·D / c.
    pub fn predicted_utilization(&self, i: usize, d: &[f64]) -> f64 {
        self.rows[i]
            .throughput
            .iter()
            .zip(d)
            .map(|(x, d)| x * d)
            .sum::<f64>()
            / self.servers as f64
    }
}

/// The utilization columns of one table: the balanced resources' and the
/// total's.
struct Columns {
    resources: Vec<usize>,
    total: Option<usize>,
}

impl Columns {
    fn of(
        table: &IntervalTable,
        resources: &[&str],
        total: Option<&str>,
    ) -> Result<Self, EstimateError> {
        let index = |resource: &str| {
            table
                .resource_index(resource)
                .map_err(|_| EstimateError::UnknownResource {
                    name: resource.to_string(),
                    known: table.resources.clone(),
                })
        };
        Ok(Self {
            resources: resources
                .iter()
                .map(|r| index(r))
                .collect::<Result<_, _>>()?,
            total: total.map(index).transpose()?,
        })
    }
}

/// Leaves out the classes with no completion in any usable row (a
/// load tester's warm-up logins, a class seen only where the CPU was not
/// measured): no method can say anything of them, and their empty
/// columns would fail every method. Said on stderr.
fn drop_silent_classes(classes: &mut Vec<String>, rows: &mut [Row]) {
    let keep: Vec<bool> = (0..classes.len())
        .map(|c| rows.iter().any(|r| r.completions[c] > 0))
        .collect();
    if keep.iter().all(|&k| k) || !keep.iter().any(|&k| k) {
        return;
    }
    let dropped: Vec<&str> = classes
        .iter()
        .zip(&keep)
        .filter(|(_, k)| !**k)
        .map(|(c, _)| c.as_str())
        .collect();
    log::warn!(
        "left out of the estimate, no completion in any interval with utilization: {}",
        dropped.join(", ")
    );
    let new_index: Vec<Option<usize>> = keep
        .iter()
        .scan(0usize, |next, &k| {
            Some(k.then(|| {
                *next += 1;
                *next - 1
            }))
        })
        .collect();
    fn kept<T>(v: &mut Vec<T>, keep: &[bool]) {
        let mut k = keep.iter();
        v.retain(|_| *k.next().unwrap_or(&true));
    }
    for r in rows.iter_mut() {
        kept(&mut r.throughput, &keep);
        kept(&mut r.response, &keep);
        kept(&mut r.completions, &keep);
        kept(&mut r.in_system, &keep);
        if !r.arrived.is_empty() {
            kept(&mut r.arrived, &keep);
            for a in r.arrived.iter_mut().flatten() {
                a.found.retain_mut(|(s, _)| match new_index[*s] {
                    Some(n) => {
                        *s = n;
                        true
                    }
                    None => false,
                });
            }
        }
    }
    kept(classes, &keep);
}

/// The usable rows of one table for the balanced resources of `columns`
/// (each with the total's utilization there), with class `c` of the
/// table at `map[c]` of `n_classes`; `d` counts what was left out.
fn rows_of(
    table: &IntervalTable,
    columns: &Columns,
    keep_saturated: bool,
    d: &mut Diagnostics,
    map: &[usize],
    n_classes: usize,
) -> Vec<(Row, Option<f64>)> {
    let idx = &columns.resources;
    let k = idx.len() as f64;
    let mut rows = Vec::new();
    d.intervals += table.intervals.len();
    for iv in &table.intervals {
        let Some(us) = idx
            .iter()
            .map(|&r| iv.utilization[r])
            .collect::<Option<Vec<f64>>>()
        else {
            d.empty += 1;
            continue;
        };
        let u = us.iter().sum::<f64>() / k;
        let busiest = us.iter().copied().fold(0.0, f64::max);
        let done: u64 = iv.classes.iter().map(|c| c.completions).sum();
        if done == 0 {
            d.empty += 1;
            continue;
        }
        if busiest >= crate::trace::SATURATION && !keep_saturated {
            d.saturated += 1;
            continue;
        }
        let mut row = Row {
            length: iv.end - iv.start,
            throughput: vec![0.0; n_classes],
            response: vec![None; n_classes],
            completions: vec![0; n_classes],
            utilization: u,
            in_system: vec![0.0; n_classes],
            arrived: vec![None; n_classes],
        };
        for (c, cs) in iv.classes.iter().enumerate() {
            let to = map[c];
            row.throughput[to] = cs.throughput / k;
            row.response[to] = cs.mean_response_s;
            row.completions[to] = cs.completions;
            row.in_system[to] = cs.mean_in_system / k;
            row.arrived[to] = iv.arrived.get(c).cloned().flatten().map(|a| {
                let mut found: Vec<(usize, f64)> =
                    a.found.iter().map(|&(s, n)| (map[s], n / k)).collect();
                found.sort_by_key(|e| e.0);
                Arrivals { found, ..a }
            });
        }
        rows.push((row, columns.total.and_then(|t| iv.utilization[t])));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row at 2 and 8 requests/s of classes with demands 0.05 and
    /// 0.02 s on one server (U = 0.26), responses `r`, queue `n`.
    fn one_row(r: [f64; 2], n: [f64; 2], arrived: Vec<Option<Arrivals>>) -> Observations {
        let row = Row {
            length: 100.0,
            throughput: vec![2.0, 8.0],
            response: r.iter().map(|v| Some(*v)).collect(),
            completions: vec![200, 800],
            utilization: 0.26,
            in_system: n.to_vec(),
            arrived,
        };
        Observations::new(vec!["a".into(), "b".into()], 1, vec![row])
    }

    #[test]
    fn steady_state_responses_split_by_the_discipline() {
        let mut obs = one_row([0.0, 0.0], [0.0, 0.0], Vec::new());
        let d = [0.05, 0.02];
        let f = crate::numeric::response_factor(0.26, 1);
        // FCFS: the Pollaczek–Khinchine wait of exponential service,
        // Σ λ·D² / (1 − U), the same for both classes.
        let wait = (2.0 * 0.05 * 0.05 + 8.0 * 0.02 * 0.02) / 0.74;
        for (r, want) in [(0, 0.05 + wait), (1, 0.02 + wait)] {
            assert!((obs.predicted_response(0, r, &d, f) - want).abs() < 1e-12);
        }
        // PS: both slowed by 1 / (1 − U).
        obs.discipline = Discipline::Ps;
        for (r, want) in [(0, 0.05 / 0.74), (1, 0.02 / 0.74)] {
            assert!((obs.predicted_response(0, r, &d, f) - want).abs() < 1e-12);
        }
    }

    #[test]
    fn the_response_equation_reads_what_arrivals_found_where_the_trace_tells_it() {
        let found = Arrivals {
            count: 50,
            mean_response_s: 0.09,
            found: vec![(0, 0.5), (1, 1.5)],
        };
        let obs = one_row([0.08, 0.04], [0.3, 0.6], vec![Some(found), None]);
        // Class a: its arrivals' own response and queue; one server, so
        // D_a + 0.5·D_a + 1.5·D_b.
        let eq = obs.response_equation(0, 0).unwrap();
        assert_eq!(eq.response, 0.09);
        assert_eq!(eq.requests, 50);
        for (got, want) in eq.coefficients.iter().zip([1.5, 1.5]) {
            assert!((got - want).abs() < 1e-12, "{:?}", eq.coefficients);
        }
        // Class b: no arrivals recorded; the completions against the time
        // average (N = 0.9 ≥ U, so the waiting share is the whole queue).
        let eq = obs.response_equation(0, 1).unwrap();
        assert_eq!((eq.response, eq.requests), (0.04, 800));
        for (got, want) in eq.coefficients.iter().zip([0.3, 1.6]) {
            assert!((got - want).abs() < 1e-12, "{:?}", eq.coefficients);
        }
        // Processor sharing: only the own demand, slowed by 1 + N found.
        let mut ps = obs.clone();
        ps.discipline = Discipline::Ps;
        let eq = ps.response_equation(0, 0).unwrap();
        assert_eq!(eq.coefficients, vec![3.0, 0.0]);
        // The same observations changed in place after their equations
        // were cached: the cache no longer answers.
        let mut changed = obs;
        assert!(changed.cached().is_some());
        changed.discipline = Discipline::Ps;
        assert!(changed.cached().is_none());
        let eq = changed.response_equation(0, 0).unwrap();
        assert_eq!(eq.coefficients, vec![3.0, 0.0]);
    }
}
