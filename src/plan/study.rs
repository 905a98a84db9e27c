//! The study `plan` writes for the user: every run an experiment of the
//! plan's model, the fitted runs its estimation runs.

use super::decide::Protocol;
use super::input::{PlanOptions, RunInput};
use super::model::{Kind, PROBE};
use crate::estimate::{Discipline, LoadChoice, Method};
use crate::model::ParamValue;
use crate::qpn::Warmup;
use crate::run_dir::Workload;
use crate::study::{
    EstimateSpec, Experiment, Measured, MetadataField, ParamSource, Pick, RunFiles, RunSpec, Study,
};

/// The method the demands come from: the table's operational law over
/// the whole trace (the fidelity protocol's; no fit to tilt the classes).
pub fn method() -> Method {
    *Method::ALL
        .iter()
        .find(|m| m.traits().law_over_the_trace)
        .expect("the methods table has a law over the trace")
}

/// Bootstrap resamples per estimation (the demands' intervals).
const BOOTSTRAP: usize = 100;

/// Workers of a run that names none when others do: no limit.
pub const UNLIMITED_WORKERS: f64 = 10_000.0;

/// The study of every run.
pub fn study(runs: &[RunInput], p: &Protocol, o: &PlanOptions) -> Study {
    let fit: Vec<RunFiles> = p
        .fit
        .iter()
        .map(|&i| RunFiles {
            name: runs[i].name.clone(),
            requests: vec![runs[i].requests.clone()],
            utilization: vec![runs[i].utilization.clone()],
            metadata: runs[i].metadata.clone(),
        })
        .collect();
    Study {
        name: "plan".into(),
        description: "the runs given to `demandsim plan`".into(),
        data: None,
        seed: None,
        experiments: runs.iter().map(|r| experiment(r, p, o, &fit)).collect(),
        validate: None,
    }
}

fn experiment(r: &RunInput, p: &Protocol, o: &PlanOptions, fit: &[RunFiles]) -> Experiment {
    let estimate = EstimateSpec {
        methods: Method::ALL.to_vec(),
        combine: Vec::new(),
        bootstrap: BOOTSTRAP,
        folds: 5,
        interval_s: None,
        discipline: Discipline::Ps,
        load_dependence: p.load_dependence.then_some(LoadChoice::Auto),
        // The time a request spends outside the modelled CPU (the load
        // generator, the network, locks), open or closed alike: a
        // database's 0.3 ms transactions took 3 ms from its client.
        latency_offset: true,
        background: p.background.clone(),
    };
    Experiment {
        name: r.name.clone(),
        model: o.model_file.clone(),
        requests: vec![r.requests.clone()],
        utilization: vec![r.utilization.clone()],
        estimate_from: fit.to_vec(),
        resources: vec![p.resource.clone()],
        servers: p.servers,
        containers: 1,
        estimate: Some(estimate),
        params: params(r, p),
        measured_mean_s: None,
        true_demand_s: None,
        truth: None,
        run: RunSpec {
            requests: o.requests,
            replications: 1,
            warmup: Warmup::Auto,
        },
        probe: Some(PROBE.into()),
        workload: None,
        class_column: Some(p.class_column.clone()),
        metadata: r.metadata.clone(),
    }
}

/// The run's parameters: its own load and configuration, the classes'
/// measured throughputs as the mix, their estimated demands, the fitted
/// background.
fn params(r: &RunInput, p: &Protocol) -> Vec<(String, ParamSource)> {
    let value = |x: f64| ParamSource::Value(ParamValue::Number(x));
    let mut out = Vec::new();
    // From the metadata file where the run has one: the latency offset
    // predicts each fitted run with its own users, think time and workers.
    let meta = |f: MetadataField, v: f64| match &r.metadata {
        Some(_) => ParamSource::Metadata(f),
        None => value(v),
    };
    match (p.kind, r.meta.workload) {
        (
            Kind::Closed,
            Some(Workload::Closed {
                users,
                think_time_s,
            }),
        ) => {
            out.push(("users".into(), meta(MetadataField::Users, f64::from(users))));
            out.push(("think".into(), meta(MetadataField::ThinkS, think_time_s)));
        }
        _ => out.push((
            "arrival_rate".into(),
            ParamSource::Measured {
                what: Measured::Throughput,
                class: None,
            },
        )),
    }
    if p.pool {
        let workers = match r.meta.workers {
            Some(w) => meta(MetadataField::ApiWorkers, f64::from(w)),
            None => value(UNLIMITED_WORKERS),
        };
        out.push(("workers".into(), workers));
    }
    out.push(("cpus".into(), value(f64::from(p.servers))));
    out.push(("run_cpus".into(), value(f64::from(p.servers))));
    out.push((
        "share_{c}".into(),
        ParamSource::Measured {
            what: Measured::Throughput,
            class: Some("{c}".into()),
        },
    ));
    out.push((
        "demand_{c}".into(),
        ParamSource::Estimate {
            pick: Pick::Method(method()),
            class: Some("{c}".into()),
            resource: None,
        },
    ));
    if p.background.is_some() {
        out.push(("background_u".into(), ParamSource::Background));
    }
    out
}
