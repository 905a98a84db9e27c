//! `demandsim behavior classify`: each session of a trace labelled with
//! its most likely behaviour profile, the mix, and the scores against the
//! trace's own user classes when it has them.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use demandsim::behavior::classify::Options;
use demandsim::behavior::{
    self, BehaviorModel, Classification, Collector, GapSplitter, Observed, Scores, Step,
};
use demandsim::trace::{Columns, OriginLabels, Request, RequestReader, RequestRow, RequestWriter};

use super::io::{Output, open_input};
use super::table::Table;
use super::{Format, UsageError};

#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {
    /// The profiles: a behaviour model (`behavior learn --format json`, or
    /// `import m4j`).
    #[arg(value_name = "PROFILES.json")]
    profiles: PathBuf,
    /// Canonical requests.csv with a `session` or a `user` column (`-` for
    /// stdin; gzip is detected).
    #[arg(long, value_name = "FILE")]
    requests: PathBuf,
    /// Where the trace has users but no sessions: a user's pause longer
    /// than this starts a new session, seconds (the name `import
    /// access-log` uses) [default: 1800].
    #[arg(long, value_name = "SECONDS")]
    session_timeout: Option<f64>,
    /// A session whose first (last) request lies this close to the
    /// trace's start (end) is taken as cut by the trace, seconds [default:
    /// three times the profiles' mean think time, as `behavior learn`].
    #[arg(long, value_name = "SECONDS")]
    censor_window: Option<f64>,
    /// Score the think times too (each transition's fitted distribution),
    /// not only the chain. Off by default: on the testbed, whose user
    /// classes think alike, the fits' sampling noise cost 10–15 points of
    /// accuracy.
    #[arg(long)]
    think: bool,
    /// Label sessions with request types no profile knows `unknown`
    /// instead of refusing the trace.
    #[arg(long)]
    unknown: bool,
    /// Also write the trace with each request's `user_class` set to its
    /// session's profile (for `estimate --group-by user_class`, `behavior
    /// learn --by user_class`).
    #[arg(long, value_name = "OUT.csv")]
    label_trace: Option<PathBuf>,
    #[command(flatten)]
    out: super::OutputArgs,
}

/// The web-analytics session timeout, seconds.
const SESSION_TIMEOUT: f64 = 1800.0;

/// The trace read into sessions.
struct Read {
    sessions: Vec<Observed>,
    /// Per request, its session's index (`None`: no session or user).
    of_request: Vec<Option<u32>>,
    /// The requests, kept only for `--label-trace`.
    requests: Vec<Request>,
    names: Vec<String>,
    resources: Vec<String>,
    classes: Vec<String>,
    origins: OriginLabels,
    session_names: Vec<String>,
}

pub fn classify(a: ClassifyArgs) -> Result<()> {
    if let Some(g) = a.session_timeout
        && !(g > 0.0 && g.is_finite())
    {
        return Err(UsageError(format!(
            "--session-timeout must be a positive number of seconds, not {g}"
        ))
        .into());
    }
    if let Some(w) = a.censor_window
        && !(w >= 0.0 && w.is_finite())
    {
        return Err(UsageError(format!(
            "--censor-window must be a number of seconds ≥ 0, not {w}"
        ))
        .into());
    }
    let model = super::behavior::read_model(&a.profiles)?;
    if model.profiles.is_empty() {
        anyhow::bail!(
            "{}: {}",
            a.profiles.display(),
            behavior::ClassifyError::NoProfiles
        );
    }
    let read = read_sessions(&a)?;
    let opts = Options {
        think: a.think,
        censor_window_s: a.censor_window,
        unknown: a.unknown,
    };
    let ctx = || {
        format!(
            "{} with the profiles of {}",
            a.requests.display(),
            a.profiles.display()
        )
    };
    let c = behavior::classify(&model, &read.names, &read.sessions, &opts).with_context(ctx)?;
    let scores = score(&read, &c);
    if let Some(path) = a.label_trace.as_deref() {
        label_trace(path, &read, &c)?;
    }
    let mut out = Output::create(a.out.output.as_deref())?;
    match a.out.format {
        Format::Csv => write_csv(&mut out, &read, &c)?,
        Format::Json => write_json(&mut out, &read, &c, scores.as_ref())?,
        Format::Table => write_table(&mut out, &model, &c, scores.as_ref())?,
    }
    out.commit()
}

/// Reads the trace into sessions (cut at idle gaps where it has users but
/// no sessions).
fn read_sessions(a: &ClassifyArgs) -> Result<Read> {
    let ctx = || a.requests.display().to_string();
    let mut reader = RequestReader::new(open_input(&a.requests)?).with_context(ctx)?;
    let present = reader.origin_labels().present;
    let mut splitter = match (present[2], present[1]) {
        (true, _) => None,
        (false, true) => {
            let gap = a.session_timeout.unwrap_or(SESSION_TIMEOUT);
            log::info!(
                "no `session` column: each user's requests cut into sessions at pauses over {gap} s"
            );
            Some(GapSplitter::new(gap))
        }
        (false, false) => anyhow::bail!(
            "{}: no `session` and no `user` column: sessions cannot be told, so nothing is classified (a session id, or users whose requests can be cut at idle gaps, is needed)",
            ctx()
        ),
    };
    let keep = a.label_trace.is_some();
    let mut collector = Collector::new();
    let (mut of_request, mut requests, mut pushed, mut without) =
        (Vec::new(), Vec::new(), 0u32, 0u64);
    while let Some(r) = reader.next_request() {
        let r = r.with_context(ctx)?;
        let session = match (&mut splitter, r.origin.session, r.origin.user) {
            (None, Some(s), _) => Some(s.0),
            (Some(g), _, Some(u)) => Some(g.session(u.0, r.start, r.end())),
            _ => None,
        };
        if keep {
            requests.push(r);
        }
        let Some(session) = session else {
            without += 1;
            of_request.push(None);
            continue;
        };
        let step = Step {
            session,
            user: r.origin.user.map(|u| u.0),
            group: r.origin.user_class.map(|g| g.0),
            state: r.class.0 as usize,
            start: r.start,
            end: r.end(),
            line: reader.line(),
        };
        collector.push(step).with_context(ctx)?;
        of_request.push(Some(pushed));
        pushed += 1;
    }
    if without > 0 {
        log::warn!("{without} request(s) without a session (or user) left unlabelled");
    }
    let (sessions, index) = collector.finish();
    let of_request = of_request
        .into_iter()
        .map(|p| p.map(|i| index[i as usize]))
        .collect();
    let origins = reader.origin_labels().clone();
    let session_names = sessions
        .iter()
        .map(|s| match &splitter {
            None => origins
                .sessions
                .name(demandsim::trace::LabelId(s.id))
                .to_string(),
            Some(g) => {
                let (user, k) = g.name(s.id);
                format!(
                    "{}#{}",
                    origins.users.name(demandsim::trace::LabelId(user)),
                    k + 1
                )
            }
        })
        .collect();
    let names = reader.classes().names().to_vec();
    Ok(Read {
        resources: reader.resources().names().to_vec(),
        classes: origins.user_classes.names().to_vec(),
        sessions,
        of_request,
        requests,
        names,
        origins,
        session_names,
    })
}

/// The scores against the trace's user classes, when it has them.
fn score(read: &Read, c: &Classification) -> Option<Scores> {
    let outcomes: Vec<behavior::scores::Outcome> = read
        .sessions
        .iter()
        .zip(&c.sessions)
        .filter_map(|(s, l)| Some((s.truth? as usize, l.profile, l.requests as u64)))
        .collect();
    behavior::scores(&outcomes, &read.classes, &c.profiles)
}

fn label(c: &Classification, i: usize) -> &str {
    c.sessions[i]
        .profile
        .map_or("unknown", |p| c.profiles[p].as_str())
}

fn truth(read: &Read, i: usize) -> &str {
    read.sessions[i]
        .truth
        .map_or("", |t| read.classes[t as usize].as_str())
}

fn write_csv(out: &mut Output, read: &Read, c: &Classification) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "session",
        "profile",
        "probability",
        "requests",
        "censored",
        "user_class",
    ])?;
    for (i, l) in c.sessions.iter().enumerate() {
        w.write_record([
            read.session_names[i].as_str(),
            label(c, i),
            &format!("{:.6}", l.probability),
            &l.requests.to_string(),
            l.censored.as_str(),
            truth(read, i),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_json(
    out: &mut Output,
    read: &Read,
    c: &Classification,
    scores: Option<&Scores>,
) -> Result<()> {
    let sessions: Vec<serde_json::Value> = c
        .sessions
        .iter()
        .enumerate()
        .map(|(i, l)| {
            serde_json::json!({
                "session": read.session_names[i],
                "profile": label(c, i),
                "probability": l.probability.is_finite().then_some(l.probability),
                "requests": l.requests,
                "censored": l.censored,
                "user_class": read.sessions[i].truth.map(|_| truth(read, i)),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "sessions": sessions,
        "mix": c.mix,
        "censor_window_s": c.censor_window_s,
        "scores": scores,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}

fn write_table(
    out: &mut Output,
    model: &BehaviorModel,
    c: &Classification,
    scores: Option<&Scores>,
) -> Result<()> {
    let cut = c
        .sessions
        .iter()
        .filter(|l| l.censored != behavior::Censored::No)
        .count();
    let unknown = c.sessions.iter().filter(|l| l.profile.is_none()).count();
    writeln!(
        out,
        "{} sessions ({cut} cut by the trace's start or end, window {:.3} s; {unknown} unknown), {} profiles\n",
        c.sessions.len(),
        c.censor_window_s,
        model.profiles.len()
    )?;
    let mut t = Table::new([
        "profile",
        "sessions",
        "share",
        "95 % interval",
        "learnt share",
    ]);
    for (p, share) in c.mix.iter().enumerate() {
        let n = c.sessions.iter().filter(|l| l.profile == Some(p)).count();
        t.row(vec![
            share.profile.clone(),
            n.to_string(),
            format!("{:.1} %", 100.0 * share.share),
            format!("{:.1}–{:.1} %", 100.0 * share.low, 100.0 * share.high),
            format!("{:.1} %", 100.0 * model.profiles[p].probability),
        ]);
    }
    out.write_all(t.render().as_bytes())?;
    let Some(s) = scores else {
        return Ok(writeln!(out, "\nno `user_class` in the trace: no scores")?);
    };
    writeln!(
        out,
        "\nagainst the trace's user classes: request accuracy {:.1} %, session accuracy {:.1} %, macro F1 {:.3}, micro F1 {:.3}",
        100.0 * s.request_accuracy,
        100.0 * s.session_accuracy,
        s.macro_f1,
        s.micro_f1
    )?;
    let mut t = Table::new(["class", "precision", "recall", "F1", "requests"]);
    for k in &s.per_class {
        t.row(vec![
            k.class.clone(),
            format!("{:.3}", k.precision),
            format!("{:.3}", k.recall),
            format!("{:.3}", k.f1),
            k.support.to_string(),
        ]);
    }
    out.write_all(t.render().as_bytes())?;
    writeln!(
        out,
        "\nconfusion (requests; rows: the trace's class, columns: the label)"
    )?;
    let header = std::iter::once("class".to_string()).chain(s.confusion.labels.iter().cloned());
    let mut t = Table::new(header);
    for (k, row) in s.per_class.iter().zip(&s.confusion.counts) {
        t.row(
            std::iter::once(k.class.clone())
                .chain(row.iter().map(u64::to_string))
                .collect(),
        );
    }
    out.write_all(t.render().as_bytes())?;
    Ok(())
}

/// The trace again, each request's `user_class` its session's label (and
/// its session the split one where sessions were cut at gaps).
fn label_trace(path: &std::path::Path, read: &Read, c: &Classification) -> Result<()> {
    let mut out = Output::create(Some(path))?;
    let columns = Columns {
        resource: !read.requests.iter().all(|r| r.resource.is_none()),
        origin: true,
    };
    let mut w = RequestWriter::new(&mut out, columns)?;
    let labels = &read.origins;
    for (r, s) in read.requests.iter().zip(&read.of_request) {
        let s = s.map(|i| i as usize);
        w.write_row(&RequestRow {
            start: r.start,
            response_time: r.response_time,
            class: &read.names[r.class.0 as usize],
            success: r.success,
            resource: r.resource.map(|x| read.resources[x.0 as usize].as_str()),
            user_class: s.map(|i| label(c, i)),
            user: r.origin.user.map(|u| labels.users.name(u)),
            session: s.map(|i| read.session_names[i].as_str()),
        })?;
    }
    w.finish()?;
    out.commit()
        .with_context(|| format!("cannot write {}", path.display()))
}
