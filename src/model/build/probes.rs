//! Probes: colours, and start and end points at places or transitions.

use serde_saphyr::Spanned;

use super::places::PlaceIndex;
use super::{Ctx, in_file_order, loc};
use crate::model::spec::{self, ModelSpec, PointSpec, Points};
use crate::model::{ModelError, at};
use crate::qpn::{self, Probe, ProbePoint, Transition};

/// Every probe of the spec, in file order.
pub(super) fn build(
    ctx: &Ctx<'_>,
    spec: &ModelSpec,
    index: &PlaceIndex,
    transitions: &[Transition],
) -> Result<Vec<Probe>, ModelError> {
    let keys = in_file_order(&spec.probes, |k| loc(k));
    if keys.len() > qpn::MAX_PROBES {
        return Err(at(
            keys[qpn::MAX_PROBES].0,
            format!("at most {} probes are supported", qpn::MAX_PROBES),
        ));
    }
    let mut probes = Vec::new();
    for (key, pr) in keys {
        let colors = match &pr.colors {
            Some(cs) => cs.iter().map(|c| ctx.color(c)).collect::<Result<_, _>>()?,
            None => (0..ctx.colors.len()).collect(),
        };
        probes.push(Probe {
            name: key.value.clone(),
            colors,
            start: points(&pr.start, index, transitions)?,
            end: points(&pr.end, index, transitions)?,
        });
    }
    Ok(probes)
}

fn points(
    pts: &Points,
    index: &PlaceIndex,
    transitions: &[Transition],
) -> Result<Vec<ProbePoint>, ModelError> {
    let mut out = Vec::new();
    for p in spec::points(pts) {
        out.extend(point(pts, p, index, transitions)?);
    }
    Ok(out)
}

/// One point; a place with copies gives one point per copy.
fn point(
    pts: &Points,
    p: &PointSpec,
    index: &PlaceIndex,
    transitions: &[Transition],
) -> Result<Vec<ProbePoint>, ModelError> {
    match (&p.place, &p.transition, p.when.as_deref()) {
        (Some(pl), None, on) => {
            let enter = match on {
                Some("enter") => true,
                Some("exit") => false,
                Some(other) => {
                    return Err(at(pts, format!("`when: {other}`: expected enter or exit")));
                }
                None => {
                    return Err(at(pts, "a place point needs `when: enter` or `when: exit`"));
                }
            };
            let name = Spanned::new(pl.clone(), pts.referenced, pts.defined);
            Ok(index
                .resolve(&name, None)?
                .into_iter()
                .map(|i| {
                    if enter {
                        ProbePoint::Enter(i)
                    } else {
                        ProbePoint::Exit(i)
                    }
                })
                .collect())
        }
        (None, Some(t), None) => {
            let i = transitions
                .iter()
                .position(|x| x.name == *t)
                .ok_or_else(|| at(pts, format!("unknown transition `{t}`")))?;
            Ok(vec![ProbePoint::Transition(i)])
        }
        _ => Err(at(
            pts,
            "a probe point is `{place: NAME, when: enter|exit}` or `{transition: NAME}`",
        )),
    }
}
