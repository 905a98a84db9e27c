//! Argument definitions and the commands behind them.

mod behavior;
mod behavior_export;
mod bind;
mod capacity;
mod classify;
mod compare;
mod estimate;
mod generate;
mod import;
mod inspect;
mod io;
mod plan;
mod qpe;
mod shard;
mod simulate;
mod solve;
pub mod staging;
mod study;
mod sweep;
mod table;
mod validate;
mod watch;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

/// A wrong combination of arguments (exit code 2, like clap's own).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Measurement-based performance modelling: traces in, resource demands
/// out, queueing Petri net simulation, comparison.
#[derive(Debug, Parser)]
#[command(name = "demandsim", version, about, max_term_width = 100)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// Output format of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Aligned text for people.
    #[default]
    Table,
    /// JSON for machines.
    Json,
    /// CSV for spreadsheets and scripts.
    Csv,
}

/// Where and how a command writes its data.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Write to FILE instead of stdout (atomically: whole or not at all).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutputArgs {
    /// Opens the output.
    pub fn create(&self) -> Result<io::Output> {
        io::Output::create(self.output.as_deref())
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Aggregate traces into intervals and summarise them.
    Inspect(inspect::Args),
    /// Convert a load tester's or monitor's file into a canonical trace.
    Import(import::Args),
    /// Write canonical traces in another tool's layout.
    Export(import::ExportArgs),
    /// Estimate per-request resource demands from traces.
    Estimate(estimate::Args),
    /// Simulate a queueing Petri net model.
    Simulate(simulate::Args),
    /// Solve a product-form model analytically (Erlang-C, MVA).
    Solve(solve::Args),
    /// Simulate a model and write ground-truth traces (requests,
    /// utilization, true demands).
    Generate(generate::Args),
    /// Compare measured response times with a simulation result.
    Compare(compare::Args),
    /// Run a study: estimation, simulation, analysis and comparison for
    /// every experiment of a YAML file, and a report.
    Study(study::Args),
    /// Run the shipped reference study (published inputs and replica
    /// traces) and write one report.
    Reproduce(study::ReproduceArgs),
    /// Solve a model over a grid of parameter values (what-if), with
    /// prediction bands from estimated demands; shardable.
    Sweep(sweep::Args),
    /// Put the shards of a sweep back together.
    Merge(sweep::MergeArgs),
    /// The largest load, or fewest servers, that meets a response-time
    /// objective.
    Capacity(capacity::Args),
    /// Predict every run of a study from a fit on the others: held-out
    /// errors, and prediction bands calibrated on them.
    Validate(validate::Args),
    /// From run directories to a capacity answer in one command: choices
    /// made and stated, every run predicted from a fit on the others, the
    /// answer with its prediction band.
    Plan(plan::Args),
    /// Follow growing request and utilization files: demands re-estimated
    /// over a sliding window, with drift alarms.
    Watch(watch::Args),
    /// User behaviour from session logs (Markov profiles).
    #[command(subcommand)]
    Behavior(behavior::Command),
}

pub fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => log::LevelFilter::Error,
        (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Info,
        (false, _) => log::LevelFilter::Debug,
    };
    env_logger::Builder::new()
        .filter_level(level)
        .format(|buf, record| {
            let level = match record.level() {
                log::Level::Error => "error",
                log::Level::Warn => "warning",
                log::Level::Info => "info",
                _ => "debug",
            };
            writeln!(buf, "{level}: {}", record.args())
        })
        .target(env_logger::Target::Stderr)
        .init();
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let done = |r: Result<()>| r.map(|()| ExitCode::SUCCESS);
    match cli.command {
        Command::Compare(a) => compare::run(a),
        Command::Watch(a) => watch::run(a),
        Command::Study(a) => study::run_cmd(a),
        Command::Reproduce(a) => study::reproduce(a),
        Command::Inspect(a) => done(inspect::run(a)),
        Command::Import(a) => done(import::run(a)),
        Command::Export(a) => done(import::export(a)),
        Command::Estimate(a) => done(estimate::run(a)),
        Command::Simulate(a) => done(simulate::run(a)),
        Command::Generate(a) => done(generate::run(a)),
        Command::Solve(a) => done(solve::run(a)),
        Command::Sweep(a) => done(sweep::run(a)),
        Command::Merge(a) => done(sweep::merge(a)),
        Command::Capacity(a) => done(capacity::run(a)),
        Command::Behavior(c) => done(behavior::run(c)),
        Command::Validate(a) => done(validate::run(a)),
        Command::Plan(a) => done(plan::run(a)),
    }
}

/// Rejects more than one `-` (stdin) among the inputs.
fn check_one_stdin<'a>(paths: impl IntoIterator<Item = &'a PathBuf>) -> Result<()> {
    if paths.into_iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(UsageError("standard input (`-`) can be read only once".into()).into());
    }
    Ok(())
}
