//! `capacity --simulate` speed (issue 34: both cores busy, CPU time ≥ 1.7×
//! wall on two): one simulated p95 step on M/M/12 (qpn1-open at its
//! defaults, 200,000 requests in 8 parallel replications), and a whole
//! p95 search on M/M/2 with 20,000 requests a step.

use criterion::{Criterion, criterion_group, criterion_main};
use demandsim::capacity::{Query, Slo, evaluate, search};
use demandsim::model::{ParamValue, Params, Template};
use demandsim::qpn::Warmup;

fn template() -> Template {
    let path = format!("{}/models/qpn1-open.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    Template::parse(&text, &|_| Err(std::io::Error::other("no sample files"))).unwrap()
}

fn query(slo: &str, range: (f64, f64), requests: u64, base: Params) -> Query {
    Query {
        param: "arrival_rate".into(),
        slo: Slo::parse(slo).unwrap(),
        probe: None,
        range,
        integer: false,
        simulate_only: true,
        requests,
        seed: 1,
        warmup: Warmup::Auto,
        base,
        binds: Vec::new(),
        calibration: None,
        offset_s: 0.0,
        color: None,
    }
}

fn benches(c: &mut Criterion) {
    let t = template();
    let mut g = c.benchmark_group("capacity, simulated");
    g.sample_size(10);
    let q = query("p95<=3s", (0.6242, 24.968), 200_000, Params::new());
    g.bench_function("one p95 step, M/M/12, 200,000 requests", |b| {
        b.iter(|| evaluate(&t, &q, 6.76).unwrap().stat_s)
    });
    let mut base = Params::new();
    base.set("servers", ParamValue::Number(2.0));
    base.set("demand", ParamValue::Number(1.0));
    let q = query("p95<=4s", (0.1, 1.9), 20_000, base);
    g.bench_function("p95 search, M/M/2, 20,000 requests a step", |b| {
        b.iter(|| search(&t, &q).unwrap().value)
    });
    g.finish();
}

criterion_group!(cap, benches);
criterion_main!(cap);
