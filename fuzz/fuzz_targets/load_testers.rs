//! Load-tester formats: JMeter JTL, k6 (CSV and NDJSON), access logs,
//! LibReDE response-time files.
#![no_main]

use demandsim::import::{RequestRow, access_log, jmeter, k6, librede};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut sink = |_: RequestRow<'_>| Ok(());
    let _ = jmeter::read(data, &jmeter::Options::default(), &mut sink);
    let _ = k6::read(data, &mut sink);
    for format in [
        r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#,
        r#"$remote_addr [$time_local] "$request" $status $request_time $msec"#,
    ] {
        let fmt = access_log::LogFormat::new(format).expect("a valid format");
        let _ = access_log::read(data, &fmt, &access_log::Options::default(), &mut sink);
    }
    let _ = librede::read_response_times(data, "c", librede::TimeUnit::Seconds, &mut sink);
    let _ = librede::read_response_times(data, "c", librede::TimeUnit::Milliseconds, &mut sink);
});
