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
    /// Write a closed QPN model of a behaviour model: users, think times,
    /// per-class demands at each resource, class switching by the chain.
    Model(ModelArgs),
    /// Write a runnable load test (Locust or k6) of a behaviour model: a
    /// user class per profile, its chain, its think times.
    Export(super::behavior_export::ExportArgs),
    /// Label each session of a trace with its most likely profile; the
    /// behaviour mix; scores against the trace's user classes.
    Classify(super::classify::ClassifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// A behaviour model (`behavior learn --format json|yaml`, or `import m4j`).
    #[arg(value_name = "BEHAVIOR.json")]
    behavior: PathBuf,
    /// Users; each new session picks its profile by the behaviour mix.
    #[arg(long, value_name = "N", required_unless_present = "users_per_profile")]
    users: Option<u64>,
    /// Users per profile: N,N,… in the model's profile order, or
    /// PROFILE=N,… (a profile not named has none); each user stays with
    /// its profile.
    #[arg(
        long,
        value_name = "N,…|PROFILE=N,…",
        value_delimiter = ',',
        conflicts_with = "users"
    )]
    users_per_profile: Option<Vec<String>>,
    /// Demands: `estimate --format json` output (its resource, the
    /// recommended method or --estimate-method) or a CSV `class,resource,demand_s`.
    /// Repeat for several resources.
    #[arg(long, value_name = "FILE", required = true)]
    demands: Vec<PathBuf>,
    /// The method whose estimates a JSON demands file gives [default: its
    /// recommended one].
    #[arg(long, value_name = "METHOD")]
    estimate_method: Option<String>,
    /// Only these resources of the demands, in this order (repeatable)
    /// [default: all, in the order given].
    #[arg(long, value_name = "NAME")]
    resource: Vec<String>,
    /// Servers (CPUs) of a resource, RESOURCE=N (repeatable) [default: 1].
    #[arg(long, value_name = "RESOURCE=N")]
    servers: Vec<String>,
    /// Think times: learnt (the chain's, per request type), exponential or
    /// deterministic (with the learnt means), or a number of seconds (an
    /// exponential mean for every request).
    #[arg(long, value_name = "DIST", default_value = "learnt")]
    think: String,
    /// Mean time between a user's sessions, seconds [default: --think's
    /// number of seconds, else the learnt mean think time].
    #[arg(long, value_name = "SECONDS")]
    session_gap: Option<f64>,
    /// The model's name.
    #[arg(long, default_value = "behavior")]
    name: String,
    /// Write to FILE instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// How `behavior learn` writes the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LearnFormat {
    /// The profiles and their chains, for people.
    #[default]
    Table,
    /// The model as JSON (states, profiles, transitions, think times).
    Json,
    /// The same as YAML.
    Yaml,
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
    /// Sessions cut by the trace's start or end: within this many seconds
    /// of either, a session's entry (exit) is not counted; `auto`: three
    /// mean think times; `off`: every session enters and exits [default:
    /// auto with --profiles, off otherwise, so that the visits equal the
    /// log's request shares].
    #[arg(long, value_name = "SECONDS|auto|off")]
    censor_window: Option<String>,
    /// Seed of the clustering [default: drawn and printed].
    #[arg(long)]
    seed: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: LearnFormat,
    /// Write to FILE instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also draft each state's request for `behavior export` into FILE
    /// (YAML to edit: `STATE: {method, path}` from the state names).
    #[arg(long, value_name = "FILE")]
    requests_map: Option<PathBuf>,
}

/// The most profiles `--profiles auto` tries.
const AUTO_MAX: usize = 8;

pub fn run(c: Command) -> Result<()> {
    match c {
        Command::Learn(a) => learn(a),
        Command::Model(a) => model(a),
        Command::Export(a) => super::behavior_export::run(a),
        Command::Classify(a) => super::classify::classify(a),
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
    match (a.censor_window.as_deref(), clustering) {
        (Some("off"), _) | (None, false) => {}
        (Some("auto"), _) | (None, true) => learner = learner.censoring(None),
        (Some(w), _) => match w.parse::<f64>() {
            Ok(w) if w >= 0.0 && w.is_finite() => learner = learner.censoring(Some(w)),
            _ => {
                return Err(UsageError(format!(
                    "--censor-window takes seconds ≥ 0, `auto` or `off`, not `{w}`"
                ))
                .into());
            }
        },
    }
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
    if let Some(p) = &a.requests_map {
        let draft = behavior::export::draft_map(&model.states);
        Output::write_whole(p, draft.as_bytes())?;
        log::info!(
            "requests map drafted in {} (edit it for `behavior export`)",
            p.display()
        );
    }
    if let (LearnFormat::M4j, Some(dir)) = (a.format, a.output.as_deref()) {
        return write_m4j(dir, &model);
    }
    let mut out = Output::create(a.output.as_deref())?;
    match a.format {
        LearnFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &model)?;
            writeln!(out)?;
        }
        LearnFormat::Yaml => out.write_all(serde_saphyr::to_string(&model)?.as_bytes())?,
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

fn model(a: ModelArgs) -> Result<()> {
    use demandsim::behavior::to_qpn::{ModelOptions, ThinkTimes, Users, to_qpn};
    let think = match a.think.as_str() {
        "learnt" => ThinkTimes::Learnt,
        "exponential" => ThinkTimes::Exponential,
        "deterministic" => ThinkTimes::Deterministic,
        x => match x.parse::<f64>() {
            Ok(m) if m > 0.0 && m.is_finite() => ThinkTimes::Mean(m),
            _ => {
                return Err(UsageError(format!(
                    "--think takes learnt, exponential, deterministic or a positive number of seconds, not `{x}`"
                ))
                .into());
            }
        },
    };
    if let Some(g) = a.session_gap
        && !(g > 0.0 && g.is_finite())
    {
        return Err(UsageError(format!(
            "--session-gap must be a positive number of seconds, not {g}"
        ))
        .into());
    }
    let users = match (a.users, a.users_per_profile.as_deref()) {
        (Some(n), _) => Users::Mixed(n),
        (None, Some(v)) => users_per_profile(v)?,
        (None, None) => unreachable!("clap requires one"),
    };
    let mut servers = std::collections::BTreeMap::new();
    for spec in &a.servers {
        let parsed = spec
            .split_once('=')
            .and_then(|(r, n)| Some((r.to_string(), n.parse::<u64>().ok().filter(|&n| n > 0)?)));
        let Some((r, n)) = parsed else {
            return Err(
                UsageError(format!("--servers {spec}: expected RESOURCE=N with N ≥ 1")).into(),
            );
        };
        servers.insert(r, n);
    }
    let ctx = || a.behavior.display().to_string();
    let behavior = read_model(&a.behavior)?;
    let demands = read_demands(&a)?;
    // A given mean think time is also the gap between sessions, unless one
    // is given (a model imported from Markov4JMeter has no learnt think
    // time to default to).
    let session_gap_s = a.session_gap.or(match think {
        ThinkTimes::Mean(m) => Some(m),
        _ => None,
    });
    let options = ModelOptions {
        users,
        think,
        session_gap_s,
        servers,
        name: a.name.clone(),
    };
    let generated = to_qpn(&behavior, &demands, &options).with_context(ctx)?;
    let mut out = Output::create(a.output.as_deref())?;
    out.write_all(generated.yaml().as_bytes())?;
    out.commit()
}

/// A behaviour model file, JSON or YAML.
pub(super) fn read_model(path: &std::path::Path) -> Result<BehaviorModel> {
    let text = super::io::read_document(path)?;
    let json = text.trim_start().starts_with('{');
    if !json
        && text
            .lines()
            .next()
            .is_some_and(|l| l.contains(",\"INITIAL\""))
    {
        anyhow::bail!(
            "{}: a Markov4JMeter behaviour CSV, not a behaviour model: `demandsim import m4j` turns it (with its mix file) into one",
            path.display()
        );
    }
    let parsed = match json {
        true => serde_json::from_str(&text).map_err(anyhow::Error::from),
        // The parser's first line says where and what; the rest quotes
        // the file back in its own terms.
        false => serde_saphyr::from_str(&text).map_err(|e| {
            let m = e.to_string();
            anyhow::anyhow!(
                "{}",
                m.lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
            )
        }),
    };
    parsed.with_context(|| {
        format!(
            "{}: not a behaviour model (the JSON of `behavior learn --format json` or `import m4j`)",
            path.display()
        )
    })
}

/// `N,N,…` or `PROFILE=N,…`.
fn users_per_profile(items: &[String]) -> Result<demandsim::behavior::to_qpn::Users> {
    use demandsim::behavior::to_qpn::Users;
    let bad = |s: &str| {
        UsageError(format!(
            "--users-per-profile: `{s}` is not a count; expected N,N,… or PROFILE=N,…"
        ))
    };
    if items.iter().all(|s| s.contains('=')) {
        let named = items
            .iter()
            .map(|s| {
                let (name, n) = s.split_once('=').unwrap();
                Ok((name.to_string(), n.parse::<u64>().map_err(|_| bad(s))?))
            })
            .collect::<Result<_, UsageError>>()?;
        return Ok(Users::Named(named));
    }
    let counts = items
        .iter()
        .map(|s| s.parse::<u64>().map_err(|_| bad(s)))
        .collect::<Result<_, _>>()?;
    Ok(Users::PerProfile(counts))
}

/// The demands files, restricted to `--resource` where given.
fn read_demands(a: &ModelArgs) -> Result<demandsim::behavior::to_qpn::Demands> {
    let mut all: Vec<(String, String, f64)> = Vec::new();
    for f in &a.demands {
        let text = super::io::read_document(f)?;
        let rows = if text.trim_start().starts_with('{') {
            demands_json(&text, a.estimate_method.as_deref())
        } else {
            demands_csv(&text)
        };
        all.extend(rows.with_context(|| f.display().to_string())?);
    }
    let order: Vec<String> = if a.resource.is_empty() {
        let mut seen: Vec<String> = Vec::new();
        for (_, r, _) in &all {
            if !seen.contains(r) {
                seen.push(r.clone());
            }
        }
        seen
    } else {
        for r in &a.resource {
            if !all.iter().any(|(_, x, _)| x == r) {
                return Err(UsageError(format!(
                    "--resource {r}: no demands of that resource in the files given"
                ))
                .into());
            }
        }
        a.resource.clone()
    };
    let mut d = demandsim::behavior::to_qpn::Demands::new();
    for r in &order {
        for (c, _, s) in all.iter().filter(|(_, x, _)| x == r) {
            d.insert(c, r, *s);
        }
    }
    Ok(d)
}

/// `estimate --format json`: (class, its resource, demand) of one method.
fn demands_json(text: &str, method: Option<&str>) -> Result<Vec<(String, String, f64)>> {
    let doc = super::io::EstimatesJson::parse(text)?;
    let resource = doc
        .resource
        .as_deref()
        .context("not the JSON of `estimate --format json` (no `resource`)")?;
    let method = doc.method(method)?;
    let rows: Vec<_> = doc
        .demands(&method)
        .map(|(class, d)| (class.to_string(), resource.to_string(), d))
        .collect();
    if rows.is_empty() {
        anyhow::bail!("no `{method}` estimates");
    }
    Ok(rows)
}

/// `class,resource,demand_s` with a header.
fn demands_csv(text: &str) -> Result<Vec<(String, String, f64)>> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = r.headers()?.iter().map(str::to_string).collect();
    if header != ["class", "resource", "demand_s"] {
        anyhow::bail!(
            "line 1: expected the header `class,resource,demand_s`, found `{}`",
            header.join(",")
        );
    }
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = rec.with_context(|| format!("line {line}"))?;
        let demand = rec[2]
            .parse::<f64>()
            .ok()
            .filter(|d| *d >= 0.0 && d.is_finite())
            .with_context(|| {
                format!(
                    "line {line}: demand_s must be a number of seconds ≥ 0, found `{}`",
                    &rec[2]
                )
            })?;
        rows.push((rec[0].to_string(), rec[1].to_string(), demand));
    }
    Ok(rows)
}
