//! The model loader's expressions: any text as a parameter's expression
//! and as a service mean. Refusals are fine, panics and stack overflows
//! are not.
#![no_main]

use demandsim::model::{LoadOptions, load};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let quoted = format!("{text:?}");
    let model = format!(
        "params: {{m: {quoted}}}\ncolors: [a]\nplaces:\n  Q: {{queue: fcfs, service: {{a: {{exponential: {quoted}}}}}, initial: {{a: 1}}}}\n"
    );
    let _ = load(&model, &LoadOptions::default());
});
