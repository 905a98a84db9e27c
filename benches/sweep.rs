//! What-if speed (issue 16 targets, 2 cores): a 1,000-point analytic sweep
//! of a closed model (exact multi-class MVA) under 1 s; 200 demand draws ×
//! 50 points analytic under 2 s; 100 simulated points of qpn1-open at
//! 100,000 requests each under 15 s.

use criterion::{Criterion, criterion_group, criterion_main};
use demandsim::model::{Params, Template};
use demandsim::qpn::Warmup;
use demandsim::sweep::{Axis, Bind, Config, Grid, Method, run};

fn template(name: &str) -> Template {
    let path = format!("{}/models/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    Template::parse(&text, &|_| Err(std::io::Error::other("no sample files"))).unwrap()
}

fn config(method: Method, bind: Option<Bind>) -> Config {
    Config {
        method,
        requests: 100_000,
        replications: 1,
        warmup: Warmup::Auto,
        seed: 1,
        base: Params::new(),
        binds: bind.into_iter().collect(),
        load_scale: None,
        shard: None,
        sensitivity: false,
        calibrations: Vec::new(),
    }
}

fn grid(t: &Template, axes: &[&str]) -> Grid {
    Grid::new(axes.iter().map(|a| Axis::parse(a).unwrap()).collect(), t).unwrap()
}

fn benches(c: &mut Criterion) {
    let closed = template("qpn1.yaml");
    let g = grid(&closed, &["clients=1..90:90", "think_time=0.1..1.1:11"]);
    let cfg = config(Method::Analytic, None);
    c.bench_function("sweep: 990 points, exact MVA (qpn1)", |b| {
        b.iter(|| run(&closed, &g, &cfg, &|| {}).len())
    });
    let open = template("qpn1-open.yaml");
    let g = grid(&open, &["arrival_rate=1..11:50"]);
    let draws: Vec<f64> = (0..200)
        .map(|i| 0.95 + 0.1 * f64::from(i) / 199.0)
        .collect();
    let cfg = config(
        Method::Analytic,
        Some(Bind {
            param: "demand".into(),
            value: 1.0,
            draws,
        }),
    );
    c.bench_function("sweep: 50 points x 200 demand draws, Erlang C", |b| {
        b.iter(|| run(&open, &g, &cfg, &|| {}).len())
    });
    let g = grid(&open, &["arrival_rate=1..11:100"]);
    let cfg = config(Method::Simulate, None);
    let mut group = c.benchmark_group("sweep, simulated");
    group.sample_size(10);
    group.bench_function("100 points x 100,000 requests (qpn1-open)", |b| {
        b.iter(|| run(&open, &g, &cfg, &|| {}).len())
    });
    group.finish();
}

criterion_group!(sweep, benches);
criterion_main!(sweep);
