//! QPME `.qpe` XML: the reader, its conversion to a model, the loader on
//! what it gives (`import qpe` loads it too and refuses, naming the
//! element, what does not build) and the exporter on what loads.
//! Refusals are fine, panics are not.
#![no_main]

use demandsim::model::{LoadOptions, load};
use demandsim::qpe::{TimeUnit, export, import};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(imported) = import(xml, "fuzz", TimeUnit::Seconds) else {
        return;
    };
    let yaml = imported.yaml();
    if let Ok(model) = load(&yaml, &LoadOptions::default()) {
        let _ = export(&model);
    }
});
