//! A run directory's metadata: `run.yaml` and the testbed's `run.json`.
//! Refusals are fine, panics are not.
#![no_main]

use demandsim::run_dir::RunMeta;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = RunMeta::from_yaml(text);
        let _ = RunMeta::from_testbed_json(text);
    }
});
