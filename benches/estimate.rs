//! Estimation speed: parsing and interval aggregation of a 1-million-request
//! canonical trace, each estimator on a one-day trace of 30 s intervals,
//! the whole estimate (8 methods, 5-fold CV, 200 bootstrap resamples) on
//! that day, and on traces of 10^5 and 10^6 requests (533 and 5,329
//! intervals of 30 s; 10^7 is `scripts/estimate-timing.sh`: too slow for
//! criterion's samples). Traces are generated from
//! `models/qpn1-open.yaml` (8 servers) with fixed seeds.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use demandsim::estimate::{Config, Method, Observations, estimate};
use demandsim::generate::{GenConfig, generate, table};
use demandsim::import::RequestRow;
use demandsim::model::{LoadOptions, Params, load};
use demandsim::trace::{Aggregator, Columns, RequestReader, RequestWriter};

fn model() -> demandsim::model::Model {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/qpn1-open.yaml"
    ))
    .unwrap();
    let o = Params::new().with("servers", 8.0);
    load(
        &text,
        &LoadOptions {
            params: o,
            ..LoadOptions::default()
        },
    )
    .unwrap()
}

fn benches(c: &mut Criterion) {
    let m = model();
    // A canonical requests.csv of 1,000,000 rows, in memory.
    let mut w = RequestWriter::new(Vec::new(), Columns::default()).unwrap();
    let cfg = GenConfig {
        probe: 0,
        interval: 30.0,
        requests: Some(1_000_000),
        time: None,
        seed: 1,
        token_limit: 1_000_000,
    };
    generate(
        &m.net,
        &cfg,
        &mut |s, r, class| {
            w.write_row(&RequestRow {
                start: (s * 1e6).round() / 1e6,
                response_time: (r * 1e6).round() / 1e6,
                class,
                success: true,
                ..RequestRow::default()
            })
        },
        &mut |_, _, _| Ok(()),
    )
    .unwrap();
    let csv = w.finish().unwrap();
    let rows = csv.iter().filter(|&&b| b == b'\n').count() as u64 - 1;
    let mut g = c.benchmark_group("estimate");
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows));
    g.bench_function("parse and aggregate 1M requests", |b| {
        b.iter(|| {
            let mut reader = RequestReader::new(&csv[..]).unwrap();
            let mut agg = Aggregator::new(None, 30.0, false);
            while let Some(r) = reader.next_request() {
                agg.push(&r.unwrap());
            }
            agg.finish(reader.classes(), &Default::default())
                .unwrap()
                .intervals
                .len()
        })
    });
    g.finish();

    // One day of 30 s intervals.
    let day = GenConfig {
        probe: 0,
        interval: 30.0,
        requests: None,
        time: Some(86_400.0),
        seed: 2,
        token_limit: 1_000_000,
    };
    let (t, _) = table(&m.net, &day, &mut |u| u).unwrap();
    let (obs, diag) = Observations::from_table(&t, "CO1", 8, false).unwrap();
    let all: Vec<usize> = (0..obs.rows.len()).collect();
    let mut g = c.benchmark_group("estimator, one day of 30 s intervals");
    for m in Method::ALL {
        let e = m.estimator(false);
        g.bench_function(m.id(), |b| b.iter(|| e.estimate(&obs, &all).unwrap()[0]));
    }
    g.finish();
    let mut g = c.benchmark_group("validation");
    g.sample_size(10);
    g.bench_function(
        "8 methods, 5-fold CV, 200 bootstrap resamples, one day",
        |b| {
            b.iter(|| {
                estimate(&obs, diag.clone(), &Config::default(), "CO1", 30.0)
                    .estimates
                    .len()
            })
        },
    );
    g.finish();
    whole(c, &m);
}

/// The whole estimate (observations taken anew, so their flat columns
/// are built each time too) on 10^5 and 10^6 requests, as `estimate`
/// runs it after aggregation: the CPU time should grow ×10 with the
/// trace.
fn whole(c: &mut Criterion, m: &demandsim::model::Model) {
    let mut g = c.benchmark_group("estimate, default bootstrap");
    g.sample_size(10);
    for requests in [100_000, 1_000_000] {
        let cfg = GenConfig {
            probe: 0,
            interval: 30.0,
            requests: Some(requests),
            time: None,
            seed: 1,
            token_limit: 1_000_000,
        };
        let (t, _) = table(&m.net, &cfg, &mut |u| u).unwrap();
        g.throughput(Throughput::Elements(requests));
        g.bench_function(format!("{requests} requests"), |b| {
            b.iter(|| {
                let (obs, diag) = Observations::from_table(&t, "CO1", 8, false).unwrap();
                estimate(&obs, diag, &Config::default(), "CO1", 30.0)
                    .estimates
                    .len()
            })
        });
    }
    g.finish();
}

criterion_group!(est, benches);
criterion_main!(est);
