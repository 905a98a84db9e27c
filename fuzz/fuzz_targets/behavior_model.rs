//! `behavior model`: a behaviour model's JSON (as `behavior learn` and
//! `import m4j` write it) through `to_qpn` with demands for every request
//! type (to_qpn itself loads what it writes). Refusals are fine, panics
//! are not.
#![no_main]

use demandsim::behavior::BehaviorModel;
use demandsim::behavior::to_qpn::{Demands, ModelOptions, ThinkTimes, Users, to_qpn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(b) = serde_json::from_slice::<BehaviorModel>(data) else {
        return;
    };
    let mut demands = Demands::new();
    for (i, s) in b.states.iter().enumerate().take(1000) {
        demands.insert(s, "cpu", 0.001 * (i % 7) as f64);
        demands.insert(s, "disk", 0.002);
    }
    let profiles = b.profiles.len().min(1000);
    for (users, think) in [
        (Users::Mixed(3), ThinkTimes::Learnt),
        (
            Users::PerProfile(vec![2; profiles]),
            ThinkTimes::Exponential,
        ),
        (Users::Mixed(1), ThinkTimes::Mean(0.5)),
    ] {
        let options = ModelOptions {
            users,
            think,
            session_gap_s: None,
            servers: Default::default(),
            name: "fuzz".into(),
        };
        let _ = to_qpn(&b, &demands, &options);
    }
});
