//! The imported model built once before it is handed out, and a refusal
//! pointed back at the `.qpe`: the element (tag, id, name) and its line
//! in the file, never a line or a quotation of the model file it was
//! translated into.

use super::read::{QpeError, QpeNet, Src};
use crate::model::{ModelError, Params, Stability, Template};

/// Builds the model file `yaml` that `net` was translated into.
///
/// # Errors
/// Why it does not build, at the element of `net` it comes from.
pub(super) fn check(yaml: &str, net: &QpeNet) -> Result<(), QpeError> {
    let no_files = |_: &str| Err(std::io::ErrorKind::NotFound.into());
    Template::parse(yaml, &no_files)
        .and_then(|t| t.instantiate(&Params::new(), Stability::Allow))
        .map(|_| ())
        .map_err(|e| refusal(&e, yaml, net))
}

/// `e`, refused at the element it comes from where one can be named.
fn refusal(e: &ModelError, yaml: &str, net: &QpeNet) -> QpeError {
    match e {
        ModelError::At { line, message, .. } => match element_at(yaml, *line, message, net) {
            Some((src, name)) => src.refuse(name, without_name(message, name)),
            None => QpeError::Model(message.clone()),
        },
        // The colour reference with the most tokens.
        ModelError::TooManyTokens { .. } => net
            .places
            .iter()
            .flat_map(|p| &p.refs)
            .max_by_key(|r| r.initial)
            .map_or_else(
                || QpeError::Model(e.to_string()),
                |r| r.src.refuse("", e.to_string()),
            ),
        // The parser's message quotes the translation: its reason only.
        ModelError::Yaml { message } => QpeError::Model(reason(message).to_string()),
        other => QpeError::Model(other.to_string()),
    }
}

/// The element of `net` that line `line` of its translation `yaml`
/// writes, and its name: the entry of `places:`, `transitions:` (or one
/// of its modes), `probes:` or `queues:` the line is in, and for a place's
/// `queue:` or `servers:` the place's queue, for a mode's line whose
/// `message` names its transition the transition.
fn element_at<'n>(
    yaml: &str,
    line: u64,
    message: &str,
    net: &'n QpeNet,
) -> Option<(&'n Src, &'n str)> {
    let upto: Vec<&str> = yaml
        .lines()
        .take(usize::try_from(line).ok()?)
        .collect();
    let top = upto
        .iter()
        .rposition(|l| !l.is_empty() && !l.starts_with([' ', '-']))?;
    let body = &upto[top + 1..];
    let is_entry = |l: &str| l.starts_with("  ") && !l[2..].starts_with([' ', '-']);
    let entry = body.iter().filter(|l| is_entry(l)).count().checked_sub(1)?;
    let within = &body[body.iter().rposition(|l| is_entry(l))?..];
    let last = within.last()?.trim_start();
    match upto[top] {
        "places:" => {
            let p = net.places.get(entry)?;
            match p.queue {
                Some(q) if last.starts_with("queue:") || last.starts_with("servers:") => {
                    let q = net.queues.get(q)?;
                    Some((&q.src, q.name.as_str()))
                }
                _ => Some((&p.src, p.name.as_str())),
            }
        }
        "transitions:" => {
            let t = net.transitions.get(entry)?;
            let modes = within.iter().filter(|l| l.starts_with("    - ")).count();
            let whole = message.starts_with(&format!("transition `{}`", t.name));
            match modes.checked_sub(1).filter(|_| !whole) {
                Some(m) => t.modes.get(m).map(|m| (&m.src, m.name.as_str())),
                None => Some((&t.src, t.name.as_str())),
            }
        }
        "probes:" => net.probes.get(entry).map(|p| (&p.src, p.name.as_str())),
        "queues:" => {
            // The queues several places name, in the file's order.
            let mut shared = net.queues.iter().enumerate().filter(|(q, _)| {
                net.places.iter().filter(|p| p.queue == Some(*q)).count() > 1
            });
            let (_, q) = shared.nth(entry)?;
            Some((&q.src, q.name.as_str()))
        }
        _ => None,
    }
}

/// `message` without a leading "place `NAME`: " when it names `name`
/// (the refusal names the element already).
fn without_name<'m>(message: &'m str, name: &str) -> &'m str {
    match message.split_once(&format!("`{name}`: ")) {
        Some((kind, rest)) if !kind.trim_end().contains(' ') => rest,
        _ => message,
    }
}

/// The reason in a YAML parser's message, without its location and
/// quotation: the first line after `line L column C: `.
fn reason(message: &str) -> &str {
    let first = message.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    match first.split_once(": ") {
        Some((at, rest)) if at.starts_with("line ") => rest,
        _ => first,
    }
}
