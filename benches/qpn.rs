//! QPN engine speed: events per second (an event is a service completion
//! or a transition firing) on the shipped models and on stress shapes.
//! Fixed seeds; models from `models/`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use demandsim::model::{LoadOptions, Model, Params, load};
use demandsim::qpn::{Control, RunConfig, Simulation, StopRule, Warmup, replication_rng, simulate};

fn model(file: &str, set: &[(&str, &str)]) -> Model {
    let text =
        std::fs::read_to_string(format!("{}/models/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    inline(&text, set)
}

fn inline(text: &str, set: &[(&str, &str)]) -> Model {
    let mut params = Params::new();
    for (k, v) in set {
        params.set(*k, *v);
    }
    load(
        text,
        &LoadOptions {
            params,
            ..LoadOptions::default()
        },
    )
    .unwrap()
}

const EVENTS: u64 = 300_000;

fn events(c: &mut Criterion, name: &str, m: &Model) {
    let mut g = c.benchmark_group("qpn");
    g.throughput(Throughput::Elements(EVENTS));
    g.bench_function(name, |b| {
        b.iter(|| {
            let mut sim = Simulation::new(&m.net, replication_rng(1, 0));
            sim.start().unwrap();
            while sim.events() < EVENTS {
                sim.step().unwrap();
            }
            sim.events()
        })
    });
    g.finish();
}

/// A closed PS station with 1,000 tokens and a short think time.
const PS_1000: &str = "colors: [c]
places:
  Think: {queue: is, service: {c: {exponential: 1.0}}, initial: {c: 1000}}
  CPU: {queue: ps, servers: 2, service: {c: {exponential: 0.01}}}
transitions:
  go: {in: {Think: c}, out: {CPU: c}}
  back: {in: {CPU: c}, out: {Think: c}}
";

/// Each request passes 10 immediate transitions through ordinary places.
fn chain10() -> String {
    let mut s = String::from(
        "colors: [c]\nplaces:\n  Q: {queue: fcfs, service: {c: {exponential: 0.5}}}\n",
    );
    for i in 0..10 {
        s.push_str(&format!("  P{i}: {{}}\n"));
    }
    s.push_str("transitions:\n  src: {delay: {exponential: 1.0}, out: {P0: c}}\n");
    for i in 0..9 {
        s.push_str(&format!(
            "  t{i}: {{in: {{P{i}: c}}, out: {{P{}: c}}}}\n",
            i + 1
        ));
    }
    s.push_str("  t9: {in: {P9: c}, out: {Q: c}}\n  sink: {in: {Q: c}}\n");
    s
}

/// Requests per iteration of the container-count bench.
const REQUESTS: u64 = 100_000;

/// Per-request time of qpn10-open as the containers grow: one arrival
/// transition and one departure transition, each with a mode per
/// container. A request is exactly three events (its arrival's firing,
/// its service's completion, its departure's firing), so the run stops
/// after 3 × `REQUESTS` events. The target: 100 containers at most
/// 1.3 times the time of 1.
fn containers(c: &mut Criterion) {
    let mut g = c.benchmark_group("qpn10-open per request");
    g.throughput(Throughput::Elements(REQUESTS));
    for k in [1, 10, 100] {
        let m = model("qpn10-open.yaml", &[("containers", &k.to_string())]);
        g.bench_function(format!("{k} container(s)"), |b| {
            b.iter(|| {
                let mut sim = Simulation::new(&m.net, replication_rng(1, 0));
                sim.start().unwrap();
                while sim.events() < 3 * REQUESTS {
                    sim.step().unwrap();
                }
                sim.events()
            })
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    events(
        c,
        "trading: 153 modes on next, 42 on serve",
        &model("trading.yaml", &[]),
    );
    events(c, "qpn1-open 52% load", &model("qpn1-open.yaml", &[]));
    events(
        c,
        "qpn1-open 90% load",
        &model(
            "qpn1-open.yaml",
            &[("arrival_rate", "0.9 * servers / demand")],
        ),
    );
    events(c, "qpn10 closed", &model("qpn10.yaml", &[]));
    events(
        c,
        "qpn10-host: 10 containers sharing 12 CPUs, round robin",
        &model("qpn10-host.yaml", &[]),
    );
    events(c, "PS with 1000 tokens", &inline(PS_1000, &[]));
    // The same under a CPU limit of 1.5 of its 2 servers: throttled in
    // every period (the bandwidth control's own cost).
    let limited = PS_1000.replace("servers: 2,", "servers: 2, cpu_limit: {cpus: 1.5},");
    events(
        c,
        "PS with 1000 tokens, cpu_limit 1.5 of 2",
        &inline(&limited, &[]),
    );
    events(
        c,
        "10 immediate transitions per request",
        &inline(&chain10(), &[]),
    );

    let m = model("qpn1-open.yaml", &[]);
    let cfg = RunConfig {
        stop: StopRule::Requests(100_000),
        warmup: Warmup::Count(1_000),
        replications: 4,
        seed: 1,
        ..RunConfig::default()
    };
    let mut g = c.benchmark_group("replications");
    g.sample_size(10);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        g.bench_function(format!("4 x 100k requests, {threads} thread(s)"), |b| {
            b.iter(|| pool.install(|| simulate(&m.net, &cfg, Control::default()).unwrap().events))
        });
    }
    g.finish();
}

criterion_group!(qpn, containers, benches);
criterion_main!(qpn);
