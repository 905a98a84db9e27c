//! `demandsim study` and `demandsim reproduce`.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use demandsim::report::{Section, class_rows, figures, html, json, summary_rows};
use demandsim::study::{Files, OneOrSeveral, Study, StudyResult, StudySummary, run_shard};
use demandsim::study_file::load_study;
use demandsim::validate::{Validation, validate_after};

use super::io::{Output, open_input};
use super::table::Table;
use super::{Format, UsageError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Study file (YAML; see traces/reference/study.yaml).
    #[arg(value_name = "STUDY.yaml")]
    study: PathBuf,
    /// Folder for report.html, results.json and the plots (SVG).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Random seed [default: the study's, or drawn and printed].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Only experiment shard I of N (those whose place in the file is I − 1
    /// modulo N), for `--format json`; `demandsim merge` puts the shards
    /// back together.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    #[command(flatten)]
    output: super::OutputArgs,
}

#[derive(Debug, clap::Args)]
pub struct ReproduceArgs {
    /// Folder for report.html, results.json and the plots (SVG).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The shipped traces folder (holding reference/ and replica/)
    /// [default: ./traces, else the source tree's].
    #[arg(long, value_name = "DIR")]
    traces: Option<PathBuf>,
    /// Random seed [default: each study's].
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    output: super::OutputArgs,
}

/// Files named by a study, relative to the study file's folder.
pub(super) struct StudyFiles {
    pub(super) base: PathBuf,
}

impl Files for StudyFiles {
    fn open(&self, path: &Path) -> std::io::Result<Box<dyn BufRead + Send + '_>> {
        open_input(&self.base.join(path)).map_err(|e| std::io::Error::other(format!("{e:#}")))
    }

    fn read_to_string(&self, path: &Path) -> std::io::Result<String> {
        super::io::read_text(&self.base.join(path)).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
        })
    }
}

pub(super) fn load(path: &Path) -> Result<Study> {
    let text = super::io::read_document(path)?;
    load_study(&text).with_context(|| path.display().to_string())
}

/// A study's results and, when it has a `validate:` section, its
/// validation.
struct Done {
    result: StudyResult,
    validation: Option<Validation>,
}

fn run_study(path: &Path, seed: Option<u64>) -> Result<Done> {
    Ok(run_study_shard(path, seed, None)?.0)
}

/// The study's results (of `shard`'s experiments only, when given; a whole
/// study with a `validate:` section validated too) and how many
/// experiments the whole study file has.
fn run_study_shard(
    path: &Path,
    seed: Option<u64>,
    shard: Option<demandsim::sweep::Shard>,
) -> Result<(Done, usize)> {
    let study = load(path)?;
    let seed = match seed.or(study.seed) {
        Some(s) => s,
        None => super::simulate::seed_or_draw(None),
    };
    let files = StudyFiles {
        base: path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let t0 = std::time::Instant::now();
    let r = run_shard(&study, &files, seed, shard.map(|s| (s.index, s.of)));
    log::info!(
        "study {}: {} experiment(s) in {:.2} s, seed {seed}",
        r.name,
        study.experiments.len(),
        t0.elapsed().as_secs_f64()
    );
    for f in &r.failures {
        log::error!("experiment {}: {}", f.name, f.error);
    }
    let validation = match (&study.validate, shard) {
        (Some(spec), None) => {
            let t0 = std::time::Instant::now();
            let v = validate_after(&study, &files, seed, spec, Some(&r))
                .with_context(|| format!("{}: validate", path.display()))?;
            log::info!(
                "study {}: validated ({} runs predicted from fits on the others) in {:.2} s",
                r.name,
                v.runs.len(),
                t0.elapsed().as_secs_f64()
            );
            Some(v)
        }
        _ => None,
    };
    let done = Done {
        result: r,
        validation,
    };
    Ok((done, study.experiments.len()))
}

pub fn run_cmd(a: Args) -> Result<ExitCode> {
    super::simulate::set_threads(a.threads)?;
    let shard = match &a.shard {
        Some(s) => {
            if a.out.is_some() || a.output.format != Format::Json {
                return Err(UsageError(
                    "--shard writes --format json parts for `demandsim merge`; the report needs the whole study (no --out)".into(),
                )
                .into());
            }
            Some(
                demandsim::sweep::Shard::parse(s)
                    .map_err(|e| UsageError(format!("--shard: {e}")))?,
            )
        }
        None => None,
    };
    // The file is read once: the count for the shard marks comes with it.
    let (r, total) = run_study_shard(&a.study, a.seed, shard)?;
    let studies = [r];
    if let Some(dir) = &a.out {
        write_report(dir, &studies[0].result.name, &studies)?;
    }
    let study_file = match shard {
        Some(_) => Some(super::shard::file_fingerprint(&a.study)?),
        None => None,
    };
    print(&a.output, &studies, shard.map(|s| (s, total)), study_file)?;
    Ok(exit_code(&studies))
}

pub fn reproduce(a: ReproduceArgs) -> Result<ExitCode> {
    super::simulate::set_threads(a.threads)?;
    let root = match &a.traces {
        Some(t) => t.clone(),
        None if Path::new("traces/reference/study.yaml").exists() => PathBuf::from("traces"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("traces"),
    };
    // Published numbers, generated replicas, and the testbed's real
    // measurements; each study's report says which it is.
    let paths = [
        root.join("reference/study.yaml"),
        root.join("replica/study.yaml"),
        root.join("real/study.yaml"),
    ];
    for p in &paths {
        if !p.exists() {
            return Err(UsageError(format!(
                "{} not found: run from the source tree or give --traces DIR",
                p.display()
            ))
            .into());
        }
    }
    let studies = paths
        .iter()
        .map(|p| run_study(p, a.seed))
        .collect::<Result<Vec<_>>>()?;
    if let Some(dir) = &a.out {
        write_report(
            dir,
            "demandsim reproduce: the reference study, its replicas and a real system",
            &studies,
        )?;
    }
    print(&a.output, &studies, None, None)?;
    Ok(exit_code(&studies))
}

fn exit_code(studies: &[Done]) -> ExitCode {
    if studies.iter().any(|s| !s.result.failures.is_empty()) {
        eprintln!("error: some experiments failed (see above); the others are reported");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A shard of a study run, and how many experiments the whole study has.
type ShardOf = (demandsim::sweep::Shard, usize);

/// The results as `o` asks; a shard's JSON marks the study file's
/// fingerprint (`study_file`) for `merge` to check.
fn print(
    o: &super::OutputArgs,
    studies: &[Done],
    shard: Option<ShardOf>,
    study_file: Option<String>,
) -> Result<()> {
    let mut out = o.create()?;
    match o.format {
        Format::Json => {
            let mut doc: Vec<StudySummary> = studies
                .iter()
                .map(|s| StudySummary::new(&s.result, shard))
                .collect();
            for mark in doc.iter_mut().filter_map(|s| s.shard.as_mut()) {
                mark.study_file.clone_from(&study_file);
            }
            out.write_all(&json(&OneOrSeveral::of(&doc))?)?;
        }
        Format::Csv => write_csv(&mut out, studies)?,
        Format::Table => write!(out, "{}", render(studies))?,
    }
    out.commit()
}

fn write_csv(out: &mut impl Write, studies: &[Done]) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "study",
        "experiment",
        "model",
        "demand_s",
        "simulated_s",
        "simulated_ci_half_width_s",
        "analytic_s",
        "measured_s",
        "error_pct",
        "analytic_error_pct",
    ])?;
    let o = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for s in studies.iter().map(|d| &d.result) {
        for e in &s.experiments {
            w.write_record([
                s.name.as_str(),
                &e.name,
                &e.model,
                &o(e.demand_s),
                &o(e.simulated_s),
                &o(e.simulated.ci_half_width_s),
                &o(e.analytic_s),
                &o(e.measured_s),
                &o(e.error_pct),
                &o(e.analytic_error_pct),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// The studies as tables, warnings and failures after each.
fn render(studies: &[Done]) -> String {
    let mut out = String::new();
    let table = |(header, rows): (Vec<&str>, Vec<Vec<String>>)| {
        let mut t = Table::new(header);
        for r in rows {
            t.row(r);
        }
        t.render()
    };
    for d in studies {
        let s = &d.result;
        out += &format!("study {} (seed {})\n", s.name, s.seed);
        if let Some(d) = s.data {
            out += &format!("data: {}\n", d.describe());
        }
        out += &table(summary_rows(s, d.validation.as_ref()));
        if let Some(v) = &d.validation {
            out += &bands_line(v);
        }
        let classes = class_rows(s);
        if !classes.1.is_empty() {
            out += "\nper request class:\n";
            out += &table(classes);
        }
        for e in &s.experiments {
            for w in &e.warnings {
                out += &format!("warning {}: {w}\n", e.name);
            }
        }
        for f in &s.failures {
            out += &format!("FAILED {}: {}\n", f.name, f.error);
        }
        out.push('\n');
    }
    out += "error % = (measured − simulated) / measured × 100; demand error = (true − estimated) / true × 100\n";
    out
}

/// How often a study's prediction bands covered its runs, in one line.
fn bands_line(v: &Validation) -> String {
    match (v.coverage, v.nominal) {
        (Some(_), Some(n)) => format!(
            "prediction bands (calibrated on the study's held-out runs): the measured mean inside in {} of {} runs, {:.0} % stated\n",
            v.covered,
            v.with_band,
            100.0 * n
        ),
        _ => "prediction bands: none (too few held-out runs)\n".into(),
    }
}

/// Writes report.html, results.json (and validation.json for a validated
/// study) and every plot into `dir`, each file atomically.
fn write_report(dir: &Path, title: &str, studies: &[Done]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let several = studies.len() > 1;
    let mut parts: Vec<Section> = Vec::new();
    for d in studies {
        let s = &d.result;
        let mut figs = figures(s)?;
        if several {
            for f in &mut figs {
                f.stem = format!("{}-{}", demandsim::report::file_stem(&s.name), f.stem);
            }
        }
        for f in &figs {
            Output::write_whole(&dir.join(format!("{}.svg", f.stem)), f.svg.as_bytes())?;
            #[cfg(feature = "png")]
            Output::write_whole(
                &dir.join(format!("{}.png", f.stem)),
                &demandsim::report::png::render(&f.svg)?,
            )?;
        }
        if let Some(v) = &d.validation {
            let name = if several {
                format!("{}-validation.json", demandsim::report::file_stem(&s.name))
            } else {
                "validation.json".into()
            };
            Output::write_whole(&dir.join(name), &json(v)?)?;
        }
        parts.push(Section {
            result: s,
            validation: d.validation.as_ref(),
            figures: figs,
        });
    }
    let results: Vec<&StudyResult> = studies.iter().map(|d| &d.result).collect();
    Output::write_whole(
        &dir.join("results.json"),
        &json(&OneOrSeveral::of(&results))?,
    )?;
    Output::write_whole(&dir.join("report.html"), html(title, &parts).as_bytes())?;
    log::info!("report written to {}", dir.join("report.html").display());
    Ok(())
}
