//! `import qpe` and `export qpe`: QPME models to and from model files.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use demandsim::qpe::{self, TimeUnit};

use super::io::Output;
use super::simulate::{ModelArgs, load_model};

/// Imports `path` (a `.qpe`, `-` for stdin) as a model file at `output`
/// (stdout by default); the model is built once before it is written.
pub fn import(path: &Path, output: Option<&Path>, unit: Option<TimeUnit>) -> Result<()> {
    let mut xml = String::new();
    super::io::open_document(path)?
        .read_to_string(&mut xml)
        .with_context(|| format!("{}: cannot read it as text", path.display()))?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| *s != "-")
        .unwrap_or("qpme");
    if unit.is_none() {
        log::warn!(
            "{}: QPME's times have no unit; read as seconds (QPME's shipped examples are in \
             milliseconds: pass --time-unit ms)",
            path.display()
        );
    }
    // The import builds the model once, so a file demandsim cannot run is
    // never written; a refusal names the .qpe's element and line.
    let imported = qpe::import(&xml, name, unit.unwrap_or_default())
        .with_context(|| path.display().to_string())?;
    let yaml = imported.yaml();
    for note in &imported.notes {
        log::info!("{}: {note}", path.display());
    }
    for what in &imported.left_out {
        log::warn!("{}: {what}", path.display());
    }
    let mut out = Output::create(output)?;
    out.write_all(yaml.as_bytes())?;
    out.commit()
}

/// Exports a model file (with its `--set` values) as QPME XML.
pub fn export(model: &ModelArgs, output: Option<&Path>) -> Result<()> {
    let m = load_model(model)?;
    let xml = qpe::export(&m).with_context(|| model.model.display().to_string())?;
    let mut out = Output::create(output)?;
    out.write_all(xml.as_bytes())?;
    out.commit()
}
