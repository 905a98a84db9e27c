//! Aggregates the shipped example trace into 60 s intervals with the
//! library (no CLI) and prints the utilization law's demand estimate
//! U·c / X next to the true demand.
//!
//! `cargo run --release --example inspect_trace`

use std::fs::File;

use demandsim::trace::{Pipeline, UtilSeries, decompress, read_utilization};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/example");
    let samples = read_utilization(decompress(File::open(format!("{dir}/utilization.csv"))?)?)?;
    let mut pipeline = Pipeline::new(UtilSeries::from_samples(samples)?, Some(60.0), false);
    pipeline.add_requests(
        decompress(File::open(format!("{dir}/requests.csv.gz"))?)?,
        |_| {},
    )?;
    let table = pipeline.finish()?;
    let s = &table.summary;
    println!(
        "{} requests over {:.0} s, mean response {:.3} s",
        s.requests,
        s.duration_s,
        s.response.mean_response_s.unwrap_or(f64::NAN)
    );
    // Utilization law over the whole trace: D = U·c / X (8 servers).
    let x = s.used as f64 / s.duration_s;
    let u = s.mean_utilization["CO1"];
    println!(
        "utilization law: D = U·c/X = {u:.4} x 8 / {x:.4} = {:.4} s (true mean demand 0.9976 s)",
        u * 8.0 / x
    );
    Ok(())
}
