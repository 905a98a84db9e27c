//! OTLP JSON traces (`import otlp`), read with the default options and
//! with every option that changes what is read; every request it gives
//! must have a finite start and a finite, non-negative response time.
#![no_main]

use demandsim::import::{RequestRow, otlp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut sink = |r: RequestRow<'_>| {
        assert!(r.start.is_finite() && r.start >= 0.0, "{r:?}");
        assert!(
            r.response_time.is_finite() && r.response_time >= 0.0,
            "{r:?}"
        );
        Ok(())
    };
    let _ = otlp::read(data, &otlp::Options::default(), &mut sink);
    let every = otlp::Options {
        roots: true,
        class_attr: Some("http.route".into()),
        user_attr: Some("enduser.id".into()),
        session_attr: Some("session.id".into()),
        ..otlp::Options::default()
    };
    let _ = otlp::read(data, &every, &mut sink);
});
