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
    let upto: Vec<&str> = yaml.lines().take(usize::try_from(line).ok()?).collect();
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
            let mut shared = net
                .queues
                .iter()
                .enumerate()
                .filter(|(q, _)| net.places.iter().filter(|p| p.queue == Some(*q)).count() > 1);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two places sharing queue "CPU", a transition of two modes, a probe.
    const XML: &str = r#"<?xml version="1.0"?>
<net qpme-version="2.1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <colors><color id="c1" name="job"/></colors>
  <queues><queue id="q1" name="CPU" number-of-servers="2" strategy="FCFS"/></queues>
  <places>
    <place id="p1" name="A" queue-ref="q1" departure-discipline="NORMAL" xsi:type="queueing-place">
      <color-refs><color-ref id="r1" color-id="c1" initial-population="1" distribution-function="Exponential" lambda="2"/></color-refs>
    </place>
    <place id="p2" name="B" queue-ref="q1" departure-discipline="NORMAL" xsi:type="queueing-place">
      <color-refs><color-ref id="r2" color-id="c1" initial-population="1" distribution-function="Exponential" lambda="2"/></color-refs>
    </place>
  </places>
  <transitions>
    <transition id="t1" name="swap" weight="1" xsi:type="immediate-transition">
      <modes><mode id="m1" name="ab" firing-weight="1"/><mode id="m2" name="ba" firing-weight="1"/></modes>
      <connections><connection id="k1" source-id="r1" target-id="m1"/><connection id="k2" source-id="m1" target-id="r2"/><connection id="k3" source-id="r2" target-id="m2"/><connection id="k4" source-id="m2" target-id="r1"/></connections>
    </transition>
  </transitions>
  <probes>
    <probe id="pr1" name="trip" start-place-id="p1" start-trigger="entry" end-place-id="p2" end-trigger="exit"/>
  </probes>
</net>
"#;

    /// (tag, line in the .qpe, name) of the element blamed for the line
    /// of the translation holding `text`, for `message`.
    fn blamed(text: &str, message: &str) -> Option<(String, u32, String)> {
        let yaml = crate::qpe::import(XML, "t", crate::qpe::TimeUnit::Seconds)
            .unwrap()
            .yaml();
        let net = super::super::read::read(XML).unwrap();
        let at = yaml.lines().position(|l| l.contains(text)).unwrap() as u64 + 1;
        let (src, name) = element_at(&yaml, at, message, &net)?;
        Some((src.element.clone(), src.line, name.to_string()))
    }

    #[test]
    fn a_line_of_the_translation_is_blamed_on_the_element_that_wrote_it() {
        let el = |tag: &str, line, name: &str| Some((tag.to_string(), line, name.to_string()));
        assert_eq!(blamed("  CPU:", "m"), el("queue", 4, "CPU"));
        assert_eq!(blamed("  B:", "m"), el("place", 9, "B"));
        assert_eq!(blamed("name: ba", "m"), el("mode", 15, "ba"));
        assert_eq!(
            blamed("name: ba", "transition `swap`: m"),
            el("transition", 14, "swap")
        );
        assert_eq!(blamed("  trip:", "m"), el("probe", 20, "trip"));
        assert_eq!(blamed("colors:", "m"), None);
    }

    #[test]
    fn messages_lose_the_name_the_element_gives_and_the_translations_quotation() {
        assert_eq!(
            without_name("transition `swap`: needs inputs", "swap"),
            "needs inputs"
        );
        assert_eq!(
            without_name("place `A` and place `B`: x", "B"),
            "place `A` and place `B`: x"
        );
        assert_eq!(
            reason(
                "error: line 24 column 3: duplicate mapping key: p\n  --> <input>:24:3\n 24 |   p:"
            ),
            "duplicate mapping key: p"
        );
    }
}
