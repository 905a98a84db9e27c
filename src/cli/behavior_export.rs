//! `demandsim behavior export`: a behaviour model out as a runnable Locust
//! or k6 load test.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use demandsim::behavior::export::{ExportOptions, Target, export, parse_map};

use super::io::Output;

/// The load generators.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    /// A Locust file (a MarkovTaskSet per profile).
    Locust,
    /// A k6 script (a constant-vus scenario per profile).
    K6,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// A behaviour model (`behavior learn --format json|yaml`, or `import m4j`).
    #[arg(value_name = "BEHAVIOR.json")]
    behavior: PathBuf,
    /// The load generator.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// The system under test [default: http://localhost:8000].
    #[arg(long, value_name = "URL")]
    host: Option<String>,
    /// Each state's request, YAML `STATE: {method, path, body}` (`behavior
    /// learn --requests-map FILE` drafts one) [default: GET /<state>].
    #[arg(long, value_name = "FILE")]
    requests_map: Option<PathBuf>,
    /// k6's virtual users in all, shared by the profiles' weights
    /// [default: 10]; Locust takes its users on its command line.
    #[arg(long, value_name = "N")]
    users: Option<u64>,
    /// Write to FILE instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(a: ExportArgs) -> Result<()> {
    if let Some(0) = a.users {
        return Err(super::UsageError("--users must be at least 1".into()).into());
    }
    if matches!(a.format, ExportFormat::Locust) && a.users.is_some() {
        return Err(super::UsageError(
            "--users is k6's: Locust takes its users on its own command line (--users N)".into(),
        )
        .into());
    }
    let model = super::behavior::read_model(&a.behavior)?;
    let requests = match &a.requests_map {
        Some(p) => {
            let text = super::io::read_document(p)?;
            Some(parse_map(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    let options = ExportOptions {
        source: a.behavior.display().to_string(),
        host: a.host.clone(),
        requests,
        users: a.users,
    };
    let target = match a.format {
        ExportFormat::Locust => Target::Locust,
        ExportFormat::K6 => Target::K6,
    };
    let text =
        export(&model, target, &options).with_context(|| a.behavior.display().to_string())?;
    let mut out = Output::create(a.output.as_deref())?;
    out.write_all(text.as_bytes())?;
    out.commit()
}
