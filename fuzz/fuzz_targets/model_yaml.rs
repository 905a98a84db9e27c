//! The YAML model loader: parse, validate, compile (and the analytic
//! solver on whatever compiles). Refusals are fine, panics are not.
#![no_main]

use demandsim::model::{LoadOptions, load};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(model) = load(text, &LoadOptions::default())
    {
        let _ = demandsim::solve::analyse(&model.net);
    }
});
