//! A checked net to QPME 2.1 XML, for the nets QPME can express.
//!
//! Written by hand: the document is a fixed set of elements with
//! attributes only (no text, no mixed content), so a writer is a few
//! lines over one escaping function; roxmltree, our XML crate, only
//! reads.

use std::fmt::Write;

// Attribute values are written in double quotes: `markup`'s escaping
// (& < > ") is XML's there.
use crate::markup::escape as esc;
use crate::model::Model;
use crate::qpn::{Dist, Net, Place, Policy, ProbePoint, Scheduling, Timing};

/// A net QPME cannot express.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{what} `{name}`: {why}; QPME cannot express it")]
pub struct ExportError {
    /// place, transition, probe...
    pub what: &'static str,
    /// Its name.
    pub name: String,
    /// What QPME lacks.
    pub why: String,
}

fn refuse(what: &'static str, name: &str, why: impl Into<String>) -> ExportError {
    ExportError {
        what,
        name: name.to_string(),
        why: why.into(),
    }
}

const XSI: &str = r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#;

/// `distribution-function` and its parameters for a service time.
fn dist_attrs(d: &Dist) -> Option<String> {
    Some(match d {
        Dist::Exponential { mean } => {
            // The importer reads the shortest mean with this rate back.
            format!(
                r#"distribution-function="Exponential" lambda="{}""#,
                1.0 / mean
            )
        }
        Dist::Deterministic { value } => {
            format!(r#"distribution-function="Deterministic" p1="{value}""#)
        }
        Dist::Uniform { min, max } => {
            format!(r#"distribution-function="Uniform" min="{min}" max="{max}""#)
        }
        Dist::Normal { mean, sd, .. } => {
            format!(r#"distribution-function="Normal" mean="{mean}" stdDev="{sd}""#)
        }
        Dist::Gamma { mean, cv, .. } => {
            let alpha = 1.0 / (cv * cv);
            format!(
                r#"distribution-function="Gamma" alpha="{alpha}" lambda="{}""#,
                alpha / mean
            )
        }
        _ => return None,
    })
}

/// A distribution's name in model files, for messages.
fn family(d: &Dist) -> &'static str {
    match d {
        Dist::Exponential { .. } => "exponential",
        Dist::Deterministic { .. } => "deterministic",
        Dist::Uniform { .. } => "uniform",
        Dist::Erlang { .. } => "erlang",
        Dist::HyperExponential { .. } => "hyperexponential",
        Dist::LogNormal { .. } => "lognormal",
        Dist::Gamma { .. } => "gamma",
        Dist::Normal { .. } => "normal",
        Dist::Empirical { .. } => "empirical",
    }
}

/// QPME 2.1 XML of `model` (times in seconds, as the model's).
///
/// # Errors
/// [`ExportError`] naming the first element QPME cannot express: a timed
/// transition, a routing policy other than random, an LCFS-PR queue,
/// priorities, a distribution QPME lacks, a probe at a transition.
pub fn export(model: &Model) -> Result<String, ExportError> {
    let net: &Net = &model.net;
    check(net)?;
    let mut x = String::new();
    let w = &mut x;
    w.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<net qpme-version=\"2.1.0\">\n");
    w.push_str("  <colors>\n");
    for (i, c) in net.colors.iter().enumerate() {
        let _ = writeln!(
            w,
            r##"    <color id="_c{i}" name="{}" real-color="#000000"/>"##,
            esc(c)
        );
    }
    w.push_str("  </colors>\n  <queues>\n");
    for (i, q) in queues(net).iter().enumerate() {
        let _ = writeln!(
            w,
            r#"    <queue id="_q{i}" name="{}" number-of-servers="{}" strategy="{}"/>"#,
            esc(&q.0),
            q.2,
            q.1
        );
    }
    w.push_str("  </queues>\n  <places>\n");
    for (i, p) in net.places.iter().enumerate() {
        place(w, net, i, p);
    }
    w.push_str("  </places>\n  <transitions>\n");
    for i in 0..net.transitions.len() {
        transition(w, net, i);
    }
    w.push_str("  </transitions>\n  <connections>\n");
    net_arcs(w, net);
    w.push_str("  </connections>\n");
    probes(w, net);
    run_settings(w, model);
    w.push_str("</net>\n");
    Ok(x)
}

/// A name with a control character: XML 1.0 cannot hold most of them at
/// all, and reads a tab or line break in an attribute back as a space.
fn control_in_names(net: &Net) -> Result<(), ExportError> {
    let names = (net.colors.iter().map(|n| ("colour", n)))
        .chain(net.places.iter().map(|p| ("place", &p.name)))
        .chain(net.queues.iter().map(|q| ("queue", &q.name)))
        .chain(net.transitions.iter().map(|t| ("transition", &t.name)))
        .chain((net.transitions.iter().flat_map(|t| &t.modes)).map(|m| ("mode", &m.name)))
        .chain(net.probes.iter().map(|p| ("probe", &p.name)));
    for (what, name) in names {
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            return Err(refuse(
                what,
                &name.escape_debug().to_string(),
                format!(
                    "its name holds the control character U+{:04X}, which an XML attribute cannot keep",
                    c as u32
                ),
            ));
        }
    }
    Ok(())
}

fn check(net: &Net) -> Result<(), ExportError> {
    control_in_names(net)?;
    for t in &net.transitions {
        if let Timing::Timed { .. } = t.timing {
            return Err(refuse(
                "transition",
                &t.name,
                "a timed transition (QPME has immediate transitions only; an open \
                 workload there is a client place whose tokens regenerate)",
            ));
        }
        if t.policy != Policy::Random {
            return Err(refuse(
                "transition",
                &t.name,
                format!(
                    "routing policy {} (QPME picks modes at random by weight)",
                    t.policy.name()
                ),
            ));
        }
    }
    for p in &net.places {
        let Some(q) = &p.queue else { continue };
        if q.scheduling.qpme().is_none() {
            return Err(refuse("place", &p.name, lacked(q.scheduling)));
        }
        if q.priority.iter().any(|&x| x != 0) {
            return Err(refuse("place", &p.name, "priorities by colour"));
        }
        if !q.load_dependence.is_empty() {
            return Err(refuse("place", &p.name, LOAD_DEPENDENCE));
        }
        if q.cpu_limit.is_some() && q.shared.is_none() {
            return Err(refuse("place", &p.name, CPU_LIMIT));
        }
        for (c, d) in q.service.iter().enumerate() {
            if let Some(d) = d.as_ref().filter(|d| dist_attrs(d).is_none()) {
                return Err(refuse(
                    "place",
                    &p.name,
                    format!(
                        "colour `{}`'s service time is {} (QPME has exponential, \
                         deterministic, uniform, normal and gamma)",
                        net.colors[c],
                        family(d)
                    ),
                ));
            }
        }
    }
    if let Some(q) = net.queues.iter().find(|q| q.scheduling.qpme().is_none()) {
        return Err(refuse("queue", &q.name, lacked(q.scheduling)));
    }
    if let Some(q) = net.queues.iter().find(|q| !q.load_dependence.is_empty()) {
        return Err(refuse("queue", &q.name, LOAD_DEPENDENCE));
    }
    if let Some(q) = net.queues.iter().find(|q| q.cpu_limit.is_some()) {
        return Err(refuse("queue", &q.name, CPU_LIMIT));
    }
    for pr in &net.probes {
        let at_places =
            |v: &[ProbePoint]| v.len() == 1 && !matches!(v[0], ProbePoint::Transition(_));
        if !at_places(&pr.start) || !at_places(&pr.end) {
            return Err(refuse(
                "probe",
                &pr.name,
                "it starts or ends at a transition or at several points (a QPME probe runs \
                 from one place's entry or exit to another's)",
            ));
        }
    }
    Ok(())
}

/// What QPME lacks about a CPU limit, in words.
const CPU_LIMIT: &str =
    "a cpu_limit (CFS bandwidth throttling: QPME's queues serve whenever they have work)";

/// What QPME lacks about a load-dependent rate, in words.
const LOAD_DEPENDENCE: &str = "a load-dependent rate (QPME's queues have fixed servers)";

/// A discipline QPME lacks, in words.
fn lacked(s: Scheduling) -> String {
    format!("an {} queue", s.name().to_uppercase())
}

/// (name, strategy, servers) of every queue: the shared ones, then one per
/// queueing place that has its own. After [`check`], which refuses the
/// disciplines QPME lacks (every place names its queue's discipline).
fn queues(net: &Net) -> Vec<(String, &'static str, u32)> {
    let name = |s: Scheduling| s.qpme().expect("check refuses what QPME lacks");
    let mut out: Vec<_> = net
        .queues
        .iter()
        .map(|q| (q.name.clone(), name(q.scheduling), q.servers))
        .collect();
    for p in &net.places {
        if let Some(q) = p.queue.as_ref().filter(|q| q.shared.is_none()) {
            out.push((p.name.clone(), name(q.scheduling), q.servers.max(1)));
        }
    }
    out
}

/// The queue index of place `i` in [`queues`]' order.
fn queue_of(net: &Net, i: usize) -> Option<usize> {
    let q = net.places[i].queue.as_ref()?;
    Some(match q.shared {
        Some(s) => s,
        None => {
            let own_before = net.places[..i]
                .iter()
                .filter(|p| p.queue.as_ref().is_some_and(|q| q.shared.is_none()))
                .count();
            net.queues.len() + own_before
        }
    })
}

/// Colours that can be at place `i`: initial tokens, served, or on an arc.
fn colours_at(net: &Net, i: usize) -> Vec<usize> {
    let p = &net.places[i];
    (0..net.colors.len())
        .filter(|&c| {
            p.initial[c] > 0
                || p.queue.as_ref().is_some_and(|q| q.service[c].is_some())
                || net.transitions.iter().flat_map(|t| &t.modes).any(|m| {
                    m.inputs
                        .iter()
                        .chain(&m.outputs)
                        .any(|a| a.place == i && a.color == c)
                })
        })
        .collect()
}

fn place(w: &mut String, net: &Net, i: usize, p: &Place) {
    let departure = match p.departure {
        crate::qpn::Departure::Fifo => "FIFO",
        crate::qpn::Departure::Normal => "NORMAL",
    };
    let (kind, queue_ref) = match queue_of(net, i) {
        Some(q) => ("queueing-place", format!(r#" queue-ref="_q{q}""#)),
        None => ("ordinary-place", String::new()),
    };
    let _ = writeln!(
        w,
        r#"    <place {XSI} departure-discipline="{departure}" id="_p{i}" name="{}"{queue_ref} xsi:type="{kind}">"#,
        esc(&p.name)
    );
    w.push_str("      <color-refs>\n");
    for c in colours_at(net, i) {
        let service = p.queue.as_ref().map(|q| match &q.service[c] {
            Some(d) => dist_attrs(d).expect("checked"),
            // A colour that never enters the queue: QPME still wants a
            // distribution; an unused one.
            None => r#"distribution-function="Exponential" lambda="1""#.to_string(),
        });
        let (kind, extra) = match service {
            Some(s) => (
                "queueing-color-reference",
                format!(" {s} priority=\"0\" ranking=\"0\""),
            ),
            None => ("ordinary-color-reference", String::new()),
        };
        let _ = writeln!(
            w,
            r#"        <color-ref {XSI} color-id="_c{c}" id="_p{i}c{c}" initial-population="{}" maximum-capacity="0"{extra} xsi:type="{kind}"/>"#,
            p.initial[c]
        );
    }
    w.push_str("      </color-refs>\n    </place>\n");
}

fn transition(w: &mut String, net: &Net, i: usize) {
    let t = &net.transitions[i];
    let weight = match t.timing {
        Timing::Immediate { weight } => weight,
        Timing::Timed { .. } => unreachable!("checked"),
    };
    let _ = writeln!(
        w,
        r#"    <transition {XSI} id="_t{i}" name="{}" priority="0" weight="{weight}" xsi:type="immediate-transition">"#,
        esc(&t.name)
    );
    w.push_str("      <modes>\n");
    for (m, mode) in t.modes.iter().enumerate() {
        let _ = writeln!(
            w,
            r##"        <mode firing-weight="{}" id="_t{i}m{m}" name="{}" real-color="#000000"/>"##,
            mode.weight,
            esc(&mode.name)
        );
    }
    w.push_str("      </modes>\n      <connections>\n");
    let mut k = 0;
    for (m, mode) in t.modes.iter().enumerate() {
        for (arcs, input) in [(&mode.inputs, true), (&mode.outputs, false)] {
            for a in arcs {
                let (r, mode_id) = (format!("_p{}c{}", a.place, a.color), format!("_t{i}m{m}"));
                let (src, dst) = if input { (r, mode_id) } else { (mode_id, r) };
                let _ = writeln!(
                    w,
                    r#"        <connection count="{}" id="_t{i}k{k}" source-id="{src}" target-id="{dst}"/>"#,
                    a.count
                );
                k += 1;
            }
        }
    }
    w.push_str("      </connections>\n    </transition>\n");
}

/// The net-level arcs: each place a transition takes from or gives to.
fn net_arcs(w: &mut String, net: &Net) {
    for (i, t) in net.transitions.iter().enumerate() {
        let mut ins: Vec<usize> = t
            .modes
            .iter()
            .flat_map(|m| m.inputs.iter().map(|a| a.place))
            .collect();
        let mut outs: Vec<usize> = t
            .modes
            .iter()
            .flat_map(|m| m.outputs.iter().map(|a| a.place))
            .collect();
        ins.sort_unstable();
        ins.dedup();
        outs.sort_unstable();
        outs.dedup();
        for p in ins {
            let _ = writeln!(
                w,
                r#"    <connection id="_a{i}i{p}" source-id="_p{p}" target-id="_t{i}"/>"#
            );
        }
        for p in outs {
            let _ = writeln!(
                w,
                r#"    <connection id="_a{i}o{p}" source-id="_t{i}" target-id="_p{p}"/>"#
            );
        }
    }
}

fn probes(w: &mut String, net: &Net) {
    if net.probes.is_empty() {
        return;
    }
    w.push_str("  <probes>\n");
    for (i, pr) in net.probes.iter().enumerate() {
        let point = |p: &ProbePoint| match *p {
            ProbePoint::Enter(x) => (x, "entry"),
            ProbePoint::Exit(x) => (x, "exit"),
            ProbePoint::Transition(_) => unreachable!("checked"),
        };
        let ((sp, st), (ep, et)) = (point(&pr.start[0]), point(&pr.end[0]));
        let _ = writeln!(
            w,
            r#"    <probe id="_r{i}" name="{}" start-place-id="_p{sp}" start-trigger="{st}" end-place-id="_p{ep}" end-trigger="{et}">"#,
            esc(&pr.name)
        );
        w.push_str("      <color-refs>\n");
        for &c in &pr.colors {
            let _ = writeln!(w, r#"        <color-ref color-id="_c{c}" id="_r{i}c{c}"/>"#);
        }
        w.push_str("      </color-refs>\n    </probe>\n");
    }
    w.push_str("  </probes>\n");
}

fn run_settings(w: &mut String, model: &Model) {
    let (Some(time), warmup) = (model.run.time_s, model.run.warmup_s.unwrap_or(0.0)) else {
        return;
    };
    let _ = writeln!(
        w,
        r#"  <meta-attributes>
    <meta-attribute {XSI} configuration-name="demandsim" ramp-up-length="{warmup}" stopping-rule="FIXEDLEN" total-run-length="{}" xsi:type="simqpn-configuration"/>
  </meta-attributes>"#,
        warmup + time
    );
}
