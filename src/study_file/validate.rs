//! The study file's `validate:` section:
//!
//! ```yaml
//! validate:
//!   hold_out: estimate_from   # or experiments [default: estimate_from when
//!                             # the experiments have estimation runs]
//!   levels:                   # optional, for leave-one-load-out [default:
//!     low: [mixed-n21, readonly-n33]   # by utilization, a new level
//!     mid: [mixed-n57, readonly-n85]   # where it jumps by > level_gap]
//!   level_gap: 0.1
//!   level: 0.8                # optional: the band's level (inner order
//!                             # statistics); never more than n runs allow
//! ```

use serde::Deserialize;

use super::StudyFileError;
use crate::validate::{HoldOut, ValidateSpec};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ValidateY {
    hold_out: Option<HoldOut>,
    #[serde(default)]
    levels: ordered::Levels,
    level_gap: Option<f64>,
    level: Option<f64>,
}

/// Levels in the file's order (a list of one-key maps would be clumsier
/// to write).
mod ordered {
    use serde::Deserialize;

    #[derive(Debug, Clone, Default)]
    pub(crate) struct Levels(pub(crate) Vec<(String, Vec<String>)>);

    impl<'de> Deserialize<'de> for Levels {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Levels;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a map of level names to lists of experiment names")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut m: A,
                ) -> Result<Levels, A::Error> {
                    let mut out = Vec::new();
                    while let Some((k, v)) = m.next_entry::<String, Vec<String>>()? {
                        out.push((k, v));
                    }
                    Ok(Levels(out))
                }
            }
            d.deserialize_map(V)
        }
    }
}

fn bad(message: String) -> StudyFileError {
    StudyFileError::Validate { message }
}

/// The section as a [`ValidateSpec`].
///
/// # Errors
/// A gap or level out of range.
pub(super) fn validate_spec(v: &ValidateY) -> Result<ValidateSpec, StudyFileError> {
    let gap = v.level_gap.unwrap_or(0.1);
    if !(gap.is_finite() && gap > 0.0) {
        return Err(bad(format!(
            "level_gap: expected a utilization step above 0, got {gap}"
        )));
    }
    if let Some(l) = v.level
        && !(l > 0.0 && l < 1.0)
    {
        return Err(bad(format!(
            "level: expected a fraction between 0 and 1, got {l}"
        )));
    }
    if let Some((name, _)) = v.levels.0.iter().find(|(_, runs)| runs.is_empty()) {
        return Err(bad(format!("levels: `{name}` lists no runs")));
    }
    Ok(ValidateSpec {
        hold_out: v.hold_out,
        levels: v.levels.0.clone(),
        level_gap: gap,
        level: v.level,
    })
}
