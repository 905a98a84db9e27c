//! Parameter values as people and JSON readers expect them: a whole value
//! as an integer in JSON (`"servers": 2`, not `2.0`), and a searched or
//! swept value shown to the precision it is known to, not to the float's
//! last digit (`6.759`, not `6.759182312011719`).
//!
//! The serializers are for `#[serde(serialize_with = …)]`; reading back
//! takes integers as numbers as it always did.

use std::collections::BTreeMap;

use serde::Serializer;
use serde::ser::{SerializeMap, SerializeSeq};

/// Largest magnitude written as an integer (2^53: every whole f64 below it
/// is exact).
const EXACT: f64 = 9_007_199_254_740_992.0;

/// A number that serializes whole values as integers.
#[derive(Debug, Clone, Copy)]
struct Num(f64);

impl serde::Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.is_finite() && x.fract() == 0.0 && x.abs() < EXACT {
            s.serialize_i64(x as i64)
        } else {
            s.serialize_f64(x)
        }
    }
}

/// One value.
///
/// # Errors
/// The serializer's.
pub fn whole<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&Num(*x), s)
}

/// An optional value.
///
/// # Errors
/// The serializer's.
pub fn whole_opt<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&x.map(Num), s)
}

/// A pair of values.
///
/// # Errors
/// The serializer's.
pub fn whole_pair<S: Serializer>(x: &(f64, f64), s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&(Num(x.0), Num(x.1)), s)
}

/// An optional pair.
///
/// # Errors
/// The serializer's.
#[allow(clippy::ref_option)]
pub fn whole_opt_pair<S: Serializer>(x: &Option<(f64, f64)>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&x.map(|(a, b)| (Num(a), Num(b))), s)
}

/// An optional band of two optional ends.
///
/// # Errors
/// The serializer's.
#[allow(clippy::ref_option)]
pub fn whole_band<S: Serializer>(x: &Option<[Option<f64>; 2]>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&x.map(|[a, b]| [a.map(Num), b.map(Num)]), s)
}

/// A list of values.
///
/// # Errors
/// The serializer's.
pub fn whole_seq<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        seq.serialize_element(&Num(*x))?;
    }
    seq.end()
}

/// Name → value.
///
/// # Errors
/// The serializer's.
pub fn whole_map<S: Serializer>(m: &BTreeMap<String, f64>, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(m.len()))?;
    for (k, x) in m {
        map.serialize_entry(k, &Num(*x))?;
    }
    map.end()
}

/// Name → list of values.
///
/// # Errors
/// The serializer's.
pub fn whole_map_seq<S: Serializer>(
    m: &BTreeMap<String, Vec<f64>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(m.len()))?;
    for (k, v) in m {
        let v: Vec<Num> = v.iter().copied().map(Num).collect();
        map.serialize_entry(k, &v)?;
    }
    map.end()
}

/// `x` known to within `precision` (> 0), rounded towards `toward` (the
/// side that is known to hold, e.g. the value that meets an objective) to
/// the fewest decimals that step finer than the precision, the decimals
/// kept (they say the precision): 6.759182 within 0.0024 towards below is
/// `6.759`, 7.0 within 0.01 is `7.00`, 1.0 within 1 is `1`.
pub fn to_precision(x: f64, precision: f64, toward: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if !(precision.is_finite() && precision > 0.0) {
        return short(x);
    }
    let decimals = (-precision.log10()).ceil().clamp(0.0, 12.0) as i32;
    let step = 10f64.powi(decimals);
    let scaled = x * step;
    // A hair of slack: x that is already on the grid stays put.
    let r = if toward < x {
        (scaled + 1e-9).floor()
    } else if toward > x {
        (scaled - 1e-9).ceil()
    } else {
        scaled.round()
    };
    format!("{:.*}", decimals as usize, r / step)
}

/// The precision of a value shown to three significant digits, or to
/// `finest` where that is coarser (a bisection's bracket, whole numbers).
pub fn three_digits(x: f64, finest: f64) -> f64 {
    let digits = if x.is_finite() && x != 0.0 {
        10f64.powi(x.abs().log10().floor() as i32 - 2)
    } else {
        0.0
    };
    digits.max(finest)
}

/// A value for a sentence: a whole number as such (`5`), others to four
/// significant digits without trailing zeros (`0.6242`, `24.97`, `0.1`).
pub fn shown(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < EXACT {
        format!("{x:.0}")
    } else {
        let s = crate::report::format::TEXT.num(Some(x));
        match s.contains('.') && !s.contains('e') {
            true => trim(&s),
            false => s,
        }
    }
}

/// The shortest form of `x` after rounding to 10 significant digits
/// (a grid's `0.1 + 0.2` is `0.3`), whole values without decimals.
pub fn short(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (9 - mag).clamp(0, 15) as usize;
    trim(&format!("{x:.decimals$}"))
}

fn trim(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Sample {
        #[serde(serialize_with = "whole")]
        a: f64,
        #[serde(serialize_with = "whole_opt")]
        b: Option<f64>,
        #[serde(serialize_with = "whole_map")]
        c: BTreeMap<String, f64>,
        #[serde(serialize_with = "whole_pair")]
        d: (f64, f64),
    }

    #[test]
    fn whole_values_are_integers_and_the_rest_stay_floats() {
        let s = Sample {
            a: 2.0,
            b: Some(0.5),
            c: [("servers".to_string(), 12.0), ("rate".into(), 6.242)].into(),
            d: (1.0, f64::NAN),
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"a":2,"b":0.5,"c":{"rate":6.242,"servers":12},"d":[1,null]}"#
        );
        let big = Sample {
            a: 1e300,
            b: None,
            c: BTreeMap::new(),
            d: (-3.0, 0.25),
        };
        assert_eq!(
            serde_json::to_string(&big).unwrap(),
            r#"{"a":1e+300,"b":null,"c":{},"d":[-3,0.25]}"#
        );
    }

    #[test]
    fn values_show_to_their_precision_rounded_to_the_side_that_holds() {
        assert_eq!(to_precision(6.759_182_312_011_719, 0.0024, 0.0), "6.759");
        assert_eq!(to_precision(6.759_182_312_011_719, 0.0024, 100.0), "6.760");
        assert_eq!(to_precision(6.759_182, 0.02, 0.0), "6.75");
        assert_eq!(to_precision(1.0, 1.0, 0.0), "1");
        assert_eq!(to_precision(80.4, 0.3, 0.0), "80.4");
        assert_eq!(to_precision(3.0, 0.001, 0.0), "3.000");
        assert_eq!(
            to_precision(7.0037, three_digits(7.0037, 1e-4), 0.0),
            "7.00"
        );
        assert_eq!(to_precision(80.37, three_digits(80.37, 1e-4), 0.0), "80.3");
        assert_eq!(to_precision(3.0, three_digits(3.0, 1.0), 0.0), "3");
        assert_eq!(
            (shown(5.0), shown(24.968), shown(0.6242)),
            ("5".into(), "24.97".into(), "0.6242".into())
        );
        assert_eq!(short(0.1 + 0.2), "0.3");
        assert_eq!(short(0.600_000_000_000_000_1), "0.6");
        assert_eq!(short(12.0), "12");
        assert_eq!(short(6.242), "6.242");
    }
}
