//! Canonical requests.csv / utilization.csv (plain or gzip) through the
//! readers and the interval aggregation: errors are fine, panics are not.
#![no_main]

use demandsim::trace::{Aggregator, RequestReader, UtilSeries, UtilizationReader, decompress};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let util = match UtilizationReader::new(data) {
        Ok(r) => r
            .collect::<Result<Vec<_>, _>>()
            .ok()
            .and_then(|s| UtilSeries::from_samples(s).ok())
            .unwrap_or_default(),
        Err(_) => UtilSeries::default(),
    };
    if let Ok(r) = decompress(data)
        && let Ok(mut reader) = RequestReader::new(r)
    {
        let mut agg = Aggregator::new(util.grid(None), 30.0, false);
        while let Some(x) = reader.next_request() {
            match x {
                Ok(r) => agg.push(&r),
                Err(_) => return,
            }
        }
        let _ = agg.finish(reader.classes(), &util);
    }
});
