//! One update: the window's fit with intervals, and the drift test on
//! the block closed since the last update.

use serde::Serialize;

use super::Watch;
use super::window::Closed;
use crate::estimate::{self, Diagnostics, MIX, Method, Observations, Row};

/// One line of `watch`'s output: a class's demand by one method at one
/// update (or, where the window's mix does not tell the classes apart,
/// their mix-weighted mean, class `(mix)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Update {
    /// Epoch seconds of the newest data used: the end of the last closed
    /// interval in the window.
    pub time: f64,
    /// The class.
    pub class: String,
    /// The resource.
    pub resource: String,
    /// The method's id.
    pub method: &'static str,
    /// Demand per request, seconds, over the window.
    pub demand_s: f64,
    /// The bootstrap interval's ends, seconds (none where the data do not
    /// determine the class's demand).
    pub low_s: Option<f64>,
    /// Upper end.
    pub high_s: Option<f64>,
    /// The resource's mean utilization over the window (fraction).
    pub utilization: f64,
    /// The class's completions per second over the window.
    pub throughput: f64,
    /// Whether the drift alarm is raised for this demand.
    pub alarm: bool,
    /// Why, while it is.
    pub reason: Option<String>,
}

/// The rows of the window and the block, over the classes they hold.
struct Data {
    /// Class ids (into the watch's labels) of the columns.
    classes: Vec<usize>,
    window: Observations,
    /// Rows of `window` that form the new block.
    block: Vec<usize>,
    end: f64,
}

/// Fits the window and tests the block.
pub(super) fn run(w: &mut Watch) -> Vec<Update> {
    let Some(data) = data(w) else {
        return Vec::new();
    };
    let cfg = estimate::Config {
        methods: w.cfg.methods.clone(),
        bootstrap: w.cfg.bootstrap,
        folds: 2,
        ..estimate::Config::default()
    };
    let report = estimate::estimate(
        &data.window,
        Diagnostics::default(),
        &cfg,
        &w.cfg.resource,
        w.cfg.interval_s,
    );
    let alarms = drift(w, &data);
    let rows = &data.window.rows;
    let utilization = rows.iter().map(|r| r.utilization).sum::<f64>() / rows.len() as f64;
    let throughput = |col: Option<usize>| {
        let x = |r: &Row| col.map_or_else(|| r.throughput.iter().sum(), |c| r.throughput[c]);
        rows.iter().map(x).sum::<f64>() / rows.len() as f64
    };
    let mut out = Vec::new();
    for &method in &w.cfg.methods {
        // Each class, then the mix-weighted mean where the classes' split
        // is not determined (no drift test of its own).
        let columns = data
            .classes
            .iter()
            .enumerate()
            .map(|(col, &c)| Some((col, c)));
        for column in columns.chain([None]) {
            let name = column.map_or(MIX, |(col, _)| data.window.classes[col].as_str());
            let Some(e) = report
                .estimates
                .iter()
                .find(|e| e.method == method.id() && e.class == name)
            else {
                continue;
            };
            let reason = column.and_then(|(_, c)| alarms.get(&(c, method)).cloned().flatten());
            out.push(Update {
                time: data.end,
                class: name.to_string(),
                resource: w.cfg.resource.clone(),
                method: method.id(),
                demand_s: e.demand_s,
                low_s: e.ci_low_s,
                high_s: e.ci_high_s,
                utilization,
                throughput: throughput(column.map(|(col, _)| col)),
                alarm: reason.is_some(),
                reason,
            });
        }
    }
    out
}

/// The closed intervals of the window, over the classes that completed a
/// request in it; `None` before there are [`super::MIN_ROWS`].
fn data(w: &mut Watch) -> Option<Data> {
    let frontier = w.frontier();
    if !frontier.is_finite() {
        return None;
    }
    let mut last = w.window.index(frontier);
    if w.window.bounds(last).1 > frontier {
        last -= 1;
    }
    if w.window.bounds(last).1 <= w.last_end {
        return None;
    }
    let n_window = (w.cfg.window_s / w.cfg.interval_s).round() as i64;
    let closed: Vec<Closed> = w.window.rows(last - n_window + 1, last, w.classes.len());
    if closed.len() < super::MIN_ROWS {
        return None;
    }
    let classes: Vec<usize> = (0..w.classes.len())
        .filter(|&c| closed.iter().any(|(_, r)| r.completions[c] > 0))
        .collect();
    let block_from = w.block_from.max(w.window.first());
    w.block_from = last + 1;
    w.last_end = w.window.bounds(last).1;
    let block = (0..closed.len())
        .filter(|&i| closed[i].0 >= block_from)
        .collect();
    let rows = closed
        .into_iter()
        .map(|(_, r)| columns(r, &classes))
        .collect();
    let names = classes
        .iter()
        .map(|&c| w.classes.name(crate::trace::LabelId(c as u32)).to_string())
        .collect();
    Some(Data {
        window: Observations::new(names, w.cfg.servers, rows),
        classes,
        block,
        end: w.window.bounds(last).1,
    })
}

/// `row` cut to the columns of `classes`.
fn columns(row: Row, classes: &[usize]) -> Row {
    let pick = |v: &[f64]| classes.iter().map(|&c| v[c]).collect();
    Row {
        throughput: pick(&row.throughput),
        in_system: pick(&row.in_system),
        response: classes.iter().map(|&c| row.response[c]).collect(),
        completions: classes.iter().map(|&c| row.completions[c]).collect(),
        ..row
    }
}

type Alarms = std::collections::HashMap<(usize, Method), Option<String>>;

/// Each method's fit on the block, each demand through its drift test:
/// the reasons of the alarms raised.
fn drift(w: &mut Watch, data: &Data) -> Alarms {
    let mut alarms = Alarms::new();
    if data.block.is_empty() {
        return alarms;
    }
    // The block's own classes: one absent from it has no block estimate.
    let present: Vec<usize> = (0..data.classes.len())
        .filter(|&col| {
            data.block
                .iter()
                .any(|&i| data.window.rows[i].completions[col] > 0)
        })
        .collect();
    let rows: Vec<Row> = data
        .block
        .iter()
        .map(|&i| columns(data.window.rows[i].clone(), &present))
        .collect();
    let names = present
        .iter()
        .map(|&c| data.window.classes[c].clone())
        .collect();
    let block = Observations::new(names, w.cfg.servers, rows);
    let all: Vec<usize> = (0..block.rows.len()).collect();
    for &method in &w.cfg.methods {
        let Ok(demands) = method.estimator(false).estimate(&block, &all) else {
            continue;
        };
        for (k, &col) in present.iter().enumerate() {
            let class = data.classes[col];
            let detector = w.detectors.entry((class, method)).or_default();
            alarms.insert((class, method), detector.observe(demands[k], &w.cfg.drift));
        }
    }
    // Demands without a block estimate keep a raised alarm raised.
    for (key, d) in &w.detectors {
        alarms.entry(*key).or_insert_with(|| d.raised());
    }
    alarms
}
