//! Estimates the per-request CPU demand of the shipped example trace with
//! every estimator, cross-validation and bootstrap CIs, using the library
//! directly, and prints each method's estimate beside the true demand.
//!
//! `cargo run --release --example estimate_demands`

use std::fs::File;

use demandsim::estimate::{Config, Method, Observations, estimate};
use demandsim::trace::{Pipeline, UtilSeries, decompress, read_utilization};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/example");
    // Utilization samples (30 s, resource CO1) and the requests, streamed.
    let samples = read_utilization(decompress(File::open(format!("{dir}/utilization.csv"))?)?)?;
    // Intervals of the sampling interval (30 s), aligned to the samples.
    let mut pipeline = Pipeline::new(UtilSeries::from_samples(samples)?, None, false);
    pipeline.add_requests(
        decompress(File::open(format!("{dir}/requests.csv.gz"))?)?,
        |_| {},
    )?;
    let table = pipeline.finish()?;
    // One resource with 8 servers (the trace was generated that way).
    let (obs, diag) = Observations::from_table(&table, "CO1", 8, false)?;
    let cfg = Config {
        methods: Method::ALL.to_vec(),
        combine: vec![Method::Rort, Method::Rortu],
        seed: 42,
        ..Config::default()
    };
    let report = estimate(&obs, diag, &cfg, "CO1", table.grid.width);
    println!("true demand 0.9976 s; {} intervals used", report.intervals);
    for e in &report.estimates {
        println!(
            "{:>22}  {:.4} s  (95 % CI {:.4}–{:.4})",
            e.method,
            e.demand_s,
            e.ci_low_s.unwrap_or(f64::NAN),
            e.ci_high_s.unwrap_or(f64::NAN)
        );
    }
    println!(
        "recommended: {}",
        report.recommended.as_deref().unwrap_or("none")
    );
    Ok(())
}
