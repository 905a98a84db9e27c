//! `demandsim behavior`: user behaviour models from session logs.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use demandsim::behavior::{self, BehaviorModel, Grouping, Learner, Step};
use demandsim::trace::RequestReader;

use super::UsageError;
use super::io::{Output, open_input};
use super::table::{Table, num};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Learn Markov behaviour profiles from a trace with sessions.
    Learn(LearnArgs),
}

/// How `behavior learn` writes the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LearnFormat {
    /// The profiles and their chains, for people.
    #[default]
    Table,
    /// The model as JSON (states, profiles, transitions, think times).
    Json,
    /// Markov4JMeter behaviour CSVs (WESSBAS form) and a behaviour mix
    /// file, into the folder given by -o.
    M4j,
}

#[derive(Debug, clap::Args)]
pub struct LearnArgs {
    /// Canonical requests.csv with a `session` column (`-` for stdin;
    /// gzip is detected).
    #[arg(long, value_name = "FILE")]
    requests: PathBuf,
    /// Profiles: a number (k-means on the sessions' transition shares) or
    /// `auto` (k from 1 to 8 by the least BIC of the mixture of chains)
    /// [default: one profile].
    #[arg(long, value_name = "K|auto")]
    profiles: Option<String>,
    /// One profile per value of this column instead of clustering.
    #[arg(long, value_name = "COLUMN", value_parser = ["user_class"], conflicts_with = "profiles")]
    by: Option<String>,
    /// Seed of the clustering [default: drawn and printed].
    #[arg(long)]
    seed: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: LearnFormat,
    /// Write to FILE instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The most profiles `--profiles auto` tries.
const AUTO_MAX: usize = 8;

pub fn run(c: Command) -> Result<()> {
    match c {
        Command::Learn(a) => learn(a),
    }
}

fn grouping(a: &LearnArgs) -> Result<Grouping> {
    Ok(match (a.profiles.as_deref(), a.by.is_some()) {
        (_, true) => Grouping::UserClass,
        (None, false) => Grouping::One,
        (Some("auto"), false) => Grouping::Auto(AUTO_MAX),
        (Some(k), false) => match k.parse::<usize>() {
            Ok(0) | Err(_) => {
                return Err(UsageError(format!(
                    "--profiles takes a positive number or `auto`, not `{k}`"
                ))
                .into());
            }
            Ok(1) => Grouping::One,
            Ok(k) => Grouping::Clusters(k),
        },
    })
}

fn learn(a: LearnArgs) -> Result<()> {
    let grouping = grouping(&a)?;
    if a.format == LearnFormat::M4j && a.output.is_none() {
        return Err(UsageError("--format m4j writes a folder: give it with -o".into()).into());
    }
    let clustering = matches!(grouping, Grouping::Clusters(_) | Grouping::Auto(_));
    let seed = match clustering {
        true => super::simulate::seed_or_draw(a.seed),
        false => a.seed.unwrap_or(0),
    };
    let ctx = || a.requests.display().to_string();
    let mut reader = RequestReader::new(open_input(&a.requests)?).with_context(ctx)?;
    let origins = reader.origin_labels();
    if !origins.present[2] {
        anyhow::bail!(
            "{}: no `session` column: behaviour is learnt from sessions (the testbed's traces have one)",
            ctx()
        );
    }
    if grouping == Grouping::UserClass && !origins.present[0] {
        anyhow::bail!("{}: no `user_class` column to group by", ctx());
    }
    let mut learner = Learner::new(clustering);
    let mut without = 0u64;
    while let Some(r) = reader.next_request() {
        let r = r.with_context(ctx)?;
        let Some(session) = r.origin.session else {
            without += 1;
            continue;
        };
        let step = Step {
            session: session.0,
            user: r.origin.user.map(|u| u.0),
            group: (grouping == Grouping::UserClass)
                .then_some(r.origin.user_class.map(|g| g.0))
                .flatten(),
            state: r.class.0 as usize,
            start: r.start,
            end: r.start + r.response_time,
            line: reader.line(),
        };
        learner.push(step).with_context(ctx)?;
    }
    if without > 0 {
        log::warn!("{without} request(s) without a session left out");
    }
    let names = reader.classes().names().to_vec();
    let groups = reader.origin_labels().user_classes.names().to_vec();
    let model = behavior::model(learner, &names, &groups, grouping, seed).with_context(ctx)?;
    if let (LearnFormat::M4j, Some(dir)) = (a.format, a.output.as_deref()) {
        return write_m4j(dir, &model);
    }
    let mut out = Output::create(a.output.as_deref())?;
    match a.format {
        LearnFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &model)?;
            writeln!(out)?;
        }
        LearnFormat::Table => write_table(&mut out, &model)?,
        LearnFormat::M4j => unreachable!("written above"),
    }
    out.commit()
}

fn write_table(out: &mut Output, m: &BehaviorModel) -> Result<()> {
    writeln!(
        out,
        "{} sessions, {} request types; {}\n",
        m.sessions,
        m.states.len(),
        m.grouping
    )?;
    let mut t = Table::new([
        "profile",
        "share",
        "sessions",
        "requests/session",
        "mean session [s]",
    ]);
    for p in &m.profiles {
        t.row(vec![
            p.name.clone(),
            format!("{:.1} %", 100.0 * p.probability),
            p.sessions.to_string(),
            num(Some(p.requests_per_session)),
            num(Some(p.session_duration_s.mean)),
        ]);
    }
    out.write_all(t.render().as_bytes())?;
    for p in &m.profiles {
        writeln!(
            out,
            "\n{}: transitions (probability, count, mean think time)",
            p.name
        )?;
        let mut t = Table::new(["from", "to", "p", "count", "think [s]"]);
        for x in &p.transitions {
            t.row(vec![
                x.from.clone(),
                x.to.clone(),
                format!("{:.3}", x.probability),
                x.count.to_string(),
                num(x.think_mean_s),
            ]);
        }
        out.write_all(t.render().as_bytes())?;
    }
    Ok(())
}

/// One behaviour CSV per profile (`NAME.csv`) and `behaviormix.txt`.
fn write_m4j(dir: &std::path::Path, m: &BehaviorModel) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut mix = Vec::new();
    for p in &m.profiles {
        let file: String = p
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
            + ".csv";
        let mut bytes = Vec::new();
        behavior::m4j::write(&mut bytes, p, &m.states)?;
        Output::write_whole(&dir.join(&file), &bytes)?;
        mix.push((p.name.clone(), p.probability, file));
    }
    let mut bytes = Vec::new();
    behavior::m4j::write_mix(&mut bytes, &mix)?;
    Output::write_whole(&dir.join("behaviormix.txt"), &bytes)
}
