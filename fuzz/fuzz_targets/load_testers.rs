//! Load-tester formats: JMeter JTL, k6 (CSV and NDJSON), access logs,
//! LibReDE response-time files.
#![no_main]

use std::sync::LazyLock;

use demandsim::import::{RequestRow, access_log, jmeter, k6, librede};
use libfuzzer_sys::fuzz_target;

/// The formats, compiled once (compiling them on every input made the
/// target run 40 inputs a second).
static FORMATS: LazyLock<Vec<access_log::LogFormat>> = LazyLock::new(|| {
    [
        r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#,
        r#"$remote_addr [$time_local] "$request" $status $request_time $msec"#,
        r#"%h %l %u %t "%r" %>s %b "%{User-Agent}i" %D"#,
        r#"$remote_addr [$time_iso8601] "$request" $status $upstream_response_time"#,
    ]
    .iter()
    .map(|f| access_log::LogFormat::new(f).expect("a valid format"))
    .collect()
});

fuzz_target!(|data: &[u8]| {
    let mut sink = |_: RequestRow<'_>| Ok(());
    let _ = jmeter::read(data, &jmeter::Options::default(), &mut sink);
    let _ = k6::read(data, &mut sink);
    for fmt in FORMATS.iter() {
        let _ = access_log::read(data, fmt, &access_log::Options::default(), &mut sink);
    }
    let _ = librede::read_response_times(data, "c", librede::TimeUnit::Seconds, &mut sink);
    let _ = librede::read_response_times(data, "c", librede::TimeUnit::Milliseconds, &mut sink);
});
