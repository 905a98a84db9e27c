//! QPME `.qpe` XML: the reader and its conversion to a model; whatever
//! imports must load, and what loads must export (read back: the file
//! `import qpe` writes is read by `simulate`, and `export qpe` writes it
//! back). Refusals are fine, panics are not.
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
    let model = load(&yaml, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("an imported .qpe does not load: {e}\n{yaml}"));
    let _ = export(&model);
});
