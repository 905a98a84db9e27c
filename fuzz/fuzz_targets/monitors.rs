//! Monitor formats: sadf (sar), Prometheus range-query JSON, LibReDE
//! utilization files.
#![no_main]

use demandsim::import::{librede, prometheus, sadf};
use demandsim::trace::UtilSample;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut sink = |_: UtilSample| Ok(());
    let _ = sadf::read(data, &mut sink);
    let _ = prometheus::read(data, "instance", &mut sink);
    let _ = librede::read_utilization(data, "cpu", librede::TimeUnit::Seconds, &mut sink);
});
