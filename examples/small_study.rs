//! Runs a small study end to end with the library: two experiments built in
//! code (one from the shipped example trace: estimate → simulate → compare;
//! one from published numbers), then the HTML report into
//! `target/small-study/report.html`.
//!
//! `cargo run --release --example small_study`

use std::fs::File;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use demandsim::estimate::Method;
use demandsim::report::{Section, figures, html, summary_rows};
use demandsim::study::{
    EstimateSpec, Experiment, Files, Measured, ParamSource, Pick, RunSpec, Study, run,
};

/// Files relative to the repository root (the library opens nothing itself).
struct Repo(PathBuf);

impl Files for Repo {
    fn open(&self, path: &Path) -> std::io::Result<Box<dyn BufRead + Send + '_>> {
        let p = self.0.join(path);
        let named =
            |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", p.display()));
        let f = File::open(&p).map_err(named)?;
        demandsim::trace::decompress(f)
            .map_err(|e| std::io::Error::other(format!("{}: {e}", p.display())))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let from_traces = Experiment {
        name: "example-trace".into(),
        model: "models/qpn1-open.yaml".into(),
        requests: vec!["traces/example/requests.csv.gz".into()],
        utilization: vec!["traces/example/utilization.csv".into()],
        estimate_from: vec![],
        resources: vec![],
        servers: 8,
        containers: 1,
        estimate: Some(EstimateSpec {
            methods: Method::ALL.to_vec(),
            combine: vec![Method::Rort, Method::Rortu],
            bootstrap: 100,
            ..EstimateSpec::default()
        }),
        params: vec![
            (
                "arrival_rate".into(),
                ParamSource::Measured {
                    what: Measured::Throughput,
                    class: None,
                },
            ),
            (
                "demand".into(),
                ParamSource::Estimate {
                    pick: Pick::Combined,
                    class: None,
                    resource: None,
                },
            ),
        ],
        measured_mean_s: None,
        true_demand_s: None,
        truth: Some("traces/example/truth.json".into()),
        run: RunSpec::default(),
        probe: None,
        workload: None,
        class_column: None,
        metadata: None,
    };
    let published = Experiment {
        name: "ET1-published".into(),
        requests: vec![],
        utilization: vec![],
        estimate_from: vec![],
        servers: 12,
        estimate: None,
        params: vec![
            ("arrival_rate".into(), ParamSource::Value(6.242.into())),
            ("demand".into(), ParamSource::Value(0.997588333.into())),
        ],
        measured_mean_s: Some(0.904),
        truth: None,
        ..from_traces.clone()
    };
    let study = Study {
        name: "small".into(),
        description: "The example trace through the whole method, and ET1's published inputs."
            .into(),
        data: Some(demandsim::study::DataKind::Generated),
        seed: Some(7),
        experiments: vec![from_traces, published],
        validate: None,
    };
    let result = run(&study, &Repo(root.clone()), 7);
    let (header, rows) = summary_rows(&result, None);
    println!("{}", header.join(" | "));
    for r in rows {
        println!("{}", r.join(" | "));
    }
    for f in &result.failures {
        eprintln!("{} failed: {}", f.name, f.error);
    }
    let out = root.join("target/small-study");
    std::fs::create_dir_all(&out)?;
    let figs = figures(&result)?;
    std::fs::write(
        out.join("report.html"),
        html(
            "small study",
            &[Section {
                result: &result,
                validation: None,
                figures: figs,
            }],
        ),
    )?;
    println!("report: {}", out.join("report.html").display());
    Ok(())
}
