//! Nothing is written that the tool's own readers refuse. Read-back
//! tests of the other files live beside their writers: `behavior learn`'s
//! JSON and Markov4JMeter files read by `behavior model` and `import m4j`
//! (behavior.rs), exported QPME read by `import qpe` and simulated
//! (qpme.rs), the model `behavior model` writes loaded before it is
//! written (the library's `to_qpn`).

use super::import::{EXAMPLES, INTERVALS, UTILIZATION};
use super::{demandsim, fixture, rows};

fn f(s: &str) -> f64 {
    s.parse().unwrap()
}

/// Nothing is written that the tool's own readers refuse: each
/// importer's example, written with `-o`, is read back by `inspect`, which
/// counts every request the file holds (a utilization file with a trace
/// of one request at each of its first sample times).
#[test]
fn every_importers_output_is_read_back_by_inspect_with_all_its_requests() {
    let dir = tempfile::tempdir().unwrap();
    for &(name, header, args) in EXAMPLES {
        let out = dir.path().join(format!("{name}.csv"));
        let mut argv = vec!["import".to_string(), name.to_string()];
        argv.extend(args.iter().map(|a| match a.strip_prefix('@') {
            Some(file) => fixture(&format!("import/{file}")),
            None => a.to_string(),
        }));
        argv.extend(["-o".into(), out.to_str().unwrap().into()]);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let run = demandsim(&argv, b"");
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let written = rows(&std::fs::read_to_string(&out).unwrap());
        let file = out.to_str().unwrap().to_string();
        let (requests, expected) = match header {
            UTILIZATION => {
                let trace: String = written
                    .iter()
                    .take(10)
                    .map(|r| format!("{},0.1\n", r[0]))
                    .collect();
                let p = dir.path().join(format!("{name}-requests.csv"));
                std::fs::write(&p, format!("timestamp,response_time\n{trace}")).unwrap();
                (
                    p.to_str().unwrap().to_string(),
                    written.len().min(10) as f64,
                )
            }
            INTERVALS => (file.clone(), written.iter().map(|r| f(&r[3])).sum()),
            _ => (file.clone(), written.len() as f64),
        };
        let mut inspect = vec!["inspect", "--requests", &requests, "--include-failed"];
        if header == UTILIZATION {
            inspect.extend(["--utilization", &file]);
        }
        inspect.extend(["--format", "json"]);
        let run = demandsim(&inspect, b"");
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let counted: f64 = doc["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["completions"].as_f64().unwrap())
            .sum();
        assert!(expected > 0.0, "{name}: nothing to read back");
        assert_eq!(counted, expected, "{name}: {}", run.stdout);
    }
}

/// A Prometheus series of one sample is written with the range's step
/// (the smallest spacing of any series, NaN samples included: 30 s in the
/// fixture, whose other series skips a NaN); with no series of two
/// samples the step cannot be known, and the import refuses.
#[test]
fn a_one_sample_prometheus_series_gets_the_range_s_step_or_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("u.csv");
    let run = demandsim(
        &[
            "import",
            "prometheus",
            &fixture("import/prometheus.json"),
            "-o",
            out.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("1732265430.781,0.1,co2:9100,30\n"), "{text}");
    let one = dir.path().join("one.json");
    std::fs::write(
        &one,
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"instance":"a"},"values":[[1,"0.5"]]}]}}"#,
    )
    .unwrap();
    let run = demandsim(&["import", "prometheus", one.to_str().unwrap()], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("one.json")
            && run.stderr.contains("the sampling interval cannot be known"),
        "{}",
        run.stderr
    );
}
