//! Behaviour importers: Markov4JMeter / WESSBAS behaviour CSVs and mix
//! files, WESSBAS session logs. Refusals are fine, panics are not.
#![no_main]

use demandsim::behavior::m4j;
use demandsim::import::{RequestRow, wessbas};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut states = Vec::new();
    let _ = m4j::read(data, "p", 1.0, &mut states);
    let _ = m4j::read_mix(data);
    let mut sink = |_: RequestRow<'_>| Ok(());
    let _ = wessbas::read(data, &mut sink);
});
