//! Analytic solver speed: exact MVA for one class, N = 1000, on 10
//! load-dependent stations; approximate MVA with 20 classes.

use criterion::{Criterion, criterion_group, criterion_main};
use demandsim::solve::{Station, StationKind, solve_approximate, solve_exact};

fn stations(classes: usize) -> Vec<Station> {
    let mut v = vec![Station {
        name: "Z".into(),
        kind: StationKind::Delay,
        service: vec![1.0; classes],
        visits: vec![1.0; classes],
    }];
    for k in 0..10 {
        v.push(Station {
            name: format!("S{k}"),
            kind: StationKind::Queue {
                servers: 1 + (k % 4) as u32 * 4,
            },
            service: (0..classes)
                .map(|r| 0.001 * (1.0 + k as f64 + r as f64 * 0.1))
                .collect(),
            visits: vec![1.0; classes],
        });
    }
    v
}

fn benches(c: &mut Criterion) {
    let one = stations(1);
    c.bench_function("exact MVA, N = 1000, 10 load-dependent stations", |b| {
        b.iter(|| solve_exact(&one, &[1000]).unwrap().class_throughput[0])
    });
    let many = stations(20);
    let pop = vec![50u32; 20];
    c.bench_function("approximate MVA, 20 classes x 50", |b| {
        b.iter(|| solve_approximate(&many, &pop).class_throughput[0])
    });
}

criterion_group!(solve, benches);
criterion_main!(solve);
