//! Transitions: timing, modes (with `each` expanded over a replicated
//! place) and their input and output arcs.

use serde_saphyr::Spanned;

use super::places::PlaceIndex;
use super::{Ctx, in_file_order, loc};
use crate::model::spec::{
    ArcColors, ArcColorsRaw, EachSpec, Map, ModeSpec, ModelSpec, Name, NumSrc, TransitionSpec,
};
use crate::model::{ModelError, at};
use crate::qpn::{ArcSpec, Mode, Policy, Timing, Transition};

/// The (line, column) each mode of each transition comes from.
pub(super) type ModeSpans = Vec<Vec<(u64, u64)>>;

/// Modes as the file writes them, with their (line, column).
type Located<'s> = Vec<(&'s ModeSpec, (u64, u64))>;

/// The `in`/`out` side of a mode: place → colours.
type ArcMap = Map<Name, ArcColors>;

/// Every transition of the spec, in file order, and whether a mode of
/// weight 0 was left out.
pub(super) fn build(
    ctx: &Ctx<'_>,
    spec: &ModelSpec,
    index: &PlaceIndex,
) -> Result<(Vec<Transition>, ModeSpans, bool), ModelError> {
    let mut transitions = Vec::new();
    let mut spans = Vec::new();
    let mut zero_weight = false;
    for (key, ts) in in_file_order(&spec.transitions, |k| loc(k)) {
        let timing = timing(ctx, ts)?;
        let single;
        let specs: Located<'_> = match mode_specs(key, ts)? {
            Some(m) => m,
            None => {
                single = ModeSpec {
                    name: None,
                    weight: None,
                    each: ts.each.clone(),
                    inputs: ts.inputs.clone().unwrap_or_default(),
                    outputs: ts.outputs.clone().unwrap_or_default(),
                };
                vec![(&single, loc(key))]
            }
        };
        let mut modes = Vec::new();
        let mut mode_spans = Vec::new();
        for (mi, &(ms, at_)) in specs.iter().enumerate() {
            for mode in expand_mode(ctx, index, ms, mi)? {
                if mode.inputs.is_empty() && matches!(timing, Timing::Immediate { .. }) {
                    return Err(ModelError::At {
                        line: at_.0,
                        column: at_.1,
                        message: format!(
                            "transition `{}`: an immediate transition needs inputs (give it a `delay` to make it an arrival source)",
                            key.value
                        ),
                    });
                }
                if mode.weight > 0.0 {
                    modes.push(mode);
                    mode_spans.push(at_);
                } else {
                    zero_weight = true;
                }
            }
        }
        if modes.is_empty() {
            return Err(at(
                key,
                format!(
                    "transition `{}`: every mode has weight 0, so it can never fire",
                    key.value
                ),
            ));
        }
        transitions.push(Transition {
            name: key.value.clone(),
            timing,
            modes,
            policy: policy(ts)?,
        });
        spans.push(mode_spans);
    }
    Ok((transitions, spans, zero_weight))
}

fn policy(ts: &TransitionSpec) -> Result<Policy, ModelError> {
    let Some(p) = &ts.policy else {
        return Ok(Policy::Random);
    };
    Policy::from_name(&p.value).ok_or_else(|| {
        at(
            p,
            format!("unknown policy `{}`; expected {}", p.value, Policy::names()),
        )
    })
}

fn timing(ctx: &Ctx<'_>, ts: &TransitionSpec) -> Result<Timing, ModelError> {
    Ok(match (&ts.delay, &ts.weight) {
        (Some(d), None) => Timing::Timed {
            delay: ctx.dist(d)?,
        },
        (Some(_), Some(w)) => {
            return Err(at(w, "a timed transition (with `delay`) has no weight"));
        }
        (None, w) => Timing::Immediate {
            weight: match w {
                Some(w) => ctx.positive(w, "weight")?,
                None => 1.0,
            },
        },
    })
}

/// The transition's `modes` with their locations, or `None` when it is
/// written as one mode (`in`/`out` on the transition itself).
fn mode_specs<'s>(
    key: &Spanned<String>,
    ts: &'s TransitionSpec,
) -> Result<Option<Located<'s>>, ModelError> {
    let inline = ts.inputs.is_some() || ts.outputs.is_some() || ts.each.is_some();
    match (&ts.modes, inline) {
        (Some(m), false) if !m.is_empty() => {
            Ok(Some(m.iter().map(|s| (&s.value, loc(s))).collect()))
        }
        (None, true) => Ok(None),
        (Some(_), true) => Err(at(
            key,
            format!(
                "transition `{}`: give either `modes` or `in`/`out`, not both",
                key.value
            ),
        )),
        _ => Err(at(
            key,
            format!(
                "transition `{}` has no modes: give `in`/`out` or a list of `modes`",
                key.value
            ),
        )),
    }
}

/// One mode of the file, or one per copy with `each`.
fn expand_mode(
    ctx: &Ctx<'_>,
    index: &PlaceIndex,
    ms: &ModeSpec,
    mi: usize,
) -> Result<Vec<Mode>, ModelError> {
    let weight = match &ms.weight {
        // 0 is allowed: a mode of weight 0 never fires (a class absent
        // from one run of a study), and is left out of the net.
        Some(w) => ctx.non_negative(w, "a mode weight")?,
        None => 1.0,
    };
    let expansions: Vec<Option<(&str, usize)>> = match &ms.each {
        None => vec![None],
        // Sets are expanded before: what is left names places.
        Some(e) => {
            let EachSpec::One(place) = &e.value else {
                return Err(at(e, "`each` beside `modes`: give it to each mode"));
            };
            let Some(copies) = index.copies(place) else {
                return Err(at(
                    e,
                    format!("`each: {place}` names no place and no class set"),
                ));
            };
            let Some(k) = copies else {
                return Err(at(
                    e,
                    format!("`each: {place}`: place `{place}` has no `copies`"),
                ));
            };
            (0..k).map(|i| Some((place.as_str(), i))).collect()
        }
    };
    expansions
        .into_iter()
        .map(|each| {
            Ok(Mode {
                name: match (&ms.name, each) {
                    (Some(n), Some((_, i))) => format!("{}{}", n.value, i + 1),
                    (Some(n), None) => n.value.clone(),
                    (None, Some((p, i))) => format!("{p}{}", i + 1),
                    (None, None) => format!("mode{}", mi + 1),
                },
                weight,
                inputs: arcs(ctx, index, &ms.inputs, each)?,
                outputs: arcs(ctx, index, &ms.outputs, each)?,
            })
        })
        .collect()
}

/// One side of a mode; arcs to the same place and colour add up.
fn arcs(
    ctx: &Ctx<'_>,
    index: &PlaceIndex,
    side: &ArcMap,
    each: Option<(&str, usize)>,
) -> Result<Vec<ArcSpec>, ModelError> {
    let mut out: Vec<ArcSpec> = Vec::new();
    for (pname, colors) in in_file_order(side, |k| loc(k)) {
        let ps = index.resolve(pname, each)?;
        if ps.len() > 1 {
            return Err(at(
                pname,
                format!(
                    "place `{}` has copies: use `each: {}` (or `each:` a place with as many copies) in this mode to refer to one copy",
                    pname.value, pname.value
                ),
            ));
        }
        for (c, n) in arc_colors(ctx, colors)? {
            match out.iter_mut().find(|a| a.place == ps[0] && a.color == c) {
                Some(a) => a.count += n,
                None => out.push(ArcSpec {
                    place: ps[0],
                    color: c,
                    count: n,
                }),
            }
        }
    }
    Ok(out)
}

/// `colour` (one token) or `{colour: count, ...}`.
fn arc_colors(ctx: &Ctx<'_>, spec: &ArcColors) -> Result<Vec<(usize, u32)>, ModelError> {
    let count = |n: &NumSrc| -> Result<u32, ModelError> {
        let spanned = Spanned::new(n.clone(), spec.referenced, spec.defined);
        let cnt = ctx.count(&spanned, "an arc count", 1_000_000)?;
        if cnt == 0 {
            return Err(at(spec, "an arc count must be at least 1"));
        }
        Ok(cnt as u32)
    };
    match &spec.value {
        ArcColorsRaw::One(c) => Ok(vec![(ctx.color_at(c, spec)?, 1)]),
        ArcColorsRaw::Map(m) => m
            .iter()
            .map(|(c, n)| Ok((ctx.color_at(c, spec)?, count(n)?)))
            .collect(),
    }
}
